//! The shared signing-key store (database mode): what lets several replicas
//! publish the same JWKS, sign with the same key, and rotate with no downtime.
//!
//! Enabled by `KEY_ENCRYPTION_KEY`. Private keys are stored sealed with
//! AES-256-GCM under that key-encryption key (the kid is the associated data,
//! so a sealed key cannot be swapped onto another row). A key moves through:
//!
//! - **next**: published in the JWKS, not signing, for at least the publish
//!   delay (≥ the JWKS `max-age`), so every verifier holds it before it signs;
//! - **active**: signing;
//! - **retired**: still published for at least the longest token lifetime, so
//!   tokens it signed keep verifying; then **removed** (deleted).
//!
//! Every replica runs [`KeyManager::tick`] periodically; each transition is a
//! conditional UPDATE, so replicas racing on it agree on the outcome.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::audit::{self, AuditEvent};
pub use crate::config::RotationPolicy;
use crate::keys::entity as signing_key;
use crate::keys::{KeyRing, SigningKey};

pub const NEXT: &str = "next";
pub const ACTIVE: &str = "active";
pub const RETIRED: &str = "retired";

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("KEY_ENCRYPTION_KEY cannot open the stored key {0}: wrong key-encryption key or corrupted row")]
    Unseal(String),
    #[error("stored key {kid} is unusable: {reason}")]
    BadKey { kid: String, reason: String },
    #[error("the key store holds no active key")]
    NoActiveKey,
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Crypto(String),
}

/// AES-256-GCM under the key-encryption key.
pub struct KeyEncryption {
    key: LessSafeKey,
}

impl KeyEncryption {
    pub fn new(key: &[u8; 32]) -> Result<Self, KeyStoreError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| KeyStoreError::Crypto("invalid AES-256 key".into()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    pub fn seal(&self, kid: &str, plaintext: &str) -> Result<String, KeyStoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut buffer = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| KeyStoreError::Crypto("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, kid: &str, sealed: &str) -> Result<String, KeyStoreError> {
        let unseal = || KeyStoreError::Unseal(kid.to_owned());
        let bytes = STANDARD.decode(sealed).map_err(|_| unseal())?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(unseal());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unseal())?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buffer)
            .map_err(|_| unseal())?;
        String::from_utf8(plaintext.to_vec()).map_err(|_| unseal())
    }
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Loads the key ring from the store, applies due transitions, and keeps the
/// in-memory ring (and this server's own verifier) in step.
#[derive(Clone)]
pub struct KeyManager {
    db: DatabaseConnection,
    encryption: Arc<KeyEncryption>,
    policy: RotationPolicy,
    ring: Arc<ArcSwap<KeyRing>>,
    verifier: jwt_verify::Verifier,
}

