//! The signed-in user's linked upstream identities.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::upstream::flow::{self, UnlinkError};

/// An upstream identity as its owner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IdentityView {
    /// The provider's name in `UPSTREAM_PROVIDERS`.
    pub provider: String,
    pub issuer: String,
    /// The provider's address for you when linked.
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/api/v1/account/identities", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Your linked upstream identities, oldest first", body = [IdentityView])))]
pub(crate) async fn list_identities(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<ApiJson<Vec<IdentityView>>, ApiError> {
    let linked = flow::identities_of(&state.db, current.user.id).await?;
    Ok(ApiJson(
        linked
            .into_iter()
            .map(|identity| IdentityView {
                provider: identity.provider,
                issuer: identity.issuer,
                email: identity.email,
                created_at: identity.created_at,
                last_used_at: identity.last_used_at,
            })
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/account/identities/{provider}", tag = "users", security(("bearer" = [])),
    params(("provider" = String, Path, description = "The provider's name")),
    responses((status = 204, description = "Unlinked"),
              (status = 404, description = "No identity of this provider is linked", body = crate::error::Problem),
              (status = 409, description = "The last way to sign in (no password, no other identity)", body = crate::error::Problem)))]
pub(crate) async fn unlink_identity(
    State(state): State<AppState>,
    ip: ClientIp,
    current: CurrentUser,
    ApiPath(provider): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    match flow::unlink(&state.db, &current.user, &provider, ip.0).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(UnlinkError::NotLinked) => Err(ApiError::NotFound("identity")),
        Err(error @ UnlinkError::LastWayIn) => Err(ApiError::Conflict(error.to_string())),
        Err(UnlinkError::Store(error)) => Err(error.into()),
    }
}
