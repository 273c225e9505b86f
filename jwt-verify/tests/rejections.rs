//! Every rejection path, each with a token crafted to hit it.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{claims, jwks, key, now, static_verifier, validation, AUDIENCE, ISSUER};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_verify::{KeySet, Validation, Verifier, VerifyError};
use serde_json::json;

fn verify(token: &str) -> Result<jwt_verify::VerifiedToken, VerifyError> {
    static_verifier(&[key(0)]).verify_with_current_keys(token)
}

fn b64(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

#[test]
fn a_valid_token_verifies_and_exposes_its_claims() {
    let verified = verify(&key(0).sign(&claims())).expect("valid");
    let standard = verified.claims();
    assert_eq!(standard.iss.as_deref(), Some(ISSUER));
    assert_eq!(standard.aud, vec![AUDIENCE]);
    assert!(standard.has_scope("posts:read"));
    assert!(standard.has_role("editor"));
    let custom: serde_json::Value = verified.deserialize().expect("payload");
    assert_eq!(custom["email"], "ada@example.com");
}

#[test]
fn alg_none_is_rejected_in_any_spelling() {
    for alg in ["none", "None", "NONE"] {
        let token = format!(
            "{}.{}.",
            b64(&format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, key(0).kid)),
            b64(&claims().to_string())
        );
        assert_eq!(
            verify(&token).expect_err("must be rejected"),
            VerifyError::AlgNone,
            "{alg}"
        );
    }
}

#[test]
fn hmac_ecdsa_and_pss_are_refused_when_only_rs256_is_allowed() {
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"secret"),
    )
    .expect("sign");
    assert_eq!(
        verify(&hs256).expect_err("must be rejected"),
        VerifyError::DisallowedAlgorithm
    );

    for alg in ["ES256", "ES384", "EdDSA", "HS512", "RS1", "rs256"] {
        let token = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(&format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, key(0).kid)),
            b64(&claims().to_string())
        );
        assert_eq!(
            verify(&token).expect_err("must be rejected"),
            VerifyError::DisallowedAlgorithm,
            "{alg}"
        );
    }

    let mut pss = key(0).header();
    pss.alg = Algorithm::PS256;
    let token = key(0).sign_with_header(pss, &claims());
    assert_eq!(
        verify(&token).expect_err("must be rejected"),
        VerifyError::DisallowedAlgorithm
    );
    // …and accepted once the caller allows PS256 explicitly.
    let verifier = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks(&[key(0)]).replace(r#""alg":"RS256","#, "")).expect("jwks"),
        validation().algorithms([jwt_verify::Algorithm::RS256, jwt_verify::Algorithm::PS256]),
    );
    verifier
        .verify_with_current_keys(&token)
        .expect("PS256 allowed");
}

/// The classic RS/HS confusion: HMAC-sign with the public key's PEM as the secret.
#[test]
fn hs256_signed_with_the_public_key_is_rejected() {
    for secret in [key(0).public_pem.as_bytes(), key(0).n.as_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key(0).kid.clone());
        let token = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret))
            .expect("sign");
        assert_eq!(
            verify(&token).expect_err("must be rejected"),
            VerifyError::DisallowedAlgorithm
        );
    }
}

#[test]
fn jwks_entries_of_the_wrong_kind_are_unusable_not_refetched() {
    let good = key(0).jwk();
    let mut enc = key(1).jwk();
    enc["use"] = json!("enc");
    enc["kid"] = json!("encryption-key");
    let ec = json!({ "kty": "EC", "kid": "ec-key", "crv": "P-256", "x": "AA", "y": "AA" });
    let set =
        KeySet::from_jwks_json(&json!({ "keys": [good, enc, ec] }).to_string()).expect("jwks");
    let verifier = Verifier::from_key_set(set, validation());
    for kid in ["encryption-key", "ec-key"] {
        let mut header = key(1).header();
        header.kid = Some(kid.into());
        let token = key(1).sign_with_header(header, &claims());
        assert_eq!(
            verifier
                .verify_with_current_keys(&token)
                .expect_err("must be rejected"),
            VerifyError::UnusableKey,
            "{kid}"
        );
    }
}

