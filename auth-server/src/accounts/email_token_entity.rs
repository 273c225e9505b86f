use sea_orm::entity::prelude::*;

/// A link sent by mail (verify an address, reset a password, confirm a new
/// address): the token itself is only in the mail; here is its SHA-256.
/// Single-use (`used_at` set by a conditional UPDATE) and short-lived.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    /// Lower-case hex SHA-256 of the token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub user_id: Uuid,
    /// `verify_email`, `reset_password` or `change_email`.
    pub purpose: String,
    /// The address the link proves: the account's address at the time (a
    /// verification) or the new one (a change).
    pub new_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
