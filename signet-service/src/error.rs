//! One error type for every REST handler: RFC 9457 `application/problem+json`.
//!
//! Internal errors keep their cause in response extensions; the
//! [`log_server_errors`] middleware logs it once, where the response leaves.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

/// One field's problem in a 422 answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// A stable label of the problem (`password_too_short` …), where one
    /// is defined: what programs and translated pages match on, instead of
    /// the English message.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub code: Option<&'static str>,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
            code: None,
        }
    }

    /// A problem with a stable `code`.
    pub fn coded(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            ..Self::new(field, message)
        }
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 401 with the challenge of the scheme that failed (RFC 7235 §3.1);
    /// the service decides the scheme, realm and text (which is safe to show).
    #[error("{detail}")]
    Unauthorized {
        /// The problem `type` slug, e.g. `invalid-credentials`.
        slug: &'static str,
        detail: Cow<'static, str>,
        challenge: HeaderValue,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than the limit")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the service is busy; retry shortly")]
    Busy,
    /// 429 with `Retry-After` (whole seconds, at least 1).
    #[error("too many requests; retry after {0:?}")]
    TooManyRequests(std::time::Duration),
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] DbErr),
    /// 502: a service this one called for the request failed or refused it
    /// (the text says which, never what it answered).
    #[error("{0}")]
    BadGateway(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The cause of a 5xx, carried to the logging middleware.
#[derive(Clone)]
pub struct InternalCause(pub Arc<String>);

impl ApiError {
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// A 401 answered with `challenge` (a `WWW-Authenticate` value).
    pub fn unauthorized(
        slug: &'static str,
        detail: impl Into<Cow<'static, str>>,
        challenge: HeaderValue,
    ) -> Self {
        Self::Unauthorized {
            slug,
            detail: detail.into(),
            challenge,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Busy | Self::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Validation(_) => "validation",
            Self::Unauthorized { slug, .. } => slug,
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::BadGateway(_) => "bad-gateway",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Busy => "busy",
            Self::TooManyRequests(_) => "rate-limited",
            Self::DatabaseUnavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

/// A problem+json response for any status (used by fallbacks and rejections too).
pub fn problem_response(
    status: StatusCode,
    slug: &str,
    detail: Option<String>,
    errors: Vec<FieldError>,
) -> Response {
    let problem = Problem {
        type_: format!("https://signet.dev/problems/{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors,
    };
    let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// A problem+json response with extension members (RFC 9457 §3.2) beside
/// the standard ones, and the `WWW-Authenticate` challenge a 401 needs.
/// `detail` is fixed text of the caller's, never input.
pub fn problem_with(
    status: StatusCode,
    slug: &str,
    detail: &'static str,
    members: serde_json::Map<String, serde_json::Value>,
    challenge: Option<HeaderValue>,
) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(
        "type".to_owned(),
        format!("https://signet.dev/problems/{slug}").into(),
    );
    body.insert(
        "title".to_owned(),
        status.canonical_reason().unwrap_or("Error").into(),
    );
    body.insert("status".to_owned(), status.as_u16().into());
    body.insert("detail".to_owned(), detail.into());
    for (name, value) in members {
        body.entry(name).or_insert(value);
    }
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(challenge) = challenge {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            // Never leak the cause of a 5xx to the client.
            Self::Internal(_) | Self::DatabaseUnavailable(_) => Some(self.to_string()),
            Self::Validation(_) => Some("one or more fields are invalid".to_owned()),
            Self::TooManyRequests(wait) => Some(format!(
                "too many requests; retry after {} s",
                wait.as_secs_f64().ceil().max(1.0) as u64
            )),
            other => Some(other.to_string()),
        };
        let slug = self.slug();
        let cause = match &self {
            Self::Internal(error) => Some(format!("{error:#}")),
            Self::DatabaseUnavailable(error) => Some(error.to_string()),
            _ => None,
        };
        let retry_after = match &self {
            Self::TooManyRequests(wait) => Some(wait.as_secs_f64().ceil().max(1.0) as u64),
            Self::Busy | Self::DatabaseUnavailable(_) => Some(1),
            _ => None,
        };
        let challenge = match &self {
            Self::Unauthorized { challenge, .. } => Some(challenge.clone()),
            _ => None,
        };
        let errors = match self {
            Self::Validation(errors) => errors,
            _ => Vec::new(),
        };
        let mut response = problem_response(status, slug, detail, errors);
        let headers = response.headers_mut();
        // RFC 7235 §3.1: every 401 carries a challenge for the scheme that failed.
        if let Some(challenge) = challenge {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        if let Some(cause) = cause {
            response
                .extensions_mut()
                .insert(InternalCause(Arc::new(cause)));
        }
        response
    }
}

impl From<DbErr> for ApiError {
    fn from(error: DbErr) -> Self {
        if is_database_unavailable(&error) {
            Self::DatabaseUnavailable(error)
        } else {
            Self::Internal(error.into())
        }
    }
}

/// Whether `error` says the database cannot be reached right now (so the
/// client should retry: 503), rather than that the request or the code is wrong.
///
/// A stopped PostgreSQL shows up in several shapes depending on when it
/// stopped: the pool cannot open a connection (refused, timed out), a pooled
/// connection breaks mid-query (I/O error), or the server says it is shutting
/// down or starting up (SQLSTATE class 08, 57P01–57P03). A SQLite writer that
/// waited out its busy timeout is the same kind of transient failure.
pub fn is_database_unavailable(error: &DbErr) -> bool {
    use sea_orm::sqlx::Error as SqlxError;
    use sea_orm::RuntimeErr;
    let sqlx_error = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_error.as_ref() {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::Protocol(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        SqlxError::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                // SQLITE_BUSY and its extended codes, after the busy timeout.
                || code == "5"
                || code == "517"
                || code == "261"
        }),
        _ => false,
    }
}

/// Map a unique-constraint violation to 409 with `message`; anything else stays a DB error.
pub fn conflict_on_unique(error: DbErr, message: &str) -> ApiError {
    if is_unique_violation(&error) {
        ApiError::Conflict(message.to_owned())
    } else {
        ApiError::from(error)
    }
}

/// Whether `error` is a unique-constraint violation (on SQLite or PostgreSQL).
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Logs every 5xx exactly once, with the cause the handler attached (or the
/// authentication layer's rejection). A 503 is WARN: the service is working
/// as designed while a dependency is away (keys still loading, the database
/// restarting) and says so to the client; anything else is ERROR.
pub async fn log_server_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if status.is_server_error() {
        let cause = server_error_cause(&response);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(%method, %path, status = status.as_u16(), %cause, "request refused: unavailable");
        } else {
            tracing::error!(%method, %path, status = status.as_u16(), %cause, "request failed");
        }
    }
    response
}

/// What the layer that built a 5xx recorded about it.
fn server_error_cause(response: &Response) -> String {
    if let Some(cause) = response.extensions().get::<InternalCause>() {
        return cause.0.as_str().to_owned();
    }
    if let Some(rejection) = response.extensions().get::<jwt_verify::AuthError>() {
        return format!("authentication: {rejection}");
    }
    "no cause recorded".to_owned()
}

/// `Json<T>` whose rejections are problem+json: 415 without a JSON content
/// type, 400 for syntax, 422 for a wrong shape (unknown field, wrong type), 413
/// past the body limit.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                Self::UnsupportedMediaType("expected Content-Type: application/json".to_owned())
            }
            JsonRejection::JsonSyntaxError(_) => {
                Self::BadRequest("request body is not valid JSON".to_owned())
            }
            JsonRejection::JsonDataError(error) => {
                let (field, message) = describe_data_error(&error.body_text());
                Self::Validation(vec![FieldError::new(&field, message)])
            }
            JsonRejection::BytesRejection(error) => {
                if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Self::PayloadTooLarge
                } else {
                    Self::BadRequest("request body could not be read".to_owned())
                }
            }
            other => Self::BadRequest(other.body_text()),
        }
    }
}

