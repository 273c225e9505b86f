//! The audit trail, for admins.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::state::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, FieldError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<Uuid>,
    /// Only this event (e.g. `login.failure`).
    pub event: Option<String>,
    /// Only rows by or about this account (its id as `actor` or `subject`).
    pub user: Option<Uuid>,
    /// At or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditEventView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub event: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditPage {
    pub items: Vec<AuditEventView>,
    pub next_cursor: Option<Uuid>,
}

/// Newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 403, description = "Not an admin")))]
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "limit",
            "must be between 1 and 200",
        )]));
    }
    let filter = crate::audit::Filter {
        user: params.user,
        event: params.event,
        from: params.from,
        to: params.to,
    };
    let (rows, next_cursor) =
        crate::audit::search(&state.db, &filter, limit, params.cursor).await?;
    Ok(ApiJson(AuditPage {
        items: rows
            .into_iter()
            .map(|e| AuditEventView {
                detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
                id: e.id,
                at: e.at,
                event: e.event,
                actor: e.actor,
                subject: e.subject,
                ip: e.ip,
            })
            .collect(),
        next_cursor,
    }))
}
