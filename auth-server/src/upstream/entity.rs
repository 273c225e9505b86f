use sea_orm::entity::prelude::*;

/// A sign-in through an upstream provider, in progress: started (with the
/// nonce and PKCE verifier sent upstream), or waiting for the password of
/// an existing account to link the identity to (`subject` and `email` set).
/// Keyed by SHA-256 of the random value the browser holds in a cookie.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upstream_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
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
