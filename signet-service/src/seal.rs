//! Authenticated encryption of small secrets at rest: AES-256-GCM with a
//! random 96-bit nonce, and associated data that binds the sealed value to
//! where it is stored (a row id, a key id), so a sealed value moved to
//! another row does not open.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore as _;

const TAG_LEN: usize = 16;

/// An AES-256-GCM key. Sealed values are `base64(nonce ‖ ciphertext ‖ tag)`.
pub struct Sealer {
    key: LessSafeKey,
}

/// Sealing or opening failed; the value is never included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("sealing failed")]
    Seal,
    #[error("the sealed value does not open under this key and associated data")]
    Open,
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key is an AES-256 key");
        Self {
            key: LessSafeKey::new(unbound),
        }
    }

    pub fn seal(&self, aad: &str, plaintext: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut buffer = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, aad: &str, sealed: &str) -> Result<String, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Open)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buffer)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plaintext.to_vec()).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_associated_data() {
        let sealer = Sealer::new(&[7u8; 32]);
        let sealed = sealer.seal("row-1", "secret value").expect("seal");
        assert!(!sealed.contains("secret"));
        assert_eq!(sealer.open("row-1", &sealed), Ok("secret value".into()));
        assert_eq!(sealer.open("row-2", &sealed), Err(SealError::Open));
        assert_eq!(
            Sealer::new(&[8u8; 32]).open("row-1", &sealed),
            Err(SealError::Open)
        );
        assert_eq!(sealer.open("row-1", "bm9wZQ"), Err(SealError::Open));
        assert_eq!(sealer.open("row-1", "%%%"), Err(SealError::Open));
        let mut tampered = STANDARD.decode(&sealed).expect("b64");
        *tampered.last_mut().expect("tag") ^= 1;
        assert_eq!(
            sealer.open("row-1", &STANDARD.encode(tampered)),
            Err(SealError::Open)
        );
    }
}
