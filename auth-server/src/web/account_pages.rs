//! `/account`: the signed-in person's own page. Profile, password, email
//! address, sessions, the apps they allowed, linked sign-ins and recent
//! activity. Signing in at `/account/sign-in` (no client) comes back here.
//!
//! Every change goes through the domain function the account API calls
//! (`accounts::update_profile`, `change_password`, `request_email_change`,
//! `sessions::end_own`, `end_others`, `consent::revoke`), so the page and
//! the REST clients share one set of rules, limits and audit rows. Each
//! form is CSRF-checked like the sign-in form. The password and the email
//! address are changed only with the current password, whatever the age of
//! the sign-in.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

use crate::accounts::email::{self, EmailError};
use crate::accounts::entity as user;
use crate::accounts::password::Password;
use crate::accounts::{self, AccountError};
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::audit::{self, AuditEvent};
use crate::i18n::{t, t2};
use crate::sessions::entity as session;
use crate::web::browser::{
    admit_password_check, adopt_session, form_page, form_sign_in, query_params, see_other,
    server_error, signed_in_browser, trusted_form, FormRefusal,
};
use crate::web::second_factor::{recovery_codes_page, Given, SecondFactorForm};
use crate::web::{
    cookie_names, describe_scope, error_page, notice_page, random_token, too_many_attempts,
    SignInPage,
};

pub(crate) const ACCOUNT_PATH: &str = "/account";
pub(crate) const SIGN_IN_PATH: &str = "/account/sign-in";
/// How many audit rows the activity list shows.
const RECENT_EVENTS: u64 = 15;

/// Each form's message under its field, when it is shown again.
#[derive(Default)]
struct FieldErrors {
    display_name: Option<String>,
    current_password: Option<String>,
    new_password: Option<String>,
    new_email: Option<String>,
    email_password: Option<String>,
}

struct SessionRow {
    id: String,
    device: String,
    ip: String,
    last_used: String,
    started: String,
    current: bool,
}

struct AppRow {
    client_id: String,
    name: String,
    abilities: Vec<String>,
    granted: String,
}

struct IdentityRow {
    provider: String,
    email: Option<String>,
    linked: String,
    last_used: String,
}

struct EventRow {
    what: String,
    at: String,
    ip: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    email_verified: bool,
    display_name: &'a str,
    new_email: &'a str,
    notice: Option<String>,
    errors: FieldErrors,
    sessions: Vec<SessionRow>,
    apps: Vec<AppRow>,
    identities: Vec<IdentityRow>,
    events: Vec<EventRow>,
}

pub(crate) fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "Firefox on Linux" from a `User-Agent`; a person's words for a session.
pub(crate) fn device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return t("device-unknown");
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("HeadlessChrome/", "Chrome (headless)"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    let system = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Mac OS X", "macOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => t2("device-on", ("browser", browser), ("system", system)),
        (Some(browser), None) => browser.to_owned(),
        // Not a browser we know: its first word, shortened.
        _ => ua
            .split_whitespace()
            .next()
            .map(str::to_owned)
            .unwrap_or_else(|| t("device-unknown"))
            .chars()
            .take(40)
            .collect(),
    }
}

