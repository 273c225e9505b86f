//! API keys (service credentials): format, storage, authentication.
//!
//! A key is `sgn_<key_id>_<secret>`: a recognisable prefix (so leaked keys are
//! easy to spot and scan for), a public 16-character id used for lookup, and
//! 256 bits of randomness. Only SHA-256 of the whole key is stored — a fast hash
//! is right for a high-entropy random secret — and compared in constant time.

pub mod entity;
pub(crate) mod routes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::Rng as _;
use rand::RngCore as _;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::accounts::validate_roles;
use crate::audit::{self, AuditEvent};
use crate::digest::sha256_hex;
use crate::error::FieldError;
use entity as api_key;

pub const PREFIX: &str = "sgn_";
const KEY_ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
const KEY_ID_LEN: usize = 16;
pub const MAX_NAME_CHARS: usize = 100;

/// A newly minted key: the only moment the secret exists outside the caller.
pub struct MintedKey {
    pub model: api_key::Model,
    pub secret: String,
}

fn mint() -> (String, String) {
    let mut rng = rand::rngs::OsRng;
    let key_id: String = (0..KEY_ID_LEN)
        .map(|_| KEY_ID_ALPHABET[rng.gen_range(0..KEY_ID_ALPHABET.len())] as char)
        .collect();
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let full = format!("{PREFIX}{key_id}_{}", URL_SAFE_NO_PAD.encode(secret));
    (key_id, full)
}

pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<String>,
    /// Audiences the key may ask for (the first is its default); each must
    /// be one of `allowed`. Empty: only the server's default audience.
    pub audiences: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub dpop: crate::dpop_policy::DpopPolicy,
    /// Token exchange (RFC 8693): audiences (each one of `allowed`) and
    /// scopes the key may ask for when acting for a user; empty audiences:
    /// it may not exchange.
    pub exchange_audiences: Vec<String>,
    pub exchange_scopes: Vec<String>,
}

/// Why a key could not be created. Mapped to HTTP in `app::errors`.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("one or more fields are invalid")]
    Invalid(Vec<FieldError>),
    /// Includes the (2^-80) collision of a fresh key id with an existing one.
    #[error("api key store: {0}")]
    Store(#[from] DbErr),
}

/// Validate and mint a key; the caller shows its secret once.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewApiKey,
    allowed_audiences: &[String],
    now: DateTime<Utc>,
) -> Result<MintedKey, ApiKeyError> {
    let mut errors = Vec::new();
    let mut audiences: Vec<&str> = Vec::new();
    for audience in &new.audiences {
        if !allowed_audiences.contains(audience) {
            errors.push(FieldError::new(
                "audiences",
                "each audience must be one of the server's JWT_AUDIENCE values",
            ));
            break;
        }
        if !audiences.contains(&audience.as_str()) {
            audiences.push(audience);
        }
    }
    let mut exchange_audiences: Vec<&str> = Vec::new();
    for audience in &new.exchange_audiences {
        if !allowed_audiences.contains(audience) {
            errors.push(FieldError::new(
                "exchange_audiences",
                "each audience must be one of the server's JWT_AUDIENCE values",
            ));
            break;
        }
        if !exchange_audiences.contains(&audience.as_str()) {
            exchange_audiences.push(audience);
        }
    }
    let exchange_scopes = match validate_roles(&new.exchange_scopes) {
        Ok(scopes) => scopes,
        Err(problem) => {
            errors.push(FieldError::new(
                "exchange_scopes",
                problem.replace("role", "scope"),
            ));
            String::new()
        }
    };
    if exchange_audiences.is_empty() && !exchange_scopes.is_empty() {
        errors.push(FieldError::new(
            "exchange_scopes",
            "needs exchange_audiences: the audiences these scopes are for",
        ));
    }
    let name = new.name.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        errors.push(FieldError::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    // Scope names follow the same rules as role names.
    let scopes = match validate_roles(&new.scopes) {
        Ok(scopes) => scopes,
        Err(problem) => {
            errors.push(FieldError::new("scopes", problem.replace("role", "scope")));
            String::new()
        }
    };
    if new.expires_at.is_some_and(|expiry| expiry <= now) {
        errors.push(FieldError::new("expires_at", "must be in the future"));
    }
    if !errors.is_empty() {
        return Err(ApiKeyError::Invalid(errors));
    }
    let (key_id, secret) = mint();
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        key_id: Set(key_id),
        name: Set(name),
        scopes: Set(scopes),
        secret_hash: Set(sha256_hex(&secret)),
        created_at: Set(now),
        created_by: Set(new.created_by),
        last_used_at: Set(None),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        audiences: Set((!audiences.is_empty()).then(|| audiences.join(" "))),
        dpop: Set(new.dpop.as_str().to_owned()),
        exchange_audiences: Set(
            (!exchange_audiences.is_empty()).then(|| exchange_audiences.join(" "))
        ),
        exchange_scopes: Set((!exchange_audiences.is_empty()).then_some(exchange_scopes)),
    }
    .insert(db)
    .await?;
    Ok(MintedKey { model, secret })
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await
}

/// Who made a change, for its audit row: a user id, or `cli`.
pub struct Actor<'a> {
    pub id: &'a str,
    pub ip: Option<&'a str>,
}

