//! `JwtAuthLayer`: bearer token in, verified claims in request extensions out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{Request, Response};
use tower::{Layer, Service};

use crate::{AuthError, VerifiedToken, Verifier};

/// Put into request extensions by [`JwtAuthLayer`] on every request it lets
/// through, so extractors can tell "anonymous" from "layer not installed".
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthContext {
    /// No token was presented (only in optional mode).
    Anonymous,
    /// A token was presented and verified.
    Authenticated(VerifiedToken),
}

impl AuthContext {
    /// The verified token, if any.
    pub fn token(&self) -> Option<&VerifiedToken> {
        match self {
            Self::Anonymous => None,
            Self::Authenticated(token) => Some(token),
        }
    }
}

#[derive(Debug, Clone)]
struct Settings {
    realm: String,
    optional: bool,
}

/// Verifies the bearer token of every request before the inner service sees it.
///
/// Rejections follow RFC 6750 §3: no token → `401` with a bare challenge;
/// a bad token → `401 invalid_token`; a malformed header → `400 invalid_request`.
/// A request that passes carries an [`AuthContext`] (and a [`VerifiedToken`]) in
/// its extensions.
#[derive(Debug, Clone)]
pub struct JwtAuthLayer {
    verifier: Verifier,
    settings: Arc<Settings>,
}

impl JwtAuthLayer {
    /// Require a valid token on every request.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            settings: Arc::new(Settings {
                realm: crate::DEFAULT_REALM.to_owned(),
                optional: false,
            }),
        }
    }

    /// Let requests without a token through as [`AuthContext::Anonymous`]. A token
    /// that is present but invalid is still rejected: it is never downgraded to anonymous.
    pub fn optional(verifier: Verifier) -> Self {
        Self::new(verifier).with_optional(true)
    }

    fn with_optional(mut self, optional: bool) -> Self {
        Arc::make_mut(&mut self.settings).optional = optional;
        self
    }

    /// The `realm` in `WWW-Authenticate` challenges (default `"api"`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings).realm = realm.into();
        self
    }
}

impl<S> Layer<S> for JwtAuthLayer {
    type Service = JwtAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtAuth {
            inner,
            verifier: self.verifier.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// The service produced by [`JwtAuthLayer`].
#[derive(Debug, Clone)]
pub struct JwtAuth<S> {
    inner: S,
    verifier: Verifier,
    settings: Arc<Settings>,
}

/// Pull the token out of `Authorization: Bearer <token>`.
/// `Ok(None)`: no Authorization header or another scheme (a missing bearer token).
pub(crate) fn bearer_token<B>(request: &Request<B>) -> Result<Option<&str>, AuthError> {
    let mut values = request.headers().get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    // Two credentials are ambiguous: a proxy may have checked one and the
    // application would use the other (RFC 6750 §3.1 invalid_request).
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(
            "more than one Authorization header",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidRequest("header is not ASCII"))?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return if value.eq_ignore_ascii_case("bearer") {
            Err(AuthError::InvalidRequest("bearer token is empty"))
        } else {
            Ok(None)
        };
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim_matches(' ');
    if token.is_empty() {
        return Err(AuthError::InvalidRequest("bearer token is empty"));
    }
    // RFC 6750 §2.1 b64token: no spaces inside.
    if token.contains(' ') {
        return Err(AuthError::InvalidRequest("bearer token contains spaces"));
    }
    Ok(Some(token))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for JwtAuth<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[tracing::instrument(name = "jwt_auth", skip_all)]
    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let realm = &self.settings.realm;
        let token = match bearer_token(&request) {
            Ok(Some(token)) => token,
            Ok(None) if self.settings.optional => {
                request.extensions_mut().insert(AuthContext::Anonymous);
                return ResponseFuture::inner(self.inner.call(request));
            }
            Ok(None) => return ResponseFuture::reject(AuthError::MissingToken.to_response(realm)),
            Err(error) => return ResponseFuture::reject(error.to_response(realm)),
        };
        match self.verifier.verify_now(token) {
            Some(Ok(verified)) => {
                authenticate(&mut request, verified);
                ResponseFuture::inner(self.inner.call(request))
            }
            // An unknown kid may be a freshly rotated key: verify again after the
            // (cooldown-limited, single-flight) refetch, off the fast path.
            None => {
                let token = token.to_owned();
                let verifier = self.verifier.clone();
                let settings = self.settings.clone();
                // Take the service that was driven to readiness; leave a clone behind.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::boxed(Box::pin(async move {
                    match verifier.verify_after_refetch(&token).await {
                        Ok(verified) => {
                            authenticate(&mut request, verified);
                            inner.call(request).await
                        }
                        Err(error) => {
                            let error = AuthError::from(error);
                            log_rejection(&error);
                            Ok(error.to_response(&settings.realm))
                        }
                    }
                }))
            }
            Some(Err(error)) => {
                let error = AuthError::from(error);
                log_rejection(&error);
                ResponseFuture::reject(error.to_response(realm))
            }
        }
    }
}

fn authenticate<B>(request: &mut Request<B>, verified: VerifiedToken) {
    let extensions = request.extensions_mut();
    extensions.insert(verified.clone());
    extensions.insert(AuthContext::Authenticated(verified));
}

fn log_rejection(error: &AuthError) {
    if let AuthError::InvalidToken(reason) = error {
        tracing::debug!(reason = reason.reason(), "bearer token rejected");
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`JwtAuth`] and the guards: an immediate rejection,
    /// the inner service's future, or (after a key refetch) a boxed future.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        Reject { response: Option<Response<B>> },
        Inner { #[pin] future: F },
        Boxed { future: BoxFuture<'static, Result<Response<B>, E>> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) fn reject(response: Response<B>) -> Self {
        Self {
            kind: Kind::Reject {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    fn boxed(future: BoxFuture<'static, Result<Response<B>, E>>) -> Self {
        Self {
            kind: Kind::Boxed { future },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Reject { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => panic!("ResponseFuture polled after completion"),
            },
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}