#[test]
fn a_key_pinned_to_another_algorithm_rejects_the_token() {
    let mut jwk = key(0).jwk();
    jwk["alg"] = json!("RS512");
    let set = KeySet::from_jwks_json(&json!({ "keys": [jwk] }).to_string()).expect("jwks");
    let verifier = Verifier::from_key_set(
        set,
        validation().algorithms([jwt_verify::Algorithm::RS256, jwt_verify::Algorithm::RS512]),
    );
    let token = key(0).sign(&claims());
    assert_eq!(
        verifier
            .verify_with_current_keys(&token)
            .expect_err("must be rejected"),
        VerifyError::AlgorithmMismatch
    );
}

#[test]
fn an_unknown_kid_is_rejected_and_kids_are_only_map_keys() {
    for kid in [
        "unknown",
        "../../../../etc/passwd",
        "' OR '1'='1",
        "http://evil.example/key",
        "",
    ] {
        let mut header = key(0).header();
        header.kid = Some(kid.into());
        let token = key(0).sign_with_header(header, &claims());
        assert_eq!(
            verify(&token).expect_err("must be rejected"),
            VerifyError::UnknownKid,
            "{kid:?}"
        );
    }
}

#[test]
fn a_missing_kid_is_accepted_only_when_one_key_could_have_signed() {
    let mut header = key(0).header();
    header.kid = None;
    let token = key(0).sign_with_header(header, &claims());
    verify(&token).expect("single key");
    let two = static_verifier(&[key(0), key(1)]);
    assert_eq!(
        two.verify_with_current_keys(&token)
            .expect_err("must be rejected"),
        VerifyError::MissingKid
    );
}

#[test]
fn a_crit_header_is_rejected_because_we_understand_no_extensions() {
    let header = format!(
        r#"{{"alg":"RS256","kid":"{}","crit":["exp"],"exp":1}}"#,
        key(0).kid
    );
    let token = key(0).sign_raw(&header, &claims().to_string());
    assert_eq!(
        verify(&token).expect_err("must be rejected"),
        VerifyError::CriticalHeader
    );
}

/// `jku`, `jwk`, `x5u` and `x5c` would let the token choose its own key; they are ignored.
#[test]
fn embedded_or_remote_keys_in_the_header_are_never_used() {
    let attacker = key(2);
    let headers = [
        format!(
            r#"{{"alg":"RS256","kid":"{}","jwk":{}}}"#,
            key(0).kid,
            attacker.jwk()
        ),
        format!(
            r#"{{"alg":"RS256","kid":"{}","jku":"http://127.0.0.1:9/jwks.json"}}"#,
            key(0).kid
        ),
        format!(
            r#"{{"alg":"RS256","kid":"{}","x5u":"http://127.0.0.1:9/cert.pem"}}"#,
            key(0).kid
        ),
        format!(r#"{{"alg":"RS256","kid":"{}","x5c":["MIIB"]}}"#, key(0).kid),
    ];
    for header in headers {
        let token = attacker.sign_raw(&header, &claims().to_string());
        assert_eq!(
            verify(&token).expect_err("must be rejected"),
            VerifyError::InvalidSignature,
            "{header}"
        );
    }
    let own_kid = format!(
        r#"{{"alg":"RS256","kid":"{}","jwk":{}}}"#,
        attacker.kid,
        attacker.jwk()
    );
    let token = attacker.sign_raw(&own_kid, &claims().to_string());
    assert_eq!(
        verify(&token).expect_err("must be rejected"),
        VerifyError::UnknownKid
    );
}

#[test]
fn tampering_with_payload_or_signature_is_detected() {
    let token = key(0).sign(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut elevated = claims();
    elevated["roles"] = json!(["admin"]);
    let forged = format!("{}.{}.{}", parts[0], b64(&elevated.to_string()), parts[2]);
    assert_eq!(
        verify(&forged).expect_err("must be rejected"),
        VerifyError::InvalidSignature
    );

    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
    signature[10] ^= 0x01;
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(&signature)
    );
    assert_eq!(
        verify(&flipped).expect_err("must be rejected"),
        VerifyError::InvalidSignature
    );

    let truncated = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]);
    assert_eq!(
        verify(&truncated).expect_err("must be rejected"),
        VerifyError::InvalidSignature
    );
}

