use sea_orm::entity::prelude::*;

/// A signed-in browser. `id` is SHA-256 of the cookie value; `tokens` is
/// sealed under a key derived from the cookie value, so the database alone
/// yields no usable token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub sub: String,
    pub display_name: String,
    pub tokens: String,
    pub access_expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// The auth-server session (`sid`) its sign-in opened: a back-channel
    /// logout token naming it ends this session.
    pub sid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
