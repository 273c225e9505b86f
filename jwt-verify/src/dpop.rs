//! DPoP (RFC 9449): tokens bound to a key the client holds, and the proofs
//! that show possession of it.
//!
//! - [`verify_proof`] checks one proof JWT against the request it came with
//!   (`typ`, algorithm, the public `jwk`, signature, `htm`, `htu`, `iat`
//!   window, `ath`). Replay (`jti`) and nonces are the caller's: a resource
//!   server keeps a bounded per-verifier cache ([`DpopSettings`]), an
//!   authorization server a shared table.
//! - [`DpopKey`] holds a client's ES256 key and signs proofs.
//!
//! Proof keys may be ES256 (P-256), EdDSA (Ed25519), RS256 or PS256 (RSA of
//! at least 2048 bits). A `jwk` with private members is refused.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The proof algorithms accepted, as advertised in `algs` challenges and
/// `dpop_signing_alg_values_supported`.
pub const DPOP_ALGORITHMS: [&str; 4] = ["ES256", "EdDSA", "PS256", "RS256"];

/// Longest proof accepted before any parsing.
const MAX_PROOF_LEN: usize = 8 * 1024;
/// Longest `jti` accepted (a UUID is 36).
const MAX_JTI_LEN: usize = 128;

/// Why a DPoP proof was refused. Every variant maps to `401
/// invalid_dpop_proof` at a resource server and `400 invalid_dpop_proof` at a
/// token endpoint, except [`DpopError::ReplayCacheFull`] (503). The
/// [`Display`](std::fmt::Display) text is fixed per variant and never echoes
/// the proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// No `DPoP` header came with a request that needs one.
    #[error("a DPoP proof is required")]
    Missing,
    /// More than one `DPoP` header: ambiguous.
    #[error("more than one DPoP proof")]
    Multiple,
    /// Not a compact JWS with JSON header and payload, or too long.
    #[error("DPoP proof is malformed: {0}")]
    Malformed(&'static str),
    /// The header's `typ` is not `dpop+jwt`.
    #[error("DPoP proof type is not dpop+jwt")]
    WrongType,
    /// `alg` is not one of [`DPOP_ALGORITHMS`] (`none` and MACs included).
    #[error("DPoP proof algorithm is not accepted")]
    DisallowedAlgorithm,
    /// The `jwk` is missing, holds private members, does not fit `alg`, or
    /// is an RSA key under 2048 bits.
    #[error("DPoP proof key is not an acceptable public key")]
    InvalidKey,
    /// The signature does not verify with the header's `jwk`.
    #[error("DPoP proof signature is invalid")]
    InvalidSignature,
    /// A required claim (`jti`, `htm`, `htu`, `iat`, `ath`) is absent or of
    /// the wrong type.
    #[error("DPoP proof is missing a claim: {0}")]
    MissingClaim(&'static str),
    /// `htm` is not the request's method.
    #[error("DPoP proof is for another HTTP method")]
    WrongMethod,
    /// `htu` is not the request's URL (scheme, host, port and path).
    #[error("DPoP proof is for another URL")]
    WrongUrl,
    /// `iat` is older than the accepted window, or in the future.
    #[error("DPoP proof is too old or from the future")]
    IatOutOfWindow,
    /// `ath` is not the hash of the access token presented with it.
    #[error("DPoP proof is for another access token")]
    WrongTokenHash,
    /// This `jti` was seen before with the same key.
    #[error("DPoP proof has been used before")]
    Replayed,
    /// The proof's key is not the one the token is bound to (`cnf.jkt`), or
    /// the token is not bound to a key at all.
    #[error("DPoP proof key does not match the token's key")]
    KeyMismatch,
    /// The replay cache is full of live entries (503). No longer returned:
    /// a full cache forgets its oldest entry instead (see
    /// [`DpopSettings::replay_capacity`]); kept so matches stay valid.
    #[error("DPoP replay protection is saturated")]
    ReplayCacheFull,
}

impl DpopError {
    /// A short stable label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Multiple => "multiple",
            Self::Malformed(_) => "malformed",
            Self::WrongType => "wrong_type",
            Self::DisallowedAlgorithm => "disallowed_algorithm",
            Self::InvalidKey => "invalid_key",
            Self::InvalidSignature => "invalid_signature",
            Self::MissingClaim(_) => "missing_claim",
            Self::WrongMethod => "wrong_method",
            Self::WrongUrl => "wrong_url",
            Self::IatOutOfWindow => "iat_out_of_window",
            Self::WrongTokenHash => "wrong_token_hash",
            Self::Replayed => "replayed",
            Self::KeyMismatch => "key_mismatch",
            Self::ReplayCacheFull => "replay_cache_full",
        }
    }
}

