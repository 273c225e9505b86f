//! What a token must satisfy besides a valid signature.

use crate::{Algorithm, Claim, StandardClaims, VerifyError};
use std::time::Duration;

/// The rules a token's header and claims are checked against.
///
/// Built secure by default, per RFC 8725: an issuer is required, only RS256 is
/// accepted, `exp` is always required, a 60 s leeway absorbs clock skew, and tokens
/// over 8 KiB are refused before any parsing.
///
/// ```
/// use jwt_verify::Validation;
/// let v = Validation::new("https://auth.example.com")
///     .audience("blog")
///     .require_type("at+jwt");
/// assert_eq!(v.audiences(), ["blog"]);
/// ```
#[derive(Debug, Clone)]
pub struct Validation {
    pub(crate) issuer: Option<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: Duration,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) required_claims: Vec<Claim>,
    pub(crate) required_type: Option<String>,
    pub(crate) max_token_len: usize,
    pub(crate) validate_exp: bool,
    pub(crate) validate_nbf: bool,
    pub(crate) max_lifetime: Option<Duration>,
}

impl Validation {
    /// Accept tokens issued by `issuer` (compared exactly with the `iss` claim).
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: Some(issuer.into()),
            ..Self::without_issuer()
        }
    }

    /// Accept any `iss`. Only for tests and for key sources that can only ever
    /// hold one issuer's keys; prefer [`Validation::new`].
    pub fn without_issuer() -> Self {
        Self {
            issuer: None,
            audiences: Vec::new(),
            leeway: Duration::from_secs(60),
            algorithms: vec![Algorithm::RS256],
            required_claims: vec![Claim::Exp],
            required_type: None,
            max_token_len: 8 * 1024,
            validate_exp: true,
            validate_nbf: true,
            max_lifetime: Some(Duration::from_secs(24 * 3600)),
        }
    }

    /// The longest lifetime a token may have (default 24 h): a token whose
    /// `exp` lies further than this past its `iat` — or past now — is refused
    /// with [`VerifyError::LifetimeTooLong`](crate::VerifyError::LifetimeTooLong),
    /// and so is one whose `iat` is in the future. A leaked signing key or a
    /// misconfigured issuer then cannot mint a token that stays valid for years.
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = Some(lifetime);
        self
    }

    /// Accept any token lifetime. Only for known-answer tests of old vectors.
    pub fn insecure_disable_lifetime_check(mut self) -> Self {
        self.max_lifetime = None;
        self
    }

    /// Add an accepted audience. With at least one configured, a token must
    /// carry `aud` naming one of them; a token with no `aud` is rejected.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Replace the accepted audiences.
    pub fn audiences_from<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Clock-skew allowance applied to `exp` and `nbf`.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Replace the algorithm allow-list (default: RS256 only).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self.algorithms.dedup();
        self
    }

    /// Require a registered claim to be present (`exp` always is). The claim
    /// is a [`Claim`], so a misspelt name is a compile error rather than a
    /// requirement silently never checked.
    pub fn require_claim(mut self, claim: Claim) -> Self {
        if !self.required_claims.contains(&claim) {
            self.required_claims.push(claim);
        }
        self
    }

    /// Require the header `typ` to be this media type (RFC 9068 access tokens use
    /// `at+jwt`; `application/at+jwt` is accepted as the same, case-insensitively).
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.required_type = Some(typ.into());
        self
    }

    /// Refuse tokens longer than this many bytes before parsing anything.
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// Skip the `exp` check. Only for known-answer tests of old vectors.
    pub fn insecure_disable_exp_check(mut self) -> Self {
        self.validate_exp = false;
        self.max_lifetime = None;
        self.required_claims.retain(|claim| *claim != Claim::Exp);
        self
    }

    /// The configured issuer, if any.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The accepted audiences.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The algorithm allow-list.
    pub fn allowed_algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    pub(crate) fn type_matches(&self, typ: Option<&str>) -> bool {
        let Some(required) = self.required_type.as_deref() else {
            return true;
        };
        let Some(typ) = typ else { return false };
        let strip = |s: &str| {
            let lower = s.to_ascii_lowercase();
            lower
                .strip_prefix("application/")
                .map(str::to_owned)
                .unwrap_or(lower)
        };
        strip(typ) == strip(required)
    }
}

