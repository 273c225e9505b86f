//! RS256 signing through jsonwebtoken's aws-lc-rs backend, with the parsed key
//! pair cached.
//!
//! jsonwebtoken's aws-lc signer parses and validates the RSA private key DER on
//! every `encode` — more work than the signature itself. jsonwebtoken 11 makes
//! its crypto pluggable (`CryptoProvider`), so this module installs a provider
//! that is aws-lc's own for everything, except that RSA signers come from a
//! cache of parsed `RsaKeyPair`s keyed by the key's DER. Every signature is
//! still made by aws-lc-rs; no private-key operation uses the `rsa` crate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    RsaEncoding, RsaKeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512,
};
use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, EncodingKey};

struct CachedRsaSigner {
    key_pair: Arc<RsaKeyPair>,
    encoding: &'static dyn RsaEncoding,
    algorithm: Algorithm,
}

impl jsonwebtoken::signature::Signer<Vec<u8>> for CachedRsaSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(self.encoding, &SystemRandom::new(), message, &mut signature)
            .map_err(jsonwebtoken::signature::Error::from_source)?;
        Ok(signature)
    }
}

impl JwtSigner for CachedRsaSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn key_pairs() -> &'static Mutex<HashMap<Vec<u8>, Arc<RsaKeyPair>>> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Arc<RsaKeyPair>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cached_key_pair(der: &[u8]) -> Result<Arc<RsaKeyPair>, Error> {
    let invalid = |e: String| Error::from(ErrorKind::InvalidRsaKey(e));
    let mut cache = key_pairs()
        .lock()
        .map_err(|_| invalid("key cache poisoned".into()))?;
    if let Some(pair) = cache.get(der) {
        return Ok(pair.clone());
    }
    let pair = Arc::new(RsaKeyPair::from_der(der).map_err(|e| invalid(e.to_string()))?);
    if cache.len() >= 64 {
        // Rotation adds a key now and then; never let retired ones pile up.
        cache.clear();
    }
    cache.insert(der.to_vec(), pair.clone());
    Ok(pair)
}

fn signer_factory(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    let encoding: &'static dyn RsaEncoding = match algorithm {
        Algorithm::RS256 => &RSA_PKCS1_SHA256,
        Algorithm::RS384 => &RSA_PKCS1_SHA384,
        Algorithm::RS512 => &RSA_PKCS1_SHA512,
        _ => return (DEFAULT_PROVIDER.signer_factory)(algorithm, key),
    };
    Ok(Box::new(CachedRsaSigner {
        key_pair: cached_key_pair(key.as_bytes())?,
        encoding,
        algorithm: *algorithm,
    }))
}

/// Install the provider for this process (first call wins; later calls and a
/// provider already chosen are fine: signing then simply stays uncached).
pub fn install() {
    static PROVIDER: OnceLock<CryptoProvider> = OnceLock::new();
    let provider = PROVIDER.get_or_init(|| CryptoProvider {
        signer_factory,
        verifier_factory: DEFAULT_PROVIDER.verifier_factory,
        key_utils: DEFAULT_PROVIDER.key_utils.clone(),
    });
    let _ = provider.install_default();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPrivateKey;

    #[test]
    fn cached_signatures_verify_like_uncached_ones() {
        install();
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("key");
        let der = private.to_pkcs1_der().expect("der");
        let key = EncodingKey::from_rsa_der(der.as_bytes());
        let public = jsonwebtoken::DecodingKey::from_rsa_der(
            rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&private.to_public_key())
                .expect("der")
                .as_bytes(),
        );
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        for _ in 0..2 {
            let token = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::RS256),
                &serde_json::json!({"a": 1}),
                &key,
            )
            .expect("sign");
            jsonwebtoken::decode::<serde_json::Value>(&token, &public, &validation)
                .expect("verifies");
        }
        assert!(key_pairs()
            .lock()
            .expect("cache")
            .contains_key(der.as_bytes()));
    }
}