impl KeyManager {
    /// Bootstrap an empty store with `initial` as the active key, then load.
    pub async fn start(
        db: DatabaseConnection,
        encryption: KeyEncryption,
        policy: RotationPolicy,
        initial: impl FnOnce() -> Result<Arc<SigningKey>, String>,
        verifier_for: impl FnOnce(&KeyRing) -> jwt_verify::Verifier,
    ) -> Result<(Self, Arc<ArcSwap<KeyRing>>), KeyStoreError> {
        let encryption = Arc::new(encryption);
        let has_active = signing_key::Entity::find()
            .filter(signing_key::Column::State.eq(ACTIVE))
            .one(&db)
            .await?
            .is_some();
        if !has_active {
            let key = initial().map_err(|reason| KeyStoreError::BadKey {
                kid: "(initial)".into(),
                reason,
            })?;
            let now = Utc::now();
            let row = signing_key::ActiveModel {
                kid: Set(key.kid.clone()),
                state: Set(ACTIVE.to_owned()),
                private_key: Set(encryption.seal(&key.kid, key.pkcs8_pem())?),
                created_at: Set(now),
                activate_after: Set(None),
                activated_at: Set(Some(now)),
                retired_at: Set(None),
                remove_after: Set(None),
            };
            // Another replica may have bootstrapped at the same moment: theirs wins.
            if let Err(error) = signing_key::Entity::insert(row)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::column(signing_key::Column::Kid)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&db)
                .await
            {
                tracing::warn!(%error, "initial key not stored (another replica may have stored one)");
            }
        }
        let ring = load_ring(&db, &encryption).await?;
        let verifier = verifier_for(&ring);
        let ring = Arc::new(ArcSwap::from_pointee(ring));
        let manager = Self {
            db,
            encryption,
            policy,
            ring: ring.clone(),
            verifier,
        };
        manager.tick().await?;
        Ok((manager, ring))
    }

    pub fn verifier(&self) -> &jwt_verify::Verifier {
        &self.verifier
    }

    /// Publish a new key as `next`; it starts signing after the publish delay.
    pub async fn rotate(&self) -> Result<String, KeyStoreError> {
        let key = tokio::task::spawn_blocking(|| SigningKey::generate(crate::keys::MIN_KEY_BITS))
            .await
            .map_err(|e| KeyStoreError::Crypto(e.to_string()))?
            .map_err(KeyStoreError::Crypto)?;
        let now = Utc::now();
        signing_key::ActiveModel {
            kid: Set(key.kid.clone()),
            state: Set(NEXT.to_owned()),
            private_key: Set(self.encryption.seal(&key.kid, key.pkcs8_pem())?),
            created_at: Set(now),
            activate_after: Set(Some(now + chrono(self.policy.publish_delay))),
            activated_at: Set(None),
            retired_at: Set(None),
            remove_after: Set(None),
        }
        .insert(&self.db)
        .await?;
        audit::record(
            &self.db,
            AuditEvent::new("key.rotated")
                .actor("system")
                .subject(&key.kid)
                .detail(serde_json::json!({ "state": NEXT, "activates_in_seconds": self.policy.publish_delay.as_secs() })),
        )
        .await;
        self.reload().await?;
        Ok(key.kid)
    }

    /// Apply due transitions, rotate on schedule, and reload the ring.
    pub async fn tick(&self) -> Result<(), KeyStoreError> {
        self.tick_at(Utc::now()).await
    }

    /// [`tick`](Self::tick) as of `now` (tests pass a later instant instead of sleeping).
    pub async fn tick_at(&self, now: DateTime<Utc>) -> Result<(), KeyStoreError> {
        self.promote_due(now).await?;
        signing_key::Entity::delete_many()
            .filter(signing_key::Column::State.eq(RETIRED))
            .filter(signing_key::Column::RemoveAfter.lte(now))
            .exec(&self.db)
            .await?;
        if !self.policy.rotation_interval.is_zero() {
            let newest = signing_key::Entity::find()
                .order_by_desc(signing_key::Column::CreatedAt)
                .one(&self.db)
                .await?;
            if newest.is_some_and(|k| {
                k.state == ACTIVE && now - k.created_at >= chrono(self.policy.rotation_interval)
            }) {
                self.rotate().await?;
            }
        }
        self.reload().await
    }

    async fn promote_due(&self, now: DateTime<Utc>) -> Result<(), KeyStoreError> {
        let Some(due) = signing_key::Entity::find()
            .filter(signing_key::Column::State.eq(NEXT))
            .filter(signing_key::Column::ActivateAfter.lte(now))
            .order_by_asc(signing_key::Column::CreatedAt)
            .one(&self.db)
            .await?
        else {
            return Ok(());
        };
        let txn = self.db.begin().await?;
        // Claim the promotion: only one replica's UPDATE matches.
        let claimed = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::State, Expr::value(ACTIVE))
            .col_expr(signing_key::Column::ActivatedAt, Expr::value(now))
            .filter(signing_key::Column::Kid.eq(due.kid.as_str()))
            .filter(signing_key::Column::State.eq(NEXT))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(());
        }
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::State, Expr::value(RETIRED))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
            .col_expr(
                signing_key::Column::RemoveAfter,
                Expr::value(now + chrono(self.policy.retire_after)),
            )
            .filter(signing_key::Column::State.eq(ACTIVE))
            .filter(signing_key::Column::Kid.ne(due.kid.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(kid = %due.kid, "signing key activated; the previous key is retired");
        audit::record(
            &self.db,
            AuditEvent::new("key.activated")
                .actor("system")
                .subject(&due.kid),
        )
        .await;
        Ok(())
    }

    /// Swap in the stored keys, if they differ from the ones loaded: decrypting
    /// and parsing every key each tick would be wasted work on every replica.
    async fn reload(&self) -> Result<(), KeyStoreError> {
        let rows = stored_keys(&self.db).await?;
        if holds_the_same_keys(&self.ring.load(), &rows) {
            return Ok(());
        }
        let ring = ring_from_rows(rows, &self.encryption)?;
        if let Ok(keys) = ring.verification_keys() {
            self.verifier.replace_keys(keys);
        }
        self.ring.store(Arc::new(ring));
        Ok(())
    }

    /// Run [`tick`](Self::tick) every `interval` until the process ends.
    pub fn spawn(self, interval: Duration) {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if let Err(error) = self.tick().await {
                    // Keep signing and publishing with the ring we have.
                    tracing::warn!(%error, "key store refresh failed; keeping the current keys");
                }
            }
        });
    }
}

