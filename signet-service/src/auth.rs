//! How a Signet service trusts the auth server: through its public keys only.

use jwt_verify::{KeyError, KeySource, Validation, Verifier};

/// A verifier for tokens from `issuer` for one of `audiences` (RFC 9068
/// `at+jwt` only), with keys from `jwks_url` or, without one, from the
/// issuer's OIDC discovery document. `lazy`: start even if the auth server is
/// unreachable (readiness reports it until keys load).
pub async fn remote_verifier(
    issuer: &str,
    jwks_url: Option<&str>,
    audiences: &[String],
    lazy: bool,
) -> Result<Verifier, KeyError> {
    let source = match jwks_url {
        Some(url) => KeySource::jwks(url),
        None => KeySource::oidc_discovery(issuer),
    };
    let validation = Validation::new(issuer)
        .audiences_from(audiences.iter().cloned())
        .require_type("at+jwt");
    Verifier::builder(source, validation)
        .lazy(lazy)
        .build()
        .await
}
