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

/// The answer to a request whose outcome a stranger must not learn (sign-up,
/// a reset request): `202` and the same body whatever happened.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Accepted {
    /// Always `"accepted"`.
    pub status: &'static str,
    /// What happens next, the same text every time.
    pub detail: &'static str,
}

fn accepted(detail: &'static str) -> (StatusCode, ApiJson<Accepted>) {
    (
        StatusCode::ACCEPTED,
        ApiJson(Accepted {
            status: "accepted",
            detail,
        }),
    )
}

use crate::accounts::email::{RESET_ACCEPTED, SIGN_UP_ACCEPTED};

/// Create an account. Roles cannot be chosen here (unknown fields are
/// refused). The answer is the same `202` whether or not the address is
/// registered: a new account is sent a verification link, an existing one
/// a notice that someone tried.
#[utoipa::path(post, path = "/api/v1/users", tag = "users",
    request_body = SignupRequest,
    responses(
        (status = 202, description = "Accepted (new or already registered: the same body)", body = Accepted),
        (status = 422, description = "Invalid fields", body = crate::error::Problem),
        (status = 429, description = "Too many sign-ups from this address", body = crate::error::Problem),
    ))]
pub(crate) async fn signup(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<impl IntoResponse, ApiError> {
    state
        .limiters
        .signup_per_ip
        .admit_ip(ip.0, &state.metrics, state.clock.now())
        .await?;
    accounts::email::sign_up(
        &state.db,
        &state.hasher,
        state.outgoing(),
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
    Ok(accepted(SIGN_UP_ACCEPTED))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkTokenRequest {
    /// The token from the mailed link (`sge_…`).
    pub token: String,
}

/// Confirm an address with the token of a mailed link (a sign-up's
/// verification, or a change to a new address). Single-use, 24 h.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = LinkTokenRequest,
    responses((status = 204, description = "Verified (or changed to the new address)"),
              (status = 400, description = "The link is invalid, used or expired", body = crate::error::Problem)))]
pub(crate) async fn verify_email(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<LinkTokenRequest>,
) -> Result<StatusCode, ApiError> {
    accounts::email::confirm_link(
        &state.db,
        state.outgoing(),
        &body.token,
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordResetRequest {
    pub email: String,
}

/// Ask for a password-reset link. The same `202` for every address, known or
/// not; rate-limited per client IP and per address.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted (the same body for every address)", body = Accepted),
              (status = 429, description = "Too many requests from this client", body = crate::error::Problem)))]
pub(crate) async fn request_password_reset(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<impl IntoResponse, ApiError> {
    state
        .limiters
        .reset_per_ip
        .admit_ip(ip.0, &state.metrics, state.clock.now())
        .await?;
    accounts::email::request_password_reset(
        &state.db,
        state.outgoing(),
        &body.email,
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(accepted(RESET_ACCEPTED))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordResetConfirm {
    pub token: String,
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
}

/// Set a new password with a reset link's token (single-use, 30 min): every
/// session of the account ends, and a notice is mailed.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirm,
    responses((status = 204, description = "Password set; every session ended"),
              (status = 400, description = "The link is invalid, used or expired", body = crate::error::Problem),
              (status = 422, description = "The new password breaks the policy (the link stays usable)", body = crate::error::Problem)))]
pub(crate) async fn confirm_password_reset(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<PasswordResetConfirm>,
) -> Result<StatusCode, ApiError> {
    accounts::email::confirm_password_reset(
        &state.db,
        &state.hasher,
        state.outgoing(),
        &body.token,
        &body.new_password,
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailChangeRequest {
    pub new_email: String,
    #[schema(value_type = String, format = Password)]
    pub password: Password,
}

/// Ask to use another address: a link goes to it, and the change happens
/// when it is opened (the old address is told then). The current password
/// is required.
#[utoipa::path(post, path = "/api/v1/account/email", tag = "users", security(("bearer" = [])),
    request_body = EmailChangeRequest,
    responses((status = 202, description = "A confirmation link is on its way to the new address", body = Accepted),
              (status = 403, description = "The password is wrong", body = crate::error::Problem),
              (status = 422, description = "Not an email address", body = crate::error::Problem)))]
pub(crate) async fn change_email(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiJson(body): ApiJson<EmailChangeRequest>,
) -> Result<impl IntoResponse, ApiError> {
    accounts::email::request_email_change(
        &state.db,
        state.password_gate(),
        state.outgoing(),
        &current.user,
        accounts::email::EmailChange {
            new_email: &body.new_email,
            password: &body.password,
        },
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(accepted(
        "A mail with a confirmation link is on its way to the new address.",
    ))
}

/// Send the signed-in user a new verification link (when the address is
/// not verified yet).
#[utoipa::path(post, path = "/api/v1/account/email/verification", tag = "users", security(("bearer" = [])),
    responses((status = 202, description = "A link is on its way (nothing is sent for a verified address)", body = Accepted)))]
pub(crate) async fn resend_verification(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<impl IntoResponse, ApiError> {
    accounts::email::send_verification(
        &state.db,
        state.outgoing(),
        &current.user,
        state.clock.now(),
    )
    .await?;
    Ok(accepted(
        "If the address is not verified yet, a new link is on its way.",
    ))
}

#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Own profile", body = UserView),
              (status = 401, description = "Missing or invalid token, or the session has ended")))]
pub(crate) async fn me(current: CurrentUser) -> ApiJson<UserView> {
    ApiJson(current.user.into())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileChange {
    /// The new display name; blank or absent clears it.
    pub display_name: Option<String>,
}

/// Change one's own profile (the account page's "Profile" form does the same).
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = ProfileChange,
    responses((status = 200, description = "The profile as it is now", body = UserView),
              (status = 422, description = "The name is too long or holds control characters", body = crate::error::Problem)))]
pub(crate) async fn update_me(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiJson(body): ApiJson<ProfileChange>,
) -> Result<ApiJson<UserView>, ApiError> {
    let user = accounts::update_profile(
        &state.db,
        current.user,
        body.display_name.as_deref(),
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(ApiJson(user.into()))
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
    admit_password_check(&state, ip).await?;
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
    admit_password_check(&state, ip).await?;
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
async fn admit_password_check(state: &AppState, ip: ClientIp) -> Result<(), ApiError> {
    state
        .limiters
        .admit_sign_in(ip.0, &state.metrics, state.clock.now())
        .await?;
    Ok(())
}