impl Validation {
    /// Check the registered claims as of `now` (seconds since the epoch).
    pub(crate) fn check_claims(
        &self,
        claims: &StandardClaims,
        has_exp: bool,
        now: i64,
    ) -> Result<(), VerifyError> {
        let validation = self;
        let leeway = validation.leeway.as_secs() as i64;
        if validation.required_claims.contains(&Claim::Exp) && !has_exp {
            return Err(VerifyError::MissingClaim("exp"));
        }
        if validation.validate_exp && has_exp && now > claims.exp.saturating_add(leeway) {
            return Err(VerifyError::Expired);
        }
        if let Some(max) = validation.max_lifetime {
            let max = max.as_secs() as i64;
            let too_long = has_exp
                && (claims.exp > now.saturating_add(max).saturating_add(leeway)
                    || claims
                        .iat
                        .is_some_and(|iat| claims.exp.saturating_sub(iat) > max));
            let issued_in_future = claims
                .iat
                .is_some_and(|iat| iat > now.saturating_add(leeway));
            if too_long || issued_in_future {
                return Err(VerifyError::LifetimeTooLong);
            }
        }
        if validation.validate_nbf {
            if let Some(nbf) = claims.nbf {
                if nbf > now.saturating_add(leeway) {
                    return Err(VerifyError::NotYetValid);
                }
            }
        }
        if let Some(issuer) = validation.issuer.as_deref() {
            // A trailing slash is not a different issuer (a URL typed either way).
            let same = claims
                .iss
                .as_deref()
                .is_some_and(|iss| iss.trim_end_matches('/') == issuer.trim_end_matches('/'));
            if !same {
                // Expected and found, never the token: a deployment whose tokens
                // all fail sees why in one line.
                tracing::debug!(expected = issuer, found = ?claims.iss, "token issuer is not accepted");
                return Err(VerifyError::WrongIssuer);
            }
        }
        if !validation.audiences.is_empty()
            && !claims
                .aud
                .iter()
                .any(|aud| validation.audiences.iter().any(|accepted| accepted == aud))
        {
            tracing::debug!(expected = ?validation.audiences, found = ?claims.aud, "token audience is not accepted");
            return Err(VerifyError::WrongAudience);
        }
        for claim in &validation.required_claims {
            let present = match claim {
                Claim::Iss => claims.iss.is_some(),
                Claim::Sub => claims.sub.is_some(),
                Claim::Aud => !claims.aud.is_empty(),
                Claim::Exp => has_exp,
                Claim::Nbf => claims.nbf.is_some(),
                Claim::Iat => claims.iat.is_some(),
                Claim::Jti => claims.jti.is_some(),
                Claim::Scope => claims.scope.is_some(),
                Claim::ClientId => claims.client_id.is_some(),
            };
            if !present {
                return Err(VerifyError::MissingClaim(claim.name()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    fn claims(json: serde_json::Value) -> StandardClaims {
        serde_json::from_value(json).expect("claims")
    }

    /// The clock is an argument: expiry and lifetime are checked at any
    /// instant without waiting for it.
    #[test]
    fn claims_are_checked_as_of_the_instant_given() {
        let validation = Validation::new("https://issuer.test");
        let token = claims(serde_json::json!({
            "iss": "https://issuer.test", "iat": 1_000_000, "exp": 1_000_900
        }));
        assert_eq!(validation.check_claims(&token, true, 1_000_100), Ok(()));
        assert_eq!(
            validation.check_claims(&token, true, 1_000_900 + 61),
            Err(VerifyError::Expired),
            "past exp + 60 s leeway"
        );
        assert_eq!(
            validation.check_claims(&token, true, 1_000_000 - 3600),
            Err(VerifyError::LifetimeTooLong),
            "issued in the future as seen from then"
        );
    }

    #[test]
    fn an_issuer_with_or_without_a_trailing_slash_is_the_same_issuer() {
        let token = claims(serde_json::json!({
            "iss": "https://issuer.test", "iat": 1_000_000, "exp": 1_000_900
        }));
        let slashed = claims(serde_json::json!({
            "iss": "https://issuer.test/", "iat": 1_000_000, "exp": 1_000_900
        }));
        for configured in ["https://issuer.test", "https://issuer.test/"] {
            let validation = Validation::new(configured);
            for presented in [&token, &slashed] {
                assert_eq!(validation.check_claims(presented, true, 1_000_100), Ok(()));
            }
        }
        let other = claims(serde_json::json!({
            "iss": "https://issuer.test/other", "iat": 1_000_000, "exp": 1_000_900
        }));
        assert_eq!(
            Validation::new("https://issuer.test").check_claims(&other, true, 1_000_100),
            Err(VerifyError::WrongIssuer)
        );
    }
}