#[test]
fn a_non_canonical_base64url_signature_is_malformed_not_malleable() {
    let token = key(0).sign(&claims());
    // The last character of a 256-byte signature carries 4 padding bits: a
    // lenient decoder would accept several spellings of one signature.
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 1;
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(chars[last]).expect("base64url");
    chars[last] = alphabet.chars().nth(index ^ 1).expect("char");
    let respelled: String = chars.into_iter().collect();
    assert!(
        verify(&respelled).is_err(),
        "only the canonical spelling verifies"
    );
}

#[test]
fn a_token_signed_by_another_rsa_key_is_rejected() {
    let token = key(1).sign_with_header(key(0).header(), &claims());
    assert_eq!(
        verify(&token).expect_err("must be rejected"),
        VerifyError::InvalidSignature
    );
}

#[test]
fn time_claims_are_checked_with_leeway() {
    let mut expired = claims();
    expired["exp"] = json!(now() - 120);
    assert_eq!(
        verify(&key(0).sign(&expired)).expect_err("must be rejected"),
        VerifyError::Expired
    );

    let mut just_expired = claims();
    just_expired["exp"] = json!(now() - 30);
    verify(&key(0).sign(&just_expired)).expect("inside the 60 s leeway");

    let mut future = claims();
    future["nbf"] = json!(now() + 300);
    assert_eq!(
        verify(&key(0).sign(&future)).expect_err("must be rejected"),
        VerifyError::NotYetValid
    );
}

#[test]
fn a_token_valid_for_years_or_issued_in_the_future_is_refused() {
    let mut ten_years = claims();
    ten_years["exp"] = json!(now() + 10 * 365 * 24 * 3600);
    assert_eq!(
        verify(&key(0).sign(&ten_years)).expect_err("must be rejected"),
        VerifyError::LifetimeTooLong
    );
    let mut no_iat = ten_years.clone();
    no_iat.as_object_mut().expect("object").remove("iat");
    assert_eq!(
        verify(&key(0).sign(&no_iat)).expect_err("exp alone decides"),
        VerifyError::LifetimeTooLong
    );
    let mut backdated = claims();
    backdated["iat"] = json!(now() - 3 * 24 * 3600);
    backdated["exp"] = json!(now() + 600);
    assert_eq!(
        verify(&key(0).sign(&backdated)).expect_err("exp - iat over 24 h"),
        VerifyError::LifetimeTooLong
    );
    let mut from_the_future = claims();
    from_the_future["iat"] = json!(now() + 3600);
    assert_eq!(
        verify(&key(0).sign(&from_the_future)).expect_err("must be rejected"),
        VerifyError::LifetimeTooLong
    );
    assert_eq!(VerifyError::LifetimeTooLong.reason(), "lifetime_too_long");
    // A deployment that issues day-long tokens says so.
    let mut two_days = claims();
    two_days["exp"] = json!(now() + 2 * 24 * 3600);
    let lenient = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks"),
        validation().max_token_lifetime(std::time::Duration::from_secs(3 * 24 * 3600)),
    );
    lenient
        .verify_with_current_keys(&key(0).sign(&two_days))
        .expect("within the configured lifetime");
}

#[test]
fn time_claims_of_the_wrong_type_are_rejected() {
    for (claim, value) in [
        ("exp", json!("9999999999")),
        ("nbf", json!("0")),
        ("exp", json!(true)),
        ("iat", json!([1])),
    ] {
        let mut bad = claims();
        bad[claim] = value;
        let err = verify(&key(0).sign(&bad)).expect_err("must be rejected");
        assert_eq!(err, VerifyError::InvalidClaimType(claim), "{claim}");
    }
    let mut no_exp = claims();
    no_exp.as_object_mut().expect("object").remove("exp");
    assert_eq!(
        verify(&key(0).sign(&no_exp)).expect_err("must be rejected"),
        VerifyError::MissingClaim("exp")
    );
}

#[test]
fn issuer_must_match_up_to_a_trailing_slash() {
    let mut slashed = claims();
    slashed["iss"] = json!(format!("{ISSUER}/"));
    verify(&key(0).sign(&slashed)).expect("the same issuer, typed with a slash");
    for iss in [
        json!("https://evil.test"),
        json!(format!("{ISSUER}/other")),
        json!(format!("{ISSUER}.evil.test")),
        json!(null),
    ] {
        let mut bad = claims();
        bad["iss"] = iss.clone();
        assert_eq!(
            verify(&key(0).sign(&bad)).expect_err("must be rejected"),
            VerifyError::WrongIssuer,
            "{iss}"
        );
    }
}

