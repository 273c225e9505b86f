//! Shared set-up for the fuzz targets: one RSA key generated per process
//! (never stored), a verifier over its public half, and a signer for it.

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_verify::{KeySet, Validation, Verifier};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

pub const ISSUER: &str = "https://auth.fuzz.test";
pub const AUDIENCE: &str = "signet";

pub struct Fixture {
    pub verifier: Verifier,
    signer: RsaKeyPair,
    pub kid: String,
}

impl Fixture {
    /// `header.payload.signature` with a valid RS256 signature over whatever
    /// header and payload bytes the fuzzer chose.
    pub fn sign(&self, header: &[u8], payload: &[u8]) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut signature = vec![0; self.signer.public_modulus_len()];
        self.signer
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("signing never fails with a valid key");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("key");
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("public pem");
        let pkcs8 = private.to_pkcs8_der().expect("pkcs8");
        let signer = RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).expect("aws-lc key");
        let keys = KeySet::from_pem(&public_pem).expect("key set");
        let kid = keys.kids()[0].to_owned();
        let verifier = Verifier::from_key_set(keys, Validation::new(ISSUER).audience(AUDIENCE));
        Fixture {
            verifier,
            signer,
            kid,
        }
    })
}
