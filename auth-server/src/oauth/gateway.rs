//! For API gateways: forward-auth (nginx `auth_request`, Traefik `ForwardAuth`)
//! and RFC 7662 token introspection.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jwt_verify::VerifiedToken;
use serde_json::json;

use crate::api_keys;
use crate::app::errors::invalid_token;
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::oauth::{client_credentials, param, parameters, OAuthError, TokenEndpointError};
use crate::sessions;

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
pub(crate) async fn verify(
    State(state): State<AppState>,
    axum::Extension(token): axum::Extension<VerifiedToken>,
) -> Response {
    let claims = token.claims();
    // Gateways guard the services: a token for this server's own account API
    // (or for no configured service) opens nothing behind them.
    if !claims
        .aud
        .iter()
        .any(|aud| state.config.audiences.contains(aud))
    {
        return invalid_token("this token was not issued for these services").into_response();
    }
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

/// Whether what stands behind a token is still live (the part local
/// verification cannot know): a service token's API key is neither revoked
/// nor expired; a user token's account is enabled and its session active.
async fn still_live(state: &AppState, token: &VerifiedToken) -> Result<bool, ApiError> {
    let claims = token.claims();
    if claims.is_service() {
        let client_id = claims.client_id.as_deref().unwrap_or_default();
        return Ok(api_keys::find_by_client_id(&state.db, client_id)
            .await?
            .is_some_and(|key| key.is_usable_at(state.clock.now())));
    }
    Ok(sessions::live_account(&state.db, token, state.clock.now())
        .await?
        .is_some())
}

/// The scope an API key needs to call introspection.
pub(crate) const INTROSPECT_SCOPE: &str = "introspect";
/// With it, introspection also tells the user's email (`username`).
pub(crate) const INTROSPECT_EMAIL_SCOPE: &str = "introspect:email";

/// RFC 7662 introspection for resource servers that cannot verify JWTs
/// themselves. The caller authenticates with an API key. Anything invalid,
/// expired or revoked is `{"active": false}`, with no reason given.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token=…; client authenticated with an API key (HTTP Basic)"),
    responses((status = 200, description = "{active, sub, scope, client_id, exp, iat, iss, aud, token_type}"),
              (status = 401, description = "invalid_client")))]
pub(crate) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = parameters(&headers, &body)?;
    let (client_id, secret) = client_credentials(&headers, &pairs)?;
    let caller =
        match api_keys::authenticate(&state.db, &client_id, &secret, state.clock.now()).await {
            Ok(caller) => Some(caller),
            Err(api_keys::ClientAuthError::Store(error)) => return Err(error.into()),
            Err(_) => None,
        };
    let Some(caller) = caller else {
        return Err(OAuthError::invalid_client().into());
    };
    let granted = caller.scope_list();
    if !granted.iter().any(|s| s == INTROSPECT_SCOPE) {
        return Err(OAuthError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "this API key may not introspect tokens (scope introspect)",
        )
        .into());
    }
    let may_read_email = granted.iter().any(|s| s == INTROSPECT_EMAIL_SCOPE);
    let token =
        param(&pairs, "token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let Ok(verified) = state.keys.verifier().verify_with_current_keys(token) else {
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
        "username": if may_read_email { claims.email.as_deref() } else { None },
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
