use sea_orm::entity::prelude::*;

/// A mail waiting to be delivered. Written in the transaction of the change
/// it reports; deleted once the server accepted it; kept with `failed_at`
/// when every attempt failed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    /// UUIDv7: the queue is delivered in the order it was written.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    /// The plain-text body; sealed (AES-256-GCM) when `KEY_ENCRYPTION_KEY`
    /// is set, since it may carry a link that signs someone in.
    pub body: String,
    /// What it is (`verify_email`, `password_reset`, …), for logs and metrics.
    pub kind: String,
    pub created_at: DateTimeUtc,
    pub attempts: i32,
    /// Due from then; a sender that claims it moves it forward (its lease).
    pub next_attempt_at: DateTimeUtc,
    /// Why the last attempt failed (never a secret).
    pub last_error: Option<String>,
    pub failed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A new row, due at once (`now`), not yet tried: what every kind of
/// outgoing message (mail, a back-channel logout notice) queues.
pub fn waiting(
    id: Uuid,
    recipient: String,
    subject: String,
    body: String,
    kind: &str,
    now: DateTimeUtc,
) -> ActiveModel {
    use sea_orm::Set;
    ActiveModel {
        id: Set(id),
        recipient: Set(recipient),
        subject: Set(subject),
        body: Set(body),
        kind: Set(kind.to_owned()),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        failed_at: Set(None),
    }
}
