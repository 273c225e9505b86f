use sea_orm::entity::prelude::*;

/// A sign-in in progress. `id` is SHA-256 of the OAuth `state`; `pending`
/// (nonce, PKCE verifier, return path) is sealed under a key derived from it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub pending: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
