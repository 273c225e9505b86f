//! For API gateways: forward-auth (nginx `auth_request`, Traefik `ForwardAuth`)
//! and RFC 7662 token introspection.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jwt_verify::VerifiedToken;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::api_keys;
use crate::entity::{session, user};
use crate::error::ApiError;
use crate::routes::oauth::{client_credentials, param, parameters, OAuthError, TokenEndpointError};
use crate::state::AppState;

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    // A value that cannot be a header (it never should) is left out, not mangled.
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// Forward-auth: `200` with the identity in `X-Auth-*` headers for a valid
/// bearer token, `401` with `WWW-Authenticate` otherwise (the `JwtAuthLayer`
/// in front of this handler answers those). Verification is local — no
/// database read — so a gateway can call this on every request.
#[utoipa::path(get, path = "/api/v1/auth/verify", tag = "gateway", security(("bearer" = [])),
    responses(
        (status = 200, description = "Valid: X-Auth-User, X-Auth-Email, X-Auth-Roles, X-Auth-Scopes, X-Auth-Client-Id"),
        (status = 401, description = "Missing or invalid token, with WWW-Authenticate"),
    ))]
pub async fn verify(axum::Extension(token): axum::Extension<VerifiedToken>) -> Response {
    let claims = token.claims();
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    set(
        headers,
        "x-auth-user",
        claims.sub.as_deref().unwrap_or_default(),
    );
    set(
        headers,
        "x-auth-email",
        claims.email.as_deref().unwrap_or_default(),
    );
    set(headers, "x-auth-roles", &claims.roles.join(","));
    set(
        headers,
        "x-auth-scopes",
        claims.scope.as_deref().unwrap_or_default(),
    );
    set(
        headers,
        "x-auth-client-id",
        claims.client_id.as_deref().unwrap_or_default(),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn inactive() -> Response {
    let mut response = Json(json!({ "active": false })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether a user token's account and session are still live (the part local
/// verification cannot know).
async fn still_live(state: &AppState, token: &VerifiedToken) -> Result<bool, ApiError> {
    let claims = token.claims();
    if claims.is_service() {
        return Ok(true);
    }
    let Some(user_id) = claims.sub.as_deref().and_then(|s| Uuid::parse_str(s).ok()) else {
        return Ok(false);
    };
    let user_ok = user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .is_some_and(|u| !u.disabled);
    let sid: Option<Uuid> = token.deserialize::<Value>().ok().and_then(|v| {
        v.get("sid")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
    });
    let session_ok = match sid {
        None => true,
        Some(sid) => session::Entity::find_by_id(sid)
            .one(&state.db)
            .await?
            .is_some_and(|s| s.revoked_at.is_none()),
    };
    Ok(user_ok && session_ok)
}

/// RFC 7662 introspection for resource servers that cannot verify JWTs
/// themselves. The caller authenticates with an API key. Anything invalid,
/// expired or revoked is `{"active": false}`, with no reason given.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token=…; client authenticated with an API key (HTTP Basic)"),
    responses((status = 200, description = "{active, sub, scope, client_id, exp, iat, iss, aud, token_type}"),
              (status = 401, description = "invalid_client")))]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = parameters(&headers, &body)?;
    let (client_id, secret) = client_credentials(&headers, &pairs)?;
    if api_keys::authenticate(&state.db, &client_id, &secret)
        .await?
        .is_err()
    {
        return Err(OAuthError::invalid_client().into());
    }
    let token =
        param(&pairs, "token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let Ok(verified) = state.verifier.verify_with_current_keys(token) else {
        return Ok(inactive());
    };
    if !still_live(&state, &verified).await? {
        return Ok(inactive());
    }
    let claims = verified.claims();
    let mut response = Json(json!({
        "active": true,
        "sub": claims.sub,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "username": claims.email,
        "exp": claims.exp,
        "iat": claims.iat,
        "nbf": claims.nbf,
        "iss": claims.iss,
        "aud": claims.aud,
        "jti": claims.jti,
        "token_type": "Bearer",
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
