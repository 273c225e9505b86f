//! Login, logout, and the signed-in user's sessions (one per login, each a
//! refresh-token family).

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::password::Password;
use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiJson, ApiPath, FieldError};
use crate::oauth::tokens::{token_response, TokenResponse};
use crate::oauth::{basic_pair, BasicPair};
use crate::sessions;
use crate::sessions::entity as session;
use crate::sessions::sign_in::{
    password_sign_in, second_factor_sign_in, Credentials, Pending, SecondFactorAttempt, SignedIn,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: Password,
    /// The resource the access token is for: one of the server's
    /// `JWT_AUDIENCE` values, or `ACCOUNT_AUDIENCE` for this server's own
    /// account API. Default: `LOGIN_DEFAULT_AUDIENCE`.
    #[serde(default)]
    pub audience: Option<String>,
}

/// `Authorization: Basic base64(email:password)`, if present and well-formed.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<LoginRequest>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let (email, password) = match basic_pair(value) {
        BasicPair::Credentials(email, password) => (email, password),
        BasicPair::OtherScheme => return Ok(None),
        BasicPair::Malformed => {
            return Err(ApiError::BadRequest("malformed Basic credentials".into()))
        }
    };
    Ok(Some(LoginRequest {
        email,
        password: Password::new(password),
        audience: None,
    }))
}

/// Sign in with email and password (JSON body or HTTP Basic).
///
/// An unknown email and a wrong password get the same answer and take the same
/// time (the password is checked against a dummy hash), so accounts cannot be
/// enumerated. Starts a session: the answer carries a rotating refresh token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    security((), ("basic" = [])),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Invalid email or password", body = crate::error::Problem),
        (status = 422, description = "Malformed body", body = crate::error::Problem),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    request: Request,
) -> Result<Response, ApiError> {
    let user_agent = crate::app::client_ip::user_agent(request.headers());
    state
        .limiters
        .admit_sign_in(ip.0, &state.metrics, state.clock.now())
        .await?;
    let (credentials, via_basic) = match basic_credentials(request.headers())? {
        Some(credentials) => (credentials, true),
        None => (
            ApiJson::<LoginRequest>::from_request(request, &state)
                .await?
                .0,
            false,
        ),
    };
    let audience = match credentials.audience.as_deref() {
        None => state.config.login_audience.clone(),
        Some(requested) if state.config.user_may_request(requested) => requested.to_owned(),
        Some(_) => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "audience",
                "is not an audience this server issues tokens for",
            )]))
        }
    };
    let signed_in = password_sign_in(
        &state.db,
        state.password_gate(),
        &state.config.sessions,
        Credentials {
            email: &credentials.email,
            password: &credentials.password,
            ip: ip.0,
            user_agent,
            audience: &audience,
            require_verified_email: state.config.mail.require_verified_email,
            mfa_required_roles: &state.config.mfa_required_roles,
            site: None,
        },
        state.clock.now(),
    )
    .await;
    let signed_in = match signed_in {
        Ok(signed_in) => signed_in,
        // Only a Basic login is challenged with Basic.
        Err(crate::sessions::sign_in::SignInError::InvalidCredentials) if !via_basic => {
            return Err(crate::app::errors::invalid_json_credentials())
        }
        Err(crate::sessions::sign_in::SignInError::EmailNotVerified(user)) => {
            // The owner (the password was right) gets a fresh link.
            crate::accounts::email::send_verification(
                &state.db,
                state.outgoing(),
                &user,
                state.clock.now(),
            )
            .await?;
            return Err(crate::sessions::sign_in::SignInError::EmailNotVerified(user).into());
        }
        Err(crate::sessions::sign_in::SignInError::SecondFactor(pending)) => {
            return Ok(second_factor_needed(&pending))
        }
        Err(other) => return Err(other.into()),
    };
    answer_signed_in(&state, signed_in, &audience)
}

/// The tokens of a finished sign-in.
fn answer_signed_in(
    state: &AppState,
    signed_in: SignedIn,
    audience: &str,
) -> Result<Response, ApiError> {
    let tokens = state
        .tokens
        .issue_user_tokens(
            &state.keys.ring(),
            &signed_in.user,
            &signed_in.started.session,
            audience,
            signed_in.started.refresh_token,
            state.clock.now(),
        )
        .map_err(ApiError::internal)?;
    state
        .metrics
        .counter(
            &crate::app::metrics::TOKENS_ISSUED,
            &[("grant", "password")],
        )
        .increment(1);
    Ok(token_response(tokens))
}

