//! RS256 signing with a key pair parsed once, owned by its `SigningKey`.
//!
//! jsonwebtoken's `encode` asks its crypto provider for a signer on every
//! call, and the aws-lc provider parses and validates the private key DER each
//! time: more work than the signature itself. Issuance ran at 0.30× `openssl
//! speed rsa2048` signs/s that way and at 0.53–0.63× with the parsed pair kept
//! (docs/BENCHMARKS.md). So a [`RsaSigner`] holds aws-lc-rs's parsed
//! `RsaKeyPair` and makes the JWS signing input itself (RFC 7515 §5.1: two
//! base64url JSON parts); jsonwebtoken supplies the header type and the
//! `JwtSigner` trait. No process-global state, and no private-key operation
//! of the `rsa` crate.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::crypto::JwtSigner;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

/// A parsed RSA private key that signs RS256.
pub struct RsaSigner {
    key_pair: RsaKeyPair,
}

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the header or claims cannot be serialized")]
    Serialize(#[source] serde_json::Error),
    #[error("only RS256 is signed here")]
    Algorithm,
    #[error("the RSA signature failed")]
    Crypto(#[source] aws_lc_rs::error::Unspecified),
}

impl RsaSigner {
    /// Parse a PKCS#1 `RSAPrivateKey` DER (aws-lc validates it here, once).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, aws_lc_rs::error::KeyRejected> {
        Ok(Self {
            key_pair: RsaKeyPair::from_der(der)?,
        })
    }

    fn signature(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        )?;
        Ok(signature)
    }

    /// A compact JWS of `claims` under `header` (whose `alg` must be RS256).
    pub fn sign_jws<T: Serialize>(&self, header: &Header, claims: &T) -> Result<String, SignError> {
        if header.alg != Algorithm::RS256 {
            return Err(SignError::Algorithm);
        }
        let mut token = part(header)?;
        token.push('.');
        token.push_str(&part(claims)?);
        let signature = self
            .signature(token.as_bytes())
            .map_err(SignError::Crypto)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }
}

fn part<T: Serialize + ?Sized>(value: &T) -> Result<String, SignError> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).map_err(SignError::Serialize)?))
}

impl jsonwebtoken::signature::Signer<Vec<u8>> for RsaSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        self.signature(message)
            .map_err(jsonwebtoken::signature::Error::from_source)
    }
}

impl JwtSigner for RsaSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

    #[test]
    fn its_tokens_verify_with_jsonwebtoken_and_only_rs256_is_signed() {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("key");
        let signer = RsaSigner::from_pkcs1_der(private.to_pkcs1_der().expect("der").as_bytes())
            .expect("parsed");
        let public = jsonwebtoken::DecodingKey::from_rsa_der(
            private
                .to_public_key()
                .to_pkcs1_der()
                .expect("der")
                .as_bytes(),
        );
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let token = signer
            .sign_jws(&Header::new(Algorithm::RS256), &serde_json::json!({"a": 1}))
            .expect("signed");
        let decoded =
            jsonwebtoken::decode::<serde_json::Value>(&token, &public, &validation).expect("valid");
        assert_eq!(decoded.claims["a"], 1);
        assert!(matches!(
            signer.sign_jws(&Header::new(Algorithm::HS256), &serde_json::json!({})),
            Err(SignError::Algorithm)
        ));
    }
}
