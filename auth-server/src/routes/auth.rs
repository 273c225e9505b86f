//! Password login.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};

use crate::accounts::{find_by_email, hash_error, normalize_email};
use crate::error::{ApiError, ApiJson};
use crate::password::Password;
use crate::state::AppState;
use crate::tokens::Subject;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: Password,
}

/// RFC 6749 §5.1 token response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
}

/// `Authorization: Basic base64(email:password)`, if present and well-formed.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<LoginRequest>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || ApiError::BadRequest("malformed Basic credentials".into());
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (email, password) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some(LoginRequest {
        email: email.to_owned(),
        password: Password::new(password),
    }))
}

/// Sign in with email and password (JSON body or HTTP Basic).
///
/// An unknown email and a wrong password get the same answer and take the same
/// time (the password is checked against a dummy hash), so accounts cannot be
/// enumerated.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Invalid email or password", body = crate::error::Problem),
        (status = 422, description = "Malformed body", body = crate::error::Problem),
    ))]
pub async fn login(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let credentials = match basic_credentials(request.headers())? {
        Some(credentials) => credentials,
        None => {
            ApiJson::<LoginRequest>::from_request(request, &state)
                .await?
                .0
        }
    };
    let email = normalize_email(&credentials.email);
    let user = if email.len() <= crate::accounts::MAX_EMAIL_LEN {
        find_by_email(&state.db, &email).await?
    } else {
        None
    };
    let verdict = state
        .hasher
        .verify(
            &credentials.password,
            user.as_ref().map(|u| u.password_hash.as_str()),
        )
        .await
        .map_err(hash_error)?;
    let Some(user) = user.filter(|u| verdict.matches && !u.disabled) else {
        tracing::info!(outcome = "failure", "login");
        return Err(ApiError::InvalidCredentials);
    };
    if verdict.needs_rehash {
        // Upgrade the stored hash to the current parameters; a failure here must not fail the login.
        match state.hasher.hash(&credentials.password).await {
            Ok(new_hash) => {
                let mut active = user.clone().into_active_model();
                active.password_hash = Set(new_hash);
                if let Err(error) = active.update(&state.db).await {
                    tracing::warn!(%error, user_id = %user.id, "could not upgrade password hash");
                }
            }
            Err(error) => {
                tracing::warn!(%error, user_id = %user.id, "could not upgrade password hash")
            }
        }
    }
    let roles = user.role_list();
    let sub = user.id.to_string();
    let scope = state.config.user_scope.clone();
    let issued = state
        .tokens
        .issue(
            &state.keys,
            &Subject {
                sub: &sub,
                client_id: &state.config.first_party_client_id,
                scope: &scope,
                roles: &roles,
                email: Some(&user.email),
                name: user.display_name.as_deref(),
            },
            state.tokens.access_ttl,
        )
        .map_err(ApiError::internal)?;
    tracing::info!(outcome = "success", user_id = %user.id, "login");
    Ok(token_response(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope,
    }))
}

/// RFC 6749 §5.1: token responses must not be cached.
pub fn token_response(body: TokenResponse) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
