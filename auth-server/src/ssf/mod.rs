//! The revocation feed as an OpenID Shared Signals Framework 1.0 transmitter:
//! a receiver (an API key with scope `ssf:stream`) creates a stream, says
//! which events it wants, and polls for them (RFC 8936), acknowledging what
//! it has processed. The events are the security events this server
//! already records in the transaction of each change (`events`), in their
//! standard formats:
//!
//! | Event | `sub_id` (RFC 9493) | Payload |
//! |---|---|---|
//! | CAEP `session-revoked` | `complex`: `session` (`opaque`), `user` (`iss_sub`) | `event_timestamp` |
//! | CAEP `credential-change` | `iss_sub` | `credential_type` `password`, `change_type` `update`, `event_timestamp` |
//! | RISC `account-disabled`, `account-purged` | `iss_sub` | — |
//! | SSF `verification` | `opaque`: the stream id | `state` |
//!
//! A stream is filled from the security events past its cursor when it is
//! polled while enabled: the cursor moves by a conditional UPDATE, so two
//! polls never fill the same events twice. Paused, a stream holds its events
//! (they are delivered once it is enabled again, while they are kept);
//! disabled, it drops them. SETs wait until acknowledged, or until they
//! would no longer matter ([`crate::events::KEEP_FOR`]).

pub mod entity;
pub(crate) mod routes;
pub mod set_entity;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::events::{self, entity as security_event};
use crate::keys::ring::KeyRing;
use crate::keys::signer::SignError;
use entity as stream;
use set_entity as pending;

/// RFC 8936 poll delivery, the one method offered.
pub const DELIVERY_POLL: &str = "urn:ietf:rfc:8936";
/// SSF 1.0 §8.1.4: the verification event.
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";
/// What a stream can carry.
pub const EVENTS_SUPPORTED: [&str; 5] = [
    events::SESSION_REVOKED,
    events::CREDENTIAL_CHANGE,
    events::ACCOUNT_DISABLED,
    events::ACCOUNT_PURGED,
    VERIFICATION,
];
/// The scope an API key needs to manage and poll streams.
pub const STREAM_SCOPE: &str = "ssf:stream";
/// Streams one receiver may hold.
pub const MAX_STREAMS: u64 = 10;
/// Most SETs one poll answers with (and the default).
pub const MAX_EVENTS: u64 = 100;
const MAX_EVENT_TYPES: usize = 20;
const MAX_TEXT: usize = 256;

/// A stream's status (§8.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Enabled,
    Paused,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Enabled, Self::Paused, Self::Disabled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Why a stream request was refused. Mapped to HTTP at the edge.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("no such stream")]
    NotFound,
    #[error("a receiver may hold at most 10 streams")]
    TooMany,
    #[error("stream store: {0}")]
    Store(#[from] DbErr),
    #[error("signing a SET failed: {0}")]
    Sign(#[from] SignError),
}

/// What a receiver may set on a stream.
#[derive(Debug, Default)]
pub struct StreamRequest {
    pub events_requested: Option<Vec<String>>,
    pub description: Option<String>,
}

fn checked_events(requested: &[String]) -> Result<String, StreamError> {
    if requested.len() > MAX_EVENT_TYPES
        || requested.iter().any(|e| {
            e.is_empty()
                || e.len() > MAX_TEXT
                || e.chars().any(|c| c.is_whitespace() || c.is_control())
        })
    {
        return Err(StreamError::Invalid(
            "events_requested: at most 20 event type URIs without spaces",
        ));
    }
    let mut unique: Vec<&str> = Vec::new();
    for event in requested {
        if !unique.contains(&event.as_str()) {
            unique.push(event);
        }
    }
    Ok(unique.join(" "))
}

fn checked_description(description: Option<String>) -> Result<Option<String>, StreamError> {
    match description {
        Some(text) if text.chars().count() > MAX_TEXT || text.chars().any(char::is_control) => Err(
            StreamError::Invalid("description: at most 256 printable characters"),
        ),
        other => Ok(other.filter(|t| !t.trim().is_empty())),
    }
}

/// The events a stream delivers: those it asked for that are supported
/// (§8.1.1 `events_delivered`).
pub fn delivered(stream: &stream::Model) -> Vec<&'static str> {
    let requested = stream.requested();
    EVENTS_SUPPORTED
        .into_iter()
        .filter(|e| requested.iter().any(|r| r == e))
        .collect()
}

