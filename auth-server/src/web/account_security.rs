//! `/account/security`: the signed-in person's second factors. An
//! authenticator app (set up from the QR code or the secret, confirmed with
//! a first code, removed with the password) and recovery codes (made at
//! set-up, shown once, replaced with the password).
//!
//! Each change goes through `mfa`, as the sign-in does, and every form is
//! CSRF-checked like the account page's.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;

use crate::accounts::password::Password;
use crate::accounts::{self, AccountError};
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::i18n::t;
use crate::mfa::{self, MfaError};
use crate::web::account_pages::{account_form, signed_in, when, SignedIn, SIGN_IN_PATH};
use crate::web::browser::{admit_password_check, form_page, query_params, see_other, server_error};
use crate::web::second_factor::recovery_codes_page;
use crate::web::{random_token, too_many_attempts};

pub(crate) const SECURITY_PATH: &str = "/account/security";

#[derive(Default)]
struct FieldErrors {
    code: Option<String>,
    remove_password: Option<String>,
    codes_password: Option<String>,
}

#[derive(Template)]
#[template(path = "account_security.html")]
struct SecurityPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    notice: Option<String>,
    errors: FieldErrors,
    /// The app's set-up and last-used dates, when one is set up.
    app: Option<(String, String)>,
    /// Setting one up: the QR code and the secret.
    enrolment: Option<mfa::totp::Enrolment>,
    /// No key to seal secrets with: no app can be set up.
    unavailable: bool,
    recovery_codes_left: u64,
    /// The account must keep a second factor (an admin, or a role).
    required: bool,
}

fn notice(done: Option<&String>) -> Option<String> {
    Some(match done?.as_str() {
        "totp-removed" => t("security-notice-totp-removed"),
        "totp" => t("security-notice-totp"),
        _ => return None,
    })
}

