//! Private keys at rest: AES-256-GCM under the key-encryption key
//! (`KEY_ENCRYPTION_KEY`), with the kid as associated data, so a sealed key
//! cannot be swapped onto another row.

use signet_service::seal::Sealer;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealing a private key failed")]
    Seal,
    #[error("KEY_ENCRYPTION_KEY cannot open the stored key {kid}: wrong key-encryption key or corrupted row")]
    Unseal { kid: String },
}

/// AES-256-GCM under the key-encryption key.
pub struct KeyEncryption {
    sealer: Sealer,
}

impl KeyEncryption {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            sealer: Sealer::new(key),
        }
    }

    pub fn seal(&self, kid: &str, plaintext: &str) -> Result<String, SealError> {
        self.sealer
            .seal(kid, plaintext)
            .map_err(|_| SealError::Seal)
    }

    pub fn open(&self, kid: &str, sealed: &str) -> Result<String, SealError> {
        self.sealer
            .open(kid, sealed)
            .map_err(|_| SealError::Unseal {
                kid: kid.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_kek_and_kid() {
        let kek = KeyEncryption::new(&[7u8; 32]);
        let sealed = kek
            .seal("kid-1", "-----BEGIN PRIVATE KEY-----")
            .expect("seal");
        assert!(!sealed.contains("PRIVATE"));
        assert_eq!(
            kek.open("kid-1", &sealed).expect("open"),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert!(kek.open("kid-2", &sealed).is_err(), "bound to its kid");
        let other = KeyEncryption::new(&[8u8; 32]);
        assert!(other.open("kid-1", &sealed).is_err());
        assert_ne!(
            kek.seal("kid-1", "x").expect("seal"),
            kek.seal("kid-1", "x").expect("seal"),
            "fresh nonce each time"
        );
    }
}
