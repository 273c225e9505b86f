//! `JwtAuthLayer`: bearer token in, verified claims in request extensions out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{Request, Response};
use tower::{Layer, Service};

use crate::verifier::Presentation;
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
    /// RFC 9728: where the service's protected-resource metadata is.
    resource_metadata: Option<String>,
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
                resource_metadata: None,
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

    /// Name the service's protected-resource metadata in every Bearer
    /// challenge (RFC 9728 §5.1), e.g. [`ProtectedResource::metadata_url`](crate::ProtectedResource::metadata_url).
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings).resource_metadata = Some(url.into());
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

/// How the token came: `Authorization: Bearer` or `Authorization: DPoP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Bearer,
    Dpop,
}

/// Pull the token out of `Authorization: Bearer <token>` (or `DPoP <token>`
/// when `dpop` is accepted). `Ok(None)`: no Authorization header or another
/// scheme (a missing token).
pub(crate) fn presented_token<B>(
    request: &Request<B>,
    dpop: bool,
) -> Result<Option<(Scheme, &str)>, AuthError> {
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
    let scheme_of = |name: &str| {
        if name.eq_ignore_ascii_case("bearer") {
            Some(Scheme::Bearer)
        } else if dpop && name.eq_ignore_ascii_case("dpop") {
            Some(Scheme::Dpop)
        } else {
            None
        }
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return match scheme_of(value) {
            Some(_) => Err(AuthError::InvalidRequest("bearer token is empty")),
            None => Ok(None),
        };
    };
    let Some(scheme) = scheme_of(scheme) else {
        return Ok(None);
    };
    let token = token.trim_matches(' ');
    if token.is_empty() {
        return Err(AuthError::InvalidRequest("bearer token is empty"));
    }
    // RFC 6750 §2.1 b64token: no spaces inside.
    if token.contains(' ') {
        return Err(AuthError::InvalidRequest("bearer token contains spaces"));
    }
    Ok(Some((scheme, token)))
}

/// The request's one `DPoP` header (RFC 9449 §4.3: exactly one).
fn dpop_proof<B>(request: &Request<B>) -> Result<Option<&str>, AuthError> {
    let mut values = request.headers().get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidDpopProof(crate::DpopError::Multiple));
    }
    value.to_str().map(Some).map_err(|_| {
        AuthError::InvalidDpopProof(crate::DpopError::Malformed("header is not ASCII"))
    })
}

/// What a bound token's proof is checked against, copied out of the request.
struct ProofInput {
    proof: Option<String>,
    method: String,
    path: String,
}

impl ProofInput {
    fn of<B>(request: &Request<B>) -> Result<Self, AuthError> {
        Ok(Self {
            proof: dpop_proof(request)?.map(str::to_owned),
            method: request.method().as_str().to_owned(),
            path: request.uri().path().to_owned(),
        })
    }
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
        let settings = self.settings.clone();
        let dpop = self.verifier.accepts_dpop();
        let reject = |error: AuthError| ResponseFuture::reject(rejection(&error, &settings, dpop));
        let (scheme, token) = match presented_token(&request, dpop) {
            Ok(Some(presented)) => presented,
            Ok(None) if self.settings.optional => {
                request.extensions_mut().insert(AuthContext::Anonymous);
                return ResponseFuture::inner(self.inner.call(request));
            }
            Ok(None) => return reject(AuthError::MissingToken),
            Err(error) => return reject(error),
        };
        let (presentation, proof) = match scheme {
            Scheme::Bearer => (Presentation::Bearer, None),
            Scheme::Dpop => match ProofInput::of(&request) {
                Ok(proof) => (Presentation::Bound, Some(proof)),
                Err(error) => return reject(error),
            },
        };
        let checked = move |verifier: &Verifier,
                            token: &str,
                            result: Result<VerifiedToken, crate::VerifyError>|
              -> Result<VerifiedToken, AuthError> {
            let verified = result?;
            match &proof {
                None => Ok(verified),
                Some(input) => verifier.check_proof(
                    verified,
                    token,
                    input.proof.as_deref(),
                    &input.method,
                    &input.path,
                ),
            }
        };
        match self.verifier.verify_now(token, presentation) {
            // An unknown kid may be a freshly rotated key: verify again after the
            // (cooldown-limited, single-flight) refetch, off the fast path.
            None => {
                let token = token.to_owned();
                let verifier = self.verifier.clone();
                // Take the service that was driven to readiness; leave a clone behind.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::boxed(Box::pin(async move {
                    let result = verifier.verify_after_refetch(&token, presentation).await;
                    match checked(&verifier, &token, result) {
                        Ok(verified) => {
                            authenticate(&mut request, verified);
                            inner.call(request).await
                        }
                        Err(error) => Ok(rejection(&error, &settings, dpop)),
                    }
                }))
            }
            Some(result) => match checked(&self.verifier, token, result) {
                Ok(verified) => {
                    authenticate(&mut request, verified);
                    ResponseFuture::inner(self.inner.call(request))
                }
                Err(error) => reject(error),
            },
        }
    }
}

/// The RFC 6750 / RFC 9449 answer to a refused request, logged. A service
/// that accepts DPoP challenges with both schemes on a 401.
fn rejection<B: From<String>>(error: &AuthError, settings: &Settings, dpop: bool) -> Response<B> {
    log_rejection(error);
    let mut response =
        error.to_response_with_metadata(&settings.realm, settings.resource_metadata.as_deref());
    if dpop && response.status() == http::StatusCode::UNAUTHORIZED && !error.is_dpop() {
        if let Ok(value) = http::HeaderValue::from_str(&AuthError::dpop_challenge(&settings.realm))
        {
            response
                .headers_mut()
                .append(http::header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

fn authenticate<B>(request: &mut Request<B>, verified: VerifiedToken) {
    let extensions = request.extensions_mut();
    extensions.insert(verified.clone());
    extensions.insert(AuthContext::Authenticated(verified));
}

fn log_rejection(error: &AuthError) {
    match error {
        AuthError::InvalidToken(reason) => {
            tracing::debug!(reason = reason.reason(), "bearer token rejected");
        }
        AuthError::InvalidDpopProof(reason) => {
            tracing::debug!(reason = reason.reason(), "DPoP proof rejected");
        }
        _ => {}
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
