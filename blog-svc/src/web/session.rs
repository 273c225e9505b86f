//! Browser sessions and sign-ins in progress, in the database.
//!
//! The browser holds one random value (256 bits) in the session cookie. The
//! row is keyed by its SHA-256, and the tokens in the row are sealed
//! (AES-256-GCM) under another hash of it: someone who reads the database
//! learns neither a cookie nor a token. A sign-in in progress is handled the
//! A sign-in in progress lives in its cookie, sealed (see [`login_cookie`]).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest as _, Sha256};
use signet_service::seal::Sealer;

use super::oidc::{Pending, SignedIn, Tokens};
use super::session_entity as session;

/// A sign-in must come back within this long.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);
/// `last_seen_at` is written at most this often per session.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// When the token endpoint gives no lifetime, assume this short one.
const DEFAULT_ACCESS_TTL: u64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session store: {0}")]
    Db(#[from] DbErr),
    #[error("sealing session tokens failed")]
    Seal,
}

fn derive(label: &str, secret: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    hasher.update([0]);
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

fn row_id(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(derive("blog-svc web row id v1", secret))
}

fn sealer(secret: &str) -> Sealer {
    Sealer::new(&derive("blog-svc web seal v1", secret))
}

fn chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

fn seal<T: serde::Serialize>(secret: &str, id: &str, value: &T) -> Result<String, StoreError> {
    let json = serde_json::to_string(value).map_err(|_| StoreError::Seal)?;
    sealer(secret).seal(id, &json).map_err(|_| StoreError::Seal)
}

fn open<T: serde::de::DeserializeOwned>(secret: &str, id: &str, sealed: &str) -> Option<T> {
    let json = sealer(secret).open(id, sealed).ok()?;
    serde_json::from_str(&json).ok()
}

/// A sign-in in progress, as its cookie carries it: the OAuth `state`, then
/// the nonce, PKCE verifier, return path and start time sealed (AES-256-GCM)
/// under `key` with the `state` as associated data. Nothing is stored before
/// the sign-in completes, so anonymous visits to `/auth/login` cost no row.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealedLogin {
    pending: Pending,
    started: i64,
}

pub fn login_cookie(
    key: &[u8; 32],
    state: &str,
    pending: &Pending,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let json = serde_json::to_string(&SealedLogin {
        pending: pending.clone(),
        started: now.timestamp(),
    })
    .map_err(|_| StoreError::Seal)?;
    let sealed = Sealer::new(key)
        .seal(&format!("login:{state}"), &json)
        .map_err(|_| StoreError::Seal)?;
    Ok(format!("{state}.{sealed}"))
}

/// The sign-in a login cookie holds, if it was sealed by us for
/// `presented_state` (the callback's) less than [`LOGIN_TTL`] ago. The
/// callback removes the cookie, and the code it carries is good once at the
/// auth server, so a sign-in completes once.
pub fn open_login_cookie(
    key: &[u8; 32],
    cookie: &str,
    presented_state: &str,
    now: DateTime<Utc>,
) -> Option<Pending> {
    let (state, sealed) = cookie.split_once('.')?;
    if !signet_service::web::same_secret(state, presented_state) {
        return None;
    }
    let json = Sealer::new(key)
        .open(&format!("login:{state}"), sealed)
        .ok()?;
    let login: SealedLogin = serde_json::from_str(&json).ok()?;
    let age = now.timestamp().saturating_sub(login.started);
    (0..i64::try_from(LOGIN_TTL.as_secs()).unwrap_or(i64::MAX))
        .contains(&age)
        .then_some(login.pending)
}

/// A signed-in browser: its row and its tokens.
pub struct Session {
    pub row: session::Model,
    pub tokens: Tokens,
    secret: String,
}

impl Session {
    pub fn sub(&self) -> &str {
        &self.row.sub
    }

    /// Whether the access token is spent or about to be (within `margin`).
    pub fn access_expiring(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        self.row.access_expires_at <= now + chrono(margin)
    }
}

fn access_expiry(tokens: &Tokens, now: DateTime<Utc>) -> DateTime<Utc> {
    let secs = tokens.expires_in.unwrap_or(DEFAULT_ACCESS_TTL);
    now + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2))
}

/// Open a session for a verified sign-in; returns the cookie value.
pub async fn create(
    db: &DatabaseConnection,
    signed_in: &SignedIn,
    lifetime: Duration,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let secret = signet_service::web::random_token();
    let id = row_id(&secret);
    session::ActiveModel {
        tokens: Set(seal(&secret, &id, &signed_in.tokens)?),
        id: Set(id),
        sub: Set(signed_in.sub.clone()),
        display_name: Set(signed_in.display_name.clone()),
        access_expires_at: Set(access_expiry(&signed_in.tokens, now)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + chrono(lifetime)),
        sid: Set(signed_in.sid.clone()),
    }
    .insert(db)
    .await?;
    Ok(secret)
}

/// The session behind a cookie value, if it is still alive (not past its
/// absolute lifetime, not idle for `idle`). Marks it seen.
pub async fn load(
    db: &DatabaseConnection,
    secret: &str,
    idle: Duration,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    let id = row_id(secret);
    let Some(row) = session::Entity::find_by_id(id.clone()).one(db).await? else {
        return Ok(None);
    };
    let tokens = open::<Tokens>(secret, &id, &row.tokens);
    let alive = row.expires_at > now && row.last_seen_at + chrono(idle) > now;
    let Some(tokens) = tokens.filter(|_| alive) else {
        session::Entity::delete_by_id(id).exec(db).await?;
        return Ok(None);
    };
    if row.last_seen_at + chrono(TOUCH_EVERY) <= now {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(id.as_str()))
            .exec(db)
            .await?;
    }
    Ok(Some(Session {
        row,
        tokens,
        secret: secret.to_owned(),
    }))
}

/// Keep the tokens a refresh returned.
pub async fn store_tokens(
    db: &DatabaseConnection,
    session: &mut Session,
    tokens: Tokens,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sealed = seal(&session.secret, &session.row.id, &tokens)?;
    let expires = access_expiry(&tokens, now);
    session::Entity::update_many()
        .col_expr(session::Column::Tokens, Expr::value(sealed))
        .col_expr(session::Column::AccessExpiresAt, Expr::value(expires))
        .filter(session::Column::Id.eq(session.row.id.as_str()))
        .exec(db)
        .await?;
    session.row.access_expires_at = expires;
    session.tokens = tokens;
    Ok(())
}

/// End the sessions a back-channel logout token names: the one of auth-server
/// session `sid`, or, with only `sub`, every session of that user. How many.
pub async fn end_for_logout(
    db: &DatabaseConnection,
    sid: Option<&str>,
    sub: Option<&str>,
) -> Result<u64, StoreError> {
    let which = match (sid, sub) {
        (Some(sid), _) => session::Column::Sid.eq(sid),
        (None, Some(sub)) => session::Column::Sub.eq(sub),
        (None, None) => return Ok(0),
    };
    Ok(session::Entity::delete_many()
        .filter(which)
        .exec(db)
        .await?
        .rows_affected)
}

/// End a session (sign-out, or the auth server refused its refresh token).
pub async fn end(db: &DatabaseConnection, session: &Session) -> Result<(), StoreError> {
    session::Entity::delete_by_id(session.row.id.clone())
        .exec(db)
        .await?;
    Ok(())
}
