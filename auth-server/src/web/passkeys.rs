//! Passkeys on the sign-in pages: the options a "Sign in with a passkey"
//! form asks for, and the sign-in its answer completes. The ceremony's
//! token lives in an HttpOnly cookie of the issuer's site; the answer
//! comes back in the form's hidden `passkey` field, to the form's own
//! action, so a passkey sign-in goes on exactly as a password one.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{CookieJar, SameSite};

use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::i18n::t;
use crate::passkeys::{self, PasskeyError};
use crate::sessions::sign_in::{passkey_sign_in, SignedIn};
use crate::web::browser::{admit_password_check, server_error, trusted_form, FormRefusal};
use crate::web::{cookie, cookie_names};

pub(crate) const SIGN_IN_OPTIONS_PATH: &str = "/sign-in/passkey/options";

/// JSON options for a ceremony, its token in this site's cookie.
pub(crate) fn options_answer(
    jar: CookieJar,
    site: &str,
    token: String,
    options: serde_json::Value,
) -> Response {
    let names = cookie_names(site);
    let jar = jar.add(cookie(
        names.webauthn,
        token,
        SameSite::Strict,
        names.secure,
    ));
    let mut response = (jar, axum::Json(options)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Options are a write (the ceremony's row) that any visitor's sign-in page
/// asks for: each takes a token of the client's sign-in bucket
/// (`RATE_LIMIT_LOGIN_PER_IP`), as the sign-in it may lead to does.
#[allow(clippy::result_large_err)] // the error is the finished response
pub(crate) async fn admit_options(state: &AppState, ip: ClientIp) -> Result<(), Response> {
    if admit_password_check(state, ip).await {
        Ok(())
    } else {
        Err(StatusCode::TOO_MANY_REQUESTS.into_response())
    }
}

/// The ceremony token this browser holds for `site`, and the jar without
/// it (an answer is checked once, right or wrong).
pub(crate) fn take_ceremony_cookie(jar: CookieJar, site: &str) -> (CookieJar, String) {
    let names = cookie_names(site);
    let token = jar
        .get(names.webauthn)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    (jar.add(signet_service::web::removal(names.webauthn)), token)
}

/// `POST /sign-in/passkey/options`: from a sign-in page of this site (its
/// CSRF token); options naming no account.
pub(crate) async fn sign_in_options(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let site = &state.config.issuer;
    if let Err(response) = trusted_form(site, &jar, &headers, &body) {
        return response;
    }
    if let Err(response) = admit_options(&state, ip).await {
        return response;
    }
    let Some(webauthn) = state.webauthn.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match passkeys::sign_in_options(&state.db, webauthn, site, state.clock.now()).await {
        Ok((token, options)) => match serde_json::to_value(options) {
            Ok(options) => options_answer(jar, site, token, options),
            Err(error) => server_error(error),
        },
        Err(error) => server_error(error),
    }
}

/// The sign-in a form's `passkey` answer completes: the session, the
/// ceremony cookie gone; or why the sign-in form is shown again.
pub(crate) async fn complete(
    state: &AppState,
    ip: ClientIp,
    headers: &HeaderMap,
    jar: CookieJar,
    answer: &str,
) -> Result<(CookieJar, SignedIn), FormRefusal> {
    let site = &state.config.issuer;
    let Some(webauthn) = state.webauthn.as_deref() else {
        return Err(FormRefusal::Again(StatusCode::NOT_FOUND, t("passkey-off")));
    };
    if !admit_password_check(state, ip).await {
        return Err(FormRefusal::Again(
            StatusCode::TOO_MANY_REQUESTS,
            super::too_many_attempts(),
        ));
    }
    let (jar, token) = take_ceremony_cookie(jar, site);
    let now = state.clock.now();
    let verified = match passkeys::sign_in(&state.db, webauthn, &token, site, answer, now).await {
        Ok(verified) => verified,
        Err(error) => return Err(refusal(state, ip, error).await),
    };
    let client = crate::sessions::Client {
        user_agent: crate::app::client_ip::user_agent(headers),
        ip: ip.to_string_opt(),
        audience: Some(state.config.account_audience.clone()),
        ..crate::sessions::Client::default()
    };
    match passkey_sign_in(
        &state.db,
        state.password_gate(),
        &state.config.sessions,
        verified,
        client,
        now,
    )
    .await
    {
        Ok(signed_in) => Ok((jar, signed_in)),
        Err(error) => Err(FormRefusal::Failed(server_error(error))),
    }
}

/// A refused passkey answer, in the page's words; the cause is logged and
/// counted as a failed sign-in (audited as `login.failure`).
async fn refusal(state: &AppState, ip: ClientIp, error: PasskeyError) -> FormRefusal {
    let (key, message) = match &error {
        PasskeyError::Expired => ("expired", t("passkey-expired")),
        PasskeyError::Cloned => ("cloned", t("passkey-cloned")),
        PasskeyError::Store(_) => return FormRefusal::Failed(server_error(error)),
        _ => ("refused", t("passkey-refused")),
    };
    tracing::info!(%error, reason = ?error, "a passkey sign-in was refused");
    crate::audit::record(
        &state.db,
        crate::audit::AuditEvent::new("login.failure")
            .subject("passkey")
            .ip(ip.to_string_opt().as_deref())
            .detail(serde_json::json!({ "passkey": key })),
    )
    .await;
    FormRefusal::Again(StatusCode::UNAUTHORIZED, message)
}
