//! Sessions and rotating refresh tokens.
//!
//! Each login starts a session (a "family"). A refresh token is 256 random bits
//! (`sgr_…`), stored as SHA-256 only, and exchanged exactly once: the exchange
//! marks it rotated with a conditional UPDATE, so of two concurrent exchanges
//! exactly one performs the rotation. Presenting a rotated token again is
//! treated as theft and revokes the whole family — except within a short grace
//! window, where a client that lost the response may retry and receives the
//! same successor (recovered from a copy sealed under a key derived from the
//! old token, which only its holder knows).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionSession, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::accounts::entity as user;
pub use crate::config::SessionPolicy;

pub mod entity;
pub mod methods;
pub mod refresh_token;
pub(crate) mod routes;
pub mod sign_in;

use std::net::IpAddr;

use crate::app::clock::span;
use crate::audit::{self, AuditEvent};
use crate::digest::sha256_hex;
use crate::events;
use entity as session;

pub const REFRESH_PREFIX: &str = "sgr_";

fn mint() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    (
        format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)),
        bytes,
    )
}

/// A one-time pad derived from the presented (old) token: SHA-256 under its own
/// domain, so neither the stored hash nor the database reveals it.
fn pad(old_token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"signet refresh successor v1\0");
    hasher.update(old_token.as_bytes());
    hasher.finalize().into()
}

fn seal(successor: &[u8; 32], old_token: &str) -> String {
    let pad = pad(old_token);
    let sealed: Vec<u8> = successor
        .iter()
        .zip(pad.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    URL_SAFE_NO_PAD.encode(sealed)
}

fn unseal(sealed: &str, old_token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() != 32 {
        return None;
    }
    let pad = pad(old_token);
    let plain: Vec<u8> = bytes.iter().zip(pad.iter()).map(|(a, b)| a ^ b).collect();
    Some(format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(plain)))
}

/// Where a session was opened from, and what its tokens are for.
#[derive(Debug, Default)]
pub struct Client {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub audience: Option<String>,
    /// The registered client (authorization-code flow); `None` for password login.
    pub client_id: Option<String>,
    /// The scope granted to that client.
    pub scope: Option<String>,
    /// The DPoP key its refresh token is bound to (public clients).
    pub dpop_jkt: Option<String>,
    /// The upstream provider's issuer the sign-in came through.
    pub idp: Option<String>,
    /// How the sign-in was authenticated (`None`: a password, or `fed`
    /// with `idp`).
    pub methods: Option<methods::Methods>,
    /// The browser session it came from (a code of the sign-in pages).
    pub parent: Option<Uuid>,
}

pub struct Started {
    pub session: session::Model,
    pub refresh_token: String,
}

/// Opens a session and its first refresh token in one transaction, so a
/// database failure between the two writes cannot leave a session that no
/// token can ever refresh.
pub async fn start<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: Uuid,
    policy: &SessionPolicy,
    client: Client,
    now: DateTime<Utc>,
) -> Result<Started, DbErr> {
    let txn = signet_service::db::begin_write(db).await?;
    let started = start_within(&txn, user_id, policy, client, now).await?;
    txn.commit().await?;
    Ok(started)
}

/// [`start`] inside the caller's transaction `txn` (which makes the two
/// writes one, without a savepoint of their own).
pub async fn start_within(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    policy: &SessionPolicy,
    client: Client,
    now: DateTime<Utc>,
) -> Result<Started, DbErr> {
    let absolute = now + span(policy.absolute);
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        created_at: Set(now),
        last_used_at: Set(now),
        idle_expires_at: Set((now + span(policy.idle)).min(absolute)),
        absolute_expires_at: Set(absolute),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        user_agent: Set(client.user_agent.map(|ua| ua.chars().take(256).collect())),
        ip: Set(client.ip),
        audience: Set(client.audience),
        client_id: Set(client.client_id),
        scope: Set(client.scope),
        browser_token_hash: Set(None),
        browser_site: Set(None),
        amr: Set(Some(
            client
                .methods
                .unwrap_or_else(|| methods::Methods::stored(None, client.idp.as_deref()))
                .to_stored(),
        )),
        idp: Set(client.idp),
        dpop_jkt: Set(client.dpop_jkt),
        parent_session_id: Set(client.parent),
    }
    .insert(txn)
    .await?;
    let (token, _) = mint();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session.id),
        token_hash: Set(sha256_hex(&token)),
        created_at: Set(now),
        rotated_at: Set(None),
        successor_id: Set(None),
        successor_sealed: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(Started {
        session,
        refresh_token: token,
    })
}

