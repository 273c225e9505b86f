//! Consent: what a user allowed a third-party client, remembered per (user,
//! client) and revocable. First-party clients need none: the operator
//! consented by registering them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::audit::{self, AuditEvent};
use crate::oauth::consent_entity as consent;

/// Whether `user` allowed `client_id` every scope in `scope`.
pub async fn covers(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
    scope: &str,
) -> Result<bool, DbErr> {
    let Some(stored) = find(db, user_id, client_id).await? else {
        return Ok(false);
    };
    let allowed: Vec<&str> = stored.scope.split_ascii_whitespace().collect();
    Ok(scope.split_ascii_whitespace().all(|s| allowed.contains(&s)))
}

async fn find(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
) -> Result<Option<consent::Model>, DbErr> {
    consent::Entity::find()
        .filter(consent::Column::UserId.eq(user_id))
        .filter(consent::Column::ClientId.eq(client_id))
        .one(db)
        .await
}

/// Remember that `user` allows `client_id` `scope` (added to what it allowed
/// before), with its `consent.granted` audit row, in one transaction.
pub async fn grant(
    db: &DatabaseConnection,
    user_id: Uuid,
    client_id: &str,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = signet_service::db::begin_write(db).await?;
    let merged = match find(&txn, user_id, client_id).await? {
        Some(existing) => {
            let mut scopes: Vec<&str> = existing.scope.split_ascii_whitespace().collect();
            for s in scope.split_ascii_whitespace() {
                if !scopes.contains(&s) {
                    scopes.push(s);
                }
            }
            let merged = scopes.join(" ");
            let mut active: consent::ActiveModel = existing.into();
            active.scope = Set(merged.clone());
            active.granted_at = Set(now);
            active.update(&txn).await?;
            merged
        }
        None => {
            consent::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_id),
                client_id: Set(client_id.to_owned()),
                scope: Set(scope.to_owned()),
                granted_at: Set(now),
            }
            .insert(&txn)
            .await?;
            scope.to_owned()
        }
    };
    let user_text = user_id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("consent.granted")
            .actor(&user_text)
            .subject(client_id)
            .detail(serde_json::json!({ "scope": merged })),
    )
    .await?;
    txn.commit().await
}

/// The consents `user` has given, newest first.
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<consent::Model>, DbErr> {
    consent::Entity::find()
        .filter(consent::Column::UserId.eq(user_id))
        .order_by_desc(consent::Column::GrantedAt)
        .all(db)
        .await
}

/// Withdraw `user`'s consent to `client_id`: the consent goes, and so do the
/// client's sessions for that user (their refresh tokens die at once), with
/// the audit row, in one transaction. `false` if there was none.
pub async fn revoke(
    db: &DatabaseConnection,
    user_id: Uuid,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = signet_service::db::begin_write(db).await?;
    let deleted = consent::Entity::delete_many()
        .filter(consent::Column::UserId.eq(user_id))
        .filter(consent::Column::ClientId.eq(client_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    let ended =
        crate::sessions::revoke_for_client(&txn, user_id, client_id, "consent withdrawn", now)
            .await?;
    let user_text = user_id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("consent.revoked")
            .actor(&user_text)
            .subject(client_id)
            .detail(serde_json::json!({ "sessions_revoked": ended })),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}
