//! Published RFC vectors, verified by our full path.

use jwt_verify::{KeySet, Validation, Verifier, VerifyError};

const RFC7515_A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const RFC7515_A2_JWS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

const RFC7520_N: &str = "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw";
const RFC7520_4_1_JWS: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";

fn flip_last_signature_char(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 2;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[test]
fn rfc_7515_appendix_a2_rs256_example_verifies() {
    let jwks = format!(r#"{{"keys":[{{"kty":"RSA","n":"{RFC7515_A2_N}","e":"AQAB"}}]}}"#);
    // The example expired in 2011 and has no audience: only those checks are relaxed.
    let verifier = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks).expect("jwks"),
        Validation::new("joe").insecure_disable_exp_check(),
    );
    let verified = verifier
        .verify_with_current_keys(RFC7515_A2_JWS)
        .expect("RFC 7515 A.2 verifies");
    assert_eq!(verified.claims().exp, 1_300_819_380);
    let custom: serde_json::Value = verified.deserialize().expect("json");
    assert_eq!(custom["http://example.com/is_root"], true);

    assert_eq!(
        verifier
            .verify_with_current_keys(&flip_last_signature_char(RFC7515_A2_JWS))
            .expect_err("must be rejected"),
        VerifyError::InvalidSignature
    );
    let strict = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks).expect("jwks"),
        Validation::new("joe"),
    );
    assert_eq!(
        strict
            .verify_with_current_keys(RFC7515_A2_JWS)
            .expect_err("must be rejected"),
        VerifyError::Expired
    );
}

/// RFC 7520 §4.1's payload is prose, not claims: the signature check passes and
/// only then is the payload refused, which a bad signature never reaches.
#[test]
fn rfc_7520_section_4_1_signature_verifies() {
    let jwks = format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"{RFC7520_N}","e":"AQAB"}}]}}"#
    );
    let verifier = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks).expect("jwks"),
        Validation::without_issuer(),
    );
    assert_eq!(
        verifier
            .verify_with_current_keys(RFC7520_4_1_JWS)
            .expect_err("must be rejected"),
        VerifyError::Malformed("payload is not a JSON object")
    );
    assert_eq!(
        verifier
            .verify_with_current_keys(&flip_last_signature_char(RFC7520_4_1_JWS))
            .expect_err("must be rejected"),
        VerifyError::InvalidSignature
    );
}