/// An audit event in a person's words; `None`: not shown on the page.
fn describe_event(event: &str) -> Option<String> {
    Some(match event {
        "user.signup" => t("event-user-signup"),
        "login.success" => t("event-login-success"),
        "session.logout" => t("event-session-logout"),
        "session.revoked" => t("event-session-revoked"),
        "session.revoked_others" => t("event-session-revoked-others"),
        "password.changed" => t("event-password-changed"),
        "password.change_failed" => t("event-password-change-failed"),
        "password.reset" | "password.reset_completed" => t("event-password-reset"),
        "password.reset_requested" => t("event-password-reset-requested"),
        "email.change_requested" => t("event-email-change-requested"),
        "email.changed" => t("event-email-changed"),
        "email.verified" => t("event-email-verified"),
        "user.profile_changed" => t("event-user-profile-changed"),
        "user.roles_changed" => t("event-user-roles-changed"),
        "user.disabled" => t("event-user-disabled"),
        "user.enabled" => t("event-user-enabled"),
        "consent.granted" => t("event-consent-granted"),
        "consent.revoked" => t("event-consent-revoked"),
        "upstream.linked" => t("event-upstream-linked"),
        "upstream.unlinked" => t("event-upstream-unlinked"),
        "refresh.reuse_detected" => t("event-refresh-reuse-detected"),
        "code.replay_detected" => t("event-code-replay-detected"),
        "mfa.totp_enrolled" => t("event-mfa-totp-enrolled"),
        "mfa.totp_removed" => t("event-mfa-totp-removed"),
        "mfa.recovery_code_used" => t("event-mfa-recovery-code-used"),
        "mfa.recovery_codes_replaced" => t("event-mfa-recovery-codes-replaced"),
        "mfa.failure" | "mfa.code_replayed" => t("event-mfa-failure"),
        "user.mfa_required" => t("event-user-mfa-required"),
        "passkey.registered" => t("event-passkey-registered"),
        "mfa.reset" => t("event-mfa-reset"),
        "passkey.removed" => t("event-passkey-removed"),
        "passkey.clone_suspected" => t("event-passkey-clone-suspected"),
        _ => return None,
    })
}

/// The notice after a change, from a closed set (never echoed input).
fn notice(done: Option<&String>) -> Option<String> {
    Some(match done?.as_str() {
        "profile" => t("account-notice-profile"),
        "email" => t("account-notice-email"),
        "session" => t("account-notice-session"),
        "others" => t("account-notice-others"),
        "app" => t("account-notice-app"),
        _ => return None,
    })
}

pub(crate) type SignedIn = (user::Model, session::Model);

