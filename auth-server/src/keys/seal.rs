//! Private keys at rest: AES-256-GCM under the key-encryption key
//! (`KEY_ENCRYPTION_KEY`), with the kid as associated data, so a sealed key
//! cannot be swapped onto another row.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore as _;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("KEY_ENCRYPTION_KEY is not a valid AES-256 key")]
    InvalidKek,
    #[error("sealing a private key failed")]
    Seal,
    #[error("KEY_ENCRYPTION_KEY cannot open the stored key {kid}: wrong key-encryption key or corrupted row")]
    Unseal { kid: String },
}

/// AES-256-GCM under the key-encryption key.
pub struct KeyEncryption {
    key: LessSafeKey,
}

impl KeyEncryption {
    pub fn new(key: &[u8; 32]) -> Result<Self, SealError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::InvalidKek)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    pub fn seal(&self, kid: &str, plaintext: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut buffer = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, kid: &str, sealed: &str) -> Result<String, SealError> {
        let unseal = || SealError::Unseal {
            kid: kid.to_owned(),
        };
        let bytes = STANDARD.decode(sealed).map_err(|_| unseal())?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(unseal());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unseal())?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buffer)
            .map_err(|_| unseal())?;
        String::from_utf8(plaintext.to_vec()).map_err(|_| unseal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_kek_and_kid() {
        let kek = KeyEncryption::new(&[7u8; 32]).expect("kek");
        let sealed = kek
            .seal("kid-1", "-----BEGIN PRIVATE KEY-----")
            .expect("seal");
        assert!(!sealed.contains("PRIVATE"));
        assert_eq!(
            kek.open("kid-1", &sealed).expect("open"),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert!(kek.open("kid-2", &sealed).is_err(), "bound to its kid");
        let other = KeyEncryption::new(&[8u8; 32]).expect("kek");
        assert!(other.open("kid-1", &sealed).is_err());
        assert_ne!(
            kek.seal("kid-1", "x").expect("seal"),
            kek.seal("kid-1", "x").expect("seal"),
            "fresh nonce each time"
        );
    }
}
