//! The signing keys: loaded (or generated for development) at start, held in memory.
//!
//! The `rsa` crate parses and generates keys and encodes the public half; every
//! signature is made by jsonwebtoken's aws-lc-rs backend (RUSTSEC-2023-0071: no
//! private-key operation of the `rsa` crate runs per request).

pub mod entity;
pub mod handle;
pub mod ring;
pub(crate) mod routes;
pub mod seal;
pub mod signer;
pub mod store;

pub use handle::Keys;
pub use ring::KeyRing;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;

use crate::config::{Config, ConfigError, PrivateKeySource};
use signer::RsaSigner;

pub const MIN_KEY_BITS: usize = 2048;

/// One RSA key pair usable for signing.
pub struct SigningKey {
    pub kid: String,
    /// The private key, parsed once (see [`signer`]).
    pub signer: RsaSigner,
    pub public: RsaPublicKey,
    /// Where it came from (a path, `JWT_PRIVATE_KEY`, or the key store), for `keys list` and logs.
    pub origin: String,
    /// PKCS#8 PEM, kept to seal the key into the shared key store.
    pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("bits", &(self.public.size() * 8))
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// One entry of the published JWKS.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicJwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

/// Why a private key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not an RSA private key in PKCS#8 or PKCS#1 PEM")]
    NotRsaPem,
    #[error("RSA key is {bits} bits; at least {MIN_KEY_BITS} are required")]
    TooSmall { bits: usize },
    #[error("cannot encode key")]
    Encode(#[source] rsa::pkcs1::Error),
    #[error("cannot encode key")]
    EncodePkcs8(#[source] rsa::pkcs8::Error),
    #[error("key generation failed")]
    Generate(#[source] rsa::Error),
    #[error("the signing backend refuses the key")]
    Rejected(#[source] aws_lc_rs::error::KeyRejected),
}

#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("no signing key in {0} and GENERATE_DEV_KEY=false")]
    NoKey(PathBuf),
}

impl SigningKey {
    /// Parse a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str, origin: impl Into<String>) -> Result<Self, KeyError> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError::NotRsaPem)?;
        Self::from_private(&private, origin.into())
    }

    fn from_private(private: &RsaPrivateKey, origin: String) -> Result<Self, KeyError> {
        let bits = private.size() * 8;
        if bits < MIN_KEY_BITS {
            return Err(KeyError::TooSmall { bits });
        }
        let der = private.to_pkcs1_der().map_err(KeyError::Encode)?;
        // Parsed and validated by aws-lc now: a key it refuses fails start-up,
        // not the first login.
        let signer = RsaSigner::from_pkcs1_der(der.as_bytes()).map_err(KeyError::Rejected)?;
        let public = private.to_public_key();
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(KeyError::EncodePkcs8)?
            .to_string();
        Ok(Self {
            kid: thumbprint(&public),
            signer,
            public,
            origin,
            pem,
        })
    }

    /// The private key as PKCS#8 PEM (for sealing into the key store only).
    pub fn pkcs8_pem(&self) -> &str {
        &self.pem
    }

    /// A fresh key of `bits` (2048, 3072 or 4096).
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        let private =
            RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).map_err(KeyError::Generate)?;
        Self::from_private(&private, "generated".to_owned())
    }

    pub fn bits(&self) -> usize {
        self.public.size() * 8
    }

    pub fn public_jwk(&self) -> PublicJwk {
        PublicJwk {
            kty: "RSA",
            use_: "sig",
            alg: "RS256",
            kid: self.kid.clone(),
            n: URL_SAFE_NO_PAD.encode(self.public.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(self.public.e().to_bytes_be()),
        }
    }
}

/// An error and its causes on one line (for the one-line start-up error).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// RFC 7638 thumbprint, computed by the same function verifiers use.
pub fn thumbprint(public: &RsaPublicKey) -> String {
    jwt_verify::rsa_thumbprint(&public.n().to_bytes_be(), &public.e().to_bytes_be())
}

/// Load the key ring as configured; in a key directory with no key, generate a
/// development key if allowed.
pub fn load(config: &Config) -> Result<KeyRing, KeyLoadError> {
    let keys = match &config.private_key {
        PrivateKeySource::Inline(pem) => vec![SigningKey::from_pem(pem, "JWT_PRIVATE_KEY")
            .map_err(|e| ConfigError::new("JWT_PRIVATE_KEY", chain(&e)))?],
        PrivateKeySource::File(path) => {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "JWT_PRIVATE_KEY_FILE",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            vec![
                SigningKey::from_pem(&pem, path.display().to_string()).map_err(|e| {
                    ConfigError::new(
                        "JWT_PRIVATE_KEY_FILE",
                        format!("{}: {}", path.display(), chain(&e)),
                    )
                })?,
            ]
        }
        PrivateKeySource::Directory => {
            let mut keys = read_key_dir(&config.keys_dir)?;
            if keys.is_empty() {
                if !config.generate_dev_key {
                    return Err(KeyLoadError::NoKey(config.keys_dir.clone()));
                }
                let path = generate_into(&config.keys_dir, MIN_KEY_BITS)?;
                tracing::warn!(
                    path = %path.display(),
                    "GENERATED A DEVELOPMENT SIGNING KEY. Fine for local use; in production provide \
                     JWT_PRIVATE_KEY_FILE or KEYS_DIR from a secret store and set GENERATE_DEV_KEY=false"
                );
                keys = read_key_dir(&config.keys_dir)?;
            }
            keys
        }
    };
    KeyRing::new(keys).ok_or_else(|| KeyLoadError::NoKey(config.keys_dir.clone()))
}

/// Every `*.pem` in `dir`, sorted by file name (generated names sort by time).
pub fn read_key_dir(dir: &Path) -> Result<Vec<SigningKey>, ConfigError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigError::new(
                "KEYS_DIR",
                format!("cannot read {}: {e}", dir.display()),
            ))
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pem"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new("KEYS_DIR", format!("cannot read {}: {e}", path.display()))
            })?;
            SigningKey::from_pem(&pem, path.display().to_string()).map_err(|e| {
                ConfigError::new("KEYS_DIR", format!("{}: {}", path.display(), chain(&e)))
            })
        })
        .collect()
}

/// Generate an RSA key and write it as PKCS#8 PEM, readable by the owner only.
pub fn generate_into(dir: &Path, bits: usize) -> Result<PathBuf, ConfigError> {
    let io_error = |e: std::io::Error| {
        ConfigError::new(
            "KEYS_DIR",
            format!("cannot write to {}: {e}", dir.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(io_error)?;
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
        .map_err(|e| ConfigError::new("KEYS_DIR", format!("key generation failed: {e}")))?;
    let pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| ConfigError::new("KEYS_DIR", format!("cannot encode key: {e}")))?;
    let name = format!(
        "signet-{}.pem",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    );
    let path = dir.join(name);
    write_private(&path, pem.as_bytes()).map_err(io_error)?;
    Ok(path)
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
