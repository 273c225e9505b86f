use sea_orm::entity::prelude::*;

/// A user's authenticator app: the TOTP secret, sealed under the factor key
/// with the user id as associated data. Unconfirmed until a first code.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub secret_sealed: String,
    pub created_at: DateTimeUtc,
    /// Set by the first right code; before, the factor signs no one in.
    pub confirmed_at: Option<DateTimeUtc>,
    /// The newest time step a code was accepted for: a code of that step or
    /// an older one is a replay.
    pub last_step: Option<i64>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
