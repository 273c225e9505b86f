//! Security events: every change that should end tokens before they expire
//! (a session ended, a password changed, an account disabled or deleted, an
//! API key revoked, a signing key compromised) is recorded here **in the
//! transaction of the change**, and served to verifiers as Security Event
//! Tokens (RFC 8417) on a cursor feed, so services that verify tokens
//! locally can refuse revoked ones within a second instead of at expiry.
//!
//! Event types are the OpenID Shared Signals ones where one fits (CAEP
//! `session-revoked` and `credential-change`, RISC `account-disabled` and
//! `account-purged`) and Signet's own URNs for the rest; subjects use RFC
//! 9493 formats. A verifier applies them as:
//!
//! | Event | Subject | Refuse a token when |
//! |---|---|---|
//! | session-revoked | `opaque`: the session id | its `sid` matches |
//! | credential-change, account-disabled, account-purged | `iss_sub` | its `sub` matches and `iat` < the event time |
//! | `urn:signet:secevent:client-revoked` | `opaque`: the client id | its `client_id` matches and `iat` ≤ the event time |
//! | `urn:signet:secevent:key-revoked` | `opaque`: the kid | its `kid` matches |
//!
//! Events are kept [`KEEP_FOR`] after they take effect (past the longest
//! token lifetime Signet can be configured with), so reading the feed from
//! the start is the complete current state.
//!
//! Ordering: the feed's cursor is the row id. On PostgreSQL ids are assigned
//! at insert but become visible at commit, so two concurrent transactions
//! could commit out of order and a reader past the later id would miss the
//! earlier. Recording therefore takes a transaction-scoped advisory lock
//! first: event-writing transactions commit one at a time, in id order.
//! (They are rare: revocations, not logins.) SQLite has one writer anyway.

pub mod entity;
pub mod notify;
pub(crate) mod routes;

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::keys::ring::KeyRing;
use crate::keys::signer::SignError;
use entity as event;

pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
pub const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
pub const ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
pub const ACCOUNT_PURGED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-purged";
pub const CLIENT_REVOKED: &str = "urn:signet:secevent:client-revoked";
pub const KEY_REVOKED: &str = "urn:signet:secevent:key-revoked";

/// The `typ` of a SET (RFC 8417 §2.3).
pub const SET_TYPE: &str = "secevent+jwt";

/// How long an event is kept and served: the longest access or service
/// token lifetime the configuration allows (24 h) and the verifiers' clock
/// leeway. After that no token it could match is still accepted anywhere.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 3600 + 5 * 60);

/// Most events one feed answer carries.
pub const MAX_BATCH: u64 = 1000;

/// Why a user's tokens end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectChange {
    /// Password changed (CAEP credential-change).
    CredentialChange,
    /// Disabled by an admin (RISC account-disabled).
    Disabled,
    /// Deleted (RISC account-purged).
    Deleted,
}

/// What a security event ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation<'a> {
    /// Every token of this session (`sid`).
    Session(Uuid),
    /// Every token of this user issued before the change.
    Subject(Uuid, SubjectChange),
    /// Every token of this client (`client_id`: an API key's) issued until now.
    Client(&'a str),
    /// Every token signed with this key.
    Key(&'a str),
}

impl Revocation<'_> {
    fn parts(&self) -> (&'static str, &'static str, String) {
        match self {
            Self::Session(sid) => (SESSION_REVOKED, "session", sid.to_string()),
            Self::Subject(sub, change) => (
                match change {
                    SubjectChange::CredentialChange => CREDENTIAL_CHANGE,
                    SubjectChange::Disabled => ACCOUNT_DISABLED,
                    SubjectChange::Deleted => ACCOUNT_PURGED,
                },
                "subject",
                sub.to_string(),
            ),
            Self::Client(client_id) => (CLIENT_REVOKED, "client", (*client_id).to_owned()),
            Self::Key(kid) => (KEY_REVOKED, "key", (*kid).to_owned()),
        }
    }
}

fn keep_until(now: DateTime<Utc>) -> DateTime<Utc> {
    now + crate::app::clock::span(KEEP_FOR)
}

/// Record `what` as of `now`, inside the caller's transaction `txn` (the one
/// making the change), so the event exists exactly when the change does.
pub async fn record(
    txn: &impl ConnectionTrait,
    what: Revocation<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    record_all(txn, &[what], now).await
}

