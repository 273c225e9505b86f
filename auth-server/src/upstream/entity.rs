use sea_orm::entity::prelude::*;

/// A sign-in through an upstream provider, in progress, keyed by SHA-256 of
/// the random value the browser holds (a cookie, or for a hand-off the
/// URL): `start` (the nonce and PKCE verifier sent upstream), `link`
/// (waiting for the password of the account with `email`, to link
/// `subject` to), `handoff` (a gateway sign-in done on the issuer's origin:
/// `subject` is the session to give the protected site, `request` its
/// return URL).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upstream_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    /// `start`, `link` or `handoff`.
    pub kind: String,
    pub provider: String,
    pub nonce: Option<String>,
    pub verifier: Option<String>,
    /// The authorization request to go on with (its query string).
    pub request: String,
    pub subject: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// An upstream identity linked to a Signet user, by (issuer, `sub`).
pub mod identity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "upstream_identities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub issuer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject: String,
        pub user_id: Uuid,
        pub provider: String,
        /// The upstream's address for the person when linked.
        pub email: Option<String>,
        pub created_at: DateTimeUtc,
        pub last_used_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
