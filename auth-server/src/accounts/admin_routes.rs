//! User administration (role `admin`).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, ModelTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::entity as user;
use crate::accounts::{validate_display_name, validate_roles, UserView};
use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, FieldError};
use crate::sessions;

pub(crate) const DEFAULT_PAGE: u64 = 50;
pub(crate) const MAX_PAGE: u64 = 200;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageParams {
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserPage {
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

fn parse_page(params: PageParams) -> Result<(u64, Option<Uuid>), ApiError> {
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
    let (limit, cursor) = parse_page(params)?;
    let mut query = user::Entity::find().order_by_asc(user::Column::Id);
    if let Some(cursor) = cursor {
        query = query.filter(user::Column::Id.gt(cursor));
    }
    let mut rows = query.limit(limit + 1).all(&state.db).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|u| u.id)
    } else {
        None
    };
    Ok(ApiJson(UserPage {
        items: rows.into_iter().map(UserView::from).collect(),
        next_cursor,
    }))
}

async fn find_user(state: &AppState, id: Uuid) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 404, description = "No such user")))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<UserView>, ApiError> {
    Ok(ApiJson(find_user(&state, id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUserRequest {
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
}

fn is_self(admin: &CurrentUser, id: Uuid) -> bool {
    admin.user.id == id
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
    let user = find_user(&state, id).await?;
    let (was_disabled, old_roles) = (user.disabled, user.role_list());
    let mut errors = Vec::new();
    let mut active = user.into_active_model();
    if let Some(roles) = &body.roles {
        match validate_roles(roles) {
            Ok(roles) => active.roles = Set(roles),
            Err(problem) => errors.push(FieldError::new("roles", problem)),
        }
        if is_self(&caller, id) && !roles.iter().any(|r| r == "admin") {
            errors.push(FieldError::new(
                "roles",
                "an admin cannot remove their own admin role",
            ));
        }
    }
    if let Some(disabled) = body.disabled {
        if disabled && is_self(&caller, id) {
            errors.push(FieldError::new(
                "disabled",
                "an admin cannot disable their own account",
            ));
        }
        active.disabled = Set(disabled);
    }
    if body.display_name.is_some() {
        match validate_display_name(body.display_name.as_deref()) {
            Ok(name) => active.display_name = Set(name),
            Err(problem) => errors.push(FieldError::new("display_name", problem)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    active.updated_at = Set(Utc::now());
    let (admin, subject, ip) = (caller.id_text(), id.to_string(), ip.to_string_opt());
    // The change, the sessions it ends and its audit rows: all or nothing.
    let txn = state.db.begin().await?;
    let updated = active.update(&txn).await?;
    if body.disabled == Some(true) && !was_disabled {
        let ended =
            sessions::revoke_all_for_user(&txn, id, "user disabled", state.clock.now()).await?;
        audit::write(
            &txn,
            AuditEvent::new("user.disabled")
                .actor(&admin)
                .subject(&subject)
                .ip(ip.as_deref())
                .detail(serde_json::json!({ "sessions_revoked": ended })),
        )
        .await?;
    }
    if body.disabled == Some(false) && was_disabled {
        audit::write(
            &txn,
            AuditEvent::new("user.enabled")
                .actor(&admin)
                .subject(&subject)
                .ip(ip.as_deref()),
        )
        .await?;
    }
    // A PATCH that changes nothing records nothing.
    if body.roles.is_some() && updated.role_list() != old_roles {
        audit::write(
            &txn,
            AuditEvent::new("user.roles_changed")
                .actor(&admin)
                .subject(&subject)
                .ip(ip.as_deref())
                .detail(serde_json::json!({ "roles": updated.role_list() })),
        )
        .await?;
    }
    txn.commit().await?;
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
    if is_self(&caller, id) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "id",
            "use DELETE /api/v1/users/me to delete your own account",
        )]));
    }
    let user = find_user(&state, id).await?;
    let (admin, subject) = (caller.id_text(), id.to_string());
    let txn = state.db.begin().await?;
    sessions::revoke_all_for_user(&txn, id, "user deleted", state.clock.now()).await?;
    user.delete(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("user.deleted")
            .actor(&admin)
            .subject(&subject)
            .ip(ip.to_string_opt().as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
