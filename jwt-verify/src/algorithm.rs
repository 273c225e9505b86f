//! The signature algorithms a verifier can accept: this crate's own type, so
//! no dependency's type is part of the public API.

use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm (RFC 7518 §3.3–§3.5): RSA, and ECDSA on P-256
/// for upstream providers that sign with it. The default allow-list is
/// [`Algorithm::RS256`] alone; a key only ever verifies the family it is
/// (an RSA key never an `ES256` token, an EC key never an `RS256` one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what Signet signs with.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA with P-256 and SHA-256 (an `EC` JWK with `crv` `P-256`).
    ES256,
}

impl Algorithm {
    /// The JOSE name (`RS256`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
        }
    }

    /// Whether a key of the EC family verifies it (else RSA).
    pub(crate) fn is_ecdsa(self) -> bool {
        matches!(self, Self::ES256)
    }

    /// The algorithm named exactly `name` (JOSE names are case-sensitive).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "ES256" => Self::ES256,
            _ => return None,
        })
    }

    /// The same algorithm for jsonwebtoken's verifiers (an internal detail).
    pub(crate) fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
            Self::RS384 => jsonwebtoken::Algorithm::RS384,
            Self::RS512 => jsonwebtoken::Algorithm::RS512,
            Self::PS256 => jsonwebtoken::Algorithm::PS256,
            Self::PS384 => jsonwebtoken::Algorithm::PS384,
            Self::PS512 => jsonwebtoken::Algorithm::PS512,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not a JWS algorithm this crate verifies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a supported JWS algorithm (RS256, RS384, RS512, PS256, PS384, PS512, ES256)")]
pub struct UnknownAlgorithm;

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name).ok_or(UnknownAlgorithm)
    }
}

/// A registered claim that [`Validation::require_claim`](crate::Validation::require_claim)
/// can demand. A closed set: a claim this crate does not check cannot be
/// required by mistake (extend your own claims type for custom checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `iss`.
    Iss,
    /// `sub`.
    Sub,
    /// `aud`.
    Aud,
    /// `exp` (always required unless the expiry check is disabled).
    Exp,
    /// `nbf`.
    Nbf,
    /// `iat`.
    Iat,
    /// `jti`.
    Jti,
    /// `scope` (RFC 9068).
    Scope,
    /// `client_id` (RFC 9068).
    ClientId,
}

impl Claim {
    /// The claim's name in the payload.
    pub fn name(self) -> &'static str {
        match self {
            Self::Iss => "iss",
            Self::Sub => "sub",
            Self::Aud => "aud",
            Self::Exp => "exp",
            Self::Nbf => "nbf",
            Self::Iat => "iat",
            Self::Jti => "jti",
            Self::Scope => "scope",
            Self::ClientId => "client_id",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ] {
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
            assert_eq!(format!("{:?}", alg.to_jsonwebtoken()), alg.as_str());
        }
        assert_eq!("rs256".parse::<Algorithm>(), Err(UnknownAlgorithm));
        assert_eq!("HS256".parse::<Algorithm>(), Err(UnknownAlgorithm));
        assert_eq!("none".parse::<Algorithm>(), Err(UnknownAlgorithm));
    }
}