/// Every stored key, decrypted; the active one signs.
pub async fn load_ring(
    db: &DatabaseConnection,
    encryption: &KeyEncryption,
) -> Result<KeyRing, KeyStoreError> {
    ring_from_rows(stored_keys(db).await?, encryption)
}

async fn stored_keys(db: &DatabaseConnection) -> Result<Vec<signing_key::Model>, KeyStoreError> {
    Ok(signing_key::Entity::find()
        .order_by_asc(signing_key::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Whether `ring` publishes exactly these keys and signs with the active one.
fn holds_the_same_keys(ring: &KeyRing, rows: &[signing_key::Model]) -> bool {
    let active = rows
        .iter()
        .find(|row| row.state == ACTIVE)
        .map(|row| row.kid.as_str());
    active == Some(ring.active().kid.as_str())
        && rows.len() == ring.published().len()
        && rows
            .iter()
            .all(|row| ring.published().iter().any(|key| key.kid == row.kid))
}

fn ring_from_rows(
    rows: Vec<signing_key::Model>,
    encryption: &KeyEncryption,
) -> Result<KeyRing, KeyStoreError> {
    let mut active = None;
    let mut others = Vec::new();
    for row in rows {
        let pem = encryption.open(&row.kid, &row.private_key)?;
        let key =
            SigningKey::from_pem(&pem, format!("key store ({})", row.state)).map_err(|reason| {
                KeyStoreError::BadKey {
                    kid: row.kid.clone(),
                    reason,
                }
            })?;
        if row.state == ACTIVE && active.is_none() {
            active = Some(key);
        } else {
            others.push(key);
        }
    }
    let active = active.ok_or(KeyStoreError::NoActiveKey)?;
    Ok(KeyRing::with_active(active, others))
}

/// List the store for `auth-server keys list`.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<signing_key::Model>, KeyStoreError> {
    Ok(signing_key::Entity::find()
        .order_by_asc(signing_key::Column::CreatedAt)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_kek_and_kid() {
        let kek = KeyEncryption::new(&[7u8; 32]).expect("kek");
        let sealed = kek
            .seal("kid-1", "-----BEGIN PRIVATE KEY-----")
            .expect("seal");
        assert!(!sealed.contains("PRIVATE"));
        assert_eq!(
            kek.open("kid-1", &sealed).expect("open"),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert!(kek.open("kid-2", &sealed).is_err(), "bound to its kid");
        let other = KeyEncryption::new(&[8u8; 32]).expect("kek");
        assert!(other.open("kid-1", &sealed).is_err());
        assert_ne!(
            kek.seal("kid-1", "x").expect("seal"),
            kek.seal("kid-1", "x").expect("seal"),
            "fresh nonce each time"
        );
    }
}
