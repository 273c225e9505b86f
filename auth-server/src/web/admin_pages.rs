//! `/admin`: the console for accounts with the role `admin`. Users (search,
//! view, roles, disable and enable, end sessions, delete) and the audit
//! trail (by user, event and time).
//!
//! Every request reads the signed-in account from the database and checks
//! its role *now*: a demoted or disabled admin is refused at their next
//! click. A signed-in person without the role gets a 403 page. Each change
//! calls the domain function of the admin API (`accounts::admin::*`,
//! `audit::search`), so the console and REST clients share the same rules
//! and audit rows, with the admin's id as the actor. Deleting an account
//! asks for the admin's password again.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::{NaiveDate, TimeZone as _, Utc};
use uuid::Uuid;

use crate::accounts::admin::{self, Operator, UserChange};
use crate::accounts::entity as user;
use crate::accounts::password::Password;
use crate::accounts::{self, AccountError};
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::i18n::t;
use crate::web::browser::{
    admit_password_check, form_page, query_params, see_other, server_error, signed_in_browser,
    trusted_form,
};
use crate::web::{error_page, random_token, too_many_attempts};

const PAGE_SIZE: u64 = 50;

/// Why the admin's password did not confirm a destructive action.
pub(crate) enum Reauth {
    /// Show the form again: this status, this message by the password field.
    Again(StatusCode, String),
    Failed(Response),
}

/// The admin's password, asked again before a destructive action: out of
/// the login bucket, a wrong one audited as `admin.reauth_failed`.
pub(crate) async fn confirm_password(
    state: &AppState,
    ip: ClientIp,
    admin: &user::Model,
    password: Option<String>,
) -> Result<(), Reauth> {
    if !admit_password_check(state, ip).await {
        return Err(Reauth::Again(
            StatusCode::TOO_MANY_REQUESTS,
            too_many_attempts(),
        ));
    }
    let password = Password::new(password.unwrap_or_default());
    match accounts::reauthenticate(
        &state.db,
        state.password_gate(),
        admin,
        &password,
        ip.0,
        "admin.reauth_failed",
        state.clock.now(),
    )
    .await
    {
        Ok(()) => Ok(()),
        Err(AccountError::WrongPassword) => {
            Err(Reauth::Again(StatusCode::FORBIDDEN, t("wrong-password")))
        }
        Err(AccountError::Refused(_)) => Err(Reauth::Again(
            StatusCode::TOO_MANY_REQUESTS,
            too_many_attempts(),
        )),
        Err(error) => Err(Reauth::Failed(server_error(error))),
    }
}

/// The admin this browser is signed in as, checked against the database
/// now; else the response: the sign-in page, or a 403 page.
async fn admin_of(state: &AppState, jar: &CookieJar, back: &str) -> Result<user::Model, Response> {
    match signed_in_browser(state, &state.config.issuer, jar).await? {
        None => {
            let mut url = String::from("/account/sign-in?");
            url.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", back)
                    .finish(),
            );
            Err(see_other(&url))
        }
        Some((user, session)) if user.role_list().iter().any(|r| r == "admin") => {
            console_strength(state, jar, &user, &session, back).await?;
            Ok(user)
        }
        Some(_) => Err(error_page(StatusCode::FORBIDDEN, "error-not-admin")),
    }
}

/// An admin with a second factor (or who must have one) works in the
/// console only in a session signed in with it: a weaker session is asked
/// for the code first (the page leads back to `back`), or, with no factor
/// set up yet, sent to set one up.
async fn console_strength(
    state: &AppState,
    jar: &CookieJar,
    admin: &user::Model,
    session: &crate::sessions::entity::Model,
    back: &str,
) -> Result<(), Response> {
    if session.methods().is_multi_factor() {
        return Ok(());
    }
    let form = crate::web::account_pages::second_factor_form(state, back);
    if let Some(page) =
        crate::web::second_factor::step_up(state, jar.clone(), admin, session, &form).await
    {
        return Err(page);
    }
    if crate::mfa::required(admin, &state.config.mfa_required_roles) {
        return Err(see_other(crate::web::account_security::SECURITY_PATH));
    }
    Ok(())
}

/// A console page's request from an admin, checked against the database
/// now, and its query (each parameter once). Anything else is answered for
/// the handler: the sign-in page (coming back to this path), or a 403 or
/// 400 page.
pub(crate) struct ConsolePage {
    pub params: HashMap<String, String>,
    /// The query as sent, for the links to further pages.
    pub query: String,
}

