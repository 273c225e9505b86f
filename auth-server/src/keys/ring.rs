//! The key ring: the active signing key and every published one.

use std::sync::Arc;

use jwt_verify::KeySet;

use crate::keys::{Jwks, SigningKey};

/// The keys this server signs with and publishes.
#[derive(Debug, Clone)]
pub struct KeyRing {
    active: Arc<SigningKey>,
    published: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    /// `keys` in publication order; the last one signs.
    pub fn new(keys: Vec<SigningKey>) -> Option<Self> {
        let published: Vec<Arc<SigningKey>> = keys.into_iter().map(Arc::new).collect();
        let active = published.last()?.clone();
        Some(Self { active, published })
    }

    /// An explicit active key and the others to publish (next and retired keys).
    pub fn with_active(active: SigningKey, others: Vec<SigningKey>) -> Self {
        let active = Arc::new(active);
        let mut published: Vec<Arc<SigningKey>> = others.into_iter().map(Arc::new).collect();
        published.push(active.clone());
        Self { active, published }
    }

    pub fn active(&self) -> &Arc<SigningKey> {
        &self.active
    }

    pub fn published(&self) -> &[Arc<SigningKey>] {
        &self.published
    }

    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.published.iter().map(|k| k.public_jwk()).collect(),
        }
    }

    /// The same keys as a verifier key set, for this server's own protected routes.
    pub fn verification_keys(&self) -> Result<KeySet, jwt_verify::KeyError> {
        use rsa::traits::PublicKeyParts;
        KeySet::from_rsa_components(
            self.published
                .iter()
                .map(|k| (k.public.n().to_bytes_be(), k.public.e().to_bytes_be())),
        )
    }
}

/// The verifier of this server's own tokens over `keys`: DPoP-bound tokens
/// are accepted on its routes with a proof whose `htu` is under the issuer.
pub fn own_verifier(
    keys: jwt_verify::KeySet,
    validation: jwt_verify::Validation,
) -> jwt_verify::Verifier {
    let origin = validation.issuer().unwrap_or_default().to_owned();
    jwt_verify::Verifier::builder(
        jwt_verify::KeySource::Static(keys.clone()),
        validation.clone(),
    )
    .dpop(jwt_verify::DpopSettings::new([origin]))
    // Filled from the security-event table (`events::follow_locally`).
    .local_revocations()
    .build_static()
    .unwrap_or_else(|_| jwt_verify::Verifier::from_key_set(keys, validation))
}
