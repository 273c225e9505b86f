//! Password login.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set, TransactionTrait};
use serde::Deserialize;

use crate::accounts::password::Password;
use crate::accounts::{
    account_label, check_password, find_by_email, normalize_email, PasswordAttempt,
};
use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{ApiError, ApiJson, FieldError};
use crate::oauth::tokens::{issue_user_tokens, token_response, TokenResponse};
use crate::oauth::{basic_pair, BasicPair};
use crate::sessions;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
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
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Invalid email or password", body = crate::error::Problem),
        (status = 422, description = "Malformed body", body = crate::error::Problem),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    request: Request,
) -> Result<Response, ApiError> {
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    crate::app::rate_limit::admit(
        &state.limiters.login_per_ip,
        ip.0,
        &state.metrics,
        "login_per_ip",
    )?;
    let credentials = match basic_credentials(request.headers())? {
        Some(credentials) => credentials,
        None => {
            ApiJson::<LoginRequest>::from_request(request, &state)
                .await?
                .0
        }
    };
    let email = normalize_email(&credentials.email);
    let ip_text = ip.to_string_opt();
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
    let user = if email.len() <= crate::accounts::MAX_EMAIL_LEN {
        find_by_email(&state.db, &email).await?
    } else {
        None
    };
    // Checked before the password, and the same for unknown accounts: it reveals nothing.
    let (verdict, check) = check_password(
        &state.limiters,
        &state.hasher,
        &state.metrics,
        PasswordAttempt {
            account: &email,
            ip: ip.0,
            password: &credentials.password,
            stored_hash: user.as_ref().map(|u| u.password_hash.as_str()),
            now: state.clock.now(),
        },
    )
    .await?;
    let Some(user) = user.filter(|u| verdict.matches && !u.disabled) else {
        let throttled = check.failed();
        let label = account_label(&email);
        audit::throttled(
            &state.db,
            &state.config.limits,
            throttled,
            &label,
            ip_text.as_deref(),
        )
        .await;
        state.metrics.inc(
            "logins_total",
            "Password logins by outcome.",
            &[("outcome", "failure")],
        );
        audit::record(
            &state.db,
            AuditEvent::new("login.failure")
                .subject(&label)
                .ip(ip_text.as_deref()),
        )
        .await;
        return Err(ApiError::InvalidCredentials);
    };
    check.succeeded();
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
    state.metrics.inc(
        "logins_total",
        "Password logins by outcome.",
        &[("outcome", "success")],
    );
    // The session, its refresh token and the audit row: all or nothing.
    let txn = state.db.begin().await?;
    let started = sessions::start(
        &txn,
        user.id,
        &state.config.sessions,
        sessions::Client {
            user_agent,
            ip: ip_text.clone(),
            audience: Some(audience.clone()),
        },
        state.clock.now(),
    )
    .await?;
    let user_id = user.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("login.success")
            .actor(&user_id)
            .subject(&user_id)
            .ip(ip_text.as_deref())
            .detail(serde_json::json!({ "session": started.session.id })),
    )
    .await?;
    txn.commit().await?;
    let tokens = issue_user_tokens(
        &state,
        &user,
        started.session.id,
        &audience,
        started.refresh_token,
    )?;
    state.metrics.inc(
        "tokens_issued_total",
        "Access tokens issued by grant.",
        &[("grant", "password")],
    );
    Ok(token_response(tokens))
}

/// End the session the presented access token belongs to: its refresh token
/// stops working at once (the access token itself expires on its own).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Session ended")))]
pub async fn logout(
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
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
