//! Outgoing mail. A mail is written to the `mail_outbox` table in the
//! transaction of the change it reports (a sign-up, a reset request), so it
//! exists exactly when the change does; a sender task per replica delivers
//! it off the request path, over SMTP (`SMTP_URL`) or into `.eml` files
//! (`MAIL_OUTBOX_DIR`), and retries with back-off when the server is down:
//! a mail server that is down never fails a request. Rows are claimed with
//! a conditional UPDATE (a lease), so replicas never send one mail twice at
//! once; a sender that dies mid-send leaves it to be sent again after the
//! lease (at-least-once).

pub mod entity;
pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use signet_service::seal::Sealer;
use uuid::Uuid;

use crate::app::clock::span;
use entity as outbox;
pub use transport::{DeliveryError, PlainSmtp, Transport};

/// How often the sender looks for due mail when nobody woke it.
pub const TICK: Duration = Duration::from_secs(1);
/// How long a claimed mail is its sender's before another may try.
const LEASE: Duration = Duration::from_secs(120);
/// Attempts before a mail is given up (back-off 30 s doubling to 1 h: about 10 h).
pub const MAX_ATTEMPTS: i32 = 15;
/// Most mails one pass sends.
const BATCH: u64 = 20;

/// What a mail is, for the log and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    VerifyEmail,
    SignUpAttempt,
    PasswordReset,
    PasswordChanged,
    ConfirmNewEmail,
    EmailChanged,
    RecoveryCodeUsed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VerifyEmail => "verify_email",
            Kind::SignUpAttempt => "sign_up_attempt",
            Kind::PasswordReset => "password_reset",
            Kind::PasswordChanged => "password_changed",
            Kind::ConfirmNewEmail => "confirm_new_email",
            Kind::EmailChanged => "email_changed",
            Kind::RecoveryCodeUsed => "recovery_code_used",
        }
    }
}

/// One mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub kind: Kind,
    pub subject: String,
    pub body: String,
}

/// Why a mail could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// An address or subject that could carry a header (CR, LF) or is no
    /// address at all: refused before it reaches SMTP.
    #[error("the mail's recipient or subject is not acceptable")]
    Refused,
    #[error("sealing the mail failed")]
    Seal,
    #[error("mail queue: {0}")]
    Store(#[from] DbErr),
}

/// The queue as the request path sees it: write a mail in a transaction,
/// then wake the sender after commit.
#[derive(Clone)]
pub struct MailQueue {
    sealer: Option<Arc<Sealer>>,
    wake: Arc<tokio::sync::Notify>,
}

impl MailQueue {
    /// `seal_key`: bodies are sealed under it at rest (derived from
    /// `KEY_ENCRYPTION_KEY`); `None` keeps them in the clear until sent.
    pub fn new(seal_key: Option<[u8; 32]>) -> Self {
        Self {
            sealer: seal_key.map(|key| Arc::new(Sealer::new(&key))),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Queue `mail` in `txn`: it is sent if and only if `txn` commits.
    pub async fn enqueue(
        &self,
        txn: &impl ConnectionTrait,
        mail: Mail,
        now: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        if !acceptable_recipient(&mail.to) || mail.subject.chars().any(char::is_control) {
            return Err(QueueError::Refused);
        }
        let id = Uuid::now_v7();
        let body = match &self.sealer {
            None => mail.body,
            Some(sealer) => sealer
                .seal(&id.to_string(), &mail.body)
                .map_err(|_| QueueError::Seal)?,
        };
        outbox::waiting(id, mail.to, mail.subject, body, mail.kind.as_str(), now)
            .insert(txn)
            .await?;
        Ok(())
    }

    /// Tell this replica's sender that mail is waiting (after the commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn open(&self, row: &outbox::Model) -> Option<String> {
        match &self.sealer {
            None => Some(row.body.clone()),
            Some(sealer) => sealer.open(&row.id.to_string(), &row.body).ok(),
        }
    }
}

/// An address the queue accepts: one mailbox, no display name, no CR/LF.
pub fn acceptable_recipient(address: &str) -> bool {
    !address.chars().any(char::is_control)
        && address.len() <= 320
        && address.parse::<lettre::Address>().is_ok()
}

/// The wait after the `attempts`-th failure: 30 s, doubling, at most 1 h.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(10);
    (Duration::from_secs(30) * 2u32.pow(exponent)).min(Duration::from_secs(3600))
}

/// The sender: delivers due mail through `transport`, as `from`.
pub struct Sender {
    pub db: DatabaseConnection,
    pub queue: MailQueue,
    pub transport: Arc<Transport>,
    pub from: Mailbox,
    pub clock: crate::app::clock::Clock,
    pub metrics: signet_service::metrics::Metrics,
    /// Delivers the outbox's back-channel logout notices (`None`: they wait).
    pub logout: Option<Arc<crate::backchannel::Notifier>>,
}

