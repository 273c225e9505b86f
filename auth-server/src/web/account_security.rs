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
    passkey: Option<String>,
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
    passkeys_on: bool,
    passkeys: Vec<PasskeyRow>,
    /// Adding a passkey asks for the password (accounts that have one).
    has_password: bool,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    used: String,
    synced: bool,
}

fn notice(done: Option<&String>) -> Option<String> {
    Some(match done?.as_str() {
        "totp-removed" => t("security-notice-totp-removed"),
        "totp" => t("security-notice-totp"),
        "passkey" => t("security-notice-passkey"),
        "passkey-removed" => t("security-notice-passkey-removed"),
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
        let keys = crate::passkeys::list(&state.db, user.id).await?;
        Ok::<_, MfaError>((row, left, keys))
    };
    let (row, left, keys) = match loaded.await {
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
        passkeys_on: state.webauthn.is_some(),
        has_password: user.has_password(),
        passkeys: keys
            .into_iter()
            .map(|k| PasskeyRow {
                id: k.id.to_string(),
                name: k.name,
                created: when(k.created_at),
                used: k
                    .last_used_at
                    .map(when)
                    .unwrap_or_else(|| t("security-never-used")),
                synced: k.backup_eligible,
            })
            .collect(),
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
    if !admit_password_check(&state, ip).await {
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
    if !admit_password_check(state, ip).await {
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

/// A form of this page that takes a factor away: CSRF-checked, its person,
/// and their `password` checked again (a refusal's message under `field`).
async fn confirmed_form(
    state: &AppState,
    ip: ClientIp,
    jar: &CookieJar,
    headers: &HeaderMap,
    body: &[u8],
    field: fn(String) -> FieldErrors,
) -> Result<SignedIn, Response> {
    let (params, signed_in) = account_form(state, jar, headers, body).await?;
    password_again(state, ip, jar, &signed_in, params.get("password"), field).await?;
    Ok(signed_in)
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
    let field: fn(String) -> FieldErrors = |message| FieldErrors {
        remove_password: Some(message),
        ..FieldErrors::default()
    };
    let signed_in = match confirmed_form(&state, ip, &jar, &headers, &body, field).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
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
    let field: fn(String) -> FieldErrors = |message| FieldErrors {
        codes_password: Some(message),
        ..FieldErrors::default()
    };
    let signed_in = match confirmed_form(&state, ip, &jar, &headers, &body, field).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
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

/// `POST /account/security/passkeys/options`: the options for a new
/// passkey of the signed-in account (JSON), its ceremony in a cookie.
pub(crate) async fn passkey_options(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, (user, _)) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some(webauthn) = state.webauthn.as_deref() else {
        return axum::response::IntoResponse::into_response(StatusCode::NOT_FOUND);
    };
    let site = &state.config.issuer;
    match crate::passkeys::registration_options(&state.db, webauthn, &user, site, state.clock.now())
        .await
    {
        Ok((token, options)) => crate::web::passkeys::options_answer(jar, site, token, options),
        Err(error) => server_error(error),
    }
}

/// `POST /account/security/passkeys`: the browser's answer (`credential`),
/// the passkey's `name`, and the account's `password`.
pub(crate) async fn add_passkey(
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
    let site = &state.config.issuer;
    let (jar, token) = crate::web::passkeys::take_ceremony_cookie(jar, site);
    let again = |message: String, status| {
        let errors = FieldErrors {
            passkey: Some(message),
            ..FieldErrors::default()
        };
        security_page(&state, jar.clone(), &signed_in, status, None, errors)
    };
    let Some(webauthn) = state.webauthn.as_deref() else {
        return again(t("passkey-off"), StatusCode::NOT_FOUND).await;
    };
    let answer = params
        .get("credential")
        .map(String::as_str)
        .unwrap_or_default();
    if answer.is_empty() {
        return again(t("passkey-needs-script"), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // A new way into the account needs the password again (when it has
    // one), as removing the app does: a borrowed session cannot add one.
    if signed_in.0.has_password() {
        let field = |message| FieldErrors {
            passkey: Some(message),
            ..FieldErrors::default()
        };
        if let Err(response) =
            password_again(&state, ip, &jar, &signed_in, params.get("password"), field).await
        {
            return response;
        }
    }
    let name = params.get("name").map(String::as_str).unwrap_or_default();
    let registered = crate::passkeys::register(
        &state.db,
        webauthn,
        &signed_in.0,
        crate::passkeys::Registration {
            token: &token,
            site,
            answer,
            name,
        },
        state.clock.now(),
    )
    .await;
    use crate::passkeys::PasskeyError;
    match registered {
        Ok(_) => see_other(&format!("{SECURITY_PATH}?done=passkey")),
        Err(PasskeyError::BadName) => {
            again(t("passkey-bad-name"), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(PasskeyError::Duplicate) => again(t("passkey-duplicate"), StatusCode::CONFLICT).await,
        Err(PasskeyError::Expired) => again(t("passkey-expired"), StatusCode::BAD_REQUEST).await,
        Err(PasskeyError::Store(error)) => server_error(error),
        Err(error) => {
            tracing::info!(%error, reason = ?error, "a passkey registration was refused");
            again(t("passkey-refused"), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `POST /account/security/passkeys/remove`: one of the account's
/// passkeys (`id`), unless it is the last way to sign in.
pub(crate) async fn remove_passkey(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, signed_in) = match account_form(&state, &jar, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let id = params
        .get("id")
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .unwrap_or_default();
    use crate::passkeys::PasskeyError;
    match crate::passkeys::remove(&state.db, &signed_in.0, id).await {
        Ok(()) => see_other(&format!("{SECURITY_PATH}?done=passkey-removed")),
        Err(PasskeyError::LastMethod) => {
            let errors = FieldErrors {
                passkey: Some(t("passkey-last-method")),
                ..FieldErrors::default()
            };
            security_page(&state, jar, &signed_in, StatusCode::CONFLICT, None, errors).await
        }
        Err(PasskeyError::NotFound) => {
            crate::web::error_page(StatusCode::NOT_FOUND, "error-no-passkey")
        }
        Err(error) => server_error(error),
    }
}