#[test]
fn audience_must_name_one_of_ours_and_be_present() {
    let mut wrong = claims();
    wrong["aud"] = json!("scraper");
    assert_eq!(
        verify(&key(0).sign(&wrong)).expect_err("must be rejected"),
        VerifyError::WrongAudience
    );
    let mut missing = claims();
    missing.as_object_mut().expect("object").remove("aud");
    assert_eq!(
        verify(&key(0).sign(&missing)).expect_err("must be rejected"),
        VerifyError::WrongAudience
    );
    let mut several = claims();
    several["aud"] = json!(["scraper", AUDIENCE]);
    verify(&key(0).sign(&several)).expect("one of several audiences is ours");
}

#[test]
fn malformed_tokens_are_rejected_before_any_crypto() {
    let token = key(0).sign(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        String::new(),
        "abc".into(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.extra"),
        format!("!!!.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", b64("not json"), parts[1], parts[2]),
        format!("{}.{}.{}", b64("[1,2]"), parts[1], parts[2]),
        format!("{}.{}.{}", b64(r#"{"kid":"x"}"#), parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256","alg":"none"}"#),
            parts[1],
            parts[2]
        ),
    ];
    for case in cases {
        assert!(
            matches!(
                verify(&case).expect_err("must be rejected"),
                VerifyError::Malformed(_)
            ),
            "{case:?}"
        );
    }
    // A validly signed payload that is not JSON.
    let not_json = key(0).sign_raw(
        &format!(r#"{{"alg":"RS256","kid":"{}"}}"#, key(0).kid),
        "hello",
    );
    assert!(matches!(
        verify(&not_json).expect_err("must be rejected"),
        VerifyError::Malformed(_)
    ));
}

#[test]
fn oversize_tokens_are_refused_before_parsing() {
    let mut big = claims();
    big["padding"] = json!("x".repeat(9000));
    assert_eq!(
        verify(&key(0).sign(&big)).expect_err("must be rejected"),
        VerifyError::TooLong
    );
    let verifier = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks"),
        validation().max_token_len(64 * 1024),
    );
    verifier
        .verify_with_current_keys(&key(0).sign(&big))
        .expect("limit raised");
}

#[test]
fn the_access_token_type_can_be_required() {
    let verifier = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks"),
        validation().require_type("at+jwt"),
    );
    verifier
        .verify_with_current_keys(&key(0).sign(&claims()))
        .expect("at+jwt");
    for typ in [Some("JWT"), None] {
        let mut header = key(0).header();
        header.typ = typ.map(str::to_owned);
        let token = key(0).sign_with_header(header, &claims());
        assert_eq!(
            verifier
                .verify_with_current_keys(&token)
                .expect_err("must be rejected"),
            VerifyError::WrongType
        );
    }
    let mut header = key(0).header();
    header.typ = Some("application/AT+JWT".into());
    verifier
        .verify_with_current_keys(&key(0).sign_with_header(header, &claims()))
        .expect("media type form");
}

#[test]
fn required_claims_are_enforced() {
    let verifier = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks"),
        Validation::new(ISSUER)
            .audience(AUDIENCE)
            .require_claim(jwt_verify::Claim::Jti)
            .require_claim(jwt_verify::Claim::Sub),
    );
    let mut no_jti = claims();
    no_jti.as_object_mut().expect("object").remove("jti");
    assert_eq!(
        verifier
            .verify_with_current_keys(&key(0).sign(&no_jti))
            .expect_err("must be rejected"),
        VerifyError::MissingClaim("jti")
    );
}

#[test]
fn a_static_pem_key_verifies_tokens_with_the_thumbprint_kid() {
    let verifier = Verifier::from_key_set(
        KeySet::from_pem(&key(0).public_pem).expect("pem"),
        validation(),
    );
    verifier
        .verify_with_current_keys(&key(0).sign(&claims()))
        .expect("valid");
    assert!(
        KeySet::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err()
    );
}
