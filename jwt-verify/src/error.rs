//! Why a token, a key or a key source was refused.

/// Every [`VerifyError::reason`], indexed by `reason_index`.
pub(crate) const REASONS: [&str; 22] = [
    "too_long",
    "malformed",
    "alg_none",
    "disallowed_algorithm",
    "algorithm_mismatch",
    "critical_header",
    "wrong_type",
    "missing_kid",
    "unknown_kid",
    "unusable_key",
    "invalid_signature",
    "expired",
    "not_yet_valid",
    "wrong_issuer",
    "wrong_audience",
    "missing_claim",
    "invalid_claim_type",
    "keys_unavailable",
    "lifetime_too_long",
    "revoked",
    "revocations_stale",
    "dpop_proof_required",
];

/// Why a token was rejected.
///
/// Every variant maps to `401` with `error="invalid_token"` (RFC 6750 §3.1) except
/// [`VerifyError::KeysUnavailable`] and [`VerifyError::RevocationsStale`],
/// which are server-side problems (`503`). The
/// [`Display`](std::fmt::Display) text is fixed per variant and never echoes token
/// bytes, so it is safe to put in an `error_description` or a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is longer than [`Validation::max_token_len`](crate::Validation::max_token_len).
    #[error("token is too long")]
    TooLong,
    /// Not three dot-separated base64url segments, or a segment is not valid base64url or JSON.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// The header says `"alg":"none"`: an unsigned token (RFC 8725 §3.1).
    #[error("unsigned tokens (alg none) are not accepted")]
    AlgNone,
    /// The header names an algorithm that is not in the allow-list (HS*, ES*, PS*, …).
    #[error("signing algorithm is not accepted")]
    DisallowedAlgorithm,
    /// The key found for the `kid` is pinned to a different algorithm than the token's.
    #[error("signing algorithm does not match the key")]
    AlgorithmMismatch,
    /// The header carries `crit`: extensions we do not understand must be rejected (RFC 7515 §4.1.11).
    #[error("token has critical header parameters that are not understood")]
    CriticalHeader,
    /// The header has `typ`, but not the one the validation requires (e.g. `at+jwt`).
    #[error("token type is not accepted")]
    WrongType,
    /// The header has no `kid` and the key set holds more than one key.
    #[error("token has no key id")]
    MissingKid,
    /// No key with this `kid`, even after the refresh rule allowed a refetch.
    #[error("token is signed with an unknown key")]
    UnknownKid,
    /// The JWKS has a key with this `kid`, but it was refused when loaded (wrong `kty`, `use`, `alg`, size).
    #[error("token is signed with a key that is not usable for verification")]
    UnusableKey,
    /// The signature does not verify with the key named by `kid`.
    #[error("token signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iss` is missing or not the configured issuer.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// `aud` is missing or names none of the configured audiences.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// A claim the validation requires is absent.
    #[error("token is missing a required claim: {0}")]
    MissingClaim(&'static str),
    /// A registered claim has the wrong JSON type (e.g. `"exp":"tomorrow"`).
    #[error("token claim has the wrong type: {0}")]
    InvalidClaimType(&'static str),
    /// No key set could be loaded yet (lazy start and the auth server is unreachable).
    #[error("verification keys are not available")]
    KeysUnavailable,
    /// `exp` lies further in the future than the maximum token lifetime
    /// allows, or `iat` is in the future
    /// ([`Validation::max_token_lifetime`](crate::Validation::max_token_lifetime)).
    #[error("token lifetime is longer than accepted")]
    LifetimeTooLong,
    /// The issuer revoked the token (its session, user, client or key) through
    /// the security-event feed the verifier follows
    /// ([`VerifierBuilder::revocation_feed`](crate::VerifierBuilder::revocation_feed)).
    #[error("token has been revoked")]
    Revoked,
    /// The revocation feed has not been heard from for longer than
    /// [`VerifierBuilder::revocation_max_staleness`](crate::VerifierBuilder::revocation_max_staleness)
    /// allows, and the verifier is set to fail closed.
    #[error("revocation state is too old to trust")]
    RevocationsStale,
    /// The token is bound to a DPoP key (`cnf.jkt`) but was presented as a
    /// bearer token, or to a verifier without DPoP settings (RFC 9449 §7.2).
    #[error("token is bound to a DPoP key and needs a proof")]
    DpopProofRequired,
}

impl VerifyError {
    /// A short stable label for metrics and logs (`"expired"`, `"unknown_kid"`, …).
    pub fn reason(&self) -> &'static str {
        REASONS[self.reason_index()]
    }

    /// This error's place in [`REASONS`] (the verifier counts rejections by it).
    pub(crate) fn reason_index(&self) -> usize {
        match self {
            Self::TooLong => 0,
            Self::Malformed(_) => 1,
            Self::AlgNone => 2,
            Self::DisallowedAlgorithm => 3,
            Self::AlgorithmMismatch => 4,
            Self::CriticalHeader => 5,
            Self::WrongType => 6,
            Self::MissingKid => 7,
            Self::UnknownKid => 8,
            Self::UnusableKey => 9,
            Self::InvalidSignature => 10,
            Self::Expired => 11,
            Self::NotYetValid => 12,
            Self::WrongIssuer => 13,
            Self::WrongAudience => 14,
            Self::MissingClaim(_) => 15,
            Self::InvalidClaimType(_) => 16,
            Self::KeysUnavailable => 17,
            Self::LifetimeTooLong => 18,
            Self::Revoked => 19,
            Self::RevocationsStale => 20,
            Self::DpopProofRequired => 21,
        }
    }
}

