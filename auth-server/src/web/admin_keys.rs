//! The console's keys: API keys (create, with the secret shown once; list;
//! revoke) and the signing keys (their states; rotate; compromise). Each
//! change calls the domain function the admin API and the CLI call, audited
//! with the admin's id. Revoking an API key and compromising a signing key
//! are destructive: both ask for the admin's password again, and the
//! compromise also for a confirmation.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use chrono::{NaiveDate, TimeZone as _, Utc};
use uuid::Uuid;

use crate::api_keys::{self, ApiKeyError, NewApiKey};
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::i18n::t;
use crate::web::admin_pages::{confirm_password, when, ConsoleForm, ConsolePage, Reauth};
use crate::web::browser::{form_page, see_other, server_error};
use crate::web::random_token;

struct ApiKeyRow {
    id: String,
    name: String,
    client_id: String,
    scopes: String,
    created: String,
    last_used: Option<String>,
    expires: Option<String>,
    revoked: Option<String>,
}

#[derive(Default)]
struct ApiKeyErrors {
    name: Option<String>,
    scopes: Option<String>,
    expires: Option<String>,
    revoke: Option<String>,
    password: Option<String>,
}

/// What the create form held, shown again when it is refused.
#[derive(Default)]
struct ApiKeyForm {
    name: String,
    scopes: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "admin_api_keys.html")]
struct ApiKeysPage<'a> {
    section: &'static str,
    csrf_token: &'a str,
    notice: Option<String>,
    keys: Vec<ApiKeyRow>,
    /// The secret of the key just made: on this one page, never again.
    secret: Option<(String, String)>,
    form: ApiKeyForm,
    errors: ApiKeyErrors,
}

impl ApiKeysPage<'_> {
    fn active(&self) -> impl Iterator<Item = &ApiKeyRow> {
        self.keys.iter().filter(|k| k.revoked.is_none())
    }
}

