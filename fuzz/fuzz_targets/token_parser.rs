//! Any string as a bearer token: the verifier must refuse it without
//! panicking (an accepted token would need a forged RS256 signature).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let fixture = signet_fuzz::fixture();
    assert!(
        fixture.verifier.verify_with_current_keys(token).is_err(),
        "accepted an unsigned token: {token:?}"
    );
});
