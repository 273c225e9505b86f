//! RFC 6750 §3 answers for requests that fail authentication or authorization.

use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};

use crate::{DpopError, VerifyError};

/// Why a request was refused at the authentication boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No bearer token: `401` with a bare `Bearer realm="…"` challenge (RFC 6750 §3.1).
    #[error("a bearer token is required")]
    MissingToken,
    /// The Authorization header is malformed: `400 invalid_request`.
    #[error("malformed Authorization header: {0}")]
    InvalidRequest(&'static str),
    /// The token failed verification: `401 invalid_token`.
    #[error(transparent)]
    InvalidToken(VerifyError),
    /// The token lacks a scope: `403 insufficient_scope` naming it.
    #[error("the token lacks the required scope {0:?}")]
    InsufficientScope(String),
    /// The token has none of the roles: `403 insufficient_scope`.
    #[error("the token has none of the required roles")]
    InsufficientRole(Vec<String>),
    /// The sign-in behind the token is weaker than the route asks (RFC
    /// 9470): `401 insufficient_user_authentication`, with the `acr_values`
    /// that would do in the challenge.
    #[error("a stronger sign-in is required")]
    InsufficientUserAuthentication(Vec<String>),
    /// The claims do not fit the handler's claims type: `401 invalid_token`.
    #[error("token claims do not have the expected shape")]
    ClaimsShape,
    /// Keys could not be loaded yet, or the auth layer is missing: `503`/`500`.
    #[error("authentication is not available")]
    Unavailable,
    /// An extractor ran on a route without `JwtAuthLayer`: a wiring bug (`500`).
    #[error("JwtAuthLayer is not installed on this route")]
    LayerMissing,
    /// The DPoP proof is missing or fails (RFC 9449 §7.1): `401
    /// invalid_dpop_proof` with a `DPoP` challenge.
    #[error(transparent)]
    InvalidDpopProof(DpopError),
    /// The proof lacks a current server nonce: `401 use_dpop_nonce`, and
    /// this fresh nonce in `DPoP-Nonce` (RFC 9449 §9).
    #[error("a DPoP proof with the server's nonce is required")]
    UseDpopNonce(String),
}

impl From<VerifyError> for AuthError {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::KeysUnavailable | VerifyError::RevocationsStale => Self::Unavailable,
            other => Self::InvalidToken(other),
        }
    }
}

/// Strip anything that cannot appear inside an RFC 7230 quoted-string parameter.
fn quoted(value: &str) -> String {
    value
        .chars()
        .filter(|c| (c.is_ascii_graphic() || *c == ' ') && *c != '"' && *c != '\\')
        .collect()
}

