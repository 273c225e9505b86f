//! The pages mailed links lead to, and the forgotten-password form: confirm
//! an address (a GET alone never does: mail scanners follow links), ask for
//! a reset link, choose a new password. Each form is CSRF-checked like the
//! sign-in form; each answer is the same whatever the address.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;

use crate::accounts::email::{self, EmailError, Purpose};
use crate::accounts::password::Password;
use crate::accounts::AccountError;
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::i18n::{t, t1};
use crate::web::browser::{form_page, query_params, server_error, trusted_form};
use crate::web::{notice_page, random_token};

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyEmailPage<'a> {
    csrf_token: &'a str,
    token: &'a str,
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetRequestPage<'a> {
    csrf_token: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "password_reset_confirm.html")]
struct ResetConfirmPage<'a> {
    csrf_token: &'a str,
    token: &'a str,
    error: Option<&'a str>,
}

fn dead_link() -> Response {
    notice_page(
        StatusCode::BAD_REQUEST,
        "dead-link",
        Some(("/account/password-reset", &t("forgot-title"))),
    )
}

#[allow(clippy::result_large_err)] // the error is the finished response
fn token_of(query: Option<String>) -> Result<String, Response> {
    let params = query_params(query)?;
    params.get("token").cloned().ok_or_else(dead_link)
}

/// `GET /account/verify-email?token=…`: a button that confirms (the link
/// alone changes nothing).
pub(crate) async fn verify_email_get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let token = match token_of(query) {
        Ok(token) => token,
        Err(response) => return response,
    };
    let now = state.clock.now();
    match email::link_is_live(
        &state.db,
        &token,
        &[Purpose::VerifyEmail, Purpose::ChangeEmail],
        now,
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => return dead_link(),
        Err(error) => return server_error(error),
    }
    let csrf = random_token();
    let html = VerifyEmailPage {
        csrf_token: &csrf,
        token: &token,
    }
    .render();
    form_page(&state.config.issuer, jar, StatusCode::OK, html, csrf, None)
}

/// `POST /account/verify-email`: spend the link.
pub(crate) async fn verify_email_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match trusted_form(&state.config.issuer, &jar, &headers, &body) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let token = params.get("token").map(String::as_str).unwrap_or_default();
    match email::confirm_link(&state.db, state.outgoing(), token, ip.0, state.clock.now()).await {
        Ok(email::Verified::Address { .. }) => notice_page(StatusCode::OK, "verify-done", None),
        Ok(email::Verified::Changed { .. }) => notice_page(StatusCode::OK, "verify-changed", None),
        Err(EmailError::InvalidLink) => dead_link(),
        Err(error) => server_error(error),
    }
}

fn reset_request_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let csrf = random_token();
    let html = ResetRequestPage {
        csrf_token: &csrf,
        error,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /account/password-reset`: the form asking for the address.
pub(crate) async fn password_reset_get(State(state): State<AppState>, jar: CookieJar) -> Response {
    reset_request_page(&state, jar, StatusCode::OK, None)
}

/// `POST /account/password-reset`: the same page for every address.
pub(crate) async fn password_reset_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match trusted_form(&state.config.issuer, &jar, &headers, &body) {
        Ok(params) => params,
        Err(response) => return response,
    };
    if state
        .limiters
        .reset_per_ip
        .admit_ip(ip.0, &state.metrics, state.clock.now())
        .await
        .is_err()
    {
        return reset_request_page(
            &state,
            jar,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&super::too_many_attempts()),
        );
    }
    let typed = params.get("email").map(String::as_str).unwrap_or_default();
    match email::request_password_reset(&state.db, state.outgoing(), typed, ip.0, state.clock.now())
        .await
    {
        Ok(()) => notice_page(StatusCode::OK, "forgot-sent", None),
        Err(error) => server_error(error),
    }
}

fn reset_confirm_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    token: &str,
    error: Option<&str>,
) -> Response {
    let csrf = random_token();
    let html = ResetConfirmPage {
        csrf_token: &csrf,
        token,
        error,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /account/password-reset/confirm?token=…`: the new-password form.
pub(crate) async fn password_reset_confirm_get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let token = match token_of(query) {
        Ok(token) => token,
        Err(response) => return response,
    };
    match email::link_is_live(
        &state.db,
        &token,
        &[Purpose::ResetPassword],
        state.clock.now(),
    )
    .await
    {
        Ok(true) => reset_confirm_page(&state, jar, StatusCode::OK, &token, None),
        Ok(false) => dead_link(),
        Err(error) => server_error(error),
    }
}

/// `POST /account/password-reset/confirm`: set it; a policy violation shows
/// the form again (the link stays usable).
pub(crate) async fn password_reset_confirm_post(
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
    let token = params.remove("token").unwrap_or_default();
    let new = Password::new(params.remove("new_password").unwrap_or_default());
    match email::confirm_password_reset(
        &state.db,
        &state.hasher,
        state.outgoing(),
        &token,
        &new,
        ip.0,
        state.clock.now(),
    )
    .await
    {
        Ok(()) => notice_page(StatusCode::OK, "reset-done", None),
        Err(EmailError::InvalidLink) => dead_link(),
        Err(EmailError::Account(AccountError::Invalid(fields))) => {
            let message = fields
                .first()
                .map(|f| t1("reset-field-error", "message", crate::web::field_reason(f)))
                .unwrap_or_else(|| t("reset-unusable"));
            reset_confirm_page(
                &state,
                jar,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                Some(&message),
            )
        }
        Err(error) => server_error(error),
    }
}
