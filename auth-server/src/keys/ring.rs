//! The keys in use: the ring (the active signing key and every published
//! one) and [`Keys`], the one handle the application holds.

use std::sync::Arc;

use arc_swap::ArcSwap;
use jwt_verify::{KeySet, Validation, Verifier};

use crate::keys::store::KeyManager;
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

/// The application's one handle on its keys: the ring that signs and is
/// published, the verifier of this server's own tokens (always over the same
/// keys), and, with the database key store, the manager that rotates them.
#[derive(Clone)]
pub struct Keys {
    ring: Arc<ArcSwap<KeyRing>>,
    verifier: Verifier,
    manager: Option<KeyManager>,
}

impl Keys {
    /// Keys fixed for the life of the process (files mode).
    pub fn fixed(ring: KeyRing, validation: Validation) -> Result<Self, jwt_verify::KeyError> {
        let verifier = Verifier::from_key_set(ring.verification_keys()?, validation);
        Ok(Self {
            ring: Arc::new(ArcSwap::from_pointee(ring)),
            verifier,
            manager: None,
        })
    }

    /// Keys the store's manager loads, rotates and swaps (database mode).
    pub fn managed(manager: KeyManager) -> Self {
        Self {
            ring: manager.ring().clone(),
            verifier: manager.verifier().clone(),
            manager: Some(manager),
        }
    }

    /// The ring as it is now (a cheap, lock-free load).
    pub fn ring(&self) -> arc_swap::Guard<Arc<KeyRing>> {
        self.ring.load()
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Present with the database key store.
    pub fn manager(&self) -> Option<&KeyManager> {
        self.manager.as_ref()
    }
}
