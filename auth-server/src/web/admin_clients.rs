//! The console's applications (OAuth clients): register one (a confidential
//! client's secret shown on that page alone), change its name, redirect URIs
//! and resources, rotate its secret, delete it. Each through the registry's
//! function the admin API and the CLI call, so the same rules hold (exact
//! redirect URIs, https off loopback, resources the server issues), audited
//! with the admin's id. Rotating the secret and deleting break the running
//! application: both ask for the admin's password again.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;

use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::clients::entity as client;
use crate::clients::{self, Actor, ClientChange, NewClient, RegistryError, ResourceCatalog};
use crate::i18n::t;
use crate::web::admin_pages::{confirm_password, when, ConsoleForm, ConsolePage, Reauth};
use crate::web::browser::{form_page, see_other, server_error};
use crate::web::{error_page, random_token};

/// The lines or words of a form field.
fn list(raw: Option<&String>) -> Vec<String> {
    raw.map(|r| r.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

struct ClientRow {
    client_id: String,
    name: String,
    public: bool,
    first_party: bool,
    redirect_uris: Vec<String>,
    created: String,
}

impl From<&client::Model> for ClientRow {
    fn from(client: &client::Model) -> Self {
        Self {
            client_id: client.client_id.clone(),
            name: client.name.clone(),
            public: client.public,
            first_party: client.first_party,
            redirect_uris: client.redirect_uri_list(),
            created: when(client.created_at),
        }
    }
}

/// Each form field's message, shown under it.
#[derive(Default)]
struct ClientErrors {
    name: Option<String>,
    redirect_uris: Option<String>,
    post_logout_redirect_uris: Option<String>,
    resources: Option<String>,
    password: Option<String>,
    delete_password: Option<String>,
}

impl ClientErrors {
    fn from_fields(fields: Vec<signet_service::error::FieldError>) -> Self {
        let mut errors = Self::default();
        for field in fields {
            let slot = match field.field.as_str() {
                "redirect_uris" => &mut errors.redirect_uris,
                "post_logout_redirect_uris" => &mut errors.post_logout_redirect_uris,
                "resources" => &mut errors.resources,
                _ => &mut errors.name,
            };
            *slot = Some(field.message);
        }
        errors
    }
}

/// What a form held, shown again when it is refused.
#[derive(Default)]
struct ClientForm {
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    resources: String,
    public: bool,
    first_party: bool,
}

impl ClientForm {
    fn of(client: &client::Model) -> Self {
        Self {
            name: client.name.clone(),
            redirect_uris: client.redirect_uri_list().join("\n"),
            post_logout_redirect_uris: client.post_logout_redirect_uri_list().join("\n"),
            resources: client.resource_list().join(" "),
            public: client.public,
            first_party: client.first_party,
        }
    }

    fn posted(params: &std::collections::HashMap<String, String>) -> Self {
        let text = |name: &str| params.get(name).cloned().unwrap_or_default();
        Self {
            name: text("name"),
            redirect_uris: text("redirect_uris"),
            post_logout_redirect_uris: text("post_logout_redirect_uris"),
            resources: text("resources"),
            public: params.get("public").map(String::as_str) == Some("yes"),
            first_party: params.get("first_party").map(String::as_str) == Some("yes"),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_clients.html")]
struct ClientsPage<'a> {
    section: &'static str,
    csrf_token: &'a str,
    notice: Option<String>,
    clients: Vec<ClientRow>,
    /// The client just registered and its secret (confidential ones).
    made: Option<(String, String, Option<String>)>,
    form: ClientForm,
    errors: ClientErrors,
}

#[allow(clippy::too_many_arguments)]
async fn clients_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    notice: Option<String>,
    made: Option<(String, String, Option<String>)>,
    form: ClientForm,
    errors: ClientErrors,
) -> Response {
    let rows = match clients::list(&state.db).await {
        Ok(rows) => rows,
        Err(error) => return server_error(error),
    };
    let csrf = random_token();
    let html = ClientsPage {
        section: "clients",
        csrf_token: &csrf,
        notice,
        clients: rows.iter().rev().map(ClientRow::from).collect(),
        made,
        form,
        errors,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

fn admin_actor(admin: &crate::accounts::entity::Model) -> String {
    admin.id.to_string()
}

/// `GET /admin/clients`.
pub(crate) async fn clients_list(
    State(state): State<AppState>,
    jar: CookieJar,
    ConsolePage { params, .. }: ConsolePage,
) -> Response {
    let notice = match params.get("done").map(String::as_str) {
        Some("deleted") => Some(t("admin-client-deleted")),
        _ => None,
    };
    let form = ClientForm::default();
    let errors = ClientErrors::default();
    clients_page(&state, jar, StatusCode::OK, notice, None, form, errors).await
}

/// `POST /admin/clients/register`.
pub(crate) async fn client_register(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    ConsoleForm { admin, params }: ConsoleForm,
) -> Response {
    let form = ClientForm::posted(&params);
    let actor = admin_actor(&admin);
    let registered = clients::register_checked(
        &state.db,
        NewClient {
            name: form.name.clone(),
            public: form.public,
            redirect_uris: list(params.get("redirect_uris")),
            post_logout_redirect_uris: list(params.get("post_logout_redirect_uris")),
            first_party: form.first_party,
            created_by: Some(admin.id),
            resources: list(params.get("resources")),
            ..NewClient::default()
        },
        &ResourceCatalog::of(&state.config),
        Actor {
            id: &actor,
            ip: ip.0,
        },
        state.clock.now(),
    )
    .await;
    match registered {
        Ok(registered) => {
            let made = Some((
                registered.client.name.clone(),
                registered.client.client_id.clone(),
                registered.secret,
            ));
            let (form, errors) = (ClientForm::default(), ClientErrors::default());
            clients_page(&state, jar, StatusCode::CREATED, None, made, form, errors).await
        }
        Err(RegistryError::Invalid(fields)) => {
            let errors = ClientErrors::from_fields(fields);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            clients_page(&state, jar, status, None, None, form, errors).await
        }
        Err(error) => server_error(error),
    }
}

#[derive(Template)]
#[template(path = "admin_client.html")]
struct ClientPage<'a> {
    section: &'static str,
    csrf_token: &'a str,
    notice: Option<String>,
    client: ClientRow,
    form: ClientForm,
    /// A secret just rotated: on this page alone.
    secret: Option<String>,
    errors: ClientErrors,
}

fn no_client() -> Response {
    error_page(StatusCode::NOT_FOUND, "error-no-client")
}

#[allow(clippy::too_many_arguments)]
async fn client_page(
    state: &AppState,
    jar: CookieJar,
    client_id: &str,
    status: StatusCode,
    notice: Option<String>,
    form: Option<ClientForm>,
    secret: Option<String>,
    errors: ClientErrors,
) -> Response {
    let client = match clients::find_by_client_id(&state.db, client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return no_client(),
        Err(error) => return server_error(error),
    };
    let csrf = random_token();
    let html = ClientPage {
        section: "clients",
        csrf_token: &csrf,
        notice,
        form: form.unwrap_or_else(|| ClientForm::of(&client)),
        client: ClientRow::from(&client),
        secret,
        errors,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /admin/clients/{client_id}`.
pub(crate) async fn client_view(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(client_id): Path<String>,
    ConsolePage { params, .. }: ConsolePage,
) -> Response {
    let notice = match params.get("done").map(String::as_str) {
        Some("saved") => Some(t("admin-client-saved")),
        _ => None,
    };
    let errors = ClientErrors::default();
    client_page(
        &state,
        jar,
        &client_id,
        StatusCode::OK,
        notice,
        None,
        None,
        errors,
    )
    .await
}

/// `POST /admin/clients/{client_id}/{action}`: `edit`, `secret` or `delete`.
pub(crate) async fn client_action(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    Path((client_id, action)): Path<(String, String)>,
    ConsoleForm { admin, mut params }: ConsoleForm,
) -> Response {
    let back = format!("/admin/clients/{client_id}");
    let actor = admin_actor(&admin);
    let by = || Actor {
        id: &actor,
        ip: ip.0,
    };
    let again = |status, form, secret, errors| {
        client_page(
            &state,
            jar.clone(),
            &client_id,
            status,
            None,
            form,
            secret,
            errors,
        )
    };
    match action.as_str() {
        "edit" => {
            let change = ClientChange {
                name: params.get("name").cloned().or_else(|| Some(String::new())),
                redirect_uris: Some(list(params.get("redirect_uris"))),
                post_logout_redirect_uris: Some(list(params.get("post_logout_redirect_uris"))),
                resources: Some(list(params.get("resources"))),
                require_par: None,
                backchannel_logout_uri: None,
            };
            let catalog = ResourceCatalog::of(&state.config);
            let now = state.clock.now();
            match clients::update(&state.db, &client_id, change, &catalog, by(), now).await {
                Ok(_) => see_other(&format!("{back}?done=saved")),
                Err(RegistryError::NotFound) => no_client(),
                Err(RegistryError::Invalid(fields)) => {
                    let form = Some(ClientForm::posted(&params));
                    let errors = ClientErrors::from_fields(fields);
                    again(StatusCode::UNPROCESSABLE_ENTITY, form, None, errors).await
                }
                Err(error) => server_error(error),
            }
        }
        "secret" | "delete" => {
            let delete = action == "delete";
            if let Err(refusal) =
                confirm_password(&state, ip, &admin, params.remove("password")).await
            {
                return match refusal {
                    Reauth::Again(status, message) => {
                        let errors = if delete {
                            ClientErrors {
                                delete_password: Some(message),
                                ..ClientErrors::default()
                            }
                        } else {
                            ClientErrors {
                                password: Some(message),
                                ..ClientErrors::default()
                            }
                        };
                        again(status, None, None, errors).await
                    }
                    Reauth::Failed(response) => response,
                };
            }
            if delete {
                return match clients::delete(&state.db, &client_id, by()).await {
                    Ok(_) => see_other("/admin/clients?done=deleted"),
                    Err(RegistryError::NotFound) => no_client(),
                    Err(error) => server_error(error),
                };
            }
            match clients::rotate_secret(&state.db, &client_id, by()).await {
                Ok(secret) => {
                    let errors = ClientErrors::default();
                    again(StatusCode::OK, None, Some(secret), errors).await
                }
                Err(RegistryError::NotFound) => no_client(),
                Err(RegistryError::Invalid(_)) => {
                    let errors = ClientErrors {
                        password: Some(t("admin-client-public-no-secret")),
                        ..ClientErrors::default()
                    };
                    again(StatusCode::UNPROCESSABLE_ENTITY, None, None, errors).await
                }
                Err(error) => server_error(error),
            }
        }
        _ => no_client(),
    }
}
