//! Public keys: parsed once from a JWKS or a PEM, then looked up by `kid` on every request.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::DecodingKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Algorithm, KeyError};

/// Smallest RSA modulus accepted (RFC 8725 §3.5 / NIST SP 800-131A).
const MIN_RSA_BITS: usize = 2048;

/// One verification key, ready for the signature check.
pub(crate) struct VerifyKey {
    pub(crate) key: DecodingKey,
    /// The same key parsed once by aws-lc for RS256, the algorithm Signet signs
    /// with: the hot path skips rebuilding the key from `n` and `e` per token.
    pub(crate) rs256: Option<aws_lc_rs::signature::ParsedPublicKey>,
    /// An EC P-256 key, parsed (and its point checked) once for ES256.
    pub(crate) es256: Option<aws_lc_rs::signature::ParsedPublicKey>,
    /// The JWK's `alg`, when it pins one: a token must then use exactly that.
    pub(crate) alg: Option<Algorithm>,
}

/// An immutable set of public keys (RSA, and EC P-256) indexed by `kid`.
///
/// Keys that a JWKS lists but that must not be used (neither RSA nor EC
/// P-256, `use` other than `sig`, an `alg` of another family, a modulus under
/// 2048 bits, a point not on the curve) are remembered by
/// `kid` so a token naming them gets [`VerifyError::UnusableKey`](crate::VerifyError::UnusableKey)
/// rather than triggering a refetch.
#[derive(Clone, Default)]
pub struct KeySet {
    pub(crate) keys: HashMap<String, Arc<VerifyKey>>,
    pub(crate) rejected: HashMap<String, &'static str>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids())
            .field("rejected", &self.rejected)
            .finish()
    }
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    key_ops: Option<Vec<String>>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl KeySet {
    /// Parse a JWKS document (`{"keys":[…]}`). Unusable entries are skipped and
    /// recorded; a document with no usable key is an error.
    pub fn from_jwks_json(json: &str) -> Result<Self, KeyError> {
        let document: JwksDocument =
            serde_json::from_str(json).map_err(|e| KeyError::InvalidJwks(e.to_string()))?;
        let mut set = KeySet::default();
        for value in document.keys {
            let Ok(raw) = serde_json::from_value::<RawJwk>(value) else {
                continue;
            };
            let kid = raw.kid.clone();
            match Self::accept_jwk(raw) {
                Ok((thumbprint, key)) => {
                    set.keys.insert(kid.unwrap_or(thumbprint), Arc::new(key));
                }
                Err(reason) => {
                    tracing::warn!(
                        kid = kid.as_deref().unwrap_or("<none>"),
                        reason,
                        "ignoring unusable JWK"
                    );
                    if let Some(kid) = kid {
                        set.rejected.insert(kid, reason);
                    }
                }
            }
        }
        if set.keys.is_empty() {
            return Err(KeyError::NoUsableKeys);
        }
        Ok(set)
    }

    /// One RSA public key from a PEM (`PUBLIC KEY` SPKI or `RSA PUBLIC KEY` PKCS#1).
    /// Its `kid` is the RFC 7638 thumbprint, which is what Signet puts in token headers.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let public = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|e| KeyError::InvalidPem(e.to_string()))?;
        Self::from_rsa_components([(public.n().to_bytes_be(), public.e().to_bytes_be())])
    }

    /// RSA public keys given as their big-endian modulus `n` and exponent
    /// `e` (the JWK fields, decoded), each with its RFC 7638 thumbprint as
    /// `kid`. A modulus under 2048 bits is [`KeyError::WeakKey`].
    pub fn from_rsa_components<N, E>(
        keys: impl IntoIterator<Item = (N, E)>,
    ) -> Result<Self, KeyError>
    where
        N: AsRef<[u8]>,
        E: AsRef<[u8]>,
    {
        let mut set = KeySet::default();
        for (n, e) in keys {
            let n = strip_leading_zeros(n.as_ref());
            let e = strip_leading_zeros(e.as_ref());
            if n.len() * 8 < MIN_RSA_BITS {
                return Err(KeyError::WeakKey { bits: n.len() * 8 });
            }
            if e.is_empty() || e.len() > 8 {
                return Err(KeyError::InvalidPem("exponent out of range".into()));
            }
            let kid = rsa_thumbprint(n, e);
            set.keys.insert(
                kid,
                Arc::new(VerifyKey {
                    key: DecodingKey::from_rsa_raw_components(n, e),
                    rs256: parse_rs256(n, e),
                    es256: None,
                    alg: None,
                }),
            );
        }
        if set.keys.is_empty() {
            return Err(KeyError::NoUsableKeys);
        }
        Ok(set)
    }

    fn accept_jwk(raw: RawJwk) -> Result<(String, VerifyKey), &'static str> {
        match raw.kty.as_deref() {
            Some("RSA") => {}
            Some("EC") => return Self::accept_ec_jwk(raw),
            _ => return Err("kty is neither RSA nor EC"),
        }
        if raw.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err("use is not sig");
        }
        if let Some(ops) = &raw.key_ops {
            if !ops.iter().any(|op| op == "verify") {
                return Err("key_ops does not allow verify");
            }
        }
        let alg = match raw.alg.as_deref() {
            None => None,
            Some(name) => Some(
                Algorithm::from_name(name)
                    .filter(|alg| !alg.is_ecdsa())
                    .ok_or("alg is not an RSA signature algorithm")?,
            ),
        };
        let (Some(n64), Some(e64)) = (raw.n.as_deref(), raw.e.as_deref()) else {
            return Err("missing n or e");
        };
        let n = URL_SAFE_NO_PAD
            .decode(n64)
            .map_err(|_| "n is not base64url")?;
        let e = URL_SAFE_NO_PAD
            .decode(e64)
            .map_err(|_| "e is not base64url")?;
        let n = strip_leading_zeros(&n);
        let e = strip_leading_zeros(&e);
        if n.len() * 8 < MIN_RSA_BITS {
            return Err("modulus shorter than 2048 bits");
        }
        if e.is_empty() || e.len() > 8 {
            return Err("exponent out of range");
        }
        Ok((
            rsa_thumbprint(n, e),
            VerifyKey {
                key: DecodingKey::from_rsa_raw_components(n, e),
                rs256: parse_rs256(n, e),
                es256: None,
                alg,
            },
        ))
    }

    /// An `EC` JWK: P-256 only (for ES256), its point checked on the curve.
    fn accept_ec_jwk(raw: RawJwk) -> Result<(String, VerifyKey), &'static str> {
        if raw.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err("use is not sig");
        }
        if let Some(ops) = &raw.key_ops {
            if !ops.iter().any(|op| op == "verify") {
                return Err("key_ops does not allow verify");
            }
        }
        if raw.crv.as_deref() != Some("P-256") {
            return Err("crv is not P-256");
        }
        if raw.alg.as_deref().is_some_and(|alg| alg != "ES256") {
            return Err("alg is not ES256");
        }
        let (Some(x64), Some(y64)) = (raw.x.as_deref(), raw.y.as_deref()) else {
            return Err("missing x or y");
        };
        let x = URL_SAFE_NO_PAD
            .decode(x64)
            .map_err(|_| "x is not base64url")?;
        let y = URL_SAFE_NO_PAD
            .decode(y64)
            .map_err(|_| "y is not base64url")?;
        if x.len() != 32 || y.len() != 32 {
            return Err("x or y is not 32 bytes");
        }
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        let parsed = aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            &point,
        )
        .map_err(|_| "the point is not on P-256")?;
        let key = DecodingKey::from_ec_components(x64, y64).map_err(|_| "x or y is unusable")?;
        Ok((
            ec_thumbprint(x64, y64),
            VerifyKey {
                key,
                rs256: None,
                es256: Some(parsed),
                alg: Some(Algorithm::ES256),
            },
        ))
    }

    /// The `kid`s of the usable keys, sorted.
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `kid` names a usable key.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }
}