/// What a proof must match.
#[derive(Debug, Clone)]
pub struct ProofCheck<'a> {
    /// The request's method (`POST`, `GET`, …), compared exactly.
    pub method: &'a str,
    /// The request's URL as the client addressed it; query and fragment are
    /// ignored, scheme, host, default port and percent-encoding normalised.
    pub url: &'a str,
    /// The access token presented with the proof: its hash must be `ath`.
    /// `None` at a token endpoint.
    pub access_token: Option<&'a str>,
    /// Now, seconds since the epoch.
    pub now: i64,
    /// How old `iat` may be.
    pub max_age: Duration,
    /// How far in the future `iat` may be (clock skew).
    pub leeway: Duration,
}

/// A proof that passed [`verify_proof`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proof {
    /// RFC 7638 thumbprint of the proof's key: what `cnf.jkt` names.
    pub jkt: String,
    /// The proof's unique id.
    pub jti: String,
    /// When the proof was made.
    pub iat: i64,
    /// The server nonce it carries, if any.
    pub nonce: Option<String>,
}

impl Proof {
    /// A fixed-size key for replay tracking: SHA-256 of the key thumbprint
    /// and the `jti` (one client cannot burn another's `jti`).
    pub fn replay_key(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(self.jkt.as_bytes());
        hash.update([0]);
        hash.update(self.jti.as_bytes());
        hash.finalize().into()
    }
}

#[derive(Deserialize)]
struct ProofHeader {
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    jwk: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ProofClaims {
    #[serde(default)]
    jti: Option<Value>,
    #[serde(default)]
    htm: Option<Value>,
    #[serde(default)]
    htu: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    ath: Option<Value>,
    #[serde(default)]
    nonce: Option<Value>,
}

/// Check a DPoP proof JWT against the request it came with. Replay and nonce
/// are left to the caller (see [`Proof::replay_key`]).
pub fn verify_proof(proof: &str, check: &ProofCheck<'_>) -> Result<Proof, DpopError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(DpopError::Malformed("proof is too long"));
    }
    let (header64, payload64, signature64) = crate::jws::segments(proof).ok_or(
        DpopError::Malformed("expected three dot-separated segments"),
    )?;
    let decode = |segment: &str, what: &'static str| {
        URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| DpopError::Malformed(what))
    };
    let header: ProofHeader = serde_json::from_slice(&decode(header64, "header is not base64url")?)
        .map_err(|_| DpopError::Malformed("header is not a JSON object"))?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(DpopError::WrongType);
    }
    if header.crit.is_some() {
        return Err(DpopError::Malformed("crit is not understood"));
    }
    let alg = match header.alg.as_deref() {
        Some(alg) if DPOP_ALGORITHMS.contains(&alg) => alg,
        _ => return Err(DpopError::DisallowedAlgorithm),
    };
    let key = ProofKey::from_jwk(alg, header.jwk.as_ref().ok_or(DpopError::InvalidKey)?)?;
    let signature = decode(signature64, "signature is not base64url")?;
    let signing_input = &proof.as_bytes()[..header64.len() + 1 + payload64.len()];
    key.verify(signing_input, &signature)?;

    let claims: ProofClaims =
        serde_json::from_slice(&decode(payload64, "payload is not base64url")?)
            .map_err(|_| DpopError::Malformed("payload is not a JSON object"))?;
    let text = |value: Option<Value>, name: &'static str| match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(DpopError::MissingClaim(name)),
    };
    let jti = text(claims.jti, "jti")?;
    if jti.len() > MAX_JTI_LEN {
        return Err(DpopError::Malformed("jti is too long"));
    }
    if text(claims.htm, "htm")? != check.method {
        return Err(DpopError::WrongMethod);
    }
    let htu = text(claims.htu, "htu")?;
    if normalized_url(&htu).is_none() || normalized_url(&htu) != normalized_url(check.url) {
        return Err(DpopError::WrongUrl);
    }
    let iat = match claims.iat {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .ok_or(DpopError::MissingClaim("iat"))?,
        _ => return Err(DpopError::MissingClaim("iat")),
    };
    let oldest = check.now.saturating_sub(check.max_age.as_secs() as i64);
    let newest = check.now.saturating_add(check.leeway.as_secs() as i64);
    if iat < oldest || iat > newest {
        return Err(DpopError::IatOutOfWindow);
    }
    if let Some(token) = check.access_token {
        if text(claims.ath, "ath")? != token_hash(token) {
            return Err(DpopError::WrongTokenHash);
        }
    }
    let nonce = match claims.nonce {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(DpopError::Malformed("nonce is not a string")),
    };
    Ok(Proof {
        jkt: key.thumbprint,
        jti,
        iat,
        nonce,
    })
}

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449 §4.2).
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// RFC 9449 §4.3: scheme and host lowercase, default port dropped,
/// percent-encoding normalised, no query or fragment.
fn normalized_url(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return None;
    }
    parsed.set_query(None);
    parsed.set_fragment(None);
    Some(parsed.into())
}

