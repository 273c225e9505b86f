//! `POST /oauth/device_authorization` (RFC 8628 §3.1, §3.2).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::oauth::{client_may_request, param, requested_audience, OAuthError, TokenEndpointError};

/// The form of a device's request.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the form for the OpenAPI document; parsed as pairs.
pub(crate) struct DeviceAuthorizationRequest {
    /// A registered client allowed the device grant (public: its id alone).
    client_id: Option<String>,
    /// A confidential client's secret (or HTTP Basic).
    client_secret: Option<String>,
    /// Space-separated scopes, among the client's (default `openid`).
    scope: Option<String>,
    /// RFC 8707: the one service the tokens are for.
    resource: Option<String>,
}

/// RFC 8628 §3.2.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeviceAuthorizationResponse {
    /// The device's secret, for polling the token endpoint.
    device_code: String,
    /// What the person types at `verification_uri`, as `BCDF-GHJK`.
    user_code: String,
    /// This server's `/device` page.
    verification_uri: String,
    /// The same with the code filled in (for a QR code or a link).
    verification_uri_complete: String,
    /// Seconds until the codes expire.
    expires_in: u64,
    /// Seconds to wait between polls.
    interval: u64,
}

/// A device asks for a code pair; it shows the user code and polls the
/// token endpoint with `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
#[utoipa::path(post, path = "/oauth/device_authorization", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = DeviceAuthorizationRequest),
    security((), ("basic" = [])),
    responses(
        (status = 200, description = "The codes (Cache-Control: no-store)", body = DeviceAuthorizationResponse),
        (status = 400, description = "invalid_request, unauthorized_client, invalid_scope, invalid_target", body = crate::oauth::OAuthErrorBody),
        (status = 401, description = "invalid_client", body = crate::oauth::OAuthErrorBody),
        (status = 429, description = "Too many requests from this address"),
    ))]
pub(crate) async fn device_authorization(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = crate::oauth::admitted_parameters(&state, ip.0, &headers, &body).await?;
    let now = state.clock.now();
    let client = crate::oauth::calling_client(
        &state,
        crate::oauth::Caller {
            headers: &headers,
            pairs: &pairs,
            endpoint: "/oauth/device_authorization",
            grant: Some(crate::device::GRANT_TYPE),
        },
    )
    .await?;
    let scope =
        crate::oauth::authorize::granted_scope(param(&pairs, "scope").unwrap_or("openid"), &client)
            .map_err(|why| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", why))?;
    let resource = requested_audience(&pairs)?;
    if resource.is_some_and(|r| !client_may_request(&state.config, Some(&client), r)) {
        return Err(OAuthError::invalid_target().into());
    }
    let issued = crate::device::start(
        &state.db,
        crate::device::NewRequest {
            client_id: &client.client_id,
            scope: &scope,
            resource,
        },
        now,
    )
    .await?;
    let verification_uri = format!("{}/device", state.config.issuer);
    let complete = format!(
        "{verification_uri}?user_code={}",
        issued.user_code.replace('-', "")
    );
    tracing::info!(outcome = "success", client = %client.client_id, "device_authorization");
    let mut response = Json(DeviceAuthorizationResponse {
        device_code: issued.device_code,
        user_code: issued.user_code,
        verification_uri,
        verification_uri_complete: complete,
        expires_in: issued.expires_in.as_secs(),
        interval: issued.interval.max(Duration::from_secs(1)).as_secs(),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
