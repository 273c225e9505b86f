//! Sign-up and the signed-in user's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, IntoActiveModel, ModelTrait, Set, TransactionTrait};
use serde::Deserialize;

use crate::accounts::entity as user;
use crate::accounts::password::{policy_violation, Password};
use crate::accounts::UserView;
use crate::accounts::{check_password, create_user, hash_error, NewUser, PasswordAttempt};
use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{ApiError, ApiJson, FieldError};
use crate::sessions;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 256)]
    pub password: Password,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Create an account. Roles cannot be chosen here (unknown fields are refused).
#[utoipa::path(post, path = "/api/v1/users", tag = "users",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 409, description = "Email already registered", body = crate::error::Problem),
        (status = 422, description = "Invalid fields", body = crate::error::Problem),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<impl IntoResponse, ApiError> {
    crate::app::rate_limit::admit(
        &state.limiters.signup_per_ip,
        ip.0,
        &state.metrics,
        "signup_per_ip",
    )?;
    let created = create_user(
        &state.db,
        &state.hasher,
        NewUser {
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            roles: Vec::new(),
        },
    )
    .await?;
    let user_id = created.id.to_string();
    audit::record(
        &state.db,
        AuditEvent::new("user.signup")
            .actor(&user_id)
            .subject(&user_id)
            .ip(ip.to_string_opt().as_deref()),
    )
    .await;
    Ok((StatusCode::CREATED, ApiJson(UserView::from(created))))
}

#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Own profile", body = UserView),
              (status = 401, description = "Missing or invalid token, or the session has ended")))]
pub async fn me(current: CurrentUser) -> ApiJson<UserView> {
    ApiJson(current.user.into())
}

/// Check the signed-in user's password again (password change, account
/// deletion) under the same limits as a login. A wrong password is counted,
/// audited as `event` and answered 403.
async fn reauthenticate(
    state: &AppState,
    ip: ClientIp,
    user: &user::Model,
    password: &Password,
    event: &'static str,
) -> Result<crate::accounts::password::Verification, ApiError> {
    crate::app::rate_limit::admit(
        &state.limiters.login_per_ip,
        ip.0,
        &state.metrics,
        "login_per_ip",
    )?;
    let (verdict, check) = check_password(
        &state.limiters,
        &state.hasher,
        &state.metrics,
        PasswordAttempt {
            account: &user.email,
            ip: ip.0,
            password,
            stored_hash: Some(&user.password_hash),
            now: state.clock.now(),
        },
    )
    .await?;
    if verdict.matches {
        check.succeeded();
        return Ok(verdict);
    }
    let throttled = check.failed();
    let (user_text, ip_text) = (user.id.to_string(), ip.to_string_opt());
    audit::throttled(
        &state.db,
        &state.config.limits,
        throttled,
        &user.email,
        ip_text.as_deref(),
    )
    .await;
    audit::record(
        &state.db,
        AuditEvent::new(event)
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip_text.as_deref()),
    )
    .await;
    Err(ApiError::Forbidden("the current password is wrong".into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password)]
    pub old_password: Password,
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
}

#[utoipa::path(patch, path = "/api/v1/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed"),
              (status = 403, description = "Old password is wrong", body = crate::error::Problem),
              (status = 422, description = "New password rejected by policy", body = crate::error::Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let user = current.user;
    reauthenticate(
        &state,
        ip,
        &user,
        &body.old_password,
        "password.change_failed",
    )
    .await?;
    if let Some(problem) = policy_violation(body.new_password.expose(), Some(&user.email)) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "new_password",
            problem,
        )]));
    }
    let hash = state
        .hasher
        .hash(&body.new_password)
        .await
        .map_err(hash_error)?;
    let user_id = user.id;
    let mut active = user.into_active_model();
    active.password_hash = Set(hash);
    active.updated_at = Set(Utc::now());
    // One transaction: a new password must never be stored while the old
    // sessions (perhaps the reason for the change) stay alive.
    let user_text = user_id.to_string();
    let txn = state.db.begin().await?;
    active.update(&txn).await?;
    let ended = sessions::revoke_all_for_user(&txn, user_id, "password changed").await?;
    audit::write(
        &txn,
        AuditEvent::new("password.changed")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip.to_string_opt().as_deref())
            .detail(serde_json::json!({ "sessions_revoked": ended })),
    )
    .await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The current password: a stolen access token alone cannot delete an account.
    #[schema(value_type = String, format = Password)]
    pub password: Password,
}

#[utoipa::path(delete, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "Account deleted"),
              (status = 403, description = "The password is wrong", body = crate::error::Problem)))]
pub async fn delete_me(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiJson(body): ApiJson<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    let user = current.user;
    reauthenticate(&state, ip, &user, &body.password, "user.delete_failed").await?;
    let user_id = user.id;
    let user_text = user_id.to_string();
    let txn = state.db.begin().await?;
    sessions::revoke_all_for_user(&txn, user_id, "user deleted").await?;
    user.delete(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("user.deleted")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip.to_string_opt().as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