/// Create a stream for the receiver `client_id`; it carries the events
/// recorded from now on. Its `aud` is the receiver's client id.
pub async fn create(
    db: &DatabaseConnection,
    client_id: &str,
    request: StreamRequest,
    now: DateTime<Utc>,
) -> Result<stream::Model, StreamError> {
    let events_requested = checked_events(
        &request
            .events_requested
            .unwrap_or_else(|| EVENTS_SUPPORTED.iter().map(|e| (*e).to_owned()).collect()),
    )?;
    let description = checked_description(request.description)?;
    let held = stream::Entity::find()
        .filter(stream::Column::ClientId.eq(client_id))
        .count(db)
        .await?;
    if held >= MAX_STREAMS {
        return Err(StreamError::TooMany);
    }
    Ok(stream::ActiveModel {
        stream_id: Set(Uuid::now_v7()),
        client_id: Set(client_id.to_owned()),
        audience: Set(client_id.to_owned()),
        events_requested: Set(events_requested),
        description: Set(description),
        status: Set(Status::Enabled.as_str().to_owned()),
        status_reason: Set(None),
        cursor: Set(events::newest_id(db).await?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// The receiver's own stream `stream_id`.
pub async fn find(
    db: &impl ConnectionTrait,
    client_id: &str,
    stream_id: Uuid,
) -> Result<stream::Model, StreamError> {
    stream::Entity::find_by_id(stream_id)
        .one(db)
        .await?
        .filter(|s| s.client_id == client_id)
        .ok_or(StreamError::NotFound)
}

pub async fn list(db: &impl ConnectionTrait, client_id: &str) -> Result<Vec<stream::Model>, DbErr> {
    stream::Entity::find()
        .filter(stream::Column::ClientId.eq(client_id))
        .order_by_asc(stream::Column::StreamId)
        .all(db)
        .await
}

/// Change what a stream carries or says; fields absent stay.
pub async fn update(
    db: &DatabaseConnection,
    client_id: &str,
    stream_id: Uuid,
    request: StreamRequest,
    now: DateTime<Utc>,
) -> Result<stream::Model, StreamError> {
    let current = find(db, client_id, stream_id).await?;
    let mut row: stream::ActiveModel = current.clone().into();
    if let Some(events) = request.events_requested {
        row.events_requested = Set(checked_events(&events)?);
    }
    if request.description.is_some() {
        row.description = Set(checked_description(request.description)?);
    }
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

/// Delete a stream and what waits in it; `NotFound` if it is not theirs.
pub async fn delete(
    db: &DatabaseConnection,
    client_id: &str,
    stream_id: Uuid,
) -> Result<(), StreamError> {
    let txn = signet_service::db::begin_write(db).await?;
    find(&txn, client_id, stream_id).await?;
    pending::Entity::delete_many()
        .filter(pending::Column::StreamId.eq(stream_id))
        .exec(&txn)
        .await?;
    stream::Entity::delete_by_id(stream_id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Set a stream's status (§8.1.2). Enabling a disabled stream starts it
/// from now (what happened while disabled is not held); enabling a paused
/// one delivers what it held.
pub async fn set_status(
    db: &DatabaseConnection,
    client_id: &str,
    stream_id: Uuid,
    status: Status,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<stream::Model, StreamError> {
    let reason = checked_description(reason)?;
    let txn = signet_service::db::begin_write(db).await?;
    let current = find(&txn, client_id, stream_id).await?;
    let mut row: stream::ActiveModel = current.clone().into();
    if status == Status::Disabled {
        pending::Entity::delete_many()
            .filter(pending::Column::StreamId.eq(stream_id))
            .exec(&txn)
            .await?;
    }
    if status == Status::Enabled && current.status == Status::Disabled.as_str() {
        row.cursor = Set(events::newest_id(&txn).await?);
    }
    row.status = Set(status.as_str().to_owned());
    row.status_reason = Set(reason);
    row.updated_at = Set(now);
    let updated = row.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

fn sign_set(keys: &KeyRing, claims: &Value) -> Result<String, SignError> {
    let key = keys.active();
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some(events::SET_TYPE.to_owned());
    header.kid = Some(key.kid.clone());
    key.signer.sign_jws(&header, claims)
}

/// §8.1.4: queue a verification event (with the receiver's `state`) in the
/// stream; it is delivered like any other, even while paused.
pub async fn verify(
    db: &DatabaseConnection,
    keys: &KeyRing,
    issuer: &str,
    stream: &stream::Model,
    state: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), StreamError> {
    if stream.status == Status::Disabled.as_str() {
        return Err(StreamError::Invalid("the stream is disabled"));
    }
    let state = checked_description(state)?;
    let jti = Uuid::now_v7().to_string();
    let mut payload = json!({});
    if let Some(state) = state {
        payload["state"] = json!(state);
    }
    let claims = json!({
        "iss": issuer,
        "aud": stream.audience,
        "iat": now.timestamp(),
        "jti": jti,
        "sub_id": { "format": "opaque", "id": stream.stream_id.to_string() },
        "events": { VERIFICATION: payload },
    });
    pending::ActiveModel {
        id: Set(Uuid::now_v7()),
        stream_id: Set(stream.stream_id),
        jti: Set(jti),
        signed_set: Set(sign_set(keys, &claims)?),
        created_at: Set(now),
        expires_at: Set(now + crate::app::clock::span(events::KEEP_FOR)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The SET of security event `row` for `stream`, in the SSF formats.
async fn stream_claims(
    db: &impl ConnectionTrait,
    issuer: &str,
    stream: &stream::Model,
    row: &security_event::Model,
) -> Result<Value, DbErr> {
    let user = |sub: &str| json!({ "format": "iss_sub", "iss": issuer, "sub": sub });
    let at = row.effective_at.timestamp();
    let (sub_id, payload) = match row.event_type.as_str() {
        events::SESSION_REVOKED => {
            let owner = Uuid::parse_str(&row.subject)
                .ok()
                .map(crate::sessions::entity::Entity::find_by_id);
            let owner = match owner {
                Some(query) => query.one(db).await?.map(|s| s.user_id.to_string()),
                None => None,
            };
            let mut subject = json!({
                "format": "complex",
                "session": { "format": "opaque", "id": row.subject },
            });
            if let Some(owner) = owner {
                subject["user"] = user(&owner);
            }
            (subject, json!({ "event_timestamp": at }))
        }
        events::CREDENTIAL_CHANGE => (
            user(&row.subject),
            json!({ "credential_type": "password", "change_type": "update", "event_timestamp": at }),
        ),
        _ => (user(&row.subject), json!({})),
    };
    Ok(json!({
        "iss": issuer,
        "aud": stream.audience,
        "iat": row.created_at.timestamp(),
        "jti": row.jti.to_string(),
        "sub_id": sub_id,
        "events": { row.event_type.as_str(): payload },
    }))
}

/// Fill `stream` with the security events past its cursor that it
/// delivers. The cursor moves first, conditionally: a concurrent poll that
/// lost the race fills nothing. The new cursor when a full batch was
/// filled (more may wait), else `None`.
async fn fill(
    db: &DatabaseConnection,
    keys: &KeyRing,
    issuer: &str,
    stream: &stream::Model,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StreamError> {
    let rows = security_event::Entity::find()
        .filter(security_event::Column::Id.gt(stream.cursor))
        .order_by_asc(security_event::Column::Id)
        .limit(events::MAX_BATCH)
        .all(db)
        .await?;
    let Some(last) = rows.last().map(|r| r.id) else {
        return Ok(None);
    };
    let full = rows.len() as u64 == events::MAX_BATCH;
    let wanted = delivered(stream);
    let txn = signet_service::db::begin_write(db).await?;
    let moved = stream::Entity::update_many()
        .col_expr(stream::Column::Cursor, Expr::value(last))
        .filter(stream::Column::StreamId.eq(stream.stream_id))
        .filter(stream::Column::Cursor.eq(stream.cursor))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(None);
    }
    for row in rows
        .iter()
        .filter(|r| r.expires_at > now && wanted.contains(&r.event_type.as_str()))
    {
        let claims = stream_claims(&txn, issuer, stream, row).await?;
        pending::ActiveModel {
            id: Set(Uuid::now_v7()),
            stream_id: Set(stream.stream_id),
            jti: Set(row.jti.to_string()),
            signed_set: Set(sign_set(keys, &claims)?),
            created_at: Set(now),
            expires_at: Set(row.expires_at),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(full.then_some(last))
}

/// One RFC 8936 poll: forget what the receiver acknowledged (or reported
/// as failed), fill the stream if it is enabled, and answer with at most
/// `max_events` waiting SETs, oldest first.
pub async fn poll(
    db: &DatabaseConnection,
    keys: &KeyRing,
    issuer: &str,
    stream: &stream::Model,
    done: &[String],
    max_events: u64,
    now: DateTime<Utc>,
) -> Result<(Vec<(String, String)>, bool), StreamError> {
    if !done.is_empty() {
        pending::Entity::delete_many()
            .filter(pending::Column::StreamId.eq(stream.stream_id))
            .filter(pending::Column::Jti.is_in(done.iter().map(String::as_str)))
            .exec(db)
            .await?;
    }
    if stream.status == Status::Enabled.as_str() {
        // Until caught up (a stream behind by more than one batch): one
        // read when it is, and no more.
        let mut current = stream.clone();
        for _ in 0..10 {
            match fill(db, keys, issuer, &current, now).await? {
                Some(cursor) => current.cursor = cursor,
                None => break,
            }
        }
    }
    let limit = max_events.clamp(1, MAX_EVENTS);
    let mut rows = pending::Entity::find()
        .filter(pending::Column::StreamId.eq(stream.stream_id))
        .filter(pending::Column::ExpiresAt.gt(now))
        .order_by_asc(pending::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok((
        rows.into_iter().map(|r| (r.jti, r.signed_set)).collect(),
        more,
    ))
}
