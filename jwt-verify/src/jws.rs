//! The JWS compact serialization, parsed strictly (RFC 7515, RFC 8725):
//! three base64url segments, a header whose `alg` is on the allow-list and
//! never `none`, no `crit`, the expected `typ`; the key named by `kid`; the
//! signature. Hand-written rather than `jsonwebtoken::decode`: stricter (no
//! `jwk`/`jku`/`x5u` ever consulted, canonical base64url only) and faster
//! (RS256 keys parsed once, by aws-lc), and fuzzed (`fuzz/`).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::keys::VerifyKey;
use crate::{Algorithm, KeySet, Validation, VerifyError};

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// A token whose structure and header passed; signature not yet checked.
pub(crate) struct Jws<'a> {
    token: &'a str,
    header64_len: usize,
    payload64: &'a str,
    signature64: &'a str,
    alg: Algorithm,
    kid: Option<String>,
}

/// The three segments of a compact JWS, or `None` for any other count
/// (access tokens here, DPoP proofs in [`crate::dpop`]).
pub(crate) fn segments(token: &str) -> Option<(&str, &str, &str)> {
    let mut segments = token.split('.');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(header), Some(payload), Some(signature), None) => Some((header, payload, signature)),
        _ => None,
    }
}

impl<'a> Jws<'a> {
    /// Split and check the header against `validation`.
    pub(crate) fn parse(token: &'a str, validation: &Validation) -> Result<Self, VerifyError> {
        let (header64, payload64, signature64) = segments(token).ok_or(VerifyError::Malformed(
            "expected three dot-separated segments",
        ))?;
        let header_json = URL_SAFE_NO_PAD
            .decode(header64)
            .map_err(|_| VerifyError::Malformed("header is not base64url"))?;
        let header: RawHeader = serde_json::from_slice(&header_json)
            .map_err(|_| VerifyError::Malformed("header is not a JSON object"))?;
        let alg_name = header
            .alg
            .as_deref()
            .ok_or(VerifyError::Malformed("header has no alg"))?;
        if alg_name.eq_ignore_ascii_case("none") {
            return Err(VerifyError::AlgNone);
        }
        let alg = Algorithm::from_name(alg_name).ok_or(VerifyError::DisallowedAlgorithm)?;
        if !validation.algorithms.contains(&alg) {
            return Err(VerifyError::DisallowedAlgorithm);
        }
        if header.crit.is_some() {
            return Err(VerifyError::CriticalHeader);
        }
        if !validation.type_matches(header.typ.as_deref()) {
            return Err(VerifyError::WrongType);
        }
        Ok(Self {
            token,
            header64_len: header64.len(),
            payload64,
            signature64,
            alg,
            kid: header.kid,
        })
    }

    /// The `kid` the header names, if any.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key that must have signed it: the one named by `kid`, or the only
    /// key when there is no `kid`. `kid` is only ever a map key.
    pub(crate) fn key_in<'k>(&self, keys: &'k KeySet) -> Result<&'k Arc<VerifyKey>, VerifyError> {
        let key = match self.kid.as_deref() {
            Some(kid) => match keys.keys.get(kid) {
                Some(key) => key,
                None if keys.rejected.contains_key(kid) => return Err(VerifyError::UnusableKey),
                None => return Err(VerifyError::UnknownKid),
            },
            None if keys.keys.len() == 1 => {
                keys.keys.values().next().ok_or(VerifyError::MissingKid)?
            }
            None => return Err(VerifyError::MissingKid),
        };
        if key.alg.is_some_and(|pinned| pinned != self.alg) {
            return Err(VerifyError::AlgorithmMismatch);
        }
        // A key verifies its own family only (RFC 8725 §3.1).
        if self.alg.is_ecdsa() != key.es256.is_some() {
            return Err(VerifyError::AlgorithmMismatch);
        }
        Ok(key)
    }

    /// Check the signature over `header.payload` with `key`.
    pub(crate) fn verify_signature(&self, key: &VerifyKey) -> Result<(), VerifyError> {
        let signing_input_len = self.header64_len + 1 + self.payload64.len();
        let signing_input = &self.token.as_bytes()[..signing_input_len];
        match (&key.rs256, &key.es256, self.alg) {
            (_, Some(parsed), Algorithm::ES256) => {
                let signature = URL_SAFE_NO_PAD
                    .decode(self.signature64)
                    .map_err(|_| VerifyError::Malformed("signature is not base64url"))?;
                parsed
                    .verify_sig(signing_input, &signature)
                    .map_err(|_| VerifyError::InvalidSignature)
            }
            (Some(parsed), _, Algorithm::RS256) => {
                let signature = URL_SAFE_NO_PAD
                    .decode(self.signature64)
                    .map_err(|_| VerifyError::Malformed("signature is not base64url"))?;
                parsed
                    .verify_sig(signing_input, &signature)
                    .map_err(|_| VerifyError::InvalidSignature)
            }
            _ => match jsonwebtoken::crypto::verify(
                self.signature64,
                signing_input,
                &key.key,
                self.alg.to_jsonwebtoken(),
            ) {
                Ok(true) => Ok(()),
                Ok(false) => Err(VerifyError::InvalidSignature),
                Err(_) => Err(VerifyError::Malformed("signature is not base64url")),
            },
        }
    }

    /// The decoded payload (call after the signature passed).
    pub(crate) fn payload(&self) -> Result<Vec<u8>, VerifyError> {
        URL_SAFE_NO_PAD
            .decode(self.payload64)
            .map_err(|_| VerifyError::Malformed("payload is not base64url"))
    }
}
