//! The edge: every domain error enum becomes one problem+json answer here,
//! so the domain modules know nothing of HTTP and every handler maps the same
//! failure the same way.

use axum::http::HeaderValue;
use sea_orm::DbErr;

use crate::accounts::password::HashError;
use crate::accounts::AccountError;
use crate::api_keys::ApiKeyError;
use crate::app::rate_limit::Refused;
use crate::clients::RegistryError;
use crate::error::{is_unique_violation, ApiError};
use crate::sessions::sign_in::SignInError;

/// The `WWW-Authenticate` value of a failed password login (RFC 7617).
pub(crate) const BASIC_CHALLENGE: &str = r#"Basic realm="signet", charset="UTF-8""#;
const BEARER_INVALID_TOKEN: &str = r#"Bearer realm="signet", error="invalid_token""#;

/// 401 for a failed login: one fixed text, so accounts cannot be enumerated.
pub(crate) fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(
        "invalid-credentials",
        "invalid email or password",
        HeaderValue::from_static(BASIC_CHALLENGE),
    )
}

/// The challenge of a failed JSON login: every 401 names a scheme (RFC
/// 9110 §11.6.1), but not `Basic`, which would make a browser calling the
/// API from a page pop up its password dialog.
pub(crate) const FORM_CHALLENGE: &str = r#"FormBased realm="signet""#;

/// 401 for a failed JSON login: the same text as [`invalid_credentials`].
pub(crate) fn invalid_json_credentials() -> ApiError {
    ApiError::unauthorized(
        "invalid-credentials",
        "invalid email or password",
        HeaderValue::from_static(FORM_CHALLENGE),
    )
}

/// 401 for a bearer token this server will not accept (RFC 6750 §3.1).
pub(crate) fn invalid_token(detail: &'static str) -> ApiError {
    ApiError::unauthorized(
        "unauthorized",
        detail,
        HeaderValue::from_static(BEARER_INVALID_TOKEN),
    )
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        ApiError::TooManyRequests(refused.retry_after)
    }
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => ApiError::Busy,
            failed @ HashError::Failed(_) => ApiError::internal(failed),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(fields) => ApiError::Validation(fields),
            AccountError::EmailTaken => ApiError::Conflict(error.to_string()),
            AccountError::NotFound => ApiError::NotFound("user"),
            AccountError::WrongPassword => ApiError::Forbidden(error.to_string()),
            AccountError::Refused(refused) => refused.into(),
            AccountError::Hash(error) => error.into(),
            AccountError::Store(error) => store(error, "an account with this email already exists"),
        }
    }
}

impl From<crate::accounts::email::EmailError> for ApiError {
    fn from(error: crate::accounts::email::EmailError) -> Self {
        use crate::accounts::email::EmailError;
        match error {
            EmailError::InvalidLink => ApiError::BadRequest(error.to_string()),
            EmailError::Account(error) => error.into(),
            EmailError::Queue(crate::mail::QueueError::Store(error)) => error.into(),
            EmailError::Queue(crate::mail::QueueError::Refused) => {
                ApiError::Validation(vec![crate::error::FieldError::new(
                    "email",
                    "is not a valid email address",
                )])
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(error: ApiKeyError) -> Self {
        match error {
            ApiKeyError::Invalid(fields) => ApiError::Validation(fields),
            ApiKeyError::Store(error) => store(error, "key id collision; retry"),
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::Invalid(fields) => ApiError::Validation(fields),
            RegistryError::NotFound => ApiError::NotFound("client"),
            RegistryError::Store(error) => store(error, "client id collision; retry"),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::InvalidCredentials => invalid_credentials(),
            SignInError::EmailNotVerified(_) => ApiError::Forbidden(
                "confirm your email address first: a new link was mailed to it".into(),
            ),
            SignInError::Refused(refused) => refused.into(),
            SignInError::SecondFactor(_) => {
                ApiError::Forbidden("a second factor is required".into())
            }
            SignInError::Mfa(crate::mfa::MfaError::WrongCode) => ApiError::unauthorized(
                "invalid-code",
                "the code is not right",
                HeaderValue::from_static(FORM_CHALLENGE),
            ),
            SignInError::Mfa(crate::mfa::MfaError::Expired) => ApiError::unauthorized(
                "invalid-mfa-token",
                "the mfa_token is unknown or has expired: sign in again",
                HeaderValue::from_static(FORM_CHALLENGE),
            ),
            SignInError::Mfa(crate::mfa::MfaError::Unavailable) => {
                ApiError::Forbidden("authenticator apps are not available on this server".into())
            }
            SignInError::Mfa(error) => ApiError::internal(error),
            SignInError::Mail(error) => ApiError::internal(error),
            SignInError::Hash(error) => error.into(),
            SignInError::Store(error) => error.into(),
        }
    }
}

/// A unique-index violation that a pre-check could not rule out (two
/// concurrent requests) is a 409 like the pre-check's; anything else is a
/// database failure (503 when it is unreachable, 500 otherwise).
fn store(error: DbErr, conflict: &str) -> ApiError {
    if is_unique_violation(&error) {
        ApiError::Conflict(conflict.to_owned())
    } else {
        ApiError::from(error)
    }
}
