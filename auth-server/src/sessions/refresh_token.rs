use sea_orm::entity::prelude::*;

/// One refresh token of a session. Only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub session_id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    /// Set when this token was exchanged; a later use is reuse (theft) unless
    /// within the grace window.
    pub rotated_at: Option<DateTimeUtc>,
    pub successor_id: Option<Uuid>,
    /// The successor token, sealed with a key only this token's holder can derive,
    /// so a retry inside the grace window gets the same successor.
    pub successor_sealed: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
