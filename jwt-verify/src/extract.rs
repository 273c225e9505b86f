//! axum extractors over the claims [`JwtAuthLayer`](crate::JwtAuthLayer) verified.

use std::ops::Deref;

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{AuthContext, AuthError, StandardClaims, VerifiedToken};

/// The verified claims of the request's token, deserialized into `T` (your own
/// claims type, or [`StandardClaims`] by default).
///
/// Rejects with `401` when the request is anonymous (optional mode) and with
/// `500` when the route has no `JwtAuthLayer` at all, so a wiring mistake is loud.
#[derive(Debug, Clone)]
pub struct Claims<T = StandardClaims> {
    /// Your claims.
    pub claims: T,
    token: VerifiedToken,
}

impl<T: DeserializeOwned> Claims<T> {
    /// The claims of a token verified outside a request, for example the
    /// access token a backend-for-frontend holds in its session: the same
    /// value the extractor gives handlers behind a [`JwtAuthLayer`](crate::JwtAuthLayer).
    ///
    /// # Errors
    /// [`AuthError::ClaimsShape`] when the payload does not fit `T`.
    pub fn from_token(token: &VerifiedToken) -> Result<Self, AuthError> {
        claims_from(token)
    }
}

impl<T> Claims<T> {
    /// The registered claims, whatever `T` is.
    pub fn standard(&self) -> &StandardClaims {
        self.token.claims()
    }

    /// Fail with `403 insufficient_scope` unless `scope` is granted.
    pub fn require_scope(&self, scope: &str) -> Result<(), AuthError> {
        crate::Requirement::Scope(scope.to_owned()).check(self.standard())
    }

    /// Fail with `403` unless one of `roles` is held.
    pub fn require_any_role(&self, roles: &[&str]) -> Result<(), AuthError> {
        crate::Requirement::AnyRole(roles.iter().map(|r| (*r).to_owned()).collect())
            .check(self.standard())
    }
}

impl<T> Deref for Claims<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.claims
    }
}

fn claims_from<T: DeserializeOwned>(token: &VerifiedToken) -> Result<Claims<T>, AuthError> {
    let claims = token
        .deserialize::<T>()
        .map_err(|_| AuthError::ClaimsShape)?;
    Ok(Claims {
        claims,
        token: token.clone(),
    })
}

impl<T, S> FromRequestParts<S> for Claims<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AuthError;

    #[tracing::instrument(name = "claims", skip_all)]
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<AuthContext>() {
            None => Err(AuthError::LayerMissing),
            Some(AuthContext::Anonymous) => Err(AuthError::MissingToken),
            Some(AuthContext::Authenticated(token)) => claims_from(token),
        }
    }
}

/// Like [`Claims`], but `None` for anonymous requests on an optional-mode layer.
#[derive(Debug, Clone)]
pub struct OptionalClaims<T = StandardClaims>(pub Option<Claims<T>>);

impl<T, S> FromRequestParts<S> for OptionalClaims<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AuthError;

    #[tracing::instrument(name = "optional_claims", skip_all)]
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<AuthContext>() {
            None => Err(AuthError::LayerMissing),
            Some(AuthContext::Anonymous) => Ok(Self(None)),
            Some(AuthContext::Authenticated(token)) => claims_from(token).map(|c| Self(Some(c))),
        }
    }
}