/// The password was right and a second factor must follow: `401` with
/// problem type `…/mfa_required` and the `mfa_token` that
/// `POST /api/v1/auth/login/mfa` takes; or, for an account that must set up
/// a factor first (which takes a browser: the QR code), `403`
/// `…/mfa_enrollment_required`.
fn second_factor_needed(pending: &Pending) -> Response {
    if pending.enrol {
        return signet_service::error::problem_with(
            StatusCode::FORBIDDEN,
            "mfa_enrollment_required",
            "this account must set up a second factor: sign in once on the account pages",
            serde_json::Map::new(),
            None,
        );
    }
    let mut members = serde_json::Map::new();
    members.insert("mfa_token".to_owned(), pending.token.clone().into());
    members.insert(
        "mfa_token_expires_in".to_owned(),
        crate::mfa::challenge::TTL.as_secs().into(),
    );
    signet_service::error::problem_with(
        StatusCode::UNAUTHORIZED,
        "mfa_required",
        "a second factor is required: send a code from the authenticator app or a recovery code",
        members,
        Some(header::HeaderValue::from_static(
            crate::app::errors::FORM_CHALLENGE,
        )),
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MfaLoginRequest {
    /// From the `mfa_required` answer of `POST /api/v1/auth/login`.
    pub mfa_token: String,
    /// Six digits from the authenticator app, or a recovery code.
    pub code: String,
}

/// Complete a sign-in that needs a second factor.
///
/// The `mfa_token` lives five minutes and takes five wrong codes; wrong
/// codes also count against the account's sign-in back-off. A code of the
/// app is accepted once; a recovery code once ever (its use is mailed to
/// the owner).
#[utoipa::path(post, path = "/api/v1/auth/login/mfa", tag = "auth",
    request_body = MfaLoginRequest,
    responses(
        (status = 200, description = "Signed in with two factors", body = TokenResponse),
        (status = 401, description = "Unknown or expired `mfa_token`, or a wrong code", body = crate::error::Problem),
        (status = 422, description = "Malformed body", body = crate::error::Problem),
        (status = 429, description = "Too many attempts", body = crate::error::Problem),
    ))]
pub(crate) async fn login_mfa(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(request): ApiJson<MfaLoginRequest>,
) -> Result<Response, ApiError> {
    state
        .limiters
        .admit_sign_in(ip.0, &state.metrics, state.clock.now())
        .await?;
    let signed_in = second_factor_sign_in(
        &state.db,
        state.second_factor(),
        SecondFactorAttempt {
            token: &request.mfa_token,
            site: None,
            proof: crate::sessions::sign_in::Proof::Code(&request.code),
            ip: ip.0,
        },
        state.clock.now(),
    )
    .await?;
    let audience = signed_in
        .started
        .session
        .audience
        .clone()
        .unwrap_or_else(|| state.config.login_audience.clone());
    answer_signed_in(&state, signed_in, &audience)
}

/// End the session the presented access token belongs to: its refresh token
/// stops working at once (the access token itself expires on its own).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Session ended")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
) -> Result<StatusCode, ApiError> {
    // The guard has checked that the session is the caller's and still active.
    let session = current.session_id;
    let sub = current.id_text();
    let session_text = session.to_string();
    sessions::end_and_audit(
        &state.db,
        session,
        "logout",
        AuditEvent::new("session.logout")
            .actor(&sub)
            .subject(&session_text)
            .ip(ip.to_string_opt().as_deref()),
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless used (idle timeout, capped by the absolute lifetime).
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The session of the token making this request.
    pub current: bool,
}

fn view(session: session::Model, current: Uuid) -> SessionView {
    SessionView {
        current: session.id == current,
        id: session.id,
        created_at: session.created_at,
        last_used_at: session.last_used_at,
        expires_at: session.idle_expires_at.min(session.absolute_expires_at),
        user_agent: session.user_agent,
        ip: session.ip,
    }
}

#[utoipa::path(get, path = "/api/v1/users/me/sessions", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Active sessions, most recently used first", body = [SessionView])))]
pub(crate) async fn list_sessions(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<ApiJson<Vec<SessionView>>, ApiError> {
    let sessions = sessions::active_for_user(&state.db, current.user.id, state.clock.now()).await?;
    Ok(ApiJson(
        sessions
            .into_iter()
            .map(|s| view(s, current.session_id))
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/users/me/sessions/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such session of yours")))]
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    sessions::end_own(
        &state.db,
        current.user.id,
        id,
        ip.to_string_opt().as_deref(),
        state.clock.now(),
    )
    .await?
    .ok_or(ApiError::NotFound("session"))?;
    Ok(StatusCode::NO_CONTENT)
}