/// Turn serde's "path: invalid type: string \"hunter2\", expected u32 at line 1
/// column 9" into ("path", "expected u32"): the offending value (possibly a
/// password) is never echoed back.
fn describe_data_error(text: &str) -> (String, String) {
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => text,
    };
    let (field, message) = match text.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (path.to_owned(), rest),
        _ => ("body".to_owned(), text),
    };
    let message = if message.starts_with("invalid type") || message.starts_with("invalid value") {
        match message.rfind(", expected ") {
            Some(at) => format!("expected {}", &message[at + ", expected ".len()..]),
            None => "invalid value".to_owned(),
        }
    } else {
        message.to_owned()
    };
    (field, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_503_and_a_wrong_query_stays_500() {
        use sea_orm::sqlx::Error as SqlxError;
        use sea_orm::RuntimeErr;
        let sqlx = |error: SqlxError| RuntimeErr::SqlxError(Arc::new(error));
        let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for unreachable in [
            DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout),
            DbErr::Conn(RuntimeErr::Internal("refused".into())),
            DbErr::Query(sqlx(SqlxError::Io(refused()))),
            DbErr::Exec(sqlx(SqlxError::PoolTimedOut)),
            DbErr::Exec(sqlx(SqlxError::PoolClosed)),
        ] {
            assert!(is_database_unavailable(&unreachable), "{unreachable}");
            assert_eq!(
                ApiError::from(unreachable).status(),
                StatusCode::SERVICE_UNAVAILABLE
            );
        }
        for wrong in [
            DbErr::Query(sqlx(SqlxError::RowNotFound)),
            DbErr::Exec(sqlx(SqlxError::ColumnNotFound("x".into()))),
            DbErr::RecordNotFound("x".into()),
        ] {
            assert!(!is_database_unavailable(&wrong), "{wrong}");
            assert_eq!(
                ApiError::from(wrong).status(),
                StatusCode::INTERNAL_SERVER_ERROR
            );
        }
    }

    #[test]
    fn data_errors_name_the_field_without_echoing_the_value() {
        let (field, message) = describe_data_error(
            "Failed to deserialize the JSON body into the target type: password: invalid type: integer `12345678`, expected a string at line 1 column 30",
        );
        assert_eq!(field, "password");
        assert_eq!(message, "expected a string");
        assert!(!message.contains("12345678"));
    }

    #[test]
    fn unknown_fields_are_reported_as_such() {
        let (field, message) = describe_data_error(
            "unknown field `admin`, expected one of `email`, `password` at line 1 column 9",
        );
        assert_eq!(field, "body");
        assert!(message.starts_with("unknown field `admin`"));
    }
}

/// `Path<T>` with a problem+json 400 when a segment does not parse (e.g. not a UUID).
#[derive(Debug, Clone, Copy, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Self::BadRequest(format!("invalid path parameter: {}", rejection.body_text()))
    }
}

/// `Query<T>` with a problem+json 400 for unparsable or unknown parameters.
#[derive(Debug, Clone, Copy, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadRequest(format!("invalid query: {}", rejection.body_text()))
    }
}
