use sea_orm::entity::prelude::*;

/// A SET waiting in a stream for its receiver's acknowledgement (RFC 8936).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ssf_stream_sets")]
pub struct Model {
    /// UUIDv7: delivered in the order filled.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub stream_id: Uuid,
    pub jti: String,
    pub signed_set: String,
    pub created_at: DateTimeUtc,
    /// Dropped unacknowledged after this (as the events themselves are).
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
