//! What the pages' handlers share: parsing forms and queries (each field
//! once), the CSRF check, form pages with their CSRF cookie, and the browser
//! session cookie. `site` is the origin the page is served on: the issuer
//! for the authorization endpoint's pages, a protected origin for the
//! gateway's sign-in page. It names the cookies (`__Host-` over https) and
//! is the only origin a form post is accepted from.

use std::collections::HashMap;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{CookieJar, SameSite};

use crate::accounts::password::Password;
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::i18n::t;
use crate::sessions;
use crate::sessions::sign_in::{password_sign_in, Credentials, SignInError, SignedIn};
use crate::web::{cookie, cookie_names, error_page, page, same_site_post};

/// Each parameter at most once (RFC 6749 §3.1); empty values are absent.
pub(crate) fn parse(raw: &[u8]) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw) {
        if value.is_empty() {
            continue;
        }
        if params
            .insert(name.into_owned(), value.into_owned())
            .is_some()
        {
            return None;
        }
    }
    Some(params)
}

/// `303 See Other` to `location`, never cached.
pub(crate) fn see_other(location: &str) -> Response {
    redirect(StatusCode::SEE_OTHER, location)
}

pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) fn server_error(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "a sign-in page failed");
    error_page(StatusCode::SERVICE_UNAVAILABLE, "error-server")
}

/// A page holding a form: the HTML, with a fresh CSRF cookie matching the
/// token the page carries. `form_target`: where the form may lead besides
/// this site (the client's redirect URI).
pub(crate) fn form_page(
    site: &str,
    jar: CookieJar,
    status: StatusCode,
    html: Result<String, askama::Error>,
    csrf: String,
    form_target: Option<&str>,
) -> Response {
    let Ok(html) = html else {
        return server_error("a page did not render");
    };
    let names = cookie_names(site);
    let jar = jar.add(cookie(names.csrf, csrf, SameSite::Strict, names.secure));
    (jar, page(status, html, form_target)).into_response()
}

/// The query of a GET, each parameter once; else an error page.
#[allow(clippy::result_large_err)] // the error is the finished response
pub(crate) fn query_params(query: Option<String>) -> Result<HashMap<String, String>, Response> {
    parse(query.unwrap_or_default().as_bytes())
        .ok_or_else(|| error_page(StatusCode::BAD_REQUEST, "error-repeated-parameter"))
}

/// Whether a parsed form came from this site's own page (CSRF cookie and
/// token, `Sec-Fetch-Site`/`Origin`); else the error page to answer.
#[allow(clippy::result_large_err)]
pub(crate) fn check_form(
    site: &str,
    jar: &CookieJar,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(), Response> {
    let names = cookie_names(site);
    if same_site_post(
        headers,
        site,
        jar.get(names.csrf).map(|c| c.value()),
        params.get("csrf_token").map(String::as_str),
    ) {
        Ok(())
    } else {
        Err(error_page(StatusCode::FORBIDDEN, "error-form-expired"))
    }
}

/// A form field sent more than once.
pub(crate) fn repeated_field() -> Response {
    error_page(StatusCode::BAD_REQUEST, "error-repeated-field")
}

/// A posted form this site's own page sent: parsed (each field once) and
/// CSRF-checked. Anything else is answered with an error page.
// The error is the finished response, built once on a refusal; boxing it
// would only add an allocation.
#[allow(clippy::result_large_err)]
pub(crate) fn trusted_form(
    site: &str,
    jar: &CookieJar,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HashMap<String, String>, Response> {
    let params = parse(body).ok_or_else(repeated_field)?;
    check_form(site, jar, headers, &params)?;
    Ok(params)
}

/// The live user and session the browser's cookie for `site` names, if any.
pub(crate) async fn signed_in_browser(
    state: &AppState,
    site: &str,
    jar: &CookieJar,
) -> Result<Option<(crate::accounts::entity::Model, sessions::entity::Model)>, Response> {
    let names = cookie_names(site);
    match jar.get(names.session) {
        None => Ok(None),
        Some(cookie) => sessions::browser_session(
            &state.db,
            cookie.value(),
            site,
            &state.config.sessions,
            state.clock.now(),
        )
        .await
        .map_err(server_error),
    }
}

/// Make `session` this browser's on `site`: its cookie set, the spent CSRF
/// cookie gone.
pub(crate) async fn adopt_session(
    state: &AppState,
    site: &str,
    jar: CookieJar,
    session: uuid::Uuid,
) -> Result<CookieJar, Response> {
    let names = cookie_names(site);
    let value = sessions::attach_browser(&state.db, session, site)
        .await
        .map_err(server_error)?;
    Ok(jar
        .add(cookie(names.session, value, SameSite::Lax, names.secure))
        .add(signet_service::web::removal(names.csrf)))
}

/// Whether a password check may run now: each costs a hash, and comes out
/// of the client's login bucket (as over the API).
pub(crate) async fn admit_password_check(state: &AppState, ip: ClientIp) -> bool {
    state
        .limiters
        .admit_sign_in(ip.0, &state.metrics, state.clock.now())
        .await
        .is_ok()
}

/// Why a sign-in form is shown again, or the response to give instead.
pub(crate) enum FormRefusal {
    /// Re-render the form with this status and message.
    Again(StatusCode, String),
    /// The password was right: show the second-factor page.
    SecondFactor(Box<crate::sessions::sign_in::Pending>),
    Failed(Response),
}

/// The sign-in form's password check: the REST login's per-IP limit,
/// back-off, audit and session, with messages that never tell whether the
/// account exists.
pub(crate) async fn form_sign_in(
    state: &AppState,
    ip: ClientIp,
    headers: &HeaderMap,
    site: &str,
    email: &str,
    password: &Password,
) -> Result<SignedIn, FormRefusal> {
    if !admit_password_check(state, ip).await {
        return Err(FormRefusal::Again(
            StatusCode::TOO_MANY_REQUESTS,
            super::too_many_attempts(),
        ));
    }
    let signed_in = password_sign_in(
        &state.db,
        state.password_gate(),
        &state.config.sessions,
        Credentials {
            email,
            password,
            ip: ip.0,
            user_agent: crate::app::client_ip::user_agent(headers),
            audience: &state.config.account_audience,
            require_verified_email: state.config.mail.require_verified_email,
            mfa_required_roles: &state.config.mfa_required_roles,
            site: Some(site),
        },
        state.clock.now(),
    )
    .await;
    match signed_in {
        Ok(signed_in) => Ok(signed_in),
        Err(SignInError::EmailNotVerified(user)) => {
            if let Err(error) = crate::accounts::email::send_verification(
                &state.db,
                state.outgoing(),
                &user,
                state.clock.now(),
            )
            .await
            {
                return Err(FormRefusal::Failed(server_error(error)));
            }
            Err(FormRefusal::Again(
                StatusCode::FORBIDDEN,
                t("sign-in-confirm-email-first"),
            ))
        }
        Err(SignInError::SecondFactor(pending)) => Err(FormRefusal::SecondFactor(pending)),
        Err(SignInError::InvalidCredentials) => Err(FormRefusal::Again(
            StatusCode::UNAUTHORIZED,
            t("sign-in-wrong"),
        )),
        Err(SignInError::Refused(_)) => Err(FormRefusal::Again(
            StatusCode::TOO_MANY_REQUESTS,
            super::too_many_attempts(),
        )),
        Err(error) => Err(FormRefusal::Failed(server_error(error))),
    }
}