impl FromRequestParts<AppState> for ConsolePage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let query = parts.uri.query().unwrap_or_default().to_owned();
        let params = query_params(Some(query.clone()))?;
        let jar = CookieJar::from_headers(&parts.headers);
        admin_of(state, &jar, parts.uri.path()).await?;
        Ok(Self { params, query })
    }
}

/// A form posted to the console: parsed (each field once), CSRF-checked,
/// and the admin posting it, checked against the database now. A browser
/// signed in no more goes to the sign-in page, and from there back to the
/// page the form was on (the path without its last segment, the action).
pub(crate) struct ConsoleForm {
    pub admin: user::Model,
    pub params: HashMap<String, String>,
}

impl FromRequest<AppState> for ConsoleForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let headers = request.headers().clone();
        let page = request
            .uri()
            .path()
            .rsplit_once('/')
            .map_or("/admin", |(page, _)| page)
            .to_owned();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let jar = CookieJar::from_headers(&headers);
        let params = trusted_form(&state.config.issuer, &jar, &headers, &body)?;
        let admin = admin_of(state, &jar, &page).await?;
        Ok(Self { admin, params })
    }
}

pub(crate) fn when(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

fn no_user() -> Response {
    error_page(StatusCode::NOT_FOUND, "error-no-user")
}

/// The notice after a change, from a closed set (never echoed input).
fn notice(done: Option<&String>) -> Option<String> {
    Some(match done?.as_str() {
        "roles" => t("admin-notice-roles"),
        "disabled" => t("admin-notice-disabled"),
        "enabled" => t("admin-notice-enabled"),
        "sessions" => t("admin-notice-sessions"),
        "reset" => t("admin-notice-reset"),
        "mfa-required" => t("admin-notice-mfa-required"),
        "mfa-optional" => t("admin-notice-mfa-optional"),
        "mfa-reset" => t("admin-notice-mfa-reset"),
        "deleted" => t("admin-notice-deleted"),
        _ => return None,
    })
}

struct UserRow {
    id: String,
    email: String,
    display_name: Option<String>,
    roles: Vec<String>,
    disabled: bool,
    email_verified: bool,
    mfa_required: bool,
    created: String,
}

impl From<&user::Model> for UserRow {
    fn from(user: &user::Model) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            roles: user.role_list(),
            disabled: user.disabled,
            email_verified: user.email_verified,
            mfa_required: user.mfa_required,
            created: when(user.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage<'a> {
    section: &'static str,
    csrf_token: &'a str,
    notice: Option<String>,
    query: &'a str,
    users: Vec<UserRow>,
    next_page: Option<String>,
}

/// `GET /admin`.
pub(crate) async fn home() -> Response {
    see_other("/admin/users")
}

/// `GET /admin/users?q=&cursor=`.
pub(crate) async fn users(
    State(state): State<AppState>,
    jar: CookieJar,
    ConsolePage { params, .. }: ConsolePage,
) -> Response {
    let search = params.get("q").map(String::as_str).unwrap_or("");
    let cursor = params.get("cursor").and_then(|c| Uuid::parse_str(c).ok());
    let (rows, next) = match admin::page(&state.db, Some(search), PAGE_SIZE, cursor).await {
        Ok(page) => page,
        Err(error) => return server_error(error),
    };
    let next_page = next.map(|cursor| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", search)
            .append_pair("cursor", &cursor.to_string())
            .finish();
        format!("/admin/users?{query}")
    });
    let csrf = random_token();
    let html = UsersPage {
        section: "users",
        csrf_token: &csrf,
        notice: notice(params.get("done")),
        query: search,
        users: rows.iter().map(UserRow::from).collect(),
        next_page,
    }
    .render();
    form_page(&state.config.issuer, jar, StatusCode::OK, html, csrf, None)
}

#[derive(Default)]
struct UserErrors {
    roles: Option<String>,
    disabled: Option<String>,
    delete_password: Option<String>,
    mfa_password: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage<'a> {
    section: &'static str,
    csrf_token: &'a str,
    notice: Option<String>,
    user: UserRow,
    roles_text: String,
    sessions: usize,
    errors: UserErrors,
}

async fn user_page(
    state: &AppState,
    jar: CookieJar,
    id: Uuid,
    status: StatusCode,
    notice: Option<String>,
    errors: UserErrors,
) -> Response {
    let user = match admin::find(&state.db, id).await {
        Ok(user) => user,
        Err(AccountError::NotFound) => return no_user(),
        Err(error) => return server_error(error),
    };
    let sessions =
        match crate::sessions::active_for_user(&state.db, user.id, state.clock.now()).await {
            Ok(sessions) => sessions.len(),
            Err(error) => return server_error(error),
        };
    let csrf = random_token();
    let html = UserPage {
        section: "users",
        csrf_token: &csrf,
        notice,
        roles_text: user.role_list().join(" "),
        user: UserRow::from(&user),
        sessions,
        errors,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /admin/users/{id}`.
pub(crate) async fn user(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    ConsolePage { params, .. }: ConsolePage,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return no_user();
    };
    let notice = notice(params.get("done"));
    user_page(
        &state,
        jar,
        id,
        StatusCode::OK,
        notice,
        UserErrors::default(),
    )
    .await
}

/// `POST /admin/users/{id}/{action}`: `roles`, `disable`, `enable`,
/// `mfa-required`, `mfa-optional`, `sessions-end`, `password-reset` or
/// `delete`.
pub(crate) async fn user_action(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    Path((id, action)): Path<(String, String)>,
    ConsoleForm { admin, mut params }: ConsoleForm,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return no_user();
    };
    let now = state.clock.now();
    let operator = Operator::Admin(&admin);
    let change =
        |change: UserChange| admin::update_user(&state.db, operator, id, change, ip.0, now);
    let (outcome, done) = match action.as_str() {
        "roles" => {
            let roles = params
                .get("roles")
                .map(|r| {
                    r.split([' ', ','])
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let roles = UserChange {
                roles: Some(roles),
                ..UserChange::default()
            };
            (change(roles).await.map(drop), "roles")
        }
        "disable" | "enable" => {
            let disabled = action == "disable";
            let access = UserChange {
                disabled: Some(disabled),
                ..UserChange::default()
            };
            let done = if disabled { "disabled" } else { "enabled" };
            (change(access).await.map(drop), done)
        }
        "mfa-required" | "mfa-optional" => {
            let required = action == "mfa-required";
            let change_it = UserChange {
                mfa_required: Some(required),
                ..UserChange::default()
            };
            (
                change(change_it).await.map(drop),
                if required {
                    "mfa-required"
                } else {
                    "mfa-optional"
                },
            )
        }
        "sessions-end" => (
            admin::end_sessions(&state.db, operator, id, ip.0, now)
                .await
                .map(drop),
            "sessions",
        ),
        "password-reset" => {
            let account = match admin::find(&state.db, id).await {
                Ok(account) => account,
                Err(AccountError::NotFound) => return no_user(),
                Err(error) => return server_error(error),
            };
            let forced = crate::accounts::email::force_password_reset(
                &state.db,
                state.outgoing(),
                account,
                &admin.id.to_string(),
                ip.0,
                now,
            )
            .await;
            let outcome = match forced {
                Ok(()) => Ok(()),
                Err(crate::accounts::email::EmailError::Account(error)) => Err(error),
                Err(error) => return server_error(error),
            };
            (outcome, "reset")
        }
        "mfa-reset" => {
            match confirm_password(&state, ip, &admin, params.remove("password")).await {
                Ok(()) => {
                    let account = match admin::find(&state.db, id).await {
                        Ok(account) => account,
                        Err(AccountError::NotFound) => return no_user(),
                        Err(error) => return server_error(error),
                    };
                    match crate::mfa::reset_by_operator(
                        &state.db,
                        &admin.id.to_string(),
                        &account,
                        ip.0,
                    )
                    .await
                    {
                        Ok(_) => (Ok(()), "mfa-reset"),
                        Err(error) => return server_error(error),
                    }
                }
                Err(Reauth::Again(status, message)) => {
                    let errors = UserErrors {
                        mfa_password: Some(message),
                        ..UserErrors::default()
                    };
                    return user_page(&state, jar, id, status, None, errors).await;
                }
                Err(Reauth::Failed(response)) => return response,
            }
        }
        "delete" => match confirm_password(&state, ip, &admin, params.remove("password")).await {
            Ok(()) => (
                admin::delete_user(&state.db, &admin, id, ip.0, now).await,
                "deleted",
            ),
            Err(Reauth::Again(status, message)) => {
                let errors = UserErrors {
                    delete_password: Some(message),
                    ..UserErrors::default()
                };
                return user_page(&state, jar, id, status, None, errors).await;
            }
            Err(Reauth::Failed(response)) => return response,
        },
        _ => return no_user(),
    };
    match outcome {
        Ok(()) if done == "deleted" => see_other("/admin/users?done=deleted"),
        Ok(()) => see_other(&format!("/admin/users/{id}?done={done}")),
        Err(AccountError::NotFound) => no_user(),
        Err(AccountError::Invalid(fields)) => {
            let message = fields
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join("; ");
            let errors = match action.as_str() {
                "roles" => UserErrors {
                    roles: Some(message),
                    ..UserErrors::default()
                },
                "delete" => UserErrors {
                    delete_password: Some(message),
                    ..UserErrors::default()
                },
                _ => UserErrors {
                    disabled: Some(message),
                    ..UserErrors::default()
                },
            };
            user_page(
                &state,
                jar,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                errors,
            )
            .await
        }
        Err(error) => server_error(error),
    }
}

struct AuditRow {
    at: String,
    event: String,
    actor: String,
    subject: String,
    ip: String,
    detail: String,
}

#[derive(Default)]
struct AuditErrors {
    user: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage<'a> {
    section: &'static str,
    csrf_token: &'a str,
    notice: Option<String>,
    filter_user: &'a str,
    filter_event: &'a str,
    filter_from: &'a str,
    filter_to: &'a str,
    known_events: &'static [&'static str],
    errors: AuditErrors,
    events: Vec<AuditRow>,
    next_page: Option<String>,
}

/// The events the filter's list suggests (any other name may be typed).
const KNOWN_EVENTS: &[&str] = &[
    "login.success",
    "login.failure",
    "login.throttled",
    "user.signup",
    "user.disabled",
    "user.enabled",
    "user.roles_changed",
    "user.deleted",
    "user.sessions_ended",
    "user.profile_changed",
    "password.changed",
    "password.reset",
    "session.logout",
    "session.revoked",
    "session.revoked_others",
    "refresh.reuse_detected",
    "api_key.created",
    "api_key.revoked",
    "client.created",
    "client.deleted",
    "key.rotated",
    "key.compromised",
    "consent.granted",
    "consent.revoked",
];

/// `GET /admin/audit?user=&event=&from=&to=&cursor=`.
pub(crate) async fn audit(
    State(state): State<AppState>,
    jar: CookieJar,
    ConsolePage {
        params, query: raw, ..
    }: ConsolePage,
) -> Response {
    let text = |name: &str| params.get(name).map(|v| v.trim()).unwrap_or("");
    let day = |name: &str| NaiveDate::parse_from_str(text(name), "%Y-%m-%d").ok();
    let mut errors = AuditErrors::default();
    let user = match text("user") {
        "" => None,
        raw => Uuid::parse_str(raw).map(Some).unwrap_or_else(|_| {
            errors.user = Some(t("admin-audit-bad-user"));
            None
        }),
    };
    let from = match (text("from"), day("from")) {
        ("", _) => None,
        (_, Some(day)) => Some(Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN))),
        (_, None) => {
            errors.from = Some(t("admin-audit-bad-date"));
            None
        }
    };
    let to = match (text("to"), day("to")) {
        ("", _) => None,
        // The whole day is included.
        (_, Some(day)) => day
            .succ_opt()
            .map(|next| Utc.from_utc_datetime(&next.and_time(chrono::NaiveTime::MIN))),
        (_, None) => {
            errors.to = Some(t("admin-audit-bad-date"));
            None
        }
    };
    let invalid = errors.user.is_some() || errors.from.is_some() || errors.to.is_some();
    let filter = crate::audit::Filter {
        user,
        event: Some(text("event").to_owned()).filter(|e| !e.is_empty()),
        from,
        to,
    };
    let cursor = params.get("cursor").and_then(|c| Uuid::parse_str(c).ok());
    let (rows, next) = if invalid {
        (Vec::new(), None)
    } else {
        match crate::audit::search(&state.db, &filter, PAGE_SIZE, cursor).await {
            Ok(page) => page,
            Err(error) => return server_error(error),
        }
    };
    let next_page = next.map(|cursor| {
        let mut query: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
            .filter(|(name, _)| name != "cursor")
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        query.push(("cursor".to_owned(), cursor.to_string()));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        format!("/admin/audit?{query}")
    });
    let events = rows
        .into_iter()
        .map(|e| AuditRow {
            at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            event: e.event,
            actor: e.actor.unwrap_or_default(),
            subject: e.subject.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
            detail: if e.detail == "{}" || e.detail == "null" {
                String::new()
            } else {
                e.detail
            },
        })
        .collect();
    let csrf = random_token();
    let html = AuditPage {
        section: "audit",
        csrf_token: &csrf,
        notice: None,
        filter_user: text("user"),
        filter_event: text("event"),
        filter_from: text("from"),
        filter_to: text("to"),
        known_events: KNOWN_EVENTS,
        errors,
        events,
        next_page,
    }
    .render();
    let status = if invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}
