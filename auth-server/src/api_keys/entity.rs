use sea_orm::entity::prelude::*;

/// A service credential. The secret itself is never stored: only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The public part of the key (`sgn_<key_id>_…`); looked up by it, never by scanning.
    #[sea_orm(unique)]
    pub key_id: String,
    pub name: String,
    /// Space-separated scopes the key may be granted.
    pub scopes: String,
    /// Lower-case hex SHA-256 of the whole key.
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Space-separated audiences the key may ask for, the first being its
    /// default (`None`: only the server's default audience).
    pub audiences: Option<String>,
    /// DPoP policy (RFC 9449): `allowed` or `required`.
    pub dpop: String,
    /// Token exchange (RFC 8693): space-separated audiences the key may ask
    /// for when acting for a user (`None`: it may not exchange tokens).
    pub exchange_audiences: Option<String>,
    /// …and the scopes it may ask for there.
    pub exchange_scopes: Option<String>,
}

impl Model {
    pub fn client_id(&self) -> String {
        format!("{}{}", crate::api_keys::PREFIX, self.key_id)
    }

    pub fn scope_list(&self) -> Vec<String> {
        self.scopes
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// The audiences this key may ask for; the first is used when it asks for none.
    pub fn audience_list(&self, default: &str) -> Vec<String> {
        match self.audiences.as_deref().map(str::split_ascii_whitespace) {
            Some(list) => list.map(str::to_owned).collect(),
            None => vec![default.to_owned()],
        }
    }

    pub fn dpop_policy(&self) -> crate::dpop_policy::DpopPolicy {
        crate::dpop_policy::DpopPolicy::from_column(&self.dpop)
    }

    /// The audiences this key may exchange a user's token for (empty: none).
    pub fn exchange_audience_list(&self) -> Vec<String> {
        words(self.exchange_audiences.as_deref())
    }

    /// The scopes it may ask for in an exchange.
    pub fn exchange_scope_list(&self) -> Vec<String> {
        words(self.exchange_scopes.as_deref())
    }

    pub fn is_usable_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| expiry > now)
    }
}

fn words(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect()
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