/// The person this browser is signed in as on the issuer's site.
pub(crate) async fn signed_in(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<SignedIn>, Response> {
    signed_in_browser(state, &state.config.issuer, jar).await
}

/// A form posted from the account page by a signed-in browser: parsed,
/// CSRF-checked, and its person; a browser signed in no more goes to the
/// sign-in page.
pub(crate) async fn account_form(
    state: &AppState,
    jar: &CookieJar,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(HashMap<String, String>, SignedIn), Response> {
    let params = trusted_form(&state.config.issuer, jar, headers, body)?;
    match signed_in(state, jar).await? {
        Some(signed_in) => Ok((params, signed_in)),
        None => Err(see_other(SIGN_IN_PATH)),
    }
}

/// The account page, with `notice` at the top or `errors` beside their fields.
async fn account_page(
    state: &AppState,
    jar: CookieJar,
    (user, current): &SignedIn,
    status: StatusCode,
    notice: Option<String>,
    errors: FieldErrors,
    new_email: &str,
) -> Response {
    let now = state.clock.now();
    let loaded = async {
        let sessions = crate::sessions::active_for_user(&state.db, user.id, now).await?;
        let consents = crate::oauth::consent::list_for_user(&state.db, user.id).await?;
        let clients = crate::clients::list(&state.db).await?;
        let identities = crate::upstream::flow::identities_of(&state.db, user.id).await?;
        let events = audit::recent_for_user(&state.db, user.id, RECENT_EVENTS).await?;
        Ok::<_, sea_orm::DbErr>((sessions, consents, clients, identities, events))
    };
    let (sessions, consents, clients, identities, events) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return server_error(error),
    };
    let client_name = |client_id: &str| {
        clients
            .iter()
            .find(|c| c.client_id == client_id)
            .map(|c| c.name.clone())
    };
    let sessions = sessions
        .into_iter()
        .map(|s| {
            let mut device = device(s.user_agent.as_deref());
            if let Some(name) = s.client_id.as_deref().and_then(client_name) {
                device = format!("{device}, {name}");
            }
            SessionRow {
                id: s.id.to_string(),
                device,
                ip: s.ip.unwrap_or_else(|| "unknown address".to_owned()),
                last_used: when(s.last_used_at),
                started: when(s.created_at),
                current: s.id == current.id,
            }
        })
        .collect();
    let apps = consents
        .into_iter()
        .map(|c| AppRow {
            name: client_name(&c.client_id).unwrap_or_else(|| c.client_id.clone()),
            abilities: c
                .scope
                .split_ascii_whitespace()
                .map(describe_scope)
                .collect(),
            granted: when(c.granted_at),
            client_id: c.client_id,
        })
        .collect();
    let providers = &state.config.upstream;
    let identities = identities
        .into_iter()
        .map(|i| IdentityRow {
            provider: providers
                .iter()
                .find(|p| p.name == i.provider)
                .map_or_else(|| i.provider.clone(), |p| p.display_name.clone()),
            email: i.email,
            linked: when(i.created_at),
            last_used: when(i.last_used_at),
        })
        .collect();
    let events = events
        .into_iter()
        .filter_map(|e| {
            describe_event(&e.event).map(|what| EventRow {
                what,
                at: when(e.at),
                ip: e.ip,
            })
        })
        .collect();
    let csrf = random_token();
    let html = AccountPage {
        csrf_token: &csrf,
        email: &user.email,
        email_verified: user.email_verified,
        display_name: user.display_name.as_deref().unwrap_or(""),
        new_email,
        notice,
        errors,
        sessions,
        apps,
        identities,
        events,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /account`: the page, or the sign-in page first.
pub(crate) async fn home(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match query_params(query) {
        Ok(params) => params,
        Err(response) => return response,
    };
    match signed_in(&state, &jar).await {
        Ok(Some(signed_in)) => {
            let notice = notice(params.get("done"));
            account_page(
                &state,
                jar,
                &signed_in,
                StatusCode::OK,
                notice,
                FieldErrors::default(),
                "",
            )
            .await
        }
        Ok(None) => see_other(SIGN_IN_PATH),
        Err(response) => response,
    }
}

/// Where a sign-in at `/account/sign-in` may lead: the account pages or
/// the console, on this site; anything else is the account page.
pub(crate) fn after_sign_in(next: Option<&String>) -> &str {
    let Some(next) = next else {
        return ACCOUNT_PATH;
    };
    let ours = ["/account", "/admin", crate::web::DEVICE_PATH]
        .iter()
        .any(|base| {
            next.strip_prefix(base).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')
            })
        });
    if ours && !next.contains("//") && !next.contains('\\') && !next.chars().any(char::is_control) {
        next
    } else {
        ACCOUNT_PATH
    }
}

fn sign_in_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
    next: &str,
) -> Response {
    let csrf = random_token();
    let request = if next == ACCOUNT_PATH {
        Vec::new()
    } else {
        vec![("next".to_owned(), next.to_owned())]
    };
    let target = if next.starts_with("/admin") {
        t("sign-in-target-admin")
    } else {
        t("sign-in-target-account")
    };
    let upstream_query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    let html = SignInPage {
        client_name: &target,
        error,
        csrf_token: &csrf,
        request,
        email,
        action: SIGN_IN_PATH,
        signup_query: None,
        upstreams: crate::web::upstream_buttons(&state.upstreams, "", &upstream_query),
        passkeys: state.webauthn.is_some(),
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /account/sign-in?next=…`.
pub(crate) async fn sign_in_get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match query_params(query) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let next = after_sign_in(params.get("next"));
    match signed_in(&state, &jar).await {
        Ok(Some(_)) => see_other(next),
        Ok(None) => sign_in_page(&state, jar, StatusCode::OK, None, "", next),
        Err(response) => response,
    }
}

/// `POST /account/sign-in`: the sign-in form's checks, limits and audit;
/// then the account page.
pub(crate) async fn sign_in_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = match trusted_form(&state.config.issuer, &jar, &headers, &body) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let code = params.remove("code");
    let factor_passkey = params.remove("factor_passkey");
    let passkey = params.remove("passkey");
    let email = params.remove("email").unwrap_or_default();
    let password = Password::new(params.remove("password").unwrap_or_default());
    let next = after_sign_in(params.get("next")).to_owned();
    let form = second_factor_form(&state, &next);
    if let Some(answer) = passkey {
        return match crate::web::passkeys::complete(&state, ip, &headers, jar.clone(), &answer)
            .await
        {
            Ok((jar, signed_in)) => {
                match adopt_session(
                    &state,
                    &state.config.issuer,
                    jar,
                    signed_in.started.session.id,
                )
                .await
                {
                    Ok(jar) => (jar, see_other(&next)).into_response(),
                    Err(response) => response,
                }
            }
            Err(FormRefusal::Again(status, message)) => {
                sign_in_page(&state, jar, status, Some(&message), "", &next)
            }
            Err(FormRefusal::SecondFactor(_)) => server_error("a passkey is two factors"),
            Err(FormRefusal::Failed(response)) => response,
        };
    }
    let (jar, signed_in) = match Given::from_form(code.as_ref(), factor_passkey.as_ref()) {
        Some(given) => match form.complete(&state, ip, jar, given).await {
            Ok(done) => done,
            Err(response) => return response,
        },
        None => match form_sign_in(
            &state,
            ip,
            &headers,
            &state.config.issuer,
            &email,
            &password,
        )
        .await
        {
            Ok(signed_in) => (jar, signed_in),
            Err(FormRefusal::Again(status, message)) => {
                return sign_in_page(&state, jar, status, Some(&message), &email, &next)
            }
            Err(FormRefusal::SecondFactor(pending)) => {
                return form
                    .show(
                        &state,
                        jar,
                        Some(&pending.token),
                        &pending.user,
                        crate::web::second_factor::purpose_of(&pending),
                        StatusCode::OK,
                        None,
                    )
                    .await
            }
            Err(FormRefusal::Failed(response)) => return response,
        },
    };
    match adopt_session(
        &state,
        &state.config.issuer,
        jar,
        signed_in.started.session.id,
    )
    .await
    {
        Ok(jar) if !signed_in.recovery_codes.is_empty() => {
            recovery_codes_page(jar, &signed_in.recovery_codes, &next)
        }
        Ok(jar) => (jar, see_other(&next)).into_response(),
        Err(response) => response,
    }
}

/// The second-factor page of the account sign-in, leading to `next`.
pub(crate) fn second_factor_form<'a>(state: &'a AppState, next: &str) -> SecondFactorForm<'a> {
    SecondFactorForm {
        site: &state.config.issuer,
        action: SIGN_IN_PATH,
        request: if next == ACCOUNT_PATH {
            Vec::new()
        } else {
            vec![("next".to_owned(), next.to_owned())]
        },
        form_target: None,
    }
}

