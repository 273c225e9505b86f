use sea_orm::entity::prelude::*;

/// Something security-relevant that happened. Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// UUIDv7: ordering by id is ordering by time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    /// e.g. `login.failure`, `refresh.reuse_detected`.
    pub event: String,
    /// Who did it: a user id, a client id, or `system`.
    pub actor: Option<String>,
    /// What it was done to: a user id, an email, a key id, a session id.
    pub subject: Option<String>,
    pub ip: Option<String>,
    /// JSON object with event-specific details.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
