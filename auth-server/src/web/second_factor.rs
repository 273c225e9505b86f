//! The second-factor page every sign-in form leads to when the password was
//! right and the account has (or must set up) a second factor; and the
//! recovery-codes page an enrolment ends on.
//!
//! The page posts back to the form it came from (the authorization
//! endpoint, the account sign-in, a gateway's sign-in) with one field,
//! `code`, beside the form's hidden ones; the half-finished sign-in is
//! named by an HttpOnly cookie of that site (`signet_mfa`, `__Host-` over
//! https), never by the page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{CookieJar, SameSite};

use crate::accounts::entity as user;
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::i18n::t;
use crate::mfa::{challenge, MfaError};
use crate::sessions::sign_in::{
    second_factor_sign_in, Proof, SecondFactorAttempt, SignInError, SignedIn,
};

/// What the second-factor page's form sent.
#[derive(Clone, Copy)]
pub(crate) enum Given<'a> {
    /// `code`: six digits of the app, or a recovery code.
    Code(&'a str),
    /// `factor_passkey`: a passkey's answer.
    Passkey(&'a str),
}

impl<'a> Given<'a> {
    /// The second factor a form's fields hold, if any.
    pub(crate) fn from_form(code: Option<&'a String>, passkey: Option<&'a String>) -> Option<Self> {
        match (passkey, code) {
            (Some(answer), _) => Some(Given::Passkey(answer)),
            (None, Some(code)) => Some(Given::Code(code)),
            (None, None) => None,
        }
    }
}
use crate::web::browser::{form_page, server_error};
use crate::web::{cookie, cookie_names, error_page, random_token};

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage<'a> {
    error: Option<&'a str>,
    csrf_token: &'a str,
    action: &'a str,
    request: &'a [(String, String)],
    /// Setting up an app first: its QR code and secret.
    enrolment: Option<crate::mfa::totp::Enrolment>,
    step_up: bool,
    /// "Use a passkey" (the account has one, on the issuer's own page).
    passkey: bool,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub(crate) struct RecoveryCodesPage<'a> {
    pub codes: &'a [String],
    /// Where "Continue" leads.
    pub next: &'a str,
}

/// Where the second-factor page sits: the sign-in form's site, where it
/// posts, the hidden fields it carries back, and where else the page may
/// send the browser (the client's redirect URI).
pub(crate) struct SecondFactorForm<'a> {
    pub site: &'a str,
    pub action: &'a str,
    pub request: Vec<(String, String)>,
    pub form_target: Option<&'a str>,
}

impl SecondFactorForm<'_> {
    /// The page; `token`, when given, is a challenge just opened, put in
    /// this site's cookie.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn show(
        &self,
        state: &AppState,
        jar: CookieJar,
        token: Option<&str>,
        user: &user::Model,
        purpose: challenge::Purpose,
        status: StatusCode,
        error: Option<&str>,
    ) -> Response {
        let enrolment = if purpose == challenge::Purpose::Enrol {
            let Some(seal) = state.factor_seal.as_deref() else {
                return error_page(StatusCode::SERVICE_UNAVAILABLE, "error-mfa-unavailable");
            };
            match crate::mfa::totp::begin(
                &state.db,
                seal,
                user,
                &state.brand.name,
                state.clock.now(),
            )
            .await
            {
                Ok(enrolment) => Some(enrolment),
                Err(error) => return server_error(error),
            }
        } else {
            None
        };
        let passkey = purpose != challenge::Purpose::Enrol
            && state.webauthn.is_some()
            && self.site == state.config.issuer
            && match crate::passkeys::list(&state.db, user.id).await {
                Ok(keys) => !keys.is_empty(),
                Err(error) => return server_error(error),
            };
        let names = cookie_names(self.site);
        let jar = match token {
            Some(token) => jar.add(cookie(
                names.second_factor,
                token.to_owned(),
                SameSite::Strict,
                names.secure,
            )),
            None => jar,
        };
        let csrf = random_token();
        let html = SecondFactorPage {
            error,
            csrf_token: &csrf,
            action: self.action,
            request: &self.request,
            enrolment,
            step_up: purpose == challenge::Purpose::StepUp,
            passkey,
        }
        .render();
        form_page(self.site, jar, status, html, csrf, self.form_target)
    }

    /// Complete the sign-in this browser's cookie names with `code`: the
    /// session (the cookie gone), or the page again / an error page.
    pub(crate) async fn complete(
        &self,
        state: &AppState,
        ip: ClientIp,
        jar: CookieJar,
        given: Given<'_>,
    ) -> Result<(CookieJar, SignedIn), Response> {
        let names = cookie_names(self.site);
        let (jar, ceremony) = crate::web::passkeys::take_ceremony_cookie(jar, self.site);
        let proof = match given {
            Given::Code(code) => Proof::Code(code),
            Given::Passkey(answer) => Proof::Passkey {
                token: &ceremony,
                answer,
            },
        };
        let token = jar
            .get(names.second_factor)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        let now = state.clock.now();
        let expired = |jar: CookieJar| {
            (
                jar.add(signet_service::web::removal(names.second_factor)),
                error_page(StatusCode::BAD_REQUEST, "error-second-factor-expired"),
            )
                .into_response()
        };
        let pending = match challenge::live(&state.db, &token, Some(self.site), now).await {
            Ok(Some(pending)) => pending,
            Ok(None) => return Err(expired(jar)),
            Err(error) => return Err(server_error(error)),
        };
        if !crate::web::browser::admit_password_check(state, ip).await {
            return Err(self
                .again(
                    state,
                    jar,
                    &pending,
                    StatusCode::TOO_MANY_REQUESTS,
                    &super::too_many_attempts(),
                )
                .await);
        }
        let done = second_factor_sign_in(
            &state.db,
            state.second_factor(),
            SecondFactorAttempt {
                token: &token,
                site: Some(self.site),
                proof,
                ip: ip.0,
            },
            now,
        )
        .await;
        match done {
            Ok(signed_in) => Ok((
                jar.add(signet_service::web::removal(names.second_factor)),
                signed_in,
            )),
            Err(SignInError::Mfa(MfaError::WrongCode)) => Err(self
                .again(
                    state,
                    jar,
                    &pending,
                    StatusCode::UNAUTHORIZED,
                    &t("second-factor-wrong"),
                )
                .await),
            Err(SignInError::Refused(_)) => Err(self
                .again(
                    state,
                    jar,
                    &pending,
                    StatusCode::TOO_MANY_REQUESTS,
                    &super::too_many_attempts(),
                )
                .await),
            Err(SignInError::Mfa(MfaError::Expired)) => Err(expired(jar)),
            Err(SignInError::Mfa(MfaError::Unavailable)) => Err(error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "error-mfa-unavailable",
            )),
            Err(error) => Err(server_error(error)),
        }
    }

    async fn again(
        &self,
        state: &AppState,
        jar: CookieJar,
        pending: &challenge::Challenge,
        status: StatusCode,
        message: &str,
    ) -> Response {
        let user = match crate::accounts::entity::Entity::find_by_id(pending.row.user_id)
            .one(&state.db)
            .await
        {
            Ok(Some(user)) => user,
            Ok(None) => return error_page(StatusCode::BAD_REQUEST, "error-second-factor-expired"),
            Err(error) => return server_error(error),
        };
        self.show(
            state,
            jar,
            None,
            &user,
            pending.purpose,
            status,
            Some(message),
        )
        .await
    }
}

