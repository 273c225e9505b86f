//! Client administration (role `admin`). A confidential client's secret is
//! shown once, at registration.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::client_ip::ClientIp;
use crate::app::guard::CurrentUser;
use crate::app::state::AppState;
use crate::clients::entity as client;
use crate::clients::{self, Actor, NewClient};
use crate::error::{ApiError, ApiJson, ApiPath};

/// A registered client as listed: never its secret or hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ClientView {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    /// `true`: no secret, PKCE alone (token endpoint auth method `none`).
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    /// The audiences it may ask user tokens for (empty: all for a
    /// first-party client, none for a third-party one).
    pub resources: Vec<String>,
    /// Skips the consent page.
    pub first_party: bool,
    /// DPoP (RFC 9449): `allowed` or `required`.
    pub dpop: crate::dpop_policy::DpopPolicy,
    /// RFC 9126 §6: authorization requests only through `/oauth/par`.
    pub require_pushed_authorization_requests: bool,
    /// Back-Channel Logout 1.0.
    pub backchannel_logout_uri: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
}

impl From<client::Model> for ClientView {
    fn from(model: client::Model) -> Self {
        Self {
            redirect_uris: model.redirect_uri_list(),
            post_logout_redirect_uris: model.post_logout_redirect_uri_list(),
            scopes: model.scope_list(),
            grant_types: model.grant_type_list(),
            resources: model.resource_list(),
            dpop: model.dpop_policy(),
            require_pushed_authorization_requests: model.require_par,
            backchannel_logout_uri: model.backchannel_logout_uri.clone(),
            id: model.id,
            client_id: model.client_id,
            name: model.name,
            public: model.public,
            first_party: model.first_party,
            created_at: model.created_at,
            created_by: model.created_by,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RegisteredClient {
    #[serde(flatten)]
    pub client: ClientView,
    /// Confidential clients only. Shown once: store it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterClientRequest {
    pub name: String,
    /// Exact redirect URIs (https; http only on loopback).
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A browser or native app without a secret (default `false`).
    #[serde(default)]
    pub public: bool,
    /// Default `openid profile email`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Default `authorization_code refresh_token`.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Skip the consent page (default `false`).
    #[serde(default)]
    pub first_party: bool,
    /// `required`: every token request must carry a DPoP proof (default `allowed`).
    #[serde(default)]
    pub dpop: crate::dpop_policy::DpopPolicy,
    /// Audiences (`JWT_AUDIENCE` names; `ACCOUNT_AUDIENCE` only with
    /// `first_party`) the client may ask user tokens for. Default: all for a
    /// first-party client, none for a third-party one.
    #[serde(default)]
    pub resources: Vec<String>,
    /// RFC 9126 §6: authorization requests only through `/oauth/par`
    /// (default `false`).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Back-Channel Logout 1.0: where a signed logout token is posted
    /// when one of its sessions ends.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])),
    request_body = RegisterClientRequest,
    responses((status = 201, description = "Registered; a confidential client's secret is in `client_secret`, shown once", body = RegisteredClient),
              (status = 403, description = "Not an admin"),
              (status = 422, description = "Invalid fields (a redirect URI with a wildcard, a fragment, plain http off loopback…)", body = crate::error::Problem)))]
pub(crate) async fn register_client(
    State(state): State<AppState>,
    ip: ClientIp,
    admin: CurrentUser,
    ApiJson(body): ApiJson<RegisterClientRequest>,
) -> Result<Response, ApiError> {
    let actor = admin.id_text();
    let registered = clients::register_checked(
        &state.db,
        NewClient {
            name: body.name,
            public: body.public,
            redirect_uris: body.redirect_uris,
            post_logout_redirect_uris: body.post_logout_redirect_uris,
            scopes: body.scopes,
            grant_types: body.grant_types,
            first_party: body.first_party,
            created_by: Some(admin.user.id),
            dpop: body.dpop,
            resources: body.resources,
            require_par: body.require_pushed_authorization_requests,
            backchannel_logout_uri: body.backchannel_logout_uri,
        },
        &clients::ResourceCatalog::of(&state.config),
        Actor {
            id: &actor,
            ip: ip.0,
        },
        state.clock.now(),
    )
    .await?;
    let mut response = (
        StatusCode::CREATED,
        ApiJson(RegisteredClient {
            client: registered.client.into(),
            client_secret: registered.secret,
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])),
    responses((status = 200, description = "Every client, oldest first, without secrets", body = [ClientView])))]
pub(crate) async fn list_clients(
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<ClientView>>, ApiError> {
    Ok(ApiJson(
        clients::list(&state.db)
            .await?
            .into_iter()
            .map(ClientView::from)
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/clients/{client_id}", tag = "clients", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The client's `client_id` (sgc_…)")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such client")))]
pub(crate) async fn delete_client(
    State(state): State<AppState>,
    ip: ClientIp,
    admin: CurrentUser,
    ApiPath(client_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let actor = admin.id_text();
    clients::delete(
        &state.db,
        &client_id,
        Actor {
            id: &actor,
            ip: ip.0,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The fields a `PATCH` changes; those absent stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateClientRequest {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub resources: Option<Vec<String>>,
    pub require_pushed_authorization_requests: Option<bool>,
    /// `""` removes it.
    pub backchannel_logout_uri: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/clients/{client_id}", tag = "clients", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The client's `client_id` (sgc_…)")),
    request_body = UpdateClientRequest,
    responses((status = 200, description = "Changed, by the rules of a registration", body = ClientView),
              (status = 404, description = "No such client"),
              (status = 422, description = "Invalid fields", body = crate::error::Problem)))]
pub(crate) async fn update_client(
    State(state): State<AppState>,
    ip: ClientIp,
    admin: CurrentUser,
    ApiPath(client_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateClientRequest>,
) -> Result<ApiJson<ClientView>, ApiError> {
    let actor = admin.id_text();
    let client = clients::update(
        &state.db,
        &client_id,
        clients::ClientChange {
            name: body.name,
            redirect_uris: body.redirect_uris,
            post_logout_redirect_uris: body.post_logout_redirect_uris,
            resources: body.resources,
            require_par: body.require_pushed_authorization_requests,
            backchannel_logout_uri: body.backchannel_logout_uri,
        },
        &clients::ResourceCatalog::of(&state.config),
        Actor {
            id: &actor,
            ip: ip.0,
        },
        state.clock.now(),
    )
    .await?;
    Ok(ApiJson(client.into()))
}

/// A confidential client's new secret, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RotatedSecret {
    pub client_secret: String,
}

#[utoipa::path(post, path = "/api/v1/clients/{client_id}/secret", tag = "clients", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The client's `client_id` (sgc_…)")),
    responses((status = 200, description = "The new secret, shown once; the old one no longer authenticates", body = RotatedSecret),
              (status = 404, description = "No such client"),
              (status = 422, description = "A public client has no secret", body = crate::error::Problem)))]
pub(crate) async fn rotate_client_secret(
    State(state): State<AppState>,
    ip: ClientIp,
    admin: CurrentUser,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let actor = admin.id_text();
    let secret = clients::rotate_secret(
        &state.db,
        &client_id,
        Actor {
            id: &actor,
            ip: ip.0,
        },
    )
    .await?;
    let mut response = ApiJson(RotatedSecret {
        client_secret: secret,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
