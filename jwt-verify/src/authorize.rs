//! Per-route scope, role and step-up guards, as tower layers.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::{Layer, Service};

use crate::layer::ResponseFuture;
use crate::{AuthContext, AuthError, StandardClaims};

/// What a guarded route demands of the verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// This scope must be granted.
    Scope(String),
    /// At least one of these roles must be held.
    AnyRole(Vec<String>),
    /// The user must have signed in with one of these `acr` classes
    /// (RFC 9470 step-up): otherwise `401 insufficient_user_authentication`
    /// with `acr_values`, so the client signs the user in again, harder.
    AnyAcr(Vec<String>),
}

impl Requirement {
    /// Check the claims, with the rejection a failure deserves.
    pub fn check(&self, claims: &StandardClaims) -> Result<(), AuthError> {
        match self {
            Self::Scope(scope) if claims.has_scope(scope) => Ok(()),
            Self::Scope(scope) => Err(AuthError::InsufficientScope(scope.clone())),
            Self::AnyRole(roles) if roles.iter().any(|r| claims.has_role(r)) => Ok(()),
            Self::AnyRole(roles) => Err(AuthError::InsufficientRole(roles.clone())),
            Self::AnyAcr(accepted) if claims.has_acr(accepted) => Ok(()),
            Self::AnyAcr(accepted) => {
                Err(AuthError::InsufficientUserAuthentication(accepted.clone()))
            }
        }
    }
}

/// A layer that answers `403 insufficient_scope` unless the token grants `scope`.
/// Put it inside (after) [`JwtAuthLayer`](crate::JwtAuthLayer).
pub fn require_scope(scope: impl Into<String>) -> RequireLayer {
    RequireLayer::new(Requirement::Scope(scope.into()))
}

/// A layer that answers `403` unless the token holds at least one of `roles`.
pub fn require_any_role<I, S>(roles: I) -> RequireLayer
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    RequireLayer::new(Requirement::AnyRole(
        roles.into_iter().map(Into::into).collect(),
    ))
}

/// A layer that answers `401 insufficient_user_authentication` (RFC 9470)
/// unless the user signed in with the `acr` class `acr` (for Signet: `mfa`).
pub fn require_acr(acr: impl Into<String>) -> RequireLayer {
    RequireLayer::new(Requirement::AnyAcr(vec![acr.into()]))
}

/// Layer form of a [`Requirement`]; see [`require_scope`], [`require_any_role`]
/// and [`require_acr`].
#[derive(Debug, Clone)]
pub struct RequireLayer {
    requirement: Arc<Requirement>,
    realm: Arc<str>,
    resource_metadata: Option<Arc<str>>,
}

impl RequireLayer {
    /// Guard with an arbitrary requirement.
    pub fn new(requirement: Requirement) -> Self {
        Self {
            requirement: Arc::new(requirement),
            realm: Arc::from(crate::DEFAULT_REALM),
            resource_metadata: None,
        }
    }

    /// Name the protected-resource metadata in challenges (RFC 9728; match
    /// the one given to `JwtAuthLayer`).
    pub fn resource_metadata(mut self, url: &str) -> Self {
        self.resource_metadata = Some(Arc::from(url));
        self
    }

    /// The `realm` in challenges (match the one given to `JwtAuthLayer`).
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = Arc::from(realm);
        self
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = Require<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Require {
            inner,
            requirement: self.requirement.clone(),
            realm: self.realm.clone(),
            resource_metadata: self.resource_metadata.clone(),
        }
    }
}

/// The service produced by [`RequireLayer`].
#[derive(Debug, Clone)]
pub struct Require<S> {
    inner: S,
    requirement: Arc<Requirement>,
    realm: Arc<str>,
    resource_metadata: Option<Arc<str>>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Require<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let outcome = match request.extensions().get::<AuthContext>() {
            None => Err(AuthError::LayerMissing),
            Some(AuthContext::Anonymous) => Err(AuthError::MissingToken),
            Some(AuthContext::Authenticated(token)) => self.requirement.check(token.claims()),
        };
        match outcome {
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err(error) => ResponseFuture::reject(
                error.to_response_with_metadata(&self.realm, self.resource_metadata.as_deref()),
            ),
        }
    }
}