use sea_orm::EntityTrait as _;

/// The recovery codes just made, shown once, then on to `next`.
pub(crate) fn recovery_codes_page(jar: CookieJar, codes: &[String], next: &str) -> Response {
    match (RecoveryCodesPage { codes, next }).render() {
        Ok(html) => (jar, crate::web::page(StatusCode::OK, html, None)).into_response(),
        Err(_) => server_error("a page did not render"),
    }
}

/// What the page after a right password asks for.
pub(crate) fn purpose_of(pending: &crate::sessions::sign_in::Pending) -> challenge::Purpose {
    if pending.enrol {
        challenge::Purpose::Enrol
    } else {
        challenge::Purpose::SignIn
    }
}

/// A step-up of the browser's `session` (`acr_values=mfa`, or a console
/// page for an admin with a second factor): the second-factor page, if
/// the account has a factor to step up with. `None`: it has none, and the
/// request goes on with what the session has (the `acr` tells the client).
pub(crate) async fn step_up(
    state: &AppState,
    jar: CookieJar,
    user: &crate::accounts::entity::Model,
    session: &crate::sessions::entity::Model,
    form: &SecondFactorForm<'_>,
) -> Option<Response> {
    let factors = match crate::mfa::factors(&state.db, user.id).await {
        Ok(factors) => factors,
        Err(error) => return Some(server_error(error)),
    };
    if !factors.any() {
        return None;
    }
    let token = crate::mfa::challenge::open(
        &state.db,
        user.id,
        challenge::Purpose::StepUp,
        crate::mfa::challenge::Context {
            site: Some(form.site.to_owned()),
            audience: session.audience.clone(),
            user_agent: session.user_agent.clone(),
            ip: session.ip.clone(),
            session_id: Some(session.id),
        },
        state.clock.now(),
    )
    .await;
    Some(match token {
        Ok(token) => {
            form.show(
                state,
                jar,
                Some(&token),
                user,
                challenge::Purpose::StepUp,
                StatusCode::OK,
                None,
            )
            .await
        }
        Err(error) => server_error(error),
    })
}

/// `POST /sign-in/passkey/second-factor/options`: from the second-factor
/// page (its CSRF token, and the challenge in this browser's cookie):
/// options naming the passkeys of the account the challenge is for.
pub(crate) async fn passkey_options(
    axum::extract::State(state): axum::extract::State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let site = state.config.issuer.clone();
    if let Err(response) = crate::web::browser::trusted_form(&site, &jar, &headers, &body) {
        return response;
    }
    if let Err(response) = crate::web::passkeys::admit_options(&state, ip).await {
        return response;
    }
    let Some(webauthn) = state.webauthn.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let names = cookie_names(&site);
    let token = jar
        .get(names.second_factor)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let now = state.clock.now();
    let pending = match challenge::live(&state.db, &token, Some(&site), now).await {
        Ok(Some(pending)) if pending.purpose != challenge::Purpose::Enrol => pending,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => return server_error(error),
    };
    match crate::passkeys::second_factor_options(
        &state.db,
        webauthn,
        pending.row.user_id,
        &site,
        now,
    )
    .await
    {
        Ok((token, options)) => match serde_json::to_value(options) {
            Ok(options) => crate::web::passkeys::options_answer(jar, &site, token, options),
            Err(error) => server_error(error),
        },
        Err(crate::passkeys::PasskeyError::Unknown) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => server_error(error),
    }
}
