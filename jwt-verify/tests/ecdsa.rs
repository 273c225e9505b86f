//! ES256 (ECDSA on P-256) for issuers that sign with it, as upstream OpenID
//! providers may: an `EC` JWK verifies ES256 tokens once they are allowed,
//! and a key never verifies a token of the other family.

mod common;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{claims, key, validation};
use jsonwebtoken::{Algorithm as JwtAlgorithm, EncodingKey, Header};
use jwt_verify::{Algorithm, KeySet, Verifier, VerifyError};
use serde_json::{json, Value};

struct EcKey {
    pkcs8: Vec<u8>,
    x: String,
    y: String,
}

fn ec_key() -> EcKey {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("generate");
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("parse");
    let point = pair.public_key().as_ref().to_vec();
    assert_eq!((point.len(), point[0]), (65, 4), "uncompressed point");
    EcKey {
        pkcs8: pkcs8.as_ref().to_vec(),
        x: URL_SAFE_NO_PAD.encode(&point[1..33]),
        y: URL_SAFE_NO_PAD.encode(&point[33..65]),
    }
}

fn ec_jwk(key: &EcKey, kid: &str) -> Value {
    json!({ "kty": "EC", "crv": "P-256", "x": key.x, "y": key.y, "kid": kid, "use": "sig", "alg": "ES256" })
}

fn sign_es256(key: &EcKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(JwtAlgorithm::ES256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&key.pkcs8)).expect("sign")
}

fn verifier(jwks: Value, algorithms: &[Algorithm]) -> Verifier {
    Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks.to_string()).expect("jwks"),
        validation().algorithms(algorithms.iter().copied()),
    )
}

#[test]
fn an_es256_token_verifies_against_an_ec_jwk_once_es256_is_allowed() {
    let ec = ec_key();
    let jwks = json!({ "keys": [ec_jwk(&ec, "ec-1"), key(0).jwk()] });
    let token = sign_es256(&ec, "ec-1", &claims());

    let both = verifier(jwks.clone(), &[Algorithm::RS256, Algorithm::ES256]);
    let verified = both
        .verify_with_current_keys(&token)
        .expect("ES256 verifies");
    assert_eq!(verified.claims().email.as_deref(), Some("ada@example.com"));
    // RSA tokens still verify beside it.
    both.verify_with_current_keys(&key(0).sign(&claims()))
        .expect("RS256 beside it");

    // The default allow-list is RS256 alone.
    let default = verifier(jwks, &[Algorithm::RS256]);
    assert_eq!(
        default.verify_with_current_keys(&token).err(),
        Some(VerifyError::DisallowedAlgorithm)
    );
}

#[test]
fn a_key_never_verifies_a_token_of_the_other_family() {
    let ec = ec_key();
    let jwks = json!({ "keys": [
        ec_jwk(&ec, "ec-1"),
        // The same EC key without a pinned alg: the family still decides.
        { "kty": "EC", "crv": "P-256", "x": ec.x, "y": ec.y, "kid": "ec-unpinned" },
        key(0).jwk(),
    ]});
    let verifier = verifier(jwks, &[Algorithm::RS256, Algorithm::ES256]);
    // An RS256 token that names the EC key.
    let mut header = key(0).header();
    header.kid = Some("ec-unpinned".into());
    let rsa_on_ec = key(0).sign_with_header(header, &claims());
    assert_eq!(
        verifier.verify_with_current_keys(&rsa_on_ec).err(),
        Some(VerifyError::AlgorithmMismatch)
    );
    // An ES256 token that names the RSA key.
    let ec_on_rsa = sign_es256(&ec, &key(0).kid, &claims());
    assert_eq!(
        verifier.verify_with_current_keys(&ec_on_rsa).err(),
        Some(VerifyError::AlgorithmMismatch)
    );
    // A forged signature.
    let token = sign_es256(&ec, "ec-1", &claims());
    let (head, _) = token.rsplit_once('.').expect("jws");
    let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]));
    assert_eq!(
        verifier.verify_with_current_keys(&forged).err(),
        Some(VerifyError::InvalidSignature)
    );
    // Signed by another EC key under this kid.
    let stranger = ec_key();
    assert_eq!(
        verifier
            .verify_with_current_keys(&sign_es256(&stranger, "ec-1", &claims()))
            .err(),
        Some(VerifyError::InvalidSignature)
    );
}

#[test]
fn ec_keys_off_p256_or_off_the_curve_are_unusable() {
    let ec = ec_key();
    let mut off_curve_y = URL_SAFE_NO_PAD.decode(&ec.y).expect("y");
    off_curve_y[31] ^= 1;
    let jwks = json!({ "keys": [
        { "kty": "EC", "crv": "P-384", "x": ec.x, "y": ec.y, "kid": "p384" },
        { "kty": "EC", "crv": "P-256", "x": ec.x, "y": URL_SAFE_NO_PAD.encode(off_curve_y), "kid": "off-curve" },
        { "kty": "EC", "crv": "P-256", "x": ec.x, "kid": "no-y" },
        { "kty": "EC", "crv": "P-256", "x": ec.x, "y": ec.y, "kid": "rs-pinned", "alg": "RS256" },
        ec_jwk(&ec, "good"),
    ]});
    let set = KeySet::from_jwks_json(&jwks.to_string()).expect("jwks");
    assert_eq!(set.kids(), vec!["good"]);
    let verifier = Verifier::from_key_set(set, validation().algorithms([Algorithm::ES256]));
    for kid in ["p384", "off-curve", "no-y", "rs-pinned"] {
        assert_eq!(
            verifier
                .verify_with_current_keys(&sign_es256(&ec, kid, &claims()))
                .err(),
            Some(VerifyError::UnusableKey),
            "{kid}"
        );
    }
    assert!("ES256".parse::<Algorithm>().is_ok());
}