/// The public key in a proof's header, checked against its `alg`.
struct ProofKey {
    kind: KeyKind,
    thumbprint: String,
}

enum KeyKind {
    Es256(Vec<u8>),
    Ed25519(Vec<u8>),
    Rsa { n: Vec<u8>, e: Vec<u8>, pss: bool },
}

impl ProofKey {
    fn from_jwk(alg: &str, jwk: &serde_json::Map<String, Value>) -> Result<Self, DpopError> {
        // A private key in a header is a client bug that leaked its key.
        const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
        if PRIVATE.iter().any(|member| jwk.contains_key(*member)) {
            return Err(DpopError::InvalidKey);
        }
        let member = |name: &str| -> Result<Vec<u8>, DpopError> {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
                .ok_or(DpopError::InvalidKey)
        };
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        match (alg, text("kty"), text("crv")) {
            ("ES256", Some("EC"), Some("P-256")) => {
                let (x, y) = (member("x")?, member("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(DpopError::InvalidKey);
                }
                let thumbprint = thumbprint(&format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    URL_SAFE_NO_PAD.encode(&x),
                    URL_SAFE_NO_PAD.encode(&y)
                ));
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Ok(Self {
                    kind: KeyKind::Es256(point),
                    thumbprint,
                })
            }
            ("EdDSA", Some("OKP"), Some("Ed25519")) => {
                let x = member("x")?;
                if x.len() != 32 {
                    return Err(DpopError::InvalidKey);
                }
                let thumbprint = thumbprint(&format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    URL_SAFE_NO_PAD.encode(&x)
                ));
                Ok(Self {
                    kind: KeyKind::Ed25519(x),
                    thumbprint,
                })
            }
            ("RS256" | "PS256", Some("RSA"), _) => {
                let (n, e) = (member("n")?, member("e")?);
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 {
                    return Err(DpopError::InvalidKey);
                }
                Ok(Self {
                    thumbprint: crate::keys::rsa_thumbprint(&n, &e),
                    kind: KeyKind::Rsa {
                        n,
                        e,
                        pss: alg == "PS256",
                    },
                })
            }
            _ => Err(DpopError::InvalidKey),
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), DpopError> {
        let verified = match &self.kind {
            KeyKind::Es256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
            }
            KeyKind::Ed25519(x) => {
                UnparsedPublicKey::new(&signature::ED25519, x).verify(message, signature)
            }
            KeyKind::Rsa { n, e, pss } => {
                let params = if *pss {
                    &signature::RSA_PSS_2048_8192_SHA256
                } else {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                };
                signature::RsaPublicKeyComponents { n, e }.verify(params, message, signature)
            }
        };
        verified.map_err(|_| DpopError::InvalidSignature)
    }
}

fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A client's DPoP key (ES256, P-256), generated in memory, and the proofs
/// it signs. Cheap to share behind an `Arc`; `Debug` shows only the
/// thumbprint.
pub struct DpopKey {
    pair: signature::EcdsaKeyPair,
    jwk: String,
    thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("jkt", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// A DPoP key could not be made or used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("DPoP key: {0}")]
pub struct DpopKeyError(&'static str);

impl DpopKey {
    /// A fresh P-256 key from the system's secure random source.
    pub fn generate() -> Result<Self, DpopKeyError> {
        let pair = signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| DpopKeyError("key generation failed"))?;
        Self::from_pair(pair)
    }

    /// A P-256 key from its PKCS#8 DER encoding (to keep one key across restarts).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, DpopKeyError> {
        let pair =
            signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map_err(|_| DpopKeyError("not a PKCS#8 P-256 key"))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: signature::EcdsaKeyPair) -> Result<Self, DpopKeyError> {
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(DpopKeyError("unexpected public key encoding"));
        }
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..]),
        );
        let jwk = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        Ok(Self {
            thumbprint: thumbprint(&jwk),
            jwk,
            pair,
        })
    }

    /// The key's RFC 7638 thumbprint: the `jkt` tokens bound to it carry.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A proof for `method` on `url`, made now, for `access_token` (none at
    /// a token endpoint), carrying the server's `nonce` if it asked for one.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, DpopKeyError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).map_err(|_| DpopKeyError("no randomness"))?;
        self.proof_with(&ProofClaimsOut {
            jti: &URL_SAFE_NO_PAD.encode(jti),
            htm: method,
            htu: url,
            iat: now,
            ath: access_token.map(token_hash).as_deref(),
            nonce,
        })
    }

    /// A proof with every claim given: for tests that craft bad proofs.
    pub fn proof_with(&self, claims: &ProofClaimsOut<'_>) -> Result<String, DpopKeyError> {
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, self.jwk);
        let mut body = serde_json::json!({
            "jti": claims.jti, "htm": claims.htm, "htu": claims.htu, "iat": claims.iat,
        });
        if let Some(ath) = claims.ath {
            body["ath"] = Value::from(ath);
        }
        if let Some(nonce) = claims.nonce {
            body["nonce"] = Value::from(nonce);
        }
        self.sign_compact(&header, &body.to_string())
    }

    /// Sign `header` and `payload` JSON as they are (tests craft headers).
    pub fn sign_compact(&self, header: &str, payload: &str) -> Result<String, DpopKeyError> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self
            .pair
            .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
            .map_err(|_| DpopKeyError("signing failed"))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// The public key as a JWK (JSON text).
    pub fn public_jwk(&self) -> &str {
        &self.jwk
    }
}

/// The claims of a proof made by [`DpopKey::proof_with`].
#[derive(Debug, Clone)]
pub struct ProofClaimsOut<'a> {
    /// Unique id.
    pub jti: &'a str,
    /// HTTP method.
    pub htm: &'a str,
    /// HTTP URL.
    pub htu: &'a str,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Hash of the access token ([`token_hash`]).
    pub ath: Option<&'a str>,
    /// Server nonce.
    pub nonce: Option<&'a str>,
}

/// A resource server's DPoP rules, given to
/// [`VerifierBuilder::dpop`](crate::VerifierBuilder::dpop).
#[derive(Debug, Clone)]
pub struct DpopSettings {
    pub(crate) origins: Vec<String>,
    pub(crate) max_age: Duration,
    pub(crate) leeway: Duration,
    pub(crate) replay_capacity: usize,
    pub(crate) replay_capacity_per_key: usize,
    pub(crate) nonce: Option<NonceSettings>,
}

#[derive(Debug, Clone)]
pub(crate) struct NonceSettings {
    secret: [u8; 32],
    lifetime: Duration,
}

