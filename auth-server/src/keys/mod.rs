//! The signing keys: loaded (or generated for development) at start, held in memory.
//!
//! The `rsa` crate parses and generates keys and encodes the public half; every
//! signature is made by jsonwebtoken's aws-lc-rs backend (RUSTSEC-2023-0071: no
//! private-key operation of the `rsa` crate runs per request).

pub mod entity;
pub mod routes;
pub mod signer;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_verify::KeySet;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;

use crate::config::{Config, ConfigError, PrivateKeySource};

pub const MIN_KEY_BITS: usize = 2048;

/// One RSA key pair usable for signing.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
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

#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("no signing key in {0} and GENERATE_DEV_KEY=false")]
    NoKey(PathBuf),
}

impl SigningKey {
    /// Parse a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str, origin: impl Into<String>) -> Result<Self, String> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| "not an RSA private key in PKCS#8 or PKCS#1 PEM".to_owned())?;
        Self::from_private(&private, origin.into())
    }

    fn from_private(private: &RsaPrivateKey, origin: String) -> Result<Self, String> {
        let bits = private.size() * 8;
        if bits < MIN_KEY_BITS {
            return Err(format!(
                "RSA key is {bits} bits; at least {MIN_KEY_BITS} are required"
            ));
        }
        let der = private
            .to_pkcs1_der()
            .map_err(|e| format!("cannot encode key: {e}"))?;
        crate::keys::signer::install();
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        // Fail at start, not at the first login, if the backend refuses the key.
        jsonwebtoken::crypto::sign(b"signet key probe", &encoding, Algorithm::RS256)
            .map_err(|e| format!("key cannot sign: {e}"))?;
        let public = private.to_public_key();
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode key: {e}"))?
            .to_string();
        Ok(Self {
            kid: thumbprint(&public),
            encoding,
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
    pub fn generate(bits: usize) -> Result<Self, String> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
            .map_err(|e| format!("key generation failed: {e}"))?;
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

/// RFC 7638 thumbprint, computed by the same function verifiers use.
pub fn thumbprint(public: &RsaPublicKey) -> String {
    jwt_verify::rsa_thumbprint(&public.n().to_bytes_be(), &public.e().to_bytes_be())
}

/// The keys this server signs with and publishes.
#[derive(Debug, Clone)]
pub struct KeyRing {
    active: Arc<SigningKey>,
    published: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    /// `keys` in publication order; the last one signs.
    pub fn new(keys: Vec<SigningKey>) -> Option<Self> {
        let published: Vec<Arc<SigningKey>> = keys.into_iter().map(Arc::new).collect();
        let active = published.last()?.clone();
        Some(Self { active, published })
    }

    /// An explicit active key and the others to publish (next and retired keys).
    pub fn with_active(active: SigningKey, others: Vec<SigningKey>) -> Self {
        let active = Arc::new(active);
        let mut published: Vec<Arc<SigningKey>> = others.into_iter().map(Arc::new).collect();
        published.push(active.clone());
        Self { active, published }
    }

    pub fn active(&self) -> &Arc<SigningKey> {
        &self.active
    }

    pub fn published(&self) -> &[Arc<SigningKey>] {
        &self.published
    }

    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.published.iter().map(|k| k.public_jwk()).collect(),
        }
    }

    /// The same keys as a verifier key set, for this server's own protected routes.
    pub fn verification_keys(&self) -> Result<KeySet, jwt_verify::KeyError> {
        KeySet::from_rsa_public_keys(self.published.iter().map(|k| k.public.clone()))
    }
}

/// Load the key ring as configured; in a key directory with no key, generate a
/// development key if allowed.
pub fn load(config: &Config) -> Result<KeyRing, KeyLoadError> {
    let keys = match &config.private_key {
        PrivateKeySource::Inline(pem) => vec![SigningKey::from_pem(pem, "JWT_PRIVATE_KEY")
            .map_err(|e| ConfigError::new("JWT_PRIVATE_KEY", e))?],
        PrivateKeySource::File(path) => {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "JWT_PRIVATE_KEY_FILE",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            vec![
                SigningKey::from_pem(&pem, path.display().to_string()).map_err(|e| {
                    ConfigError::new("JWT_PRIVATE_KEY_FILE", format!("{}: {e}", path.display()))
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
            SigningKey::from_pem(&pem, path.display().to_string())
                .map_err(|e| ConfigError::new("KEYS_DIR", format!("{}: {e}", path.display())))
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
