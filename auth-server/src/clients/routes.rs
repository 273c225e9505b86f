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

/// RFC 7591 §2: the client metadata a registration sends. Members this
/// server does not use are ignored, as §2 says.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ClientMetadata {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    /// `client_secret_basic` (the default), `client_secret_post`, or `none`
    /// (a public client: PKCE alone).
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    /// Space-separated; narrowed to the scopes this server offers.
    scope: Option<String>,
    /// Refused: an administrator sets it (this server posts to it).
    backchannel_logout_uri: Option<String>,
}

/// RFC 7591 §3.2.1: the registered client, its secret once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ClientInformation {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    client_id_issued_at: i64,
    /// `0`: the secret does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    client_name: String,
    redirect_uris: Vec<String>,
    token_endpoint_auth_method: &'static str,
    grant_types: Vec<String>,
    response_types: Vec<&'static str>,
    scope: String,
}

fn registration_error(
    code: &'static str,
    description: impl Into<String>,
) -> crate::oauth::OAuthError {
    crate::oauth::OAuthError::new(StatusCode::BAD_REQUEST, code, description)
}

/// RFC 7591 dynamic client registration, for whoever holds the initial
/// access token (`REGISTRATION_TOKEN`): off without one. A registered
/// client is third-party (the consent page, every time it has none), may
/// ask tokens for the services, never for this server's own API; each
/// registration comes out of the per-IP sign-up bucket and is audited
/// (`client.created` by `dynamic-registration`).
#[utoipa::path(post, path = "/oauth/register", tag = "clients", security(("bearer" = [])),
    request_body = ClientMetadata,
    responses((status = 201, description = "Registered; a confidential client's secret is in `client_secret`, shown once", body = ClientInformation),
              (status = 400, description = "invalid_redirect_uri, invalid_client_metadata", body = crate::oauth::OAuthErrorBody),
              (status = 401, description = "No or a wrong initial access token"),
              (status = 404, description = "Registration is off (no REGISTRATION_TOKEN)"),
              (status = 429, description = "Too many registrations from this address")))]
pub(crate) async fn dynamic_registration(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, crate::oauth::TokenEndpointError> {
    use secrecy::ExposeSecret as _;
    use subtle::ConstantTimeEq as _;
    let Some(expected) = state.config.registration_token.as_ref() else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let digest = |text: &str| crate::digest::sha256_hex(text);
    let valid = presented.is_some_and(|token| {
        bool::from(
            digest(token)
                .as_bytes()
                .ct_eq(digest(expected.expose_secret()).as_bytes()),
        )
    });
    if !valid {
        tracing::info!(
            outcome = "failure",
            reason = "initial access token",
            "client registration"
        );
        let mut response = (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({
                "error": "invalid_token",
                "error_description": "registration needs the initial access token (RFC 7591 §3)",
            })),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"signet\", error=\"invalid_token\""),
        );
        return Ok(response);
    }
    state
        .limiters
        .signup_per_ip
        .admit_ip(ip.0, &state.metrics, state.clock.now())
        .await?;
    let metadata: ClientMetadata = serde_json::from_slice(&body).map_err(|_| {
        registration_error(
            "invalid_client_metadata",
            "the body is not a JSON object of client metadata (RFC 7591 §2)",
        )
    })?;
    let method = metadata
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic");
    let public = match method {
        "none" => true,
        "client_secret_basic" | "client_secret_post" => false,
        _ => {
            return Err(registration_error(
                "invalid_client_metadata",
                "token_endpoint_auth_method: none, client_secret_basic or client_secret_post",
            )
            .into())
        }
    };
    // This server would POST to it at every sign-out: an address the
    // registrant chose, inside the network (as for metadata documents).
    // Administrators set it (`PATCH /api/v1/clients/{client_id}`).
    if metadata.backchannel_logout_uri.is_some() {
        return Err(registration_error(
            "invalid_client_metadata",
            "backchannel_logout_uri is set by an administrator, not at registration",
        )
        .into());
    }
    if metadata
        .response_types
        .as_ref()
        .is_some_and(|types| types.iter().any(|t| t != "code"))
    {
        return Err(
            registration_error("invalid_client_metadata", "response_types: code only").into(),
        );
    }
    let scopes =
        clients::self_registered_scopes(metadata.scope.as_deref(), &state.config.user_scope);
    let redirect_uris = metadata.redirect_uris.unwrap_or_default();
    let name = metadata
        .client_name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            redirect_uris
                .first()
                .and_then(|uri| url::Url::parse(uri).ok())
                .and_then(|uri| uri.host_str().map(str::to_owned))
                .unwrap_or_else(|| "Registered client".to_owned())
        });
    let actor = "dynamic-registration";
    let registered = clients::register_checked(
        &state.db,
        NewClient {
            name,
            public,
            redirect_uris,
            scopes,
            grant_types: metadata.grant_types.unwrap_or_default(),
            first_party: false,
            resources: state.config.audiences.clone(),
            ..NewClient::default()
        },
        &clients::ResourceCatalog::of(&state.config),
        Actor {
            id: actor,
            ip: ip.0,
        },
        state.clock.now(),
    )
    .await;
    let registered = match registered {
        Ok(registered) => registered,
        Err(clients::RegistryError::Invalid(fields)) => {
            let first = fields.first();
            let code = if first.is_some_and(|f| f.field == "redirect_uris") {
                "invalid_redirect_uri"
            } else {
                "invalid_client_metadata"
            };
            let description = first
                .map(|f| format!("{}: {}", f.field, f.message))
                .unwrap_or_default();
            return Err(registration_error(code, description).into());
        }
        Err(clients::RegistryError::NotFound) => return Err(ApiError::NotFound("client").into()),
        Err(clients::RegistryError::Store(error)) => return Err(error.into()),
    };
    let client = registered.client;
    tracing::info!(outcome = "success", client = %client.client_id, "client registration");
    let mut response = (
        StatusCode::CREATED,
        axum::Json(ClientInformation {
            client_secret_expires_at: registered.secret.as_ref().map(|_| 0),
            client_secret: registered.secret,
            client_id_issued_at: client.created_at.timestamp(),
            client_name: client.name.clone(),
            redirect_uris: client.redirect_uri_list(),
            token_endpoint_auth_method: if client.public {
                "none"
            } else {
                method_name(method)
            },
            grant_types: client.grant_type_list(),
            response_types: vec!["code"],
            scope: client.scopes.clone(),
            client_id: client.client_id,
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn method_name(method: &str) -> &'static str {
    if method == "client_secret_post" {
        "client_secret_post"
    } else {
        "client_secret_basic"
    }
}