impl DpopSettings {
    /// Accept proofs whose `htu` is the request's path on one of `origins`
    /// (`https://blog.example.com`): the URLs clients address this service
    /// by. The `Host` header is never trusted for this.
    pub fn new<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            origins: origins
                .into_iter()
                .filter_map(|o| normalized_url(o.as_ref()))
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
            max_age: Duration::from_secs(60),
            leeway: Duration::from_secs(5),
            replay_capacity: 200_000,
            replay_capacity_per_key: 10_000,
            nonce: None,
        }
    }

    /// How old a proof's `iat` may be (default 60 s); its `jti` is
    /// remembered at least this long.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How far ahead of this clock a proof's `iat` may be (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Most `jti`s remembered (default 200,000, about 20 MB). Full, the
    /// oldest entry is forgotten to make room: no client can make the
    /// verifier refuse everyone else's proofs. A forgotten `jti` could be
    /// replayed only while its proof is still within `max_age`.
    pub fn replay_capacity(mut self, capacity: usize) -> Self {
        self.replay_capacity = capacity.max(1);
        self
    }

    /// Most `jti`s remembered for one key (default 10,000: 150 requests a
    /// second over a 65 s window). Beyond it that key's own oldest entry is
    /// forgotten, so one key cannot push other keys' entries out either.
    pub fn replay_capacity_per_key(mut self, capacity: usize) -> Self {
        self.replay_capacity_per_key = capacity.max(1);
        self
    }

    /// Require a server nonce (RFC 9449 §9): a proof without a current one
    /// is answered `401 use_dpop_nonce` with a fresh `DPoP-Nonce`. Nonces are
    /// stateless (a timestamp and an HMAC under `secret`), so replicas that
    /// share `secret` accept each other's; each lives `lifetime`.
    pub fn require_nonce(mut self, secret: [u8; 32], lifetime: Duration) -> Self {
        self.nonce = Some(NonceSettings { secret, lifetime });
        self
    }

    /// Whether `url` (as the client addressed it) is on an accepted origin,
    /// and the URL the proof must name.
    fn expected_url(&self, path: &str, htu: &str) -> Option<String> {
        let htu = normalized_url(htu)?;
        self.origins
            .iter()
            .find(|origin| {
                htu.strip_prefix(origin.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
            .and_then(|origin| normalized_url(&format!("{origin}{path}")))
    }
}

/// The verifier's DPoP state: settings, replay cache, nonce key.
pub(crate) struct DpopState {
    pub(crate) settings: DpopSettings,
    replay: Mutex<ReplayCache>,
}

/// The `jti`s seen in the last `max_age` + `leeway` (after that a proof
/// fails its `iat` check anyway), per key and in arrival order. Bounded as
/// a whole and per key; full, the oldest entry goes first (of that key, or
/// of all). `order` may hold entries already forgotten for their key; they
/// are skipped when reached, and the queue is compacted when it doubles.
struct ReplayCache {
    /// Replay key → (key thumbprint prefix, expiry).
    live: HashMap<[u8; 16], ([u8; 16], i64)>,
    /// Per key thumbprint prefix, its live replay keys oldest first.
    per_key: HashMap<[u8; 16], VecDeque<[u8; 16]>>,
    /// Every inserted replay key, oldest first.
    order: VecDeque<[u8; 16]>,
}

impl ReplayCache {
    fn new() -> Self {
        Self {
            live: HashMap::new(),
            per_key: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn forget(&mut self, replay: &[u8; 16]) {
        if let Some((owner, _)) = self.live.remove(replay) {
            if let Some(queue) = self.per_key.get_mut(&owner) {
                // Almost always its key's oldest (entries expire and are
                // evicted in arrival order).
                if queue.front() == Some(replay) {
                    queue.pop_front();
                } else {
                    queue.retain(|k| k != replay);
                }
                if queue.is_empty() {
                    self.per_key.remove(&owner);
                }
            }
        }
    }

    /// Drop expired entries, then the oldest while over `capacity`.
    fn make_room(&mut self, now: i64, capacity: usize) {
        while let Some(front) = self.order.front().copied() {
            match self.live.get(&front) {
                None => {
                    self.order.pop_front();
                }
                Some((_, expires)) if *expires <= now || self.live.len() >= capacity => {
                    self.order.pop_front();
                    self.forget(&front);
                }
                Some(_) => break,
            }
        }
        if self.order.len() > capacity.max(16).saturating_mul(2) {
            let live = &self.live;
            self.order.retain(|k| live.contains_key(k));
        }
    }

    fn insert(&mut self, replay: [u8; 16], owner: [u8; 16], expires: i64, per_key: usize) {
        let queue = self.per_key.entry(owner).or_default();
        let evicted = if queue.len() >= per_key {
            queue.pop_front()
        } else {
            None
        };
        queue.push_back(replay);
        if let Some(evicted) = evicted {
            self.live.remove(&evicted);
        }
        self.live.insert(replay, (owner, expires));
        self.order.push_back(replay);
    }
}

impl DpopState {
    pub(crate) fn new(settings: DpopSettings) -> Self {
        Self {
            settings,
            replay: Mutex::new(ReplayCache::new()),
        }
    }

    /// Check the proof for a request on `path` with `method`, presenting
    /// `access_token` bound to `jkt`. `Err(Ok(nonce))` asks for a nonce.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &str,
        path: &str,
        access_token: &str,
        jkt: Option<&str>,
        now: i64,
    ) -> Result<Proof, Result<String, DpopError>> {
        let settings = &self.settings;
        // The htu the client meant must be one of ours; the proof check then
        // compares it with the path this request actually has.
        let claimed = claimed_htu(proof).ok_or(Err(DpopError::MissingClaim("htu")))?;
        let expected = settings
            .expected_url(path, &claimed)
            .ok_or(Err(DpopError::WrongUrl))?;
        let verified = verify_proof(
            proof,
            &ProofCheck {
                method,
                url: &expected,
                access_token: Some(access_token),
                now,
                max_age: settings.max_age,
                leeway: settings.leeway,
            },
        )
        .map_err(Err)?;
        if jkt != Some(verified.jkt.as_str()) {
            return Err(Err(DpopError::KeyMismatch));
        }
        if let Some(nonce) = &settings.nonce {
            if !verified
                .nonce
                .as_deref()
                .is_some_and(|n| nonce.accepts(n, now))
            {
                return Err(Ok(nonce.issue(now)));
            }
        }
        self.remember(&verified, now).map_err(Err)?;
        Ok(verified)
    }

    fn remember(&self, proof: &Proof, now: i64) -> Result<(), DpopError> {
        let lifetime = (self.settings.max_age + self.settings.leeway).as_secs() as i64 + 1;
        let mut replay = [0u8; 16];
        replay.copy_from_slice(&proof.replay_key()[..16]);
        let mut owner = [0u8; 16];
        owner.copy_from_slice(&Sha256::digest(proof.jkt.as_bytes())[..16]);
        let mut cache = self
            .replay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.make_room(now, usize::MAX);
        if cache.live.contains_key(&replay) {
            return Err(DpopError::Replayed);
        }
        cache.make_room(now, self.settings.replay_capacity);
        cache.insert(
            replay,
            owner,
            now.saturating_add(lifetime),
            self.settings.replay_capacity_per_key,
        );
        Ok(())
    }

    /// A nonce to hand out with a challenge, when nonces are required.
    pub(crate) fn fresh_nonce(&self, now: i64) -> Option<String> {
        self.settings.nonce.as_ref().map(|n| n.issue(now))
    }
}

/// The `htu` a proof claims, read without verifying (only to pick the origin).
fn claimed_htu(proof: &str) -> Option<String> {
    let payload = proof.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    #[derive(Deserialize)]
    struct Htu {
        htu: String,
    }
    serde_json::from_slice::<Htu>(&bytes).ok().map(|h| h.htu)
}

impl NonceSettings {
    fn tag(&self, at: i64) -> aws_lc_rs::hmac::Tag {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.secret);
        aws_lc_rs::hmac::sign(&key, &at.to_be_bytes())
    }

    fn issue(&self, now: i64) -> String {
        let mut nonce = now.to_be_bytes().to_vec();
        nonce.extend_from_slice(&self.tag(now).as_ref()[..16]);
        URL_SAFE_NO_PAD.encode(nonce)
    }

    fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let Some((at, tag)) = bytes.split_first_chunk::<8>() else {
            return false;
        };
        let at = i64::from_be_bytes(*at);
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.secret);
        let authentic = tag.len() == 16
            && aws_lc_rs::constant_time::verify_slices_are_equal(
                tag,
                &aws_lc_rs::hmac::sign(&key, &at.to_be_bytes()).as_ref()[..16],
            )
            .is_ok();
        authentic && at <= now + 5 && now - at <= self.lifetime.as_secs() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> ProofCheck<'_> {
        ProofCheck {
            method: "POST",
            url,
            access_token: None,
            now: 1_000_000,
            max_age: Duration::from_secs(60),
            leeway: Duration::from_secs(5),
        }
    }

    fn claims(iat: i64) -> ProofClaimsOut<'static> {
        ProofClaimsOut {
            jti: "j1",
            htm: "POST",
            htu: "https://as.example/oauth/token",
            iat,
            ath: None,
            nonce: None,
        }
    }

    #[test]
    fn a_proof_made_by_a_key_verifies_and_names_its_thumbprint() {
        let key = DpopKey::generate().expect("key");
        let proof = key.proof_with(&claims(1_000_000)).expect("proof");
        let verified =
            verify_proof(&proof, &check("HTTPS://AS.example:443/oauth/token?x=1")).expect("ok");
        assert_eq!(verified.jkt, key.thumbprint());
        assert_eq!(verified.jti, "j1");
    }

    #[test]
    fn url_normalisation_ignores_query_case_and_default_port_but_not_path() {
        assert_eq!(
            normalized_url("HTTPS://Blog.Example:443/posts?page=2#x"),
            normalized_url("https://blog.example/posts")
        );
        assert_ne!(
            normalized_url("https://blog.example/posts/"),
            normalized_url("https://blog.example/posts")
        );
        assert_eq!(normalized_url("ftp://blog.example/"), None);
    }

    #[test]
    fn nonces_are_accepted_until_they_expire_and_only_with_their_secret() {
        let nonce = NonceSettings {
            secret: [7; 32],
            lifetime: Duration::from_secs(300),
        };
        let issued = nonce.issue(1000);
        assert!(nonce.accepts(&issued, 1200));
        assert!(!nonce.accepts(&issued, 1301));
        let other = NonceSettings {
            secret: [8; 32],
            lifetime: Duration::from_secs(300),
        };
        assert!(!other.accepts(&issued, 1000));
        assert!(!nonce.accepts("not-a-nonce", 1000));
    }

    fn proof(jkt: &str, jti: &str) -> Proof {
        Proof {
            jkt: jkt.into(),
            jti: jti.into(),
            iat: 0,
            nonce: None,
        }
    }

    #[test]
    fn the_replay_cache_refuses_a_jti_twice_while_a_proof_could_still_pass() {
        let state = DpopState::new(DpopSettings::new(["https://api.example"]));
        let used = proof("k", "j");
        state.remember(&used, 100).expect("first use");
        assert_eq!(state.remember(&used, 130), Err(DpopError::Replayed));
        assert_eq!(state.remember(&used, 165), Err(DpopError::Replayed));
        // The same jti under another key is another proof.
        state
            .remember(&proof("other", "j"), 130)
            .expect("another key");
        // 66 s later (max_age 60 + leeway 5 + 1) no proof that old passes iat.
        state.remember(&used, 166).expect("forgotten");
    }

    #[test]
    fn a_full_replay_cache_forgets_the_oldest_instead_of_refusing() {
        let state = DpopState::new(DpopSettings::new(["https://api.example"]).replay_capacity(2));
        state.remember(&proof("a", "1"), 100).expect("first");
        state.remember(&proof("b", "2"), 101).expect("second");
        // Full: the oldest goes, the newcomer is remembered.
        state.remember(&proof("c", "3"), 102).expect("never 503");
        assert_eq!(
            state.remember(&proof("c", "3"), 103),
            Err(DpopError::Replayed)
        );
        assert_eq!(
            state.remember(&proof("b", "2"), 103),
            Err(DpopError::Replayed)
        );
        state
            .remember(&proof("a", "1"), 103)
            .expect("the oldest was forgotten");
    }

    #[test]
    fn one_key_flooding_the_cache_pushes_out_only_its_own_entries() {
        let state = DpopState::new(
            DpopSettings::new(["https://api.example"])
                .replay_capacity(1000)
                .replay_capacity_per_key(10),
        );
        state.remember(&proof("victim", "v1"), 100).expect("victim");
        for i in 0..5000 {
            state
                .remember(&proof("flooder", &i.to_string()), 100)
                .expect("the flood is absorbed, not refused");
        }
        // The victim's proof is still remembered; the flooder keeps ten.
        assert_eq!(
            state.remember(&proof("victim", "v1"), 101),
            Err(DpopError::Replayed)
        );
        assert_eq!(
            state.remember(&proof("flooder", "4999"), 101),
            Err(DpopError::Replayed)
        );
        state
            .remember(&proof("flooder", "0"), 101)
            .expect("its own oldest went first");
        let cache = state.replay.lock().expect("lock");
        assert!(cache.live.len() <= 12, "{}", cache.live.len());
        assert!(cache.order.len() <= 2 * 1000, "{}", cache.order.len());
    }
}
