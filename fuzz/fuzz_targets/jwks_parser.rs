//! Any bytes as a JWKS document (what a compromised or broken endpoint could
//! serve): parsing returns a key set or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = jwt_verify::KeySet::from_jwks_json(text);
        let _ = jwt_verify::KeySet::from_pem(text);
    }
});
