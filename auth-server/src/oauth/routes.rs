//! `POST /oauth/token` (RFC 6749): the `client_credentials` grant for API keys.
//!
//! Errors use the RFC 6749 §5.2 JSON shape (`{"error","error_description"}`),
//! not problem+json, because OAuth clients parse exactly that.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api_keys;
use crate::app::client_ip::ClientIp;
use crate::app::metrics::{REFRESH_REUSE, TOKENS_ISSUED};
use crate::app::state::AppState;
use crate::audit::AuditEvent;
use crate::error::ApiError;
use crate::oauth::tokens::Subject;
use crate::oauth::tokens::{token_response, TokenResponse};
use crate::oauth::{
    client_credentials, client_grant, param, parameters, requested_audience, OAuthError,
    TokenEndpointError,
};
use crate::sessions::{self, RefreshError};

/// Exchange client credentials for a service token.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = String,
        description = "grant_type=client_credentials&scope=… (client authenticated with HTTP Basic or client_id/client_secret), or grant_type=refresh_token&refresh_token=…"),
    responses(
        (status = 200, description = "Token issued (refresh_token grant: with a rotated refresh token)", body = TokenResponse),
        (status = 400, description = "invalid_request, unsupported_grant_type, invalid_scope"),
        (status = 401, description = "invalid_client"),
    ))]
pub(crate) async fn token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    crate::app::rate_limit::admit(
        &state.limiters.token_per_ip,
        ip.0,
        &state.metrics,
        "token_per_ip",
    )?;
    let pairs = parameters(&headers, &body)?;
    let grant_type = param(&pairs, "grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    match grant_type {
        "client_credentials" => {}
        "refresh_token" => return refresh_grant(&state, &pairs, ip).await,
        _ => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "supported: client_credentials, refresh_token",
            )
            .into())
        }
    }
    let (client_id, secret) = client_credentials(&headers, &pairs)?;
    let key = match api_keys::authenticate(&state.db, &client_id, &secret, state.clock.now()).await
    {
        Ok(key) => key,
        Err(api_keys::ClientAuthError::Store(error)) => return Err(error.into()),
        Err(failure) => {
            tracing::info!(outcome = "failure", reason = %failure, "client_credentials");
            return Err(OAuthError::invalid_client().into());
        }
    };
    let (scope, audience) = client_grant(
        &key,
        param(&pairs, "scope"),
        requested_audience(&pairs)?,
        &state.config.audiences,
    )?;
    let client_id = key.client_id();
    let issued = state
        .tokens
        .issue(
            &state.keys.ring(),
            &Subject {
                sub: &client_id,
                audience: &audience,
                client_id: &client_id,
                scope: &scope,
                roles: &[],
                email: None,
                name: Some(&key.name),
                sid: None,
            },
            state.config.service_token_ttl,
            state.clock.now(),
        )
        .map_err(ApiError::internal)?;
    state.last_used.record(&state.db, key.id);
    state
        .metrics
        .counter(&TOKENS_ISSUED, &[("grant", "client_credentials")])
        .increment(1);
    tracing::info!(outcome = "success", %client_id, "client_credentials");
    Ok(token_response(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope,
        refresh_token: None,
    }))
}

/// RFC 6749 §6: exchange a refresh token (the first-party client is public,
/// so no client authentication). Each use rotates it; see [`sessions`].
async fn refresh_grant(
    state: &AppState,
    pairs: &[(String, String)],
    ip: ClientIp,
) -> Result<Response, TokenEndpointError> {
    let presented = param(pairs, "refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    if let Some(client_id) = param(pairs, "client_id") {
        if client_id != state.config.first_party_client_id {
            return Err(OAuthError::invalid_client().into());
        }
    }
    let invalid_grant = || {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is invalid, expired or revoked",
        )
    };
    let requested = requested_audience(pairs)?;
    if requested.is_some_and(|aud| !state.config.user_may_request(aud)) {
        return Err(OAuthError::invalid_target().into());
    }
    match sessions::rotate(
        &state.db,
        presented,
        &state.config.sessions,
        ip.0,
        state.clock.now(),
    )
    .await
    {
        Ok(rotated) => {
            // RFC 8707 §2.2: a refresh token may be used for any resource the
            // session may reach; by default, the one it was opened for.
            let audience = requested
                .map(str::to_owned)
                .or_else(|| rotated.session.audience.clone())
                .filter(|aud| state.config.user_may_request(aud))
                .unwrap_or_else(|| state.config.login_audience.clone());
            if !rotated.replayed {
                tracing::info!(session = %rotated.session.id, "refresh token rotated");
            }
            state
                .metrics
                .counter(&TOKENS_ISSUED, &[("grant", "refresh_token")])
                .increment(1);
            let tokens = state
                .tokens
                .issue_user_tokens(
                    &state.keys.ring(),
                    &rotated.user,
                    rotated.session.id,
                    &audience,
                    rotated.refresh_token,
                    state.clock.now(),
                )
                .map_err(ApiError::internal)?;
            Ok(token_response(tokens))
        }
        Err(RefreshError::Reused {
            session_id,
            user_id,
        }) => {
            // The session's end and its audit row were committed together.
            tracing::warn!(session = %session_id, user = %user_id, "refresh token reuse detected; session revoked");
            state.metrics.counter(&REFRESH_REUSE, &[]).increment(1);
            Err(invalid_grant().into())
        }
        Err(RefreshError::Store(error)) => Err(error.into()),
        Err(_) => Err(invalid_grant().into()),
    }
}

/// RFC 7009 token revocation.
///
/// A refresh token ends its whole session. So does a user's access token
/// (its `sid`): the refresh token dies with it, introspection answers
/// inactive, and auth-server's own routes refuse the access token at once.
/// A service token cannot be revoked here (`unsupported_token_type`): revoke
/// its API key. Anything else — unknown, expired, forged — is 200 with no
/// effect, so the answer reveals nothing about tokens.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token=…[&token_type_hint=refresh_token|access_token]"),
    responses((status = 200, description = "Revoked, or nothing to revoke"),
              (status = 400, description = "invalid_request; unsupported_token_type for a service token")))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = parameters(&headers, &body)?;
    let token =
        param(&pairs, "token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let session = if token.starts_with(sessions::REFRESH_PREFIX) {
        sessions::session_of(&state.db, token).await?
    } else {
        match state.keys.verifier().verify_with_current_keys(token) {
            Err(_) => None,
            Ok(verified) if verified.claims().is_service() => {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "unsupported_token_type",
                    "service tokens are revoked with their API key",
                )
                .into())
            }
            Ok(verified) => sessions::session_of_access_token(&state.db, &verified).await?,
        }
    };
    if let Some(session) = session {
        let (session_text, user_text) = (session.id.to_string(), session.user_id.to_string());
        sessions::end_and_audit(
            &state.db,
            session.id,
            "revoked by client",
            AuditEvent::new("session.revoked")
                .actor(&user_text)
                .subject(&session_text)
                .ip(ip.to_string_opt().as_deref())
                .detail(json!({ "via": "oauth/revoke" })),
            state.clock.now(),
        )
        .await?;
    }
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
