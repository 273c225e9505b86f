use sea_orm::entity::prelude::*;

/// One security event: what it revokes (`subject_kind`, `subject`) from
/// `effective_at`, kept until `expires_at` (no token it could match is
/// still valid by then). `signed_set` is the SET, signed once when first served.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub jti: Uuid,
    pub event_type: String,
    pub subject_kind: String,
    pub subject: String,
    pub effective_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub signed_set: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
