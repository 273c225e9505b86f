//! User administration (role `admin`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::admin::{self, UserChange};
use crate::accounts::UserView;
use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, FieldError};

pub(crate) const DEFAULT_PAGE: u64 = 50;
pub(crate) const MAX_PAGE: u64 = 200;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageParams {
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<Uuid>,
    /// Only users whose email or display name contains this text (any case).
    pub q: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserPage {
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

fn parse_page(params: &PageParams) -> Result<(u64, Option<Uuid>), ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        )]));
    }
    Ok((limit, params.cursor))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "A page of users, oldest first", body = UserPage),
              (status = 403, description = "Not an admin")))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<ApiJson<UserPage>, ApiError> {
    let (limit, cursor) = parse_page(&params)?;
    let (rows, next_cursor) = admin::page(&state.db, params.q.as_deref(), limit, cursor).await?;
    Ok(ApiJson(UserPage {
        items: rows.into_iter().map(UserView::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 404, description = "No such user")))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<UserView>, ApiError> {
    Ok(ApiJson(admin::find(&state.db, id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUserRequest {
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
    /// Require a second factor for the account.
    pub mfa_required: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 404, description = "No such user"),
              (status = 422, description = "Invalid fields", body = crate::error::Problem)))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    ip: ClientIp,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> Result<ApiJson<UserView>, ApiError> {
    let updated = admin::update_user(
        &state.db,
        admin::Operator::Admin(&caller.user),
        id,
        UserChange {
            roles: body.roles,
            disabled: body.disabled,
            display_name: body.display_name,
            mfa_required: body.mfa_required,
        },
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(ApiJson(updated.into()))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such user")))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    ip: ClientIp,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    admin::delete_user(&state.db, &caller.user, id, ip.0, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "Every session of the user ended", body = SessionsEnded),
              (status = 404, description = "No such user")))]
pub(crate) async fn end_user_sessions(
    State(state): State<AppState>,
    ip: ClientIp,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<SessionsEnded>, ApiError> {
    let ended = admin::end_sessions(
        &state.db,
        admin::Operator::Admin(&caller.user),
        id,
        ip.0,
        state.clock.now(),
    )
    .await?;
    Ok(ApiJson(SessionsEnded {
        sessions_ended: ended,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SessionsEnded {
    pub sessions_ended: u64,
}
