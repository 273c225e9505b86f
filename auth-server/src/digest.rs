//! How one-time values (refresh tokens, codes, link tokens, client secrets,
//! API keys, upstream flow states) are stored: the lowercase hex of their
//! SHA-256. The values are 256 random bits, so a fast hash is the right one;
//! a database dump reveals none of them.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `value`.
pub fn sha256_hex(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_lowercase_hex_of_sha256() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
