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
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use crate::app::clock::span;
use crate::audit::{self, AuditEvent};
pub use crate::config::RotationPolicy;
use crate::keys::entity as signing_key;
use crate::keys::seal::{KeyEncryption, SealError};
use crate::keys::{KeyError, KeyRing, SigningKey};

pub const NEXT: &str = "next";
pub const ACTIVE: &str = "active";
pub const RETIRED: &str = "retired";

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("stored key {kid} is unusable")]
    BadKey {
        kid: String,
        #[source]
        source: KeyError,
    },
    #[error("a new signing key could not be made")]
    NewKey(#[source] KeyError),
    #[error("key generation did not finish")]
    Generation(#[source] tokio::task::JoinError),
    #[error("the key store is empty, no signing key is configured and GENERATE_DEV_KEY=false")]
    NoSeed,
    #[error("the key store holds no active key")]
    NoActiveKey,
    #[error("the key store holds no key {0}")]
    UnknownKid(String),
    #[error("database")]
    Database(#[from] DbErr),
}

/// The key an empty store starts with.
pub enum Seed {
    /// The configured key (`JWT_PRIVATE_KEY*` or the newest in `KEYS_DIR`).
    Key(Arc<SigningKey>),
    /// None configured: generate one (`GENERATE_DEV_KEY=true`).
    Generate,
    /// None configured and generation not allowed.
    Missing,
}

impl Seed {
    async fn key(self) -> Result<Arc<SigningKey>, KeyStoreError> {
        match self {
            Self::Key(key) => Ok(key),
            Self::Generate => Ok(Arc::new(generate().await?)),
            Self::Missing => Err(KeyStoreError::NoSeed),
        }
    }
}

/// A fresh key, made off the async runtime (RSA generation takes a while).
async fn generate() -> Result<SigningKey, KeyStoreError> {
    tokio::task::spawn_blocking(|| SigningKey::generate(crate::keys::MIN_KEY_BITS))
        .await
        .map_err(KeyStoreError::Generation)?
        .map_err(KeyStoreError::NewKey)
}

/// Loads the key ring from the store, applies due transitions, and keeps the
/// in-memory ring (and this server's own verifier) in step. It owns both;
/// [`Keys`](crate::keys::ring::Keys) hands them out.
#[derive(Clone)]
pub struct KeyManager {
    db: DatabaseConnection,
    encryption: Arc<KeyEncryption>,
    policy: RotationPolicy,
    ring: Arc<ArcSwap<KeyRing>>,
    verifier: jwt_verify::Verifier,
}

impl KeyManager {
    /// Bootstrap an empty store with `seed` as the active key, then load;
    /// this server's own verifier checks tokens under `validation` with the
    /// loaded keys.
    pub async fn start(
        db: DatabaseConnection,
        encryption: KeyEncryption,
        policy: RotationPolicy,
        seed: Seed,
        validation: jwt_verify::Validation,
    ) -> Result<Self, KeyStoreError> {
        let encryption = Arc::new(encryption);
        let has_active = signing_key::Entity::find()
            .filter(signing_key::Column::State.eq(ACTIVE))
            .one(&db)
            .await?
            .is_some();
        if !has_active {
            let key = seed.key().await?;
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
        let verifier = crate::keys::ring::own_verifier(
            ring.verification_keys().unwrap_or_default(),
            validation,
        );
        let manager = Self {
            db,
            encryption,
            policy,
            ring: Arc::new(ArcSwap::from_pointee(ring)),
            verifier,
        };
        manager.tick().await?;
        Ok(manager)
    }

    pub(crate) fn ring(&self) -> &Arc<ArcSwap<KeyRing>> {
        &self.ring
    }

    pub fn verifier(&self) -> &jwt_verify::Verifier {
        &self.verifier
    }

    /// Publish a new key as `next`; it starts signing after the publish
    /// delay. The row and its `key.rotated` audit row are one transaction.
    pub async fn rotate(&self) -> Result<String, KeyStoreError> {
        self.rotate_at(Utc::now(), "system").await
    }

    /// [`rotate`](Self::rotate), audited with `actor` (the console's admin).
    pub async fn rotate_by(&self, actor: &str) -> Result<String, KeyStoreError> {
        self.rotate_at(Utc::now(), actor).await
    }

    async fn rotate_at(&self, now: DateTime<Utc>, actor: &str) -> Result<String, KeyStoreError> {
        let key = generate().await?;
        let txn = signet_service::db::begin_write(&self.db).await?;
        signing_key::ActiveModel {
            kid: Set(key.kid.clone()),
            state: Set(NEXT.to_owned()),
            private_key: Set(self.encryption.seal(&key.kid, key.pkcs8_pem())?),
            created_at: Set(now),
            activate_after: Set(Some(now + span(self.policy.publish_delay))),
            activated_at: Set(None),
            retired_at: Set(None),
            remove_after: Set(None),
        }
        .insert(&txn)
        .await?;
        audit::write(
            &txn,
            AuditEvent::new("key.rotated")
                .actor(actor)
                .subject(&key.kid)
                .detail(serde_json::json!({ "state": NEXT, "activates_in_seconds": self.policy.publish_delay.as_secs() })),
        )
        .await?;
        txn.commit().await?;
        self.reload().await?;
        Ok(key.kid)
    }

    /// A key is compromised: remove it from the store at once (it is no
    /// longer published, and no replica signs with it after its next tick),
    /// and announce it on the security-event feed, so verifiers following
    /// the feed refuse every token it signed. If it was the signing key, a
    /// new key signs at once (verifiers fetch it on its first unknown `kid`;
    /// there is no safe waiting for a compromised key). One transaction with
    /// the `key.compromised` audit row. Returns the new signing key's kid,
    /// if one was made.
    pub async fn compromise(&self, kid: &str) -> Result<Option<String>, KeyStoreError> {
        self.compromise_by(kid, "operator").await
    }

    /// [`compromise`](Self::compromise), audited with `actor`.
    pub async fn compromise_by(
        &self,
        kid: &str,
        actor: &str,
    ) -> Result<Option<String>, KeyStoreError> {
        let now = Utc::now();
        let Some(row) = signing_key::Entity::find_by_id(kid.to_owned())
            .one(&self.db)
            .await?
        else {
            return Err(KeyStoreError::UnknownKid(kid.to_owned()));
        };
        let replacement = if row.state == ACTIVE {
            Some(generate().await?)
        } else {
            None
        };
        let txn = signet_service::db::begin_write(&self.db).await?;
        signing_key::Entity::delete_by_id(kid.to_owned())
            .exec(&txn)
            .await?;
        if let Some(key) = &replacement {
            signing_key::ActiveModel {
                kid: Set(key.kid.clone()),
                state: Set(ACTIVE.to_owned()),
                private_key: Set(self.encryption.seal(&key.kid, key.pkcs8_pem())?),
                created_at: Set(now),
                activate_after: Set(None),
                activated_at: Set(Some(now)),
                retired_at: Set(None),
                remove_after: Set(None),
            }
            .insert(&txn)
            .await?;
        }
        crate::events::record(&txn, crate::events::Revocation::Key(kid), now).await?;
        audit::write(
            &txn,
            AuditEvent::new("key.compromised")
                .actor(actor)
                .subject(kid)
                .detail(serde_json::json!({
                    "state": row.state,
                    "replaced_by": replacement.as_ref().map(|k| k.kid.clone()),
                })),
        )
        .await?;
        txn.commit().await?;
        tracing::warn!(%kid, "signing key marked compromised and removed");
        self.reload().await?;
        Ok(replacement.map(|k| k.kid))
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
                k.state == ACTIVE && now - k.created_at >= span(self.policy.rotation_interval)
            }) {
                self.rotate_at(now, "system").await?;
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
        let txn = signet_service::db::begin_write(&self.db).await?;
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
                Expr::value(now + span(self.policy.retire_after)),
            )
            .filter(signing_key::Column::State.eq(ACTIVE))
            .filter(signing_key::Column::Kid.ne(due.kid.as_str()))
            .exec(&txn)
            .await?;
        audit::write(
            &txn,
            AuditEvent::new("key.activated")
                .actor("system")
                .subject(&due.kid),
        )
        .await?;
        txn.commit().await?;
        tracing::info!(kid = %due.kid, "signing key activated; the previous key is retired");
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
            SigningKey::from_pem(&pem, format!("key store ({})", row.state)).map_err(|source| {
                KeyStoreError::BadKey {
                    kid: row.kid.clone(),
                    source,
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
