use sea_orm::entity::prelude::*;

/// A sign-in: one family of rotating refresh tokens.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub last_used_at: DateTimeUtc,
    /// Moves forward at each refresh, never past `absolute_expires_at`.
    pub idle_expires_at: DateTimeUtc,
    pub absolute_expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_reason: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The resource its access tokens are for (`None`: the configured default).
    pub audience: Option<String>,
    /// The registered client it was opened for (`None`: the first-party
    /// client, i.e. password login). Only that client may refresh it.
    pub client_id: Option<String>,
    /// The scope granted to that client (`None`: `USER_TOKEN_SCOPE`).
    pub scope: Option<String>,
    /// SHA-256 of the browser cookie naming this session (sign-in page).
    pub browser_token_hash: Option<String>,
    /// The site (origin) that cookie was issued on: the issuer for the
    /// authorization endpoint's pages, a protected origin for the gateway's.
    /// The cookie is accepted on that site alone.
    pub browser_site: Option<String>,
    /// The upstream provider's issuer the sign-in came through (`None`: a
    /// password); its tokens carry `amr: ["fed"]` and `idp`.
    pub idp: Option<String>,
    /// The DPoP key a public client's session is bound to: its refresh
    /// token is accepted only with a proof by this key (RFC 9449 §5).
    pub dpop_jkt: Option<String>,
    /// How the sign-in was authenticated (RFC 8176 values, space-separated;
    /// `None` on rows from before it was stored).
    pub amr: Option<String>,
    /// The browser session at this server a client's session came from
    /// (through its authorization code): when that one ends, this one does.
    pub parent_session_id: Option<Uuid>,
}

impl Model {
    /// How the sign-in was authenticated.
    pub fn methods(&self) -> crate::sessions::methods::Methods {
        crate::sessions::methods::Methods::stored(self.amr.as_deref(), self.idp.as_deref())
    }

    pub fn is_active_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.revoked_at.is_none() && now < self.idle_expires_at && now < self.absolute_expires_at
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
