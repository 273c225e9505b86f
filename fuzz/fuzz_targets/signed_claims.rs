//! Properly signed tokens with fuzzed header and payload bytes: whatever the
//! verifier accepts must meet every rule it promises (RS256 only, the right
//! issuer and audience, not expired, no `crit`, a JSON object payload).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&[u8], &[u8])| {
    let (header, payload) = input;
    let fixture = signet_fuzz::fixture();
    let token = fixture.sign(header, payload);
    let Ok(verified) = fixture.verifier.verify_with_current_keys(&token) else {
        return;
    };
    let header: serde_json::Value =
        serde_json::from_slice(header).expect("accepted header is JSON");
    assert_eq!(header["alg"], "RS256", "{header}");
    assert!(header.get("crit").is_none(), "{header}");
    assert!(
        header["kid"].is_null() || header["kid"] == fixture.kid.as_str(),
        "{header}"
    );
    let claims = verified.claims();
    assert_eq!(claims.iss.as_deref(), Some(signet_fuzz::ISSUER));
    assert!(claims.aud.iter().any(|a| a == signet_fuzz::AUDIENCE));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    // The default leeway is 60 s.
    assert!(
        claims.exp + 60 >= now,
        "expired token accepted: exp={}",
        claims.exp
    );
    let payload: serde_json::Value = serde_json::from_slice(payload).expect("payload is JSON");
    assert!(payload.is_object());
});