impl AuthError {
    /// The HTTP status of this rejection.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken
            | Self::InvalidToken(_)
            | Self::ClaimsShape
            | Self::InsufficientUserAuthentication(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope(_) | Self::InsufficientRole(_) => StatusCode::FORBIDDEN,
            Self::Unavailable | Self::InvalidDpopProof(DpopError::ReplayCacheFull) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::InvalidDpopProof(_) | Self::UseDpopNonce(_) => StatusCode::UNAUTHORIZED,
            Self::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 error code, if this rejection carries one.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken | Self::Unavailable | Self::LayerMissing => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) | Self::ClaimsShape => Some("invalid_token"),
            Self::InsufficientScope(_) | Self::InsufficientRole(_) => Some("insufficient_scope"),
            Self::InsufficientUserAuthentication(_) => Some("insufficient_user_authentication"),
            Self::InvalidDpopProof(DpopError::ReplayCacheFull) => None,
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            Self::UseDpopNonce(_) => Some("use_dpop_nonce"),
        }
    }

    /// Whether the answer challenges with the `DPoP` scheme rather than
    /// `Bearer`: a proof problem, or a bound token presented without one.
    pub fn is_dpop(&self) -> bool {
        matches!(
            self,
            Self::InvalidDpopProof(_)
                | Self::UseDpopNonce(_)
                | Self::InvalidToken(VerifyError::DpopProofRequired)
        )
    }

    /// The `WWW-Authenticate` challenge for this rejection, if it has one.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        self.challenge_with_metadata(realm, None)
    }

    /// [`challenge`](Self::challenge), naming the service's protected-resource
    /// metadata (RFC 9728 §5.1: `resource_metadata="…"`) so that a client
    /// with no configuration can find the authorization server.
    pub fn challenge_with_metadata(
        &self,
        realm: &str,
        resource_metadata: Option<&str>,
    ) -> Option<String> {
        let challenge = self.bare_challenge(realm)?;
        match resource_metadata {
            Some(url) if challenge.starts_with("Bearer ") => Some(format!(
                r#"{challenge}, resource_metadata="{}""#,
                quoted(url)
            )),
            _ => Some(challenge),
        }
    }

    fn bare_challenge(&self, realm: &str) -> Option<String> {
        let realm = quoted(realm);
        let description = quoted(&self.to_string());
        match self {
            Self::MissingToken => Some(format!(r#"Bearer realm="{realm}""#)),
            Self::InvalidDpopProof(DpopError::ReplayCacheFull) => None,
            _ if self.is_dpop() => Some(format!(
                r#"DPoP realm="{realm}", error="{}", error_description="{description}", algs="{}""#,
                self.error_code().unwrap_or("invalid_token"),
                crate::dpop::DPOP_ALGORITHMS.join(" ")
            )),
            Self::InvalidRequest(_) | Self::InvalidToken(_) | Self::ClaimsShape => Some(format!(
                r#"Bearer realm="{realm}", error="{}", error_description="{description}""#,
                self.error_code().unwrap_or("invalid_token")
            )),
            Self::InsufficientScope(scope) => Some(format!(
                r#"Bearer realm="{realm}", error="insufficient_scope", error_description="{description}", scope="{}""#,
                quoted(scope)
            )),
            Self::InsufficientRole(_) => Some(format!(
                r#"Bearer realm="{realm}", error="insufficient_scope", error_description="{description}""#
            )),
            Self::InsufficientUserAuthentication(accepted) => Some(format!(
                r#"Bearer realm="{realm}", error="insufficient_user_authentication", error_description="{description}", acr_values="{}""#,
                quoted(&accepted.join(" "))
            )),
            Self::Unavailable | Self::LayerMissing => None,
            Self::InvalidDpopProof(_) | Self::UseDpopNonce(_) => None,
        }
    }

    /// The bare `DPoP` challenge a DPoP-accepting service adds beside its
    /// `Bearer` one, so clients learn the scheme and algorithms.
    pub fn dpop_challenge(realm: &str) -> String {
        format!(
            r#"DPoP realm="{}", algs="{}""#,
            quoted(realm),
            crate::dpop::DPOP_ALGORITHMS.join(" ")
        )
    }

    /// A complete response: status, challenge header and an RFC 9457
    /// problem+json body that also carries RFC 6750's members:
    /// `{"type", "title", "status", "detail", "error", "error_description"}`.
    /// `type` is `https://signet.dev/problems/<error with dashes>`, e.g.
    /// `…/invalid-token`; `detail` and `error_description` are this error's
    /// fixed message (never the token).
    pub fn to_response<B: From<String>>(&self, realm: &str) -> Response<B> {
        self.to_response_with_metadata(realm, None)
    }

    /// [`to_response`](Self::to_response) whose Bearer challenge names the
    /// protected-resource metadata (RFC 9728 §5.1).
    pub fn to_response_with_metadata<B: From<String>>(
        &self,
        realm: &str,
        resource_metadata: Option<&str>,
    ) -> Response<B> {
        if matches!(self, Self::LayerMissing) {
            tracing::error!("an auth extractor ran on a route without JwtAuthLayer");
        }
        let code = self.error_code().unwrap_or(match self {
            Self::MissingToken => "unauthorized",
            Self::Unavailable | Self::InvalidDpopProof(_) => "temporarily_unavailable",
            _ => "server_error",
        });
        let status = self.status();
        let description = self.to_string();
        let body = serde_json::json!({
            "type": format!("https://signet.dev/problems/{}", code.replace('_', "-")),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": description,
            "error": code,
            "error_description": description,
        })
        .to_string();
        let mut response = Response::new(B::from(body));
        *response.status_mut() = status;
        // For the service's own logging (e.g. the cause of a 503), never sent.
        response.extensions_mut().insert(self.clone());
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(challenge) = self.challenge_with_metadata(realm, resource_metadata) {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(WWW_AUTHENTICATE, value);
            }
        }
        if let Self::UseDpopNonce(nonce) = self {
            if let Ok(value) = HeaderValue::from_str(nonce) {
                headers.insert("dpop-nonce", value);
            }
        }
        if matches!(
            self,
            Self::Unavailable | Self::InvalidDpopProof(DpopError::ReplayCacheFull)
        ) {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for AuthError {
    fn into_response(self) -> axum::response::Response {
        self.to_response(crate::DEFAULT_REALM)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rejection answers with an RFC 9457 problem whose `status` is the
    /// response's, plus RFC 6750's `error` members, and the challenge RFC 6750
    /// asks for on 401 and 403.
    #[test]
    fn every_rejection_is_problem_json_with_its_rfc_6750_members() {
        let cases = [
            AuthError::MissingToken,
            AuthError::InvalidRequest("two tokens"),
            AuthError::InvalidToken(VerifyError::Expired),
            AuthError::InsufficientScope("posts:write".into()),
            AuthError::InsufficientRole(vec!["admin".into()]),
            AuthError::InsufficientUserAuthentication(vec!["mfa".into()]),
            AuthError::ClaimsShape,
            AuthError::Unavailable,
            AuthError::LayerMissing,
            AuthError::InvalidDpopProof(DpopError::Replayed),
            AuthError::UseDpopNonce("n0nce".into()),
        ];
        for error in cases {
            let response: Response<String> = error.to_response("blog");
            let status = response.status();
            assert_eq!(
                response.headers()[CONTENT_TYPE],
                "application/problem+json",
                "{error:?}"
            );
            let body: serde_json::Value = serde_json::from_str(response.body()).expect("JSON body");
            assert_eq!(body["status"], status.as_u16(), "{error:?}");
            let code = body["error"].as_str().expect("error member");
            assert_eq!(
                body["type"],
                format!("https://signet.dev/problems/{}", code.replace('_', "-"))
            );
            assert_eq!(body["detail"], body["error_description"], "{error:?}");
            assert!(body["title"].is_string(), "{error:?}");
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                assert!(
                    response.headers().contains_key(WWW_AUTHENTICATE),
                    "{error:?} answers {status} without a challenge"
                );
            }
        }
    }
}
