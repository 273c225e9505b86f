//! Whether a client's tokens must be DPoP-bound (RFC 9449): a policy of
//! API keys and registered clients alike, applied at the token endpoint
//! (`oauth::dpop`). Its own module so that neither owner imports `oauth`.

/// Whether a client's tokens must be DPoP-bound.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DpopPolicy {
    /// A proof binds the tokens; without one they are bearer tokens.
    #[default]
    Allowed,
    /// Every token request must carry a proof.
    Required,
}

impl DpopPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Required => "required",
        }
    }

    /// The stored value; anything unknown is read as the stricter policy.
    pub fn from_column(value: &str) -> Self {
        match value {
            "allowed" => Self::Allowed,
            _ => Self::Required,
        }
    }

    /// A value given on the command line or in an API body.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "allowed" => Some(Self::Allowed),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}