async fn api_keys_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    notice: Option<String>,
    secret: Option<(String, String)>,
    form: ApiKeyForm,
    errors: ApiKeyErrors,
) -> Response {
    let keys = match api_keys::list(&state.db).await {
        Ok(keys) => keys,
        Err(error) => return server_error(error),
    };
    let keys = keys
        .into_iter()
        .rev()
        .map(|key| ApiKeyRow {
            id: key.id.to_string(),
            client_id: key.client_id(),
            scopes: key.scope_list().join(" "),
            created: when(key.created_at),
            last_used: key.last_used_at.map(when),
            expires: key.expires_at.map(when),
            revoked: key.revoked_at.map(when),
            name: key.name,
        })
        .collect();
    let csrf = random_token();
    let html = ApiKeysPage {
        section: "api-keys",
        csrf_token: &csrf,
        notice,
        keys,
        secret,
        form,
        errors,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /admin/api-keys`.
pub(crate) async fn api_keys(
    State(state): State<AppState>,
    jar: CookieJar,
    ConsolePage { params, .. }: ConsolePage,
) -> Response {
    let notice = match params.get("done").map(String::as_str) {
        Some("revoked") => Some(t("admin-api-key-revoked")),
        _ => None,
    };
    let page = api_keys_page(
        &state,
        jar,
        StatusCode::OK,
        notice,
        None,
        ApiKeyForm::default(),
        ApiKeyErrors::default(),
    );
    page.await
}

/// `POST /admin/api-keys/create`: the new key's secret is on the answer
/// page alone (never stored, never shown again).
pub(crate) async fn api_key_create(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    ConsoleForm { admin, mut params }: ConsoleForm,
) -> Response {
    let form = ApiKeyForm {
        name: params.remove("name").unwrap_or_default(),
        scopes: params.remove("scopes").unwrap_or_default(),
        expires: params.remove("expires").unwrap_or_default(),
    };
    let mut errors = ApiKeyErrors::default();
    // The key stops working at the start of the day given (UTC).
    let expires_at = match form.expires.trim() {
        "" => None,
        day => match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(day) => Some(Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN))),
            Err(_) => {
                errors.expires = Some(t("admin-audit-bad-date"));
                None
            }
        },
    };
    if errors.expires.is_some() {
        return api_keys_page(
            &state,
            jar,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            None,
            form,
            errors,
        )
        .await;
    }
    let admin_id = admin.id.to_string();
    let ip_text = ip.0.map(|ip| ip.to_string());
    let created = api_keys::create_audited(
        &state.db,
        NewApiKey {
            name: form.name.trim().to_owned(),
            scopes: form.scopes.split_whitespace().map(str::to_owned).collect(),
            audiences: Vec::new(),
            expires_at,
            created_by: Some(admin.id),
            dpop: crate::dpop_policy::DpopPolicy::default(),
            exchange_audiences: Vec::new(),
            exchange_scopes: Vec::new(),
        },
        &state.config.audiences,
        api_keys::Actor {
            id: &admin_id,
            ip: ip_text.as_deref(),
        },
        state.clock.now(),
    )
    .await;
    match created {
        Ok(minted) => {
            let secret = Some((minted.model.name.clone(), minted.secret));
            api_keys_page(
                &state,
                jar,
                StatusCode::CREATED,
                None,
                secret,
                ApiKeyForm::default(),
                ApiKeyErrors::default(),
            )
            .await
        }
        Err(ApiKeyError::Invalid(fields)) => {
            for field in fields {
                let slot = match field.field.as_str() {
                    "name" => &mut errors.name,
                    "expires_at" => &mut errors.expires,
                    _ => &mut errors.scopes,
                };
                *slot = Some(field.message);
            }
            api_keys_page(
                &state,
                jar,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                form,
                errors,
            )
            .await
        }
        Err(error) => server_error(error),
    }
}

/// `POST /admin/api-keys/revoke`: the key chosen, after the admin's
/// password; its tokens are refused by verifiers following the feed.
pub(crate) async fn api_key_revoke(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    ConsoleForm { admin, mut params }: ConsoleForm,
) -> Response {
    let again = |errors: ApiKeyErrors, status: StatusCode, jar: CookieJar| {
        let state = state.clone();
        async move {
            api_keys_page(
                &state,
                jar,
                status,
                None,
                None,
                ApiKeyForm::default(),
                errors,
            )
            .await
        }
    };
    let Some(id) = params.get("key").and_then(|k| Uuid::parse_str(k).ok()) else {
        let errors = ApiKeyErrors {
            revoke: Some(t("admin-api-key-choose")),
            ..ApiKeyErrors::default()
        };
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY, jar).await;
    };
    match confirm_password(&state, ip, &admin, params.remove("password")).await {
        Ok(()) => {}
        Err(Reauth::Again(status, message)) => {
            let errors = ApiKeyErrors {
                password: Some(message),
                ..ApiKeyErrors::default()
            };
            return again(errors, status, jar).await;
        }
        Err(Reauth::Failed(response)) => return response,
    }
    let admin_id = admin.id.to_string();
    let ip_text = ip.0.map(|ip| ip.to_string());
    let revoked = api_keys::revoke_audited(
        &state.db,
        id,
        api_keys::Actor {
            id: &admin_id,
            ip: ip_text.as_deref(),
        },
        state.clock.now(),
    )
    .await;
    match revoked {
        Ok(Some(_)) => see_other("/admin/api-keys?done=revoked"),
        Ok(None) => {
            let errors = ApiKeyErrors {
                revoke: Some(t("admin-api-key-choose")),
                ..ApiKeyErrors::default()
            };
            again(errors, StatusCode::NOT_FOUND, jar).await
        }
        Err(error) => server_error(error),
    }
}

struct SigningKeyRow {
    kid: String,
    state: String,
    since: String,
    until: Option<String>,
}

#[derive(Default)]
struct SigningKeyErrors {
    kid: Option<String>,
    confirm: Option<String>,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_keys.html")]
struct SigningKeysPage<'a> {
    section: &'static str,
    csrf_token: &'a str,
    notice: Option<String>,
    /// With the database key store: rotate and compromise here.
    managed: bool,
    keys: Vec<SigningKeyRow>,
    errors: SigningKeyErrors,
}

/// The state of a key, in the reader's words.
fn key_state(state: &str) -> String {
    match state {
        "next" => t("admin-key-next"),
        "active" => t("admin-key-active"),
        _ => t("admin-key-retired"),
    }
}

async fn signing_keys_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    notice: Option<String>,
    errors: SigningKeyErrors,
) -> Response {
    let managed = state.keys.manager().is_some();
    let keys = if managed {
        match crate::keys::store::list(&state.db).await {
            Ok(rows) => rows
                .into_iter()
                .map(|row| SigningKeyRow {
                    state: key_state(&row.state),
                    since: when(row.activated_at.unwrap_or(row.created_at)),
                    until: row.remove_after.or(row.activate_after).map(when),
                    kid: row.kid,
                })
                .collect(),
            Err(error) => return server_error(error),
        }
    } else {
        let ring = state.keys.ring();
        let active = ring.active().kid.clone();
        ring.published()
            .iter()
            .map(|key| SigningKeyRow {
                state: key_state(if key.kid == active {
                    "active"
                } else {
                    "retired"
                }),
                since: key.origin.clone(),
                until: None,
                kid: key.kid.clone(),
            })
            .collect()
    };
    let csrf = random_token();
    let html = SigningKeysPage {
        section: "keys",
        csrf_token: &csrf,
        notice,
        managed,
        keys,
        errors,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /admin/keys`.
pub(crate) async fn signing_keys(
    State(state): State<AppState>,
    jar: CookieJar,
    ConsolePage { params, .. }: ConsolePage,
) -> Response {
    let notice = match params.get("done").map(String::as_str) {
        Some("rotated") => Some(t("admin-key-rotated")),
        Some("compromised") => Some(t("admin-key-compromised")),
        _ => None,
    };
    let errors = SigningKeyErrors::default();
    signing_keys_page(&state, jar, StatusCode::OK, notice, errors).await
}

/// `POST /admin/keys/rotate`: a new key is published; it signs after
/// `KEY_PUBLISH_DELAY`.
pub(crate) async fn signing_key_rotate(
    State(state): State<AppState>,
    jar: CookieJar,
    ConsoleForm { admin, .. }: ConsoleForm,
) -> Response {
    let Some(manager) = state.keys.manager() else {
        return signing_keys_page(
            &state,
            jar,
            StatusCode::CONFLICT,
            None,
            SigningKeyErrors::default(),
        )
        .await;
    };
    match manager.rotate_by(&admin.id.to_string()).await {
        Ok(_) => see_other("/admin/keys?done=rotated"),
        Err(error) => server_error(error),
    }
}

/// `POST /admin/keys/compromise`: the key is removed at once (a new one
/// signs if it was signing) and announced on the security-event feed.
pub(crate) async fn signing_key_compromise(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    ConsoleForm { admin, mut params }: ConsoleForm,
) -> Response {
    let Some(manager) = state.keys.manager() else {
        return signing_keys_page(
            &state,
            jar,
            StatusCode::CONFLICT,
            None,
            SigningKeyErrors::default(),
        )
        .await;
    };
    let kid = params.remove("kid").unwrap_or_default();
    let mut errors = SigningKeyErrors::default();
    if kid.is_empty() {
        errors.kid = Some(t("admin-key-choose"));
    }
    if params.get("confirm").map(String::as_str) != Some("yes") {
        errors.confirm = Some(t("admin-key-confirm-missing"));
    }
    if errors.kid.is_some() || errors.confirm.is_some() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return signing_keys_page(&state, jar, status, None, errors).await;
    }
    match confirm_password(&state, ip, &admin, params.remove("password")).await {
        Ok(()) => {}
        Err(Reauth::Again(status, message)) => {
            errors.password = Some(message);
            return signing_keys_page(&state, jar, status, None, errors).await;
        }
        Err(Reauth::Failed(response)) => return response,
    }
    match manager.compromise_by(&kid, &admin.id.to_string()).await {
        Ok(_) => see_other("/admin/keys?done=compromised"),
        Err(crate::keys::store::KeyStoreError::UnknownKid(_)) => {
            errors.kid = Some(t("admin-key-choose"));
            let status = StatusCode::NOT_FOUND;
            signing_keys_page(&state, jar, status, None, errors).await
        }
        Err(error) => server_error(error),
    }
}