/// Why key material could not be loaded (a PEM, a JWKS document, a fetch).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM could not be read as an RSA public key (SPKI or PKCS#1) or certificate-free key.
    #[error("invalid RSA public key PEM: {0}")]
    InvalidPem(String),
    /// The JWKS document is not `{"keys":[…]}` JSON.
    #[error("invalid JWKS document: {0}")]
    InvalidJwks(String),
    /// The JWKS or discovery document could not be fetched.
    #[error("fetching {url} failed: {reason}")]
    Fetch {
        /// The URL that was fetched (never carries credentials).
        url: String,
        /// What went wrong: status, timeout, size limit, connection error.
        reason: String,
    },
    /// The document was larger than the configured limit.
    #[error("response from {url} exceeds {limit} bytes")]
    TooLarge {
        /// The URL that was fetched.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The key set loaded, but holds no key usable for the allowed algorithms.
    #[error("key set holds no usable RSA signing key")]
    NoUsableKeys,
    /// The HTTP client could not be built (TLS backend).
    #[error("HTTP client could not be built: {0}")]
    Client(String),
    /// An RSA key's modulus is shorter than 2048 bits (RFC 8725 §3.5).
    #[error("RSA key is {bits} bits; at least 2048 are required")]
    WeakKey {
        /// The modulus length.
        bits: usize,
    },
    /// A key refresh stopped before it finished: its task panicked, its
    /// state was poisoned, or the verifier was dropped meanwhile.
    #[error("key refresh interrupted: {0}")]
    RefreshInterrupted(&'static str),
    /// The discovery document's `issuer` is not the issuer it was fetched for (OIDC Discovery §4.3).
    #[error("discovery document issuer {found:?} does not match {expected:?}")]
    IssuerMismatch {
        /// The issuer we asked about.
        expected: String,
        /// The issuer the document claims.
        found: String,
    },
    /// The JWKS or issuer URL does not parse, or is not http(s).
    #[error("invalid key source URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The server answered, with a client error (`404`, `401`, …) that
    /// waiting will not change: the URL, or the issuer it came from, is wrong.
    /// (`408`, `429` and `5xx` are [`Fetch`](Self::Fetch): retried.)
    #[error("{url} answered HTTP status {status}: check the issuer or JWKS URL")]
    Refused {
        /// The URL that was fetched.
        url: String,
        /// The HTTP status.
        status: u16,
    },
}

impl KeyError {
    /// Whether this error says the configuration is wrong (an issuer that
    /// does not match its discovery document, a URL that does not parse or
    /// that the server refuses) rather than that the server is unreachable
    /// for now. A lazy verifier ([`VerifierBuilder::lazy`](crate::VerifierBuilder::lazy))
    /// still fails to build on these: waiting would not fix them.
    pub fn is_misconfiguration(&self) -> bool {
        matches!(
            self,
            Self::IssuerMismatch { .. } | Self::InvalidUrl { .. } | Self::Refused { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_own_reason() {
        let all = [
            VerifyError::TooLong,
            VerifyError::Malformed("x"),
            VerifyError::AlgNone,
            VerifyError::DisallowedAlgorithm,
            VerifyError::AlgorithmMismatch,
            VerifyError::CriticalHeader,
            VerifyError::WrongType,
            VerifyError::MissingKid,
            VerifyError::UnknownKid,
            VerifyError::UnusableKey,
            VerifyError::InvalidSignature,
            VerifyError::Expired,
            VerifyError::NotYetValid,
            VerifyError::WrongIssuer,
            VerifyError::WrongAudience,
            VerifyError::MissingClaim("exp"),
            VerifyError::InvalidClaimType("exp"),
            VerifyError::KeysUnavailable,
            VerifyError::LifetimeTooLong,
            VerifyError::Revoked,
            VerifyError::RevocationsStale,
            VerifyError::DpopProofRequired,
        ];
        let mut indices: Vec<usize> = all.iter().map(VerifyError::reason_index).collect();
        indices.sort_unstable();
        assert_eq!(indices, (0..REASONS.len()).collect::<Vec<_>>());
        assert_eq!(VerifyError::Expired.reason(), "expired");
    }
}