/// The RFC 7638 thumbprint of a P-256 key (its members in lexical order).
fn ec_thumbprint(x64: &str, y64: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x64}","y":"{y64}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// PKCS#1 `RSAPublicKey` DER of (n, e), parsed by aws-lc for RS256. `None`
/// if aws-lc refuses it; verification then takes jsonwebtoken's path.
fn parse_rs256(n: &[u8], e: &[u8]) -> Option<aws_lc_rs::signature::ParsedPublicKey> {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let public = RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from_bytes_be(e),
    )
    .ok()?;
    let der = public.to_pkcs1_der().ok()?;
    aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        der.as_bytes(),
    )
    .ok()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// RFC 7638 JWK thumbprint of an RSA key: base64url(SHA-256 of the canonical
/// `{"e":…,"kty":"RSA","n":…}`), from big-endian `n` and `e` without leading zeros.
///
/// The auth server derives its `kid`s the same way, so every replica given the
/// same key publishes the same `kid`.
pub fn rsa_thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(strip_leading_zeros(e)),
        URL_SAFE_NO_PAD.encode(strip_leading_zeros(n))
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1: the example key's thumbprint.
    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        let n = URL_SAFE_NO_PAD
            .decode("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
            .expect("base64");
        let e = URL_SAFE_NO_PAD.decode("AQAB").expect("base64");
        assert_eq!(
            rsa_thumbprint(&n, &e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn jwks_keeps_usable_rsa_keys_and_records_the_rest() {
        let n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
        let jwks = format!(
            r#"{{"keys":[
                {{"kty":"RSA","kid":"good","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}},
                {{"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"}},
                {{"kty":"RSA","kid":"enc","use":"enc","n":"{n}","e":"AQAB"}},
                {{"kty":"RSA","kid":"hs","alg":"HS256","n":"{n}","e":"AQAB"}},
                {{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}}
            ]}}"#
        );
        let set = KeySet::from_jwks_json(&jwks).expect("one usable key");
        assert_eq!(set.kids(), vec!["good"]);
        let mut rejected: Vec<_> = set.rejected.keys().map(String::as_str).collect();
        rejected.sort_unstable();
        assert_eq!(rejected, vec!["ec", "enc", "hs", "small"]);
    }

    #[test]
    fn jwks_without_usable_keys_is_an_error() {
        let err = KeySet::from_jwks_json(r#"{"keys":[{"kty":"oct","k":"AA"}]}"#)
            .expect_err("must be rejected");
        assert!(matches!(err, KeyError::NoUsableKeys));
    }
}
