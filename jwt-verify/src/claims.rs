//! The registered claims every Signet token carries, parsed strictly.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::VerifyError;

/// The RFC 7519 / RFC 9068 claims, checked by the verifier before your handler runs.
///
/// Your own claims type (for [`Claims<T>`](crate::Claims)) is deserialized from the
/// same payload; these are always available alongside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StandardClaims {
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject: a user id, or a service's client id for service tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audiences (a single string on the wire is read as one audience).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aud: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Space-separated scopes (RFC 9068 §2.2.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Roles (RFC 9068 §7.2.1.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The OAuth client the token was issued to (service tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user's email, when the token is a user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The session the token belongs to (OpenID Connect `sid`): what a
    /// session-revoked security event names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Confirmation (RFC 7800): the DPoP key the token is bound to
    /// (RFC 9449 `cnf.jkt`). A bound token is accepted only with a proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// The party acting for `sub` (RFC 8693 §4.1): on a token a service got
    /// by exchanging a user's token, that service; `act.act` whoever acted
    /// before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// Authentication context class (OpenID Connect Core §2): how strongly
    /// the user signed in (Signet: `pwd`, `fed`, `mfa`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Authentication methods (RFC 8176: `pwd`, `otp`, `hwk`, `fed` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// An `act` claim: who acts for the token's subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// The acting party (a Signet service's client id).
    pub sub: String,
    /// Whoever acted before it, in a chain of exchanges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

/// The `cnf` claim of a sender-constrained token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Confirmation {
    /// RFC 7638 thumbprint (base64url SHA-256) of the client's DPoP key.
    pub jkt: String,
}

impl StandardClaims {
    /// The granted scopes, split on spaces.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or("").split_ascii_whitespace()
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|granted| granted == scope)
    }

    /// Whether the sign-in behind the token is of one of these `acr` classes.
    pub fn has_acr(&self, accepted: &[String]) -> bool {
        self.acr
            .as_deref()
            .is_some_and(|acr| accepted.iter().any(|a| a == acr))
    }

    /// Whether the token carries `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|granted| granted == role)
    }

    /// The service acting for the user (`act.sub`), on an exchanged token.
    pub fn actor(&self) -> Option<&str> {
        self.act.as_ref().map(|act| act.sub.as_str())
    }

    /// Whether this is a service token: RFC 9068 §2.2 gives grants with no
    /// resource owner (client_credentials) the client's own id as `sub`.
    pub fn is_service(&self) -> bool {
        self.client_id.is_some() && self.sub == self.client_id
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// The payload as it arrives: time claims kept as raw JSON so a wrong type gets
/// its own precise error instead of a generic parse failure.
#[derive(Deserialize)]
struct WireClaims {
    #[serde(default)]
    iss: Option<Value>,
    #[serde(default)]
    sub: Option<Value>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    exp: Option<Value>,
    #[serde(default)]
    nbf: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    jti: Option<Value>,
    #[serde(default)]
    scope: Option<Value>,
    #[serde(default)]
    roles: Option<Value>,
    #[serde(default)]
    client_id: Option<Value>,
    #[serde(default)]
    sid: Option<Value>,
    #[serde(default)]
    email: Option<Value>,
    #[serde(default)]
    acr: Option<Value>,
    #[serde(default)]
    amr: Option<Value>,
    #[serde(default)]
    cnf: Option<Value>,
    #[serde(default)]
    act: Option<Value>,
}

fn string_claim(value: Option<Value>, name: &'static str) -> Result<Option<String>, VerifyError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(VerifyError::InvalidClaimType(name)),
    }
}

/// RFC 7519 NumericDate: a JSON number, possibly fractional. Anything else is a type error.
fn date_claim(value: Option<Value>, name: &'static str) -> Result<Option<i64>, VerifyError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
                // Truncate toward the past for nbf/iat-safe comparison; exp is compared with leeway anyway.
                Ok(Some(f.floor() as i64))
            } else {
                Err(VerifyError::InvalidClaimType(name))
            }
        }
        Some(_) => Err(VerifyError::InvalidClaimType(name)),
    }
}

fn string_list_claim(value: Option<Value>, name: &'static str) -> Result<Vec<String>, VerifyError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(VerifyError::InvalidClaimType(name)),
            })
            .collect(),
        Some(_) => Err(VerifyError::InvalidClaimType(name)),
    }
}

/// `cnf`: an object; if it names a key by `jkt`, that must be a string. A
/// `cnf` with no `jkt` (another confirmation method) cannot be honoured, so
/// it is refused rather than ignored.
fn confirmation_claim(value: Option<Value>) -> Result<Option<Confirmation>, VerifyError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(mut members)) => match members.remove("jkt") {
            Some(Value::String(jkt)) if !jkt.is_empty() => Ok(Some(Confirmation { jkt })),
            _ => Err(VerifyError::InvalidClaimType("cnf")),
        },
        Some(_) => Err(VerifyError::InvalidClaimType("cnf")),
    }
}

