//! How a sign-in was authenticated: RFC 8176 method values, stored on the
//! session (and on an authorization code) as space-separated text, and
//! the authentication context class (`acr`) they add up to.

/// A password.
pub const PASSWORD: &str = "pwd";
/// A one-time code: an authenticator app's TOTP or a recovery code.
pub const ONE_TIME_CODE: &str = "otp";
/// Through an upstream OpenID provider.
pub const FEDERATED: &str = "fed";
/// More than one factor.
pub const MULTI_FACTOR: &str = "mfa";

/// The values this server writes, in the order it writes them; anything
/// else in a stored row is ignored.
const KNOWN: &[&str] = &[
    PASSWORD,
    FEDERATED,
    ONE_TIME_CODE,
    "hwk",
    "swk",
    "user",
    MULTI_FACTOR,
];

/// The methods of one sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Methods(Vec<&'static str>);

impl Methods {
    pub fn password() -> Self {
        Self(vec![PASSWORD])
    }

    /// Through an upstream provider; `upstream_mfa`: its own `amr` shows a
    /// second factor.
    pub fn federated(upstream_mfa: bool) -> Self {
        let mut methods = Self(vec![FEDERATED]);
        if upstream_mfa {
            methods.0.push(MULTI_FACTOR);
        }
        methods
    }

    /// A passkey with user verification: `hwk` (device-bound) or `swk`
    /// (synced), `user`, and two factors.
    pub fn passkey(synced: bool) -> Self {
        Self(vec![
            if synced { "swk" } else { "hwk" },
            "user",
            MULTI_FACTOR,
        ])
    }

    /// These methods and a second factor `method` (`otp`): a step-up or the
    /// second half of a password sign-in.
    pub fn and(mut self, method: &'static str) -> Self {
        for value in [method, MULTI_FACTOR] {
            if !self.0.contains(&value) {
                self.0.push(value);
            }
        }
        self.0.sort_by_key(|v| KNOWN.iter().position(|k| k == v));
        self
    }

    /// A stored row's methods. Rows from before methods were stored say only
    /// whether the sign-in came through an upstream provider.
    pub fn stored(amr: Option<&str>, idp: Option<&str>) -> Self {
        match amr {
            Some(text) => Self(
                KNOWN
                    .iter()
                    .copied()
                    .filter(|known| text.split_ascii_whitespace().any(|v| v == *known))
                    .collect(),
            ),
            None if idp.is_some() => Self::federated(false),
            None => Self::password(),
        }
    }

    /// The text stored for these methods.
    pub fn to_stored(&self) -> String {
        self.0.join(" ")
    }

    pub fn values(&self) -> &[&'static str] {
        &self.0
    }

    /// Whether a second factor was part of it.
    pub fn is_multi_factor(&self) -> bool {
        self.0.contains(&MULTI_FACTOR)
    }

    /// OpenID Connect Core §2 `acr`: `mfa` after two factors, `fed` after
    /// an upstream sign-in that showed none, `pwd` after a password alone.
    pub fn acr(&self) -> &'static str {
        if self.is_multi_factor() {
            ACR_MFA
        } else if self.0.contains(&FEDERATED) {
            "fed"
        } else {
            "pwd"
        }
    }
}

/// The `acr` of a sign-in with two factors.
pub const ACR_MFA: &str = "mfa";

/// The `acr` values this server issues, weakest first (discovery's
/// `acr_values_supported`).
pub const ACR_VALUES: &[&str] = &["pwd", "fed", ACR_MFA];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sign_in_has_the_acr_its_methods_add_up_to() {
        assert_eq!(Methods::password().acr(), "pwd");
        assert_eq!(Methods::federated(false).acr(), "fed");
        assert_eq!(Methods::federated(true).acr(), "mfa");
        let two = Methods::password().and(ONE_TIME_CODE);
        assert_eq!(two.values(), ["pwd", "otp", "mfa"]);
        assert_eq!(two.acr(), "mfa");
        assert_eq!(
            two.clone().and(ONE_TIME_CODE),
            two,
            "a second step-up adds nothing"
        );
    }

    #[test]
    fn stored_methods_read_back_and_unknown_values_are_dropped() {
        let two = Methods::password().and(ONE_TIME_CODE);
        assert_eq!(Methods::stored(Some(&two.to_stored()), None), two);
        assert_eq!(
            Methods::stored(Some("pwd <script> mfa"), None).values(),
            ["pwd", "mfa"]
        );
        assert_eq!(
            Methods::stored(None, Some("https://idp")),
            Methods::federated(false)
        );
        assert_eq!(Methods::stored(None, None), Methods::password());
    }
}