/// The browser's session cookie removed, and a page saying so.
fn signed_out(key: &str, state: &AppState, jar: CookieJar) -> Response {
    let names = cookie_names(&state.config.issuer);
    let jar = jar.add(signet_service::web::removal(names.session));
    (
        jar,
        notice_page(
            StatusCode::OK,
            key,
            Some((SIGN_IN_PATH, &t("sign-in-again"))),
        ),
    )
        .into_response()
}

/// `POST /account/sign-out`: this browser's session ends.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, (user, session)) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let (user_text, session_text) = (user.id.to_string(), session.id.to_string());
    let ip_text = ip.to_string_opt();
    let ended = crate::sessions::end_and_audit(
        &state.db,
        session.id,
        "signed out",
        AuditEvent::new("session.logout")
            .actor(&user_text)
            .subject(&session_text)
            .ip(ip_text.as_deref()),
        state.clock.now(),
    )
    .await;
    match ended {
        Ok(_) => signed_out("account-signed-out", &state, jar),
        Err(error) => server_error(error),
    }
}

/// `POST /account/profile`: the display name.
pub(crate) async fn profile(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, (user, session)) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let name = params.get("display_name").map(String::as_str);
    match accounts::update_profile(&state.db, user.clone(), name, ip.0, state.clock.now()).await {
        Ok(_) => see_other("/account?done=profile"),
        Err(AccountError::Invalid(fields)) => {
            let errors = FieldErrors {
                display_name: fields.first().map(crate::web::field_reason),
                ..FieldErrors::default()
            };
            let mut shown = user;
            shown.display_name = name.map(str::to_owned);
            account_page(
                &state,
                jar,
                &(shown, session),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                errors,
                "",
            )
            .await
        }
        Err(error) => server_error(error),
    }
}