async fn security_page(
    state: &AppState,
    jar: CookieJar,
    (user, _): &SignedIn,
    status: StatusCode,
    notice: Option<String>,
    errors: FieldErrors,
) -> Response {
    let now = state.clock.now();
    let loaded = async {
        let row = mfa::totp::find(&state.db, user.id).await?;
        let left = mfa::recovery::left(&state.db, user.id).await?;
        Ok::<_, MfaError>((row, left))
    };
    let (row, left) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return server_error(error),
    };
    let confirmed = row.filter(|r| r.confirmed_at.is_some());
    let app = confirmed.as_ref().map(|r| {
        (
            when(r.confirmed_at.unwrap_or(r.created_at)),
            r.last_used_at
                .map(when)
                .unwrap_or_else(|| t("security-never-used")),
        )
    });
    let enrolment = match (&confirmed, state.factor_seal.as_deref()) {
        (None, Some(seal)) => {
            match mfa::totp::begin(&state.db, seal, user, &state.brand.name, now).await {
                Ok(enrolment) => Some(enrolment),
                Err(error) => return server_error(error),
            }
        }
        _ => None,
    };
    let csrf = random_token();
    let html = SecurityPage {
        csrf_token: &csrf,
        email: &user.email,
        notice,
        errors,
        app,
        unavailable: confirmed.is_none() && state.factor_seal.is_none(),
        enrolment,
        recovery_codes_left: left,
        required: mfa::required(user, &state.config.mfa_required_roles),
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /account/security`.
pub(crate) async fn page(
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
            security_page(
                &state,
                jar,
                &signed_in,
                StatusCode::OK,
                notice,
                FieldErrors::default(),
            )
            .await
        }
        Ok(None) => see_other(&format!("{SIGN_IN_PATH}?next={SECURITY_PATH}")),
        Err(response) => response,
    }
}

/// `POST /account/security/totp`: the first code confirms the app; the
/// recovery codes follow, shown once.
pub(crate) async fn confirm_totp(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, signed_in) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let again = |message: String, status| {
        let errors = FieldErrors {
            code: Some(message),
            ..FieldErrors::default()
        };
        security_page(&state, jar.clone(), &signed_in, status, None, errors)
    };
    let Some(seal) = state.factor_seal.as_deref() else {
        return again(t("error-mfa-unavailable"), StatusCode::SERVICE_UNAVAILABLE).await;
    };
    if !admit_password_check(&state, ip) {
        return again(too_many_attempts(), StatusCode::TOO_MANY_REQUESTS).await;
    }
    let code = params.get("code").map(String::as_str).unwrap_or_default();
    let confirmed = mfa::confirm_enrolment(
        &state.db,
        state.password_gate(),
        seal,
        &signed_in.0,
        code,
        ip.0,
        state.clock.now(),
    )
    .await;
    match confirmed {
        Ok(codes) => recovery_codes_page(jar, &codes, &format!("{SECURITY_PATH}?done=totp")),
        Err(MfaError::WrongCode) => {
            again(t("second-factor-wrong"), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(MfaError::Refused(_)) => {
            again(too_many_attempts(), StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(error) => server_error(error),
    }
}

/// Re-check the password of a change to the factors; `Err`: the page again,
/// with the message under the field `field` names.
async fn password_again(
    state: &AppState,
    ip: ClientIp,
    jar: &CookieJar,
    signed_in: &SignedIn,
    password: Option<&String>,
    field: fn(String) -> FieldErrors,
) -> Result<(), Response> {
    let refuse = |message: String, status| async move {
        security_page(state, jar.clone(), signed_in, status, None, field(message)).await
    };
    if !admit_password_check(state, ip) {
        return Err(refuse(too_many_attempts(), StatusCode::TOO_MANY_REQUESTS).await);
    }
    let password = Password::new(password.cloned().unwrap_or_default());
    match accounts::reauthenticate(
        &state.db,
        state.password_gate(),
        &signed_in.0,
        &password,
        ip.0,
        "mfa.change_failed",
        state.clock.now(),
    )
    .await
    {
        Ok(()) => Ok(()),
        Err(AccountError::WrongPassword) => Err(refuse(
            t("account-wrong-current-password"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(AccountError::Refused(_)) => {
            Err(refuse(too_many_attempts(), StatusCode::TOO_MANY_REQUESTS).await)
        }
        Err(error) => Err(server_error(error)),
    }
}

/// `POST /account/security/totp/remove`: with the password; the recovery
/// codes go too. Refused while the account requires a second factor.
pub(crate) async fn remove_totp(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, signed_in) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let field = |message| FieldErrors {
        remove_password: Some(message),
        ..FieldErrors::default()
    };
    if let Err(response) =
        password_again(&state, ip, &jar, &signed_in, params.get("password"), field).await
    {
        return response;
    }
    match mfa::remove_totp(
        &state.db,
        &signed_in.0,
        &state.config.mfa_required_roles,
        ip.0,
    )
    .await
    {
        Ok(()) | Err(MfaError::NotEnrolled) => {
            see_other(&format!("{SECURITY_PATH}?done=totp-removed"))
        }
        Err(MfaError::Required) => {
            security_page(
                &state,
                jar,
                &signed_in,
                StatusCode::CONFLICT,
                None,
                field(t("security-required-keep")),
            )
            .await
        }
        Err(error) => server_error(error),
    }
}

/// `POST /account/security/recovery-codes`: with the password, a new set
/// replaces the old, shown once.
pub(crate) async fn replace_recovery_codes(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, signed_in) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let field = |message| FieldErrors {
        codes_password: Some(message),
        ..FieldErrors::default()
    };
    if let Err(response) =
        password_again(&state, ip, &jar, &signed_in, params.get("password"), field).await
    {
        return response;
    }
    match mfa::regenerate_recovery_codes(&state.db, &signed_in.0, ip.0, state.clock.now()).await {
        Ok(codes) => recovery_codes_page(jar, &codes, SECURITY_PATH),
        Err(MfaError::NotEnrolled) => {
            security_page(
                &state,
                jar,
                &signed_in,
                StatusCode::CONFLICT,
                None,
                field(t("security-codes-need-app")),
            )
            .await
        }
        Err(error) => server_error(error),
    }
}