/// `act`: an object with a string `sub`, and perhaps an earlier `act`
/// (at most 8 deep: a longer chain is refused, not truncated).
fn actor_claim(value: Value, depth: usize) -> Result<Actor, VerifyError> {
    let Value::Object(mut members) = value else {
        return Err(VerifyError::InvalidClaimType("act"));
    };
    let Some(Value::String(sub)) = members.remove("sub") else {
        return Err(VerifyError::InvalidClaimType("act"));
    };
    let act = match members.remove("act") {
        None | Some(Value::Null) => None,
        Some(_) if depth >= 7 => return Err(VerifyError::InvalidClaimType("act")),
        Some(earlier) => Some(Box::new(actor_claim(earlier, depth + 1)?)),
    };
    Ok(Actor { sub, act })
}

/// Parse the decoded payload. `exp` absent is reported by the validator (it knows
/// whether the check is enabled), so it is returned as `None` here.
pub(crate) fn parse_standard_claims(payload: &[u8]) -> Result<(StandardClaims, bool), VerifyError> {
    let wire: WireClaims = serde_json::from_slice(payload)
        .map_err(|_| VerifyError::Malformed("payload is not a JSON object"))?;
    let exp = date_claim(wire.exp, "exp")?;
    let claims = StandardClaims {
        iss: string_claim(wire.iss, "iss")?,
        sub: string_claim(wire.sub, "sub")?,
        aud: string_list_claim(wire.aud, "aud")?,
        exp: exp.unwrap_or(0),
        nbf: date_claim(wire.nbf, "nbf")?,
        iat: date_claim(wire.iat, "iat")?,
        jti: string_claim(wire.jti, "jti")?,
        scope: string_claim(wire.scope, "scope")?,
        roles: string_list_claim(wire.roles, "roles")?,
        client_id: string_claim(wire.client_id, "client_id")?,
        email: string_claim(wire.email, "email")?,
        sid: string_claim(wire.sid, "sid")?,
        cnf: confirmation_claim(wire.cnf)?,
        acr: string_claim(wire.acr, "acr")?,
        amr: string_list_claim(wire.amr, "amr")?,
        act: match wire.act {
            None | Some(Value::Null) => None,
            Some(value) => Some(actor_claim(value, 0)?),
        },
    };
    Ok((claims, exp.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_string_audience_is_read_as_a_list() {
        let (claims, has_exp) =
            parse_standard_claims(br#"{"aud":"blog","exp":10}"#).expect("parses");
        assert_eq!(claims.aud, vec!["blog"]);
        assert!(has_exp);
    }

    #[test]
    fn string_exp_is_a_claim_type_error() {
        let err = parse_standard_claims(br#"{"exp":"tomorrow"}"#).expect_err("must be rejected");
        assert_eq!(err, VerifyError::InvalidClaimType("exp"));
    }

    #[test]
    fn fractional_dates_are_accepted() {
        let (claims, _) = parse_standard_claims(br#"{"exp":10.9,"nbf":1.5}"#).expect("parses");
        assert_eq!((claims.exp, claims.nbf), (10, Some(1)));
    }

    #[test]
    fn scopes_and_roles_are_queried_exactly() {
        let (claims, _) = parse_standard_claims(
            br#"{"exp":1,"scope":"posts:write posts:read","roles":["admin"]}"#,
        )
        .expect("parses");
        assert!(claims.has_scope("posts:write"));
        assert!(!claims.has_scope("posts"));
        assert!(claims.has_role("admin"));
    }

    #[test]
    fn act_chains_are_read_and_malformed_ones_refused() {
        let (claims, _) = parse_standard_claims(
            br#"{"exp":1,"sub":"u","act":{"sub":"sgn_blog","act":{"sub":"sgn_gateway"}}}"#,
        )
        .expect("parses");
        assert_eq!(claims.actor(), Some("sgn_blog"));
        assert_eq!(
            claims.act.and_then(|a| a.act).map(|a| a.sub),
            Some("sgn_gateway".to_owned())
        );
        for bad in [
            br#"{"exp":1,"act":"sgn_blog"}"#.as_slice(),
            br#"{"exp":1,"act":{"client_id":"x"}}"#,
            br#"{"exp":1,"act":{"sub":1}}"#,
            br#"{"exp":1,"cnf":{"x5t#S256":"abc"}}"#,
            br#"{"exp":1,"cnf":"jkt"}"#,
        ] {
            assert!(
                parse_standard_claims(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = (0..9).fold(r#"{"sub":"end"}"#.to_owned(), |inner, i| {
            format!(r#"{{"sub":"a{i}","act":{inner}}}"#)
        });
        assert_eq!(
            parse_standard_claims(format!(r#"{{"exp":1,"act":{deep}}}"#).as_bytes()).map(|_| ()),
            Err(VerifyError::InvalidClaimType("act"))
        );
    }
}
