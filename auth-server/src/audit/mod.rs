//! The audit trail: a table admins can page through, and a `tracing` event
//! (target `audit`) for log pipelines. No secret ever goes in either.

pub mod entity;
pub(crate) mod routes;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use entity as audit_event;

pub struct AuditEvent<'a> {
    pub event: &'static str,
    pub actor: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: serde_json::Value,
}

impl<'a> AuditEvent<'a> {
    pub fn new(event: &'static str) -> Self {
        Self {
            event,
            actor: None,
            subject: None,
            ip: None,
            detail: serde_json::json!({}),
        }
    }

    pub fn actor(mut self, actor: &'a str) -> Self {
        self.actor = Some(actor);
        self
    }

    pub fn subject(mut self, subject: &'a str) -> Self {
        self.subject = Some(subject);
        self
    }

    pub fn ip(mut self, ip: Option<&'a str>) -> Self {
        self.ip = ip;
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Record an event. Failing to audit is logged loudly but does not undo or
/// fail the action it describes.
pub async fn record(db: &impl ConnectionTrait, event: AuditEvent<'_>) {
    let name = event.event;
    if let Err(error) = write(db, event).await {
        tracing::error!(%error, event = name, "could not write audit event");
    }
}

/// Write `event` as part of the caller's transaction: the change and its
/// audit row are committed together or not at all (used where losing the row
/// would lose the only record of a security event, e.g. a session opened).
pub async fn write(db: &impl ConnectionTrait, event: AuditEvent<'_>) -> Result<(), sea_orm::DbErr> {
    let row = audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        event: Set(event.event.to_owned()),
        actor: Set(event.actor.map(|s| s.chars().take(128).collect())),
        subject: Set(event.subject.map(|s| s.chars().take(256).collect())),
        ip: Set(event.ip.map(str::to_owned)),
        detail: Set(event.detail.to_string()),
    };
    row.insert(db).await?;
    tracing::info!(
        target: "audit",
        event = event.event,
        actor = event.actor,
        subject = event.subject,
        ip = event.ip,
        detail = %event.detail,
        "audit"
    );
    Ok(())
}

/// Audit each back-off a failed password check started (once per episode, so
/// a flood of failures cannot flood the trail).
pub async fn throttled(
    db: &impl ConnectionTrait,
    limits: &crate::app::rate_limit::Limits,
    throttled: crate::app::rate_limit::Throttled,
    account_label: &str,
    ip: Option<&str>,
) {
    for (hit, scope, failures) in [
        (throttled.client, "client", limits.account_free_failures),
        (
            throttled.account,
            "account",
            limits.account_ceiling_failures,
        ),
    ] {
        if hit {
            record(
                db,
                AuditEvent::new("login.throttled")
                    .subject(account_label)
                    .ip(ip)
                    .detail(serde_json::json!({ "scope": scope, "failures": failures })),
            )
            .await;
        }
    }
}

/// The latest `limit` events about or by `user_id` (the account page's
/// security events), newest first.
pub async fn recent_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    limit: u64,
) -> Result<Vec<audit_event::Model>, sea_orm::DbErr> {
    let filter = Filter {
        user: Some(user_id),
        ..Filter::default()
    };
    Ok(search(db, &filter, limit, None).await?.0)
}

/// Which audit rows to show (all of them: `Filter::default()`).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Rows by or about this account (`actor` or `subject`).
    pub user: Option<Uuid>,
    /// Only this event (e.g. `login.failure`).
    pub event: Option<String>,
    /// At or after this time.
    pub from: Option<chrono::DateTime<Utc>>,
    /// Before this time.
    pub to: Option<chrono::DateTime<Utc>>,
}

/// One page of the audit trail under `filter`, newest first, after
/// `cursor` (an id of the previous page); the next cursor if there is more.
/// The admin API and the console both read it here.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: &Filter,
    limit: u64,
    cursor: Option<Uuid>,
) -> Result<(Vec<audit_event::Model>, Option<Uuid>), sea_orm::DbErr> {
    use sea_orm::{
        ColumnTrait as _, Condition, EntityTrait as _, QueryFilter as _, QueryOrder as _,
        QuerySelect as _,
    };
    let mut query = audit_event::Entity::find().order_by_desc(audit_event::Column::Id);
    if let Some(cursor) = cursor {
        query = query.filter(audit_event::Column::Id.lt(cursor));
    }
    if let Some(user) = filter.user {
        let id = user.to_string();
        query = query.filter(
            Condition::any()
                .add(audit_event::Column::Subject.eq(id.as_str()))
                .add(audit_event::Column::Actor.eq(id.as_str())),
        );
    }
    if let Some(event) = &filter.event {
        query = query.filter(audit_event::Column::Event.eq(event.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::Column::At.lt(to));
    }
    let mut rows = query.limit(limit + 1).all(db).await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|e| e.id)
    } else {
        None
    };
    Ok((rows, next))
}