/// `POST /account/password`: the current password, then the new one.
/// Every session ends (this one too), as over the API.
pub(crate) async fn password(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut params, signed_in) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let again = |errors: FieldErrors, status: StatusCode| {
        let jar = jar.clone();
        let state = &state;
        let signed_in = &signed_in;
        async move { account_page(state, jar, signed_in, status, None, errors, "").await }
    };
    if !admit_password_check(&state, ip).await {
        let errors = FieldErrors {
            current_password: Some(too_many_attempts()),
            ..FieldErrors::default()
        };
        return again(errors, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let current = Password::new(params.remove("current_password").unwrap_or_default());
    let new = Password::new(params.remove("new_password").unwrap_or_default());
    let changed = accounts::change_password(
        &state.db,
        state.password_gate(),
        signed_in.0.clone(),
        &current,
        &new,
        ip.0,
        state.clock.now(),
    )
    .await;
    match changed {
        Ok(()) => signed_out("account-password-changed", &state, jar),
        Err(AccountError::WrongPassword) => {
            let errors = FieldErrors {
                current_password: Some(t("account-wrong-current-password")),
                ..FieldErrors::default()
            };
            again(errors, StatusCode::FORBIDDEN).await
        }
        Err(AccountError::Invalid(fields)) => {
            let errors = FieldErrors {
                new_password: Some(
                    fields
                        .iter()
                        .map(crate::web::field_reason)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                ..FieldErrors::default()
            };
            again(errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AccountError::Refused(_)) => {
            let errors = FieldErrors {
                current_password: Some(too_many_attempts()),
                ..FieldErrors::default()
            };
            again(errors, StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(error) => server_error(error),
    }
}

/// `POST /account/email`: a link to the new address (the change flow of
/// the mail feature), with the current password.
pub(crate) async fn change_email(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut params, signed_in) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let new_email = params.remove("new_email").unwrap_or_default();
    let again = |errors: FieldErrors, status: StatusCode| {
        let jar = jar.clone();
        let (state, signed_in, new_email) = (&state, &signed_in, new_email.as_str());
        async move { account_page(state, jar, signed_in, status, None, errors, new_email).await }
    };
    if !admit_password_check(&state, ip).await {
        let errors = FieldErrors {
            email_password: Some(too_many_attempts()),
            ..FieldErrors::default()
        };
        return again(errors, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let password = Password::new(params.remove("password").unwrap_or_default());
    let requested = email::request_email_change(
        &state.db,
        state.password_gate(),
        state.outgoing(),
        &signed_in.0,
        email::EmailChange {
            new_email: &new_email,
            password: &password,
        },
        ip.0,
        state.clock.now(),
    )
    .await;
    match requested {
        Ok(()) => see_other("/account?done=email"),
        Err(EmailError::Account(AccountError::WrongPassword)) => {
            let errors = FieldErrors {
                email_password: Some(t("wrong-password")),
                ..FieldErrors::default()
            };
            again(errors, StatusCode::FORBIDDEN).await
        }
        Err(EmailError::Account(AccountError::Invalid(fields))) => {
            let errors = FieldErrors {
                new_email: fields.first().map(crate::web::field_reason),
                ..FieldErrors::default()
            };
            again(errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(EmailError::Account(AccountError::Refused(_))) => {
            let errors = FieldErrors {
                email_password: Some(too_many_attempts()),
                ..FieldErrors::default()
            };
            again(errors, StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(error) => server_error(error),
    }
}

/// `POST /account/sessions/end`: sign out one of one's other sessions.
pub(crate) async fn end_session(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, (user, _)) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let nothing = || error_page(StatusCode::NOT_FOUND, "error-not-your-session");
    let Some(id) = params.get("session").and_then(|s| Uuid::parse_str(s).ok()) else {
        return nothing();
    };
    let ip = ip.to_string_opt();
    match crate::sessions::end_own(&state.db, user.id, id, ip.as_deref(), state.clock.now()).await {
        Ok(Some(_)) => see_other("/account?done=session#sessions"),
        Ok(None) => nothing(),
        Err(error) => server_error(error),
    }
}

/// `POST /account/sessions/end-others`: every session but this browser's.
pub(crate) async fn end_other_sessions(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, (user, session)) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let ip = ip.to_string_opt();
    match crate::sessions::end_others(
        &state.db,
        user.id,
        session.id,
        ip.as_deref(),
        state.clock.now(),
    )
    .await
    {
        Ok(_) => see_other("/account?done=others#sessions"),
        Err(error) => server_error(error),
    }
}

/// `POST /account/apps/remove`: withdraw the consent to one app; its
/// sessions and refresh tokens end with it.
pub(crate) async fn remove_app(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, (user, _)) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let client_id = params.get("client_id").map(String::as_str).unwrap_or("");
    match crate::oauth::consent::revoke(&state.db, user.id, client_id, state.clock.now()).await {
        Ok(true) => see_other("/account?done=app#apps"),
        Ok(false) => error_page(StatusCode::NOT_FOUND, "error-no-app"),
        Err(error) => server_error(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_agent_reads_as_a_browser_and_a_system() {
        let cases = [
            (Some("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"), "Firefox on Linux"),
            (Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"), "Safari on macOS"),
            (Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0"), "Edge on Windows"),
            (Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36"), "Chrome (headless) on Linux"),
            (Some("curl/8.5.0"), "curl"),
            (Some("reqwest"), "reqwest"),
            (None, "Unknown device"),
            (Some("   "), "Unknown device"),
        ];
        for (ua, expected) in cases {
            assert_eq!(device(ua), expected, "{ua:?}");
        }
    }

    #[test]
    fn a_sign_in_leads_only_to_the_account_pages_the_console_or_the_device_page() {
        let next = |raw: &str| after_sign_in(Some(&raw.to_owned())).to_owned();
        for ours in [
            "/admin",
            "/admin/users?q=ada",
            "/account",
            "/account?done=profile",
            "/device",
            "/device?user_code=BCDFGHJK",
        ] {
            assert_eq!(next(ours), ours);
        }
        for theirs in [
            "https://evil.example/admin",
            "//evil.example/admin",
            "/admin//evil.example",
            "/administrator",
            "/devices",
            "/admin\\evil",
            "/oauth/authorize",
            "",
        ] {
            assert_eq!(next(theirs), ACCOUNT_PATH, "{theirs}");
        }
        assert_eq!(after_sign_in(None), ACCOUNT_PATH);
    }

    #[test]
    fn a_notice_comes_from_a_closed_set() {
        assert!(notice(Some(&"profile".to_owned())).is_some());
        assert_eq!(notice(Some(&"<script>".to_owned())), None);
        assert_eq!(notice(None), None);
    }
}