impl Sender {
    /// Run until `stop` turns true: each tick (or wake-up), send what is due.
    pub fn spawn(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        tokio::spawn(async move {
            let wake = self.queue.wake.clone();
            loop {
                if let Err(error) = self.send_due().await {
                    tracing::warn!(%error, "mail queue cannot be read; retrying");
                }
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(TICK) => {}
                    _ = stop.changed() => return,
                }
            }
        });
    }

    /// One pass: claim and send every due mail (in batches), oldest first.
    pub async fn send_due(&self) -> Result<usize, DbErr> {
        let mut sent = 0;
        loop {
            let now = self.clock.now();
            let due = outbox::Entity::find()
                .filter(outbox::Column::NextAttemptAt.lte(now))
                .filter(outbox::Column::FailedAt.is_null())
                .order_by_asc(outbox::Column::Id)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            if due.is_empty() {
                return Ok(sent);
            }
            let mut claimed_any = false;
            for row in due {
                // The lease: only the sender whose UPDATE matched may send it.
                let claimed = outbox::Entity::update_many()
                    .col_expr(
                        outbox::Column::NextAttemptAt,
                        Expr::value(now + span(LEASE)),
                    )
                    .col_expr(
                        outbox::Column::Attempts,
                        sea_orm::sea_query::ExprTrait::add(Expr::col(outbox::Column::Attempts), 1),
                    )
                    .filter(outbox::Column::Id.eq(row.id))
                    .filter(outbox::Column::NextAttemptAt.eq(row.next_attempt_at))
                    .filter(outbox::Column::FailedAt.is_null())
                    .exec(&self.db)
                    .await?;
                if claimed.rows_affected != 1 {
                    continue;
                }
                claimed_any = true;
                if self.attempt(&row, now).await? {
                    sent += 1;
                }
            }
            if !claimed_any {
                return Ok(sent);
            }
        }
    }

    /// Send one claimed mail; `true` when the server took it.
    async fn attempt(&self, row: &outbox::Model, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let attempts = row.attempts + 1;
        let outcome = if row.kind == crate::backchannel::KIND {
            match &self.logout {
                Some(notifier) => notifier.deliver(row, now).await,
                None => Err(DeliveryError::Http("no notifier in this process".into())),
            }
        } else {
            self.deliver_mail(row).await
        };
        self.settle(row, attempts, outcome, now).await
    }

    async fn deliver_mail(&self, row: &outbox::Model) -> Result<(), DeliveryError> {
        match self.queue.open(row) {
            None => Err(DeliveryError::Message(
                "the queued body cannot be opened (KEY_ENCRYPTION_KEY changed?)".into(),
            )),
            Some(body) => {
                self.transport
                    .deliver(&self.from, &row.recipient, &row.subject, &body)
                    .await
            }
        }
    }

    /// Record the outcome of one attempt: delete the row once delivered,
    /// else back off, or give up after the last attempt or a refusal.
    async fn settle(
        &self,
        row: &outbox::Model,
        attempts: i32,
        outcome: Result<(), DeliveryError>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        match outcome {
            Ok(()) => {
                outbox::Entity::delete_by_id(row.id).exec(&self.db).await?;
                tracing::info!(kind = %row.kind, mail = %row.id, attempts, "mail sent");
                self.metrics
                    .counter(
                        &crate::app::metrics::MAILS,
                        &[("outcome", "sent"), ("kind", row.kind.as_str())],
                    )
                    .increment(1);
                Ok(true)
            }
            Err(error) => {
                let reason: String = error.to_string().chars().take(300).collect();
                let give_up =
                    attempts >= MAX_ATTEMPTS || matches!(error, DeliveryError::Message(_));
                let mut update = outbox::Entity::update_many()
                    .col_expr(outbox::Column::LastError, Expr::value(reason.clone()))
                    .filter(outbox::Column::Id.eq(row.id));
                update = if give_up {
                    update.col_expr(outbox::Column::FailedAt, Expr::value(now))
                } else {
                    update.col_expr(
                        outbox::Column::NextAttemptAt,
                        Expr::value(now + span(backoff(attempts))),
                    )
                };
                update.exec(&self.db).await?;
                if give_up {
                    tracing::error!(kind = %row.kind, mail = %row.id, attempts, %reason, "mail given up");
                } else {
                    tracing::warn!(kind = %row.kind, mail = %row.id, attempts, %reason, "mail not sent; will retry");
                }
                self.metrics
                    .counter(
                        &crate::app::metrics::MAILS,
                        &[
                            ("outcome", if give_up { "failed" } else { "retry" }),
                            ("kind", row.kind.as_str()),
                        ],
                    )
                    .increment(1);
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(5), Duration::from_secs(480));
        assert_eq!(backoff(8), Duration::from_secs(3600));
        assert_eq!(backoff(MAX_ATTEMPTS), Duration::from_secs(3600));
    }

    #[test]
    fn recipients_that_could_carry_a_header_are_refused() {
        assert!(acceptable_recipient("ann@example.com"));
        for bad in [
            "ann@example.com\r\nBcc: all@example.com",
            "ann@example.com\nX: y",
            "Ann <ann@example.com>",
            "not an address",
            "",
        ] {
            assert!(!acceptable_recipient(bad), "{bad:?}");
        }
    }
}
