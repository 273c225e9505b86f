//! [`Keys`]: the one handle the application holds on its keys.

use std::sync::Arc;

use arc_swap::ArcSwap;
use jwt_verify::{Validation, Verifier};

use crate::keys::ring::KeyRing;
use crate::keys::store::KeyManager;

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
        let verifier = crate::keys::ring::own_verifier(ring.verification_keys()?, validation);
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