/// [`create`] and its `api_key.created` audit row in one transaction.
pub async fn create_audited(
    db: &DatabaseConnection,
    new: NewApiKey,
    allowed_audiences: &[String],
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<MintedKey, ApiKeyError> {
    let txn = signet_service::db::begin_write(db).await?;
    let minted = create(&txn, new, allowed_audiences, now).await?;
    audit::write(
        &txn,
        AuditEvent::new("api_key.created")
            .actor(actor.id)
            .subject(&minted.model.client_id())
            .ip(actor.ip)
            .detail(serde_json::json!({
                "name": minted.model.name,
                "scopes": minted.model.scope_list(),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(minted)
}

/// Revoke by row id, with the `api_key.revoked` audit row, in one
/// transaction: no new tokens from then on. A key revoked before is returned
/// without a second row; `None` if there is no such key.
pub async fn revoke_audited(
    db: &DatabaseConnection,
    id: Uuid,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<api_key::Model>, DbErr> {
    let txn = signet_service::db::begin_write(db).await?;
    let Some(key) = api_key::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(Some(key));
    }
    let client_id = key.client_id();
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(now));
    let key = active.update(&txn).await?;
    // Verifiers following the feed refuse the key's tokens at once.
    crate::events::record(&txn, crate::events::Revocation::Client(&client_id), now).await?;
    audit::write(
        &txn,
        AuditEvent::new("api_key.revoked")
            .actor(actor.id)
            .subject(&client_id)
            .ip(actor.ip),
    )
    .await?;
    txn.commit().await?;
    Ok(Some(key))
}

/// Why a client could not be authenticated. The token endpoint answers every
/// one but `Store` with the same `invalid_client`.
#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    #[error("unknown client")]
    Unknown,
    #[error("wrong client secret")]
    WrongSecret,
    #[error("the key is revoked")]
    Revoked,
    #[error("the key has expired")]
    Expired,
    #[error("api key store: {0}")]
    Store(#[from] DbErr),
}

/// The key behind a client id (`sgn_<key_id>`), whatever its state.
pub async fn find_by_client_id(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    Ok(match client_id.strip_prefix(PREFIX) {
        Some(key_id)
            if key_id.len() == KEY_ID_LEN
                && key_id.bytes().all(|b| KEY_ID_ALPHABET.contains(&b)) =>
        {
            api_key::Entity::find()
                .filter(api_key::Column::KeyId.eq(key_id))
                .one(db)
                .await?
        }
        _ => None,
    })
}

/// Check `client_id` (`sgn_<key_id>`) and `secret` (the whole key) at `now`.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<api_key::Model, ClientAuthError> {
    let presented = sha256_hex(secret);
    let key = find_by_client_id(db, client_id).await?;
    let Some(key) = key else {
        return Err(ClientAuthError::Unknown);
    };
    if !bool::from(presented.as_bytes().ct_eq(key.secret_hash.as_bytes())) {
        return Err(ClientAuthError::WrongSecret);
    }
    if key.revoked_at.is_some() {
        return Err(ClientAuthError::Revoked);
    }
    if !key.is_usable_at(now) {
        return Err(ClientAuthError::Expired);
    }
    Ok(key)
}

/// Coalesces `last_used_at` writes: at most one per key per interval, written
/// in the background, so the token endpoint stays a read-only hot path.
#[derive(Clone)]
pub struct LastUsedTracker {
    interval: Duration,
    written: Arc<Mutex<HashMap<Uuid, Instant>>>,
}

impl LastUsedTracker {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            written: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Whether this use should be written (and, if so, it is counted as written).
    fn claim(&self, id: Uuid) -> bool {
        let Ok(mut written) = self.written.lock() else {
            return false;
        };
        let now = Instant::now();
        match written.get(&id) {
            Some(at) if now.duration_since(*at) < self.interval => false,
            _ => {
                written.insert(id, now);
                true
            }
        }
    }

    pub fn record(&self, db: &sea_orm::DatabaseConnection, id: Uuid) {
        if !self.claim(id) {
            return;
        }
        let db = db.clone();
        tokio::spawn(async move {
            let update = api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(Utc::now()),
                )
                .filter(api_key::Column::Id.eq(id))
                .exec(&db)
                .await;
            if let Err(error) = update {
                tracing::warn!(%error, api_key = %id, "could not record API key use");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_have_the_documented_shape_and_enough_entropy() {
        let (key_id, full) = mint();
        assert_eq!(key_id.len(), 16);
        assert!(full.starts_with(&format!("sgn_{key_id}_")));
        let secret = &full[PREFIX.len() + KEY_ID_LEN + 1..];
        assert_eq!(
            URL_SAFE_NO_PAD.decode(secret).expect("base64url").len(),
            32,
            "256 bits"
        );
        let client_id = format!("sgn_{key_id}");
        assert_eq!(
            jwt_verify::api_key_client_id(&full),
            Some(client_id.as_str())
        );
        assert_ne!(mint().1, full);
    }

    #[test]
    fn uses_are_written_at_most_once_per_interval() {
        let tracker = LastUsedTracker::new(Duration::from_secs(60));
        let id = Uuid::now_v7();
        assert!(tracker.claim(id));
        assert!(!tracker.claim(id));
        assert!(tracker.claim(Uuid::now_v7()));
    }
}
