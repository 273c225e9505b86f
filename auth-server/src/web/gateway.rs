//! The gateway's sign-in page (`/oauth/gateway/sign-in?rd=…`): where
//! forward-auth sends a browser that has no session on a protected origin.
//! The gateway proxies this path to auth-server on the protected origin
//! itself, so the session cookie it sets is host-only (`__Host-` over https)
//! on exactly the origin it protects, and the page's CSRF check accepts
//! posts from that origin only. `rd` must be on a protected origin
//! (`GATEWAY_PROTECTED_ORIGINS`): anything else is an error page, never a
//! redirect.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::CookieJar;
use url::Url;

use crate::accounts::password::Password;
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::oauth::forward::{self, SIGN_IN_PATH};
use crate::web::browser::{
    adopt_session, check_form, form_page, form_sign_in, parse, query_params, redirect,
    repeated_field, see_other, signed_in_browser, FormRefusal,
};
use crate::web::second_factor::{recovery_codes_page, Given, SecondFactorForm};
use crate::web::{error_page, random_token, SignInPage};

fn refused() -> Response {
    error_page(StatusCode::BAD_REQUEST, "error-gateway-link")
}

/// Where to return to, if `rd` is on a protected origin; and that origin.
fn return_to(state: &AppState, rd: Option<&String>) -> Option<(Url, String)> {
    let back = forward::allowed_return(&state.config.gateway_origins, rd?)?;
    let site = back.origin().ascii_serialization();
    Some((back, site))
}

fn sign_in_page(
    state: &AppState,
    site: &str,
    jar: CookieJar,
    back: &Url,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
) -> Response {
    let csrf = random_token();
    let html = SignInPage {
        client_name: back.host_str().unwrap_or("this site"),
        error,
        csrf_token: &csrf,
        request: vec![("rd".to_owned(), back.to_string())],
        email,
        action: SIGN_IN_PATH,
        signup_query: None,
        // Started on the issuer's origin (where the provider returns), so
        // the links are absolute; the hand-off comes back here.
        upstreams: crate::web::upstream_buttons(
            &state.upstreams,
            &state.config.issuer,
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("rd", back.as_str())
                .finish(),
        ),
        // Passkeys are bound to the issuer's origin, not a protected one.
        passkeys: false,
    }
    .render();
    form_page(site, jar, status, html, csrf, None)
}

/// `GET`: the form, or straight back if this browser is signed in here.
pub(crate) async fn sign_in_get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match query_params(query) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let Some((back, site)) = return_to(&state, params.get("rd")) else {
        return refused();
    };
    // Back from an upstream provider: the one-time hand-off of the session
    // made on the issuer's origin, for this site only.
    if let Some(handoff) = params.get("handoff") {
        let now = state.clock.now();
        let session =
            match crate::upstream::flow::take_handoff(&state.db, handoff, &site, now).await {
                Ok(session) => session,
                Err(_) => return error_page(StatusCode::BAD_REQUEST, "error-gateway-handoff"),
            };
        return match adopt_session(&state, &site, jar, session).await {
            Ok(jar) => (jar, redirect(StatusCode::FOUND, back.as_str())).into_response(),
            Err(response) => response,
        };
    }
    match signed_in_browser(&state, &site, &jar).await {
        Ok(Some(_)) => redirect(StatusCode::FOUND, back.as_str()),
        Ok(None) => sign_in_page(&state, &site, jar, &back, StatusCode::OK, None, ""),
        Err(response) => response,
    }
}

/// `POST`: CSRF-checked for the protected origin, then the same password
/// check, limits and audit as every sign-in; success sets the session
/// cookie on this origin and goes back to `rd`.
pub(crate) async fn sign_in_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(mut params) = parse(&body) else {
        return repeated_field();
    };
    let Some((back, site)) = return_to(&state, params.get("rd")) else {
        return refused();
    };
    if let Err(response) = check_form(&site, &jar, &headers, &params) {
        return response;
    }
    let code = params.remove("code");
    let factor_passkey = params.remove("factor_passkey");
    let email = params.remove("email").unwrap_or_default();
    let password = Password::new(params.remove("password").unwrap_or_default());
    let form = SecondFactorForm {
        site: &site,
        action: SIGN_IN_PATH,
        request: vec![("rd".to_owned(), back.to_string())],
        form_target: None,
    };
    let (jar, signed_in) = match Given::from_form(code.as_ref(), factor_passkey.as_ref()) {
        Some(given) => match form.complete(&state, ip, jar, given).await {
            Ok(done) => done,
            Err(response) => return response,
        },
        None => match form_sign_in(&state, ip, &headers, &site, &email, &password).await {
            Ok(signed_in) => (jar, signed_in),
            Err(FormRefusal::Again(status, message)) => {
                return sign_in_page(&state, &site, jar, &back, status, Some(&message), &email)
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
    match adopt_session(&state, &site, jar, signed_in.started.session.id).await {
        Ok(jar) if !signed_in.recovery_codes.is_empty() => {
            recovery_codes_page(jar, &signed_in.recovery_codes, back.as_str())
        }
        Ok(jar) => {
            tracing::info!(user = %signed_in.user.id, origin = %site, "gateway sign-in");
            (jar, see_other(back.as_str())).into_response()
        }
        Err(response) => response,
    }
}