/// [`record`] for several at once (one lock, one transaction).
pub async fn record_all(
    txn: &impl ConnectionTrait,
    all: &[Revocation<'_>],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if all.is_empty() {
        return Ok(());
    }
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [signet_service::db::lock_id("auth-server:security-events").into()],
        ))
        .await?;
    }
    for what in all {
        let (event_type, kind, subject) = what.parts();
        event::ActiveModel {
            jti: Set(Uuid::now_v7()),
            event_type: Set(event_type.to_owned()),
            subject_kind: Set(kind.to_owned()),
            subject: Set(subject),
            effective_at: Set(now),
            expires_at: Set(keep_until(now)),
            created_at: Set(now),
            signed_set: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    // Every replica's followers read the table once this commits.
    notify::announce(txn).await
}

/// Key files (no key store to change): announce `kid` as compromised, with
/// its audit row, in one transaction. The files and the running servers are
/// the operator's to change.
pub async fn key_compromised_in_file_mode(
    db: &sea_orm::DatabaseConnection,
    kid: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let txn = signet_service::db::begin_write(db).await?;
    record(&txn, Revocation::Key(kid), now).await?;
    crate::audit::write(
        &txn,
        crate::audit::AuditEvent::new("key.compromised")
            .actor("operator")
            .subject(kid),
    )
    .await?;
    txn.commit().await
}

/// One page of the feed.
#[derive(Debug)]
pub struct Page {
    /// `(jti, SET)` in feed order.
    pub sets: Vec<(String, String)>,
    /// Where the next read starts (the last id served, or the one given).
    pub cursor: i64,
    /// More events are waiting past `cursor`.
    pub more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("event store: {0}")]
    Store(#[from] DbErr),
    #[error("signing a security event failed: {0}")]
    Sign(#[from] SignError),
}

/// The events after `cursor` that still matter at `now`, at most `limit`,
/// each as its SET. Unsigned ones are signed with the active key and stored,
/// so every replica serves the same bytes. A stored SET whose key is no
/// longer published (retired after a rotation, or removed as compromised)
/// is signed again with the active key and replaces the stored one: events
/// are kept a day, keys only until `KEY_RETIRE_AFTER`, and a verifier that
/// starts after a rotation must still be able to verify every event served.
pub async fn page(
    db: &impl ConnectionTrait,
    keys: &KeyRing,
    issuer: &str,
    cursor: i64,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Page, FeedError> {
    let limit = limit.clamp(1, MAX_BATCH);
    let mut rows = event::Entity::find()
        .filter(event::Column::Id.gt(cursor))
        .filter(event::Column::ExpiresAt.gt(now))
        .order_by_asc(event::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let mut sets = Vec::with_capacity(rows.len());
    let mut last = cursor;
    for row in rows {
        last = row.id;
        let set = match row.signed_set.clone() {
            Some(set) if signed_by_published_key(&set, keys) => set,
            stale => sign_and_store(db, keys, issuer, &row, stale.as_deref()).await?,
        };
        sets.push((row.jti.to_string(), set));
    }
    Ok(Page {
        sets,
        cursor: last,
        more,
    })
}

/// The highest event id, for long-polls to tell that something is new.
pub async fn newest_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(event::Entity::find()
        .order_by_desc(event::Column::Id)
        .one(db)
        .await?
        .map_or(0, |row| row.id))
}

/// Whether `set` names (`kid`) a key this server publishes now.
fn signed_by_published_key(set: &str, keys: &KeyRing) -> bool {
    jsonwebtoken::decode_header(set)
        .ok()
        .and_then(|header| header.kid)
        .is_some_and(|kid| keys.published().iter().any(|key| key.kid == kid))
}

/// Sign `row` and store the SET in place of `replacing` (`None`: it had none).
async fn sign_and_store(
    db: &impl ConnectionTrait,
    keys: &KeyRing,
    issuer: &str,
    row: &event::Model,
    replacing: Option<&str>,
) -> Result<String, FeedError> {
    let signed = sign(keys, issuer, row)?;
    // The first signature stored wins; a replica racing us stores nothing
    // and serves the winner's bytes.
    let unchanged = match replacing {
        None => event::Column::SignedSet.is_null(),
        Some(old) => event::Column::SignedSet.eq(old),
    };
    event::Entity::update_many()
        .col_expr(event::Column::SignedSet, Expr::value(signed.clone()))
        .filter(event::Column::Id.eq(row.id))
        .filter(unchanged)
        .exec(db)
        .await?;
    let stored = event::Entity::find_by_id(row.id)
        .one(db)
        .await?
        .and_then(|r| r.signed_set);
    Ok(stored.unwrap_or(signed))
}

/// The SET of `row` (RFC 8417): `iss`, `iat`, `jti`, the subject as
/// `sub_id` (RFC 9493), and one event with its `event_timestamp`.
pub fn set_claims(issuer: &str, row: &event::Model) -> Value {
    let subject = match row.subject_kind.as_str() {
        "subject" => json!({ "format": "iss_sub", "iss": issuer, "sub": row.subject }),
        _ => json!({ "format": "opaque", "id": row.subject }),
    };
    json!({
        "iss": issuer,
        "iat": row.created_at.timestamp(),
        "jti": row.jti.to_string(),
        "sub_id": subject,
        "events": {
            row.event_type.as_str(): { "event_timestamp": row.effective_at.timestamp() }
        },
    })
}

fn sign(keys: &KeyRing, issuer: &str, row: &event::Model) -> Result<String, SignError> {
    let key = keys.active();
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some(SET_TYPE.to_owned());
    header.kid = Some(key.kid.clone());
    key.signer.sign_jws(&header, &set_claims(issuer, row))
}

/// Apply every event to this server's own verifier, as the feed's readers
/// do: forward-auth (`/api/v1/auth/verify`) verifies bearer tokens without
/// a database read, so without this it would accept a revoked session's or
/// a disabled user's token until it expired. Reads the table (events of
/// every replica) from the start at boot, then whenever `hub` wakes it (a
/// notification on PostgreSQL, see [`notify`]; a [`HUB_TICK`] otherwise),
/// each read counted in `security_event_reads_total{wake}`; ends when
/// `stop` turns true.
pub fn follow_locally(
    db: sea_orm::DatabaseConnection,
    verifier: jwt_verify::Verifier,
    clock: crate::app::clock::Clock,
    hub: &EventsHub,
    metrics: signet_service::metrics::Metrics,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut follower = hub.wakeups.follower();
    tokio::spawn(async move {
        let mut cursor = 0;
        loop {
            let wake = tokio::select! {
                wake = follower.next() => wake,
                _ = stop.changed() => return,
            };
            let label = match wake {
                notify::Wake::Notified => "notified",
                notify::Wake::Tick => "tick",
            };
            metrics
                .counter(
                    &crate::app::metrics::SECURITY_EVENT_READS,
                    &[("wake", label)],
                )
                .increment(1);
            loop {
                match local_batch(&db, cursor, clock.now()).await {
                    Ok((events, next, more)) => {
                        if next != cursor {
                            verifier.apply_security_events(&events, next);
                            cursor = next;
                        }
                        if !more {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot read security events for forward-auth");
                        break;
                    }
                }
            }
        }
    });
}

/// The events after `cursor` still in force at `now`, as the verifier takes them.
async fn local_batch(
    db: &impl ConnectionTrait,
    cursor: i64,
    now: DateTime<Utc>,
) -> Result<(Vec<jwt_verify::SecurityEvent>, i64, bool), DbErr> {
    let rows = event::Entity::find()
        .filter(event::Column::Id.gt(cursor))
        .filter(event::Column::ExpiresAt.gt(now))
        .order_by_asc(event::Column::Id)
        .limit(MAX_BATCH)
        .all(db)
        .await?;
    let more = rows.len() as u64 == MAX_BATCH;
    let next = rows.last().map_or(cursor, |row| row.id);
    let events = rows
        .into_iter()
        .map(|row| {
            jwt_verify::SecurityEvent::new(
                row.event_type,
                row.subject,
                row.effective_at.timestamp(),
            )
        })
        .collect();
    Ok((events, next, more))
}

/// Tells long-polling feed readers that a newer event exists. One task per
/// replica looks at the newest id while someone waits, when woken (a
/// notification on PostgreSQL, [`notify`]; every [`HUB_TICK`] otherwise),
/// so waiting readers cost one small query per wake-up per replica, not
/// one each.
#[derive(Clone)]
pub struct EventsHub {
    /// Wake-ups from this replica's listener (PostgreSQL).
    pub wakeups: notify::Wakeups,
    newest: std::sync::Arc<tokio::sync::watch::Sender<i64>>,
    /// Set at shutdown: waiting reads answer at once, so they never hold
    /// the server's graceful shutdown for a whole long-poll.
    closing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How often the hub looks for new events while readers wait.
pub const HUB_TICK: Duration = Duration::from_millis(100);

impl Default for EventsHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventsHub {
    pub fn new() -> Self {
        Self {
            wakeups: notify::Wakeups::default(),
            newest: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
            closing: std::sync::Arc::default(),
        }
    }

    /// Whether the server is shutting down (waiting reads should answer now).
    pub fn is_closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many feed reads are waiting for news right now.
    pub fn waiting(&self) -> usize {
        self.newest.receiver_count()
    }

    /// A receiver whose value changes when a newer event is seen.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<i64> {
        self.newest.subscribe()
    }

    /// Watch the table while anyone waits; ends when `stop` turns true.
    pub fn spawn(
        &self,
        db: sea_orm::DatabaseConnection,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let newest = self.newest.clone();
        let closing = self.closing.clone();
        let mut follower = self.wakeups.follower();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = follower.next() => {}
                    _ = stop.changed() => {
                        closing.store(true, std::sync::atomic::Ordering::Relaxed);
                        // Wake every waiting read; each sees `closing` and answers.
                        newest.send_modify(|_| {});
                        return;
                    }
                }
                if newest.receiver_count() == 0 {
                    continue;
                }
                match newest_id(&db).await {
                    Ok(id) => {
                        newest.send_if_modified(|seen| {
                            let newer = id > *seen;
                            if newer {
                                *seen = id;
                            }
                            newer
                        });
                    }
                    Err(error) => tracing::warn!(%error, "security-event hub cannot read the feed"),
                }
            }
        });
    }
}
