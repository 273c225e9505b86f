//! The signed-in user's sessions (one per login, each a refresh-token family).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde::Serialize;
use uuid::Uuid;

use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::sessions;
use crate::sessions::entity as session;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
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
pub async fn list_sessions(
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
pub async fn revoke_session(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let user = current.user;
    let session = session::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|s| s.user_id == user.id)
        .ok_or(ApiError::NotFound("session"))?;
    let (user_text, session_text) = (user.id.to_string(), session.id.to_string());
    sessions::end_and_audit(
        &state.db,
        session.id,
        "revoked by user",
        AuditEvent::new("session.revoked")
            .actor(&user_text)
            .subject(&session_text)
            .ip(ip.to_string_opt().as_deref()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