/// Why a refresh token was refused: all but `Store` are `invalid_grant` to
/// the client.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("unknown refresh token")]
    Unknown,
    #[error("the session has ended")]
    SessionEnded,
    #[error("the account is disabled or deleted")]
    UserInactive,
    /// Presented by another client than the one the session belongs to;
    /// nothing is rotated.
    #[error("the refresh token belongs to another client")]
    WrongClient,
    /// A rotated token came back after the grace window: the family is
    /// revoked, and `refresh.reuse_detected` audited with the revocation.
    #[error("a rotated refresh token was presented again")]
    Reused { session_id: Uuid, user_id: Uuid },
    #[error("session store: {0}")]
    Store(#[from] DbErr),
}

pub struct Rotated {
    pub user: user::Model,
    pub session: session::Model,
    pub refresh_token: String,
    /// A retry inside the grace window: the same successor as before.
    pub replayed: bool,
}

/// Exchange `presented` for its successor (see the module docs), on behalf
/// of `client_id` (`None`: the first-party client), which must be the client
/// the session belongs to. `ip` is the caller's, for the audit row of a
/// detected reuse. `known`: the token's session as the caller just read it
/// ([`session_of`]), used instead of reading it again in the first round.
pub async fn rotate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    presented: &str,
    known: Option<session::Model>,
    policy: &SessionPolicy,
    client_id: Option<&str>,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Rotated, RefreshError> {
    if !presented.starts_with(REFRESH_PREFIX) || presented.len() > 128 {
        return Err(RefreshError::Unknown);
    }
    let hash = sha256_hex(presented);
    let mut known = known;
    // Two rounds at most: a lost race re-reads the row, which is then rotated.
    for _ in 0..2 {
        let Some(row) = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(hash.as_str()))
            .one(db)
            .await?
        else {
            return Err(RefreshError::Unknown);
        };
        let family = match known.take().filter(|session| session.id == row.session_id) {
            Some(session) => session,
            None => match session::Entity::find_by_id(row.session_id).one(db).await? {
                Some(session) => session,
                None => return Err(RefreshError::Unknown),
            },
        };
        if family.client_id.as_deref() != client_id {
            return Err(RefreshError::WrongClient);
        }
        if !family.is_active_at(now) {
            return Err(RefreshError::SessionEnded);
        }
        let Some(owner) = user::Entity::find_by_id(family.user_id)
            .one(db)
            .await?
            .filter(|u| !u.disabled)
        else {
            revoke(db, family.id, "user inactive", now).await?;
            return Err(RefreshError::UserInactive);
        };

        if let Some(rotated_at) = row.rotated_at {
            let within_grace = now.signed_duration_since(rotated_at) <= span(policy.reuse_grace);
            let successor = match (within_grace, &row.successor_sealed, row.successor_id) {
                (true, Some(sealed), Some(successor_id)) => {
                    let candidate = unseal(sealed, presented);
                    let stored = refresh_token::Entity::find_by_id(successor_id)
                        .one(db)
                        .await?;
                    match (candidate, stored) {
                        (Some(candidate), Some(stored))
                            if stored.token_hash == sha256_hex(&candidate) =>
                        {
                            Some(candidate)
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            return match successor {
                Some(refresh_token) => Ok(Rotated {
                    user: owner,
                    session: family,
                    refresh_token,
                    replayed: true,
                }),
                None => {
                    let (session_text, user_text) =
                        (family.id.to_string(), family.user_id.to_string());
                    end_and_audit(
                        db,
                        family.id,
                        "refresh token reuse",
                        AuditEvent::new("refresh.reuse_detected")
                            .actor(&user_text)
                            .subject(&session_text)
                            .ip(ip.map(|ip| ip.to_string()).as_deref())
                            .detail(serde_json::json!({ "action": "session revoked" })),
                        now,
                    )
                    .await?;
                    Err(RefreshError::Reused {
                        session_id: family.id,
                        user_id: family.user_id,
                    })
                }
            };
        }

        let (successor, successor_bytes) = mint();
        let successor_id = Uuid::now_v7();
        let txn = signet_service::db::begin_write(db).await?;
        let claimed = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
            .col_expr(
                refresh_token::Column::SuccessorId,
                Expr::value(successor_id),
            )
            .col_expr(
                refresh_token::Column::SuccessorSealed,
                Expr::value(seal(&successor_bytes, presented)),
            )
            .filter(refresh_token::Column::Id.eq(row.id))
            .filter(refresh_token::Column::RotatedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        refresh_token::ActiveModel {
            id: Set(successor_id),
            session_id: Set(family.id),
            token_hash: Set(sha256_hex(&successor)),
            created_at: Set(now),
            rotated_at: Set(None),
            successor_id: Set(None),
            successor_sealed: Set(None),
        }
        .insert(&txn)
        .await?;
        let idle_until = (now + span(policy.idle)).min(family.absolute_expires_at);
        let mut touched: session::ActiveModel = family.into();
        touched.last_used_at = Set(now);
        touched.idle_expires_at = Set(idle_until);
        let family = touched.update(&txn).await?;
        txn.commit().await?;
        return Ok(Rotated {
            user: owner,
            session: family,
            refresh_token: successor,
            replayed: false,
        });
    }
    Err(RefreshError::Unknown)
}

/// Revoke the still-open sessions matching `which`; how many were.
/// End the live sessions `which` selects, and record a `session-revoked`
/// security event for each, in one transaction (a savepoint inside the
/// caller's): verifiers following the feed refuse their tokens at once.
async fn revoke_where<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    which: sea_orm::Condition,
    reason: &str,
    extra: Option<events::Revocation<'_>>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = signet_service::db::begin_write(db).await?;
    // The write first, with RETURNING: on SQLite a transaction that reads
    // before it writes fails at once (SQLITE_BUSY_SNAPSHOT) when another
    // connection committed in between, whatever the busy timeout; one that
    // starts by writing waits for the lock instead.
    let ended = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(which)
        .filter(session::Column::RevokedAt.is_null())
        .exec_with_returning(&txn)
        .await?;
    // The sessions of the applications a browser session signed in end
    // with it (Back-Channel Logout: each is told below).
    let parents: Vec<Uuid> = ended.iter().map(|session| session.id).collect();
    let children = if parents.is_empty() {
        Vec::new()
    } else {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .col_expr(
                session::Column::RevokedReason,
                Expr::value("the browser session it came from ended"),
            )
            .filter(session::Column::ParentSessionId.is_in(parents))
            .filter(session::Column::RevokedAt.is_null())
            .exec_with_returning(&txn)
            .await?
    };
    let ended: Vec<session::Model> = ended.into_iter().chain(children).collect();
    let ids: Vec<Uuid> = ended.iter().map(|session| session.id).collect();
    if ids.is_empty() && extra.is_none() {
        txn.rollback().await?;
        return Ok(0);
    }
    let rows_affected = ids.len() as u64;
    let mut revocations: Vec<events::Revocation<'_>> = ids
        .iter()
        .map(|id| events::Revocation::Session(*id))
        .collect();
    revocations.extend(extra);
    events::record_all(&txn, &revocations, now).await?;
    crate::backchannel::enqueue(&txn, &ended, now).await?;
    txn.commit().await?;
    Ok(rows_affected)
}

/// End one session; its refresh tokens stop working at once. Idempotent.
pub async fn revoke<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let which = sea_orm::Condition::all().add(session::Column::Id.eq(session_id));
    Ok(revoke_where(db, which, reason, None, now).await? > 0)
}

/// End a user's sessions opened for one client (consent withdrawn).
pub async fn revoke_for_client<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: Uuid,
    client_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let which = sea_orm::Condition::all()
        .add(session::Column::UserId.eq(user_id))
        .add(session::Column::ClientId.eq(client_id));
    revoke_where(db, which, reason, None, now).await
}

/// End one session and record `event` about it, in one transaction: the
/// audit row exists exactly when the session was ended by this call.
/// `false` (and no row) when it had already ended.
pub async fn end_and_audit<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session_id: Uuid,
    reason: &str,
    event: AuditEvent<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = signet_service::db::begin_write(db).await?;
    let ended = revoke(&txn, session_id, reason, now).await?;
    if ended {
        audit::write(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(ended)
}

/// End `user_id`'s own session `session_id` (the account API and the
/// account page), audited as `session.revoked` by the user. `None`: no
/// such session of theirs; `Some(false)`: it had ended already.
pub async fn end_own<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: Uuid,
    session_id: Uuid,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<bool>, DbErr> {
    let Some(session) = session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .filter(|s| s.user_id == user_id)
    else {
        return Ok(None);
    };
    let (user_text, session_text) = (user_id.to_string(), session.id.to_string());
    end_and_audit(
        db,
        session.id,
        "revoked by user",
        AuditEvent::new("session.revoked")
            .actor(&user_text)
            .subject(&session_text)
            .ip(ip),
        now,
    )
    .await
    .map(Some)
}

/// End every session of `user_id` but `keep` ("sign out everywhere
/// else"), with one `session.revoked_others` audit row counting them, in
/// one transaction. Returns how many ended.
pub async fn end_others<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: Uuid,
    keep: Uuid,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = signet_service::db::begin_write(db).await?;
    let which = sea_orm::Condition::all()
        .add(session::Column::UserId.eq(user_id))
        .add(session::Column::Id.ne(keep));
    let ended = revoke_where(&txn, which, "signed out elsewhere by user", None, now).await?;
    if ended > 0 {
        let user_text = user_id.to_string();
        audit::write(
            &txn,
            AuditEvent::new("session.revoked_others")
                .actor(&user_text)
                .subject(&user_text)
                .ip(ip)
                .detail(serde_json::json!({ "sessions_revoked": ended })),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(ended)
}

/// End every session of a user, each announced on the feed as a session
/// revocation; the account itself stays as it is (an admin's "end
/// sessions").
pub async fn end_all_for_user<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let which = sea_orm::Condition::all().add(session::Column::UserId.eq(user_id));
    revoke_where(db, which, reason, None, now).await
}

/// End every session of a user (password change, disable, delete), and
/// announce `change` for the user: verifiers refuse every token of theirs
/// issued before now, with or without a session.
pub async fn revoke_all_for_user<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user_id: Uuid,
    change: events::SubjectChange,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let which = sea_orm::Condition::all().add(session::Column::UserId.eq(user_id));
    let announce = events::Revocation::Subject(user_id, change);
    revoke_where(db, which, reason, Some(announce), now).await
}

pub const BROWSER_PREFIX: &str = "sgb_";

/// Give `session` a browser cookie value for `site` (256 random bits,
/// stored as SHA-256 only); returned once, for the `Set-Cookie`.
pub async fn attach_browser(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    site: &str,
) -> Result<String, DbErr> {
    let (value, _) = mint();
    let value = format!("{BROWSER_PREFIX}{}", &value[REFRESH_PREFIX.len()..]);
    session::Entity::update_many()
        .col_expr(
            session::Column::BrowserTokenHash,
            Expr::value(sha256_hex(&value)),
        )
        .col_expr(session::Column::BrowserSite, Expr::value(site))
        .filter(session::Column::Id.eq(session_id))
        .exec(db)
        .await?;
    Ok(value)
}

/// The live account and session a browser cookie presented on `site`
/// names, if both are live at `now` (ended by logout, password change,
/// disable or delete like any session) and the cookie was issued on `site`:
/// a cookie the application behind one gateway saw is no credential at
/// another site, nor at the authorization endpoint. Use keeps it alive: its
/// idle deadline moves to `now` + the idle lifetime (never past the absolute
/// one), written at most once a minute.
pub async fn browser_session(
    db: &impl ConnectionTrait,
    cookie: &str,
    site: &str,
    policy: &SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<(user::Model, session::Model)>, DbErr> {
    if !cookie.starts_with(BROWSER_PREFIX) || cookie.len() > 128 {
        return Ok(None);
    }
    let Some(found) = session::Entity::find()
        .filter(session::Column::BrowserTokenHash.eq(sha256_hex(cookie)))
        .one(db)
        .await?
        .filter(|s| s.is_active_at(now))
        .filter(|s| s.browser_site.as_deref() == Some(site))
    else {
        return Ok(None);
    };
    let user = user::Entity::find_by_id(found.user_id)
        .one(db)
        .await?
        .filter(|u| !u.disabled);
    let Some(user) = user else {
        return Ok(None);
    };
    if now - found.last_used_at >= chrono::Duration::minutes(1) {
        let idle = (now + span(policy.idle)).min(found.absolute_expires_at);
        session::Entity::update_many()
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .col_expr(session::Column::IdleExpiresAt, Expr::value(idle))
            .filter(session::Column::Id.eq(found.id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(Some((user, found)))
}

/// The session a refresh token belongs to, if any (for RFC 7009
/// revocation, and before a refresh): one statement.
pub async fn session_of(
    db: &impl ConnectionTrait,
    presented: &str,
) -> Result<Option<session::Model>, DbErr> {
    let of_token = sea_orm::sea_query::Query::select()
        .column(refresh_token::Column::SessionId)
        .from(refresh_token::Entity)
        .and_where(refresh_token::Column::TokenHash.eq(sha256_hex(presented)))
        .to_owned();
    session::Entity::find()
        .filter(session::Column::Id.in_subquery(of_token))
        .one(db)
        .await
}

/// The account and session behind a verified user access token, if both are
/// still live at `now`: the account exists and is enabled, and the token's
/// `sid` is an active session of that account. Two primary-key reads. The
/// account guard and introspection both decide with this.
pub async fn live_account(
    db: &impl ConnectionTrait,
    token: &jwt_verify::VerifiedToken,
    now: DateTime<Utc>,
) -> Result<Option<(user::Model, session::Model)>, DbErr> {
    let Some(user_id) = token
        .claims()
        .sub
        .as_deref()
        .and_then(|sub| Uuid::parse_str(sub).ok())
    else {
        return Ok(None);
    };
    let (user, session) = tokio::try_join!(
        user::Entity::find_by_id(user_id).one(db),
        session_of_access_token(db, token),
    )?;
    Ok(user
        .filter(|u| !u.disabled)
        .zip(session.filter(|s| s.is_active_at(now))))
}

/// The session a verified user access token belongs to (its `sid`, owned by its `sub`).
pub async fn session_of_access_token(
    db: &impl ConnectionTrait,
    token: &jwt_verify::VerifiedToken,
) -> Result<Option<session::Model>, DbErr> {
    #[derive(serde::Deserialize)]
    struct Sid {
        sid: Option<String>,
    }
    let sid = token
        .deserialize::<Sid>()
        .ok()
        .and_then(|c| c.sid)
        .and_then(|sid| Uuid::parse_str(&sid).ok());
    let Some(sid) = sid else {
        return Ok(None);
    };
    let owner = token.claims().sub.as_deref();
    Ok(session::Entity::find_by_id(sid)
        .one(db)
        .await?
        .filter(|s| owner == Some(s.user_id.to_string().as_str())))
}

pub async fn active_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::IdleExpiresAt.gt(now))
        .filter(session::Column::AbsoluteExpiresAt.gt(now))
        .order_by_desc(session::Column::LastUsedAt)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_successor_opens_only_with_the_old_token() {
        let (old, _) = mint();
        let (successor, bytes) = mint();
        let sealed = seal(&bytes, &old);
        assert_eq!(unseal(&sealed, &old).as_deref(), Some(successor.as_str()));
        let (other, _) = mint();
        assert_ne!(unseal(&sealed, &other).as_deref(), Some(successor.as_str()));
        assert!(!sealed.contains(&successor[REFRESH_PREFIX.len()..]));
    }

    #[test]
    fn refresh_tokens_carry_256_random_bits() {
        let (token, _) = mint();
        assert!(token.starts_with("sgr_"));
        assert_eq!(URL_SAFE_NO_PAD.decode(&token[4..]).expect("b64").len(), 32);
    }
}
