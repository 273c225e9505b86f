//! API key administration (role `admin`). The secret is shown once, at creation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api_keys::entity as api_key;
use crate::api_keys::{self, Actor, NewApiKey};
use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::error::{ApiError, ApiJson, ApiPath};

/// An API key as listed: never its secret or hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ApiKeyView {
    pub id: Uuid,
    /// What the key authenticates as (`sgn_<key_id>`): the token's `sub` and `client_id`.
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// Audiences the key may ask for at the token endpoint; the first is its default.
    pub audiences: Option<Vec<String>>,
    /// DPoP (RFC 9449): `allowed` or `required`.
    pub dpop: crate::dpop_policy::DpopPolicy,
    /// Token exchange (RFC 8693): audiences the key may ask for when acting
    /// for a user (empty: it may not exchange), and the scopes there.
    pub exchange_audiences: Vec<String>,
    pub exchange_scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKeyView {
    fn from(model: api_key::Model) -> Self {
        Self {
            client_id: model.client_id(),
            scopes: model.scope_list(),
            audiences: model
                .audiences
                .as_deref()
                .map(|a| a.split_ascii_whitespace().map(str::to_owned).collect()),
            dpop: model.dpop_policy(),
            exchange_audiences: model.exchange_audience_list(),
            exchange_scopes: model.exchange_scope_list(),
            id: model.id,
            name: model.name,
            created_at: model.created_at,
            created_by: model.created_by,
            last_used_at: model.last_used_at,
            expires_at: model.expires_at,
            revoked_at: model.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The full key. Shown once: store it now, it cannot be retrieved again.
    pub api_key: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateApiKeyRequest {
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// JWT_AUDIENCE values the key may ask for (default: the server's first).
    #[serde(default)]
    pub audiences: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `required`: every token request must carry a DPoP proof (default `allowed`).
    #[serde(default)]
    pub dpop: crate::dpop_policy::DpopPolicy,
    /// Token exchange: JWT_AUDIENCE values the key may ask for when acting
    /// for a user (default none: it may not exchange).
    #[serde(default)]
    pub exchange_audiences: Vec<String>,
    /// …and the scopes it may ask for there.
    #[serde(default)]
    pub exchange_scopes: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses((status = 201, description = "Created; the secret is in `api_key`, shown once", body = CreatedApiKey),
              (status = 403, description = "Not an admin"),
              (status = 422, description = "Invalid fields", body = crate::error::Problem)))]
pub(crate) async fn create_api_key(
    State(state): State<AppState>,
    ip: ClientIp,
    admin: CurrentUser,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (admin_id, admin, ip) = (admin.user.id, admin.id_text(), ip.to_string_opt());
    let minted = api_keys::create_audited(
        &state.db,
        NewApiKey {
            name: body.name,
            scopes: body.scopes,
            audiences: body.audiences,
            expires_at: body.expires_at,
            created_by: Some(admin_id),
            dpop: body.dpop,
            exchange_audiences: body.exchange_audiences,
            exchange_scopes: body.exchange_scopes,
        },
        &state.config.audiences,
        Actor {
            id: &admin,
            ip: ip.as_deref(),
        },
        state.clock.now(),
    )
    .await?;
    let mut response = (
        StatusCode::CREATED,
        ApiJson(CreatedApiKey {
            key: minted.model.into(),
            api_key: minted.secret,
        }),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, description = "All keys, oldest first, without secrets", body = [ApiKeyView])))]
pub(crate) async fn list_api_keys(
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<ApiKeyView>>, ApiError> {
    Ok(ApiJson(
        api_keys::list(&state.db)
            .await?
            .into_iter()
            .map(ApiKeyView::from)
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "API key id")),
    responses((status = 204, description = "Revoked: no new tokens from now on"), (status = 404, description = "No such key")))]
pub(crate) async fn revoke_api_key(
    State(state): State<AppState>,
    ip: ClientIp,
    admin: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let (admin, ip) = (admin.id_text(), ip.to_string_opt());
    api_keys::revoke_audited(
        &state.db,
        id,
        Actor {
            id: &admin,
            ip: ip.as_deref(),
        },
        state.clock.now(),
    )
    .await?
    .ok_or(ApiError::NotFound("API key"))?;
    Ok(StatusCode::NO_CONTENT)
}
