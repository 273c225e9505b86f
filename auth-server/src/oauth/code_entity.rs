use sea_orm::entity::prelude::*;

/// An authorization code, stored as SHA-256 only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: String,
    pub client_id: String,
    pub user_id: Uuid,
    /// Exactly as the authorization request sent it.
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge (43 base64url characters).
    pub code_challenge: String,
    /// When the user authenticated (the ID token's `auth_time`).
    pub auth_time: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set by the one redemption that wins.
    pub redeemed_at: Option<DateTimeUtc>,
    /// The session its tokens belong to, so a replay can end it.
    pub issued_session_id: Option<Uuid>,
    /// The upstream issuer the browser signed in through, if any.
    pub idp: Option<String>,
    /// How the browser's sign-in was authenticated (RFC 8176 values).
    pub amr: Option<String>,
    /// The resource (RFC 8707) the authorization request named and the
    /// user allowed; the token request may only repeat it.
    pub resource: Option<String>,
    /// The browser session that approved it; the client's session is its child.
    pub browser_session_id: Option<Uuid>,
}

impl Model {
    pub fn methods(&self) -> crate::sessions::methods::Methods {
        crate::sessions::methods::Methods::stored(self.amr.as_deref(), self.idp.as_deref())
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
