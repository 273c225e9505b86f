//! For API gateways: forward-auth (nginx `auth_request`, Traefik `ForwardAuth`)
//! and RFC 7662 token introspection.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jwt_verify::{AuthError, VerifiedToken};
use serde_json::json;

use crate::api_keys;
use crate::app::errors::invalid_token;
use crate::app::guard::REALM;
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::oauth::{
    client_credentials, forward, param, parameters, OAuthError, TokenEndpointError,
};
use crate::sessions;

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    // A value that cannot be a header (it never should) is left out, not mangled.
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// Forward-auth: `200` with the identity in `X-Auth-*` headers for a valid
/// bearer token (verified locally, no database read, so a gateway can call
/// this on every request), `401` with `WWW-Authenticate` for an invalid one
/// (the optional `JwtAuthLayer` in front answers those).
///
/// Without a token, for a page on a protected origin
/// (`GATEWAY_PROTECTED_ORIGINS`; see [`forward`]): the browser's Signet
/// session cookie on that origin answers `200` with the user's identity;
/// with none, a page load is sent to sign in (a redirect, or for nginx a
/// 401 carrying `Location`) and anything else gets `401`.
#[utoipa::path(get, path = "/api/v1/auth/verify", tag = "gateway", security(("bearer" = [])),
    responses(
        (status = 200, description = "Valid: X-Auth-User, X-Auth-Email, X-Auth-Email-Verified (users), X-Auth-Roles, X-Auth-Scopes, X-Auth-Client-Id"),
        (status = 302, description = "Browser mode, Traefik convention: to the sign-in page (303 for other methods than GET/HEAD)"),
        (status = 401, description = "Missing or invalid token, with WWW-Authenticate (browser mode, nginx convention: and Location)"),
    ))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    token: Option<axum::Extension<VerifiedToken>>,
    headers: HeaderMap,
) -> Response {
    match token {
        Some(axum::Extension(token)) => bearer_identity(&state, &token),
        None => browser(&state, &headers).await,
    }
}

fn bearer_identity(state: &AppState, token: &VerifiedToken) -> Response {
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
    #[derive(serde::Deserialize)]
    struct Verified {
        email_verified: Option<bool>,
    }
    let verified = token
        .deserialize::<Verified>()
        .ok()
        .and_then(|v| v.email_verified);
    identity(
        claims.sub.as_deref().unwrap_or_default(),
        claims.email.as_deref().unwrap_or_default(),
        verified,
        &claims.roles.join(","),
        claims.scope.as_deref().unwrap_or_default(),
        claims.client_id.as_deref().unwrap_or_default(),
    )
}

fn identity(
    user: &str,
    email: &str,
    email_verified: Option<bool>,
    roles: &str,
    scopes: &str,
    client_id: &str,
) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    set(headers, "x-auth-user", user);
    set(headers, "x-auth-email", email);
    if let Some(verified) = email_verified {
        set(
            headers,
            "x-auth-email-verified",
            if verified { "true" } else { "false" },
        );
    }
    set(headers, "x-auth-roles", roles);
    set(headers, "x-auth-scopes", scopes);
    set(headers, "x-auth-client-id", client_id);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// No bearer token: the browser mode, for protected origins only.
async fn browser(state: &AppState, headers: &HeaderMap) -> Response {
    let missing = || AuthError::MissingToken.to_response::<axum::body::Body>(REALM);
    let Some(original) =
        forward::original(headers).filter(|o| state.config.gateway_origins.contains(&o.origin))
    else {
        return missing();
    };
    let jar = axum_extra::extract::CookieJar::from_headers(headers);
    let names = crate::web::cookie_names(&original.origin);
    if let Some(cookie) = jar.get(names.session) {
        match sessions::browser_session(
            &state.db,
            cookie.value(),
            &original.origin,
            &state.config.sessions,
            state.clock.now(),
        )
        .await
        {
            Ok(Some((user, _))) => {
                return identity(
                    &user.id.to_string(),
                    &user.email,
                    Some(user.email_verified),
                    &user.role_list().join(","),
                    "",
                    "",
                )
            }
            Ok(None) => {}
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    if !forward::is_navigation(headers) {
        return missing();
    }
    let location = forward::sign_in_url(&original);
    let mut response = match original.convention {
        forward::Convention::Nginx => missing(),
        forward::Convention::Traefik if matches!(original.method.as_str(), "GET" | "HEAD") => {
            StatusCode::FOUND.into_response()
        }
        forward::Convention::Traefik => StatusCode::SEE_OTHER.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth", security(("basic" = [])),
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token=…; client authenticated with an API key (HTTP Basic)"),
    responses((status = 200, description = "{active, sub, scope, client_id, exp, iat, iss, aud, token_type}"),
              (status = 401, description = "invalid_client")))]
pub(crate) async fn introspect(
    State(state): State<AppState>,
    ip: crate::app::client_ip::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = parameters(&headers, &body)?;
    let (client_id, secret) = client_credentials(&headers, &pairs)?;
    state
        .limiters
        .revoke_per_client
        .admit_counted_as(
            crate::app::rate_limit::client_key(Some(&client_id), ip.0),
            &state.metrics,
            "introspect_per_client",
            state.clock.now(),
        )
        .await?;
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
    // Bound tokens too: RFC 9449 §6.2 reports their key as `cnf`.
    let Ok(verified) = state.keys.verifier().inspect(token) else {
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
        "token_type": crate::oauth::tokens::token_type(claims.cnf.as_ref().map(|c| c.jkt.as_str())),
        "cnf": claims.cnf,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
