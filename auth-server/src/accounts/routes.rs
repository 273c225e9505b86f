//! Sign-up and the signed-in user's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::accounts::password::Password;
use crate::accounts::{self, NewUser, UserView};
use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::error::{ApiError, ApiJson};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignupRequest {
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
pub(crate) async fn signup(
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
    let created = accounts::sign_up(
        &state.db,
        &state.hasher,
        NewUser {
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            roles: Vec::new(),
        },
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(UserView::from(created))))
}

#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Own profile", body = UserView),
              (status = 401, description = "Missing or invalid token, or the session has ended")))]
pub(crate) async fn me(current: CurrentUser) -> ApiJson<UserView> {
    ApiJson(current.user.into())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangePasswordRequest {
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
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    admit_password_check(&state, ip)?;
    accounts::change_password(
        &state.db,
        state.password_gate(),
        current.user,
        &body.old_password,
        &body.new_password,
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteAccountRequest {
    /// The current password: a stolen access token alone cannot delete an account.
    #[schema(value_type = String, format = Password)]
    pub password: Password,
}

#[utoipa::path(delete, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "Account deleted"),
              (status = 403, description = "The password is wrong", body = crate::error::Problem)))]
pub(crate) async fn delete_me(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiJson(body): ApiJson<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    admit_password_check(&state, ip)?;
    accounts::delete_account(
        &state.db,
        state.password_gate(),
        current.user,
        &body.password,
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A password check costs a hash: each comes out of the client's login bucket.
fn admit_password_check(state: &AppState, ip: ClientIp) -> Result<(), ApiError> {
    crate::app::rate_limit::admit(
        &state.limiters.login_per_ip,
        ip.0,
        &state.metrics,
        "login_per_ip",
    )?;
    Ok(())
}
