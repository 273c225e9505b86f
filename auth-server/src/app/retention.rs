//! What auth-server forgets, and when.
//!
//! - An ended session (revoked, or past its idle or absolute expiry) is
//!   deleted `SESSION_RETENTION` after it ended, with its whole refresh-token
//!   chain: none of those tokens can be exchanged any more, so reuse detection
//!   has nothing left to protect.
//! - In a live session, a refresh token rotated more than `REFRESH_IDLE_TTL`
//!   ago is deleted: presented again it is refused all the same (as unknown);
//!   only the family revocation that its reuse would have triggered is lost,
//!   for a copy kept unused longer than an unused token would have lived.
//!   Without this a client refreshing every 15 minutes adds ~100 rows a day.
//! - Audit events older than `AUDIT_RETENTION` (they hold client IPs and emails).
//! - Authorization codes `SESSION_RETENTION` after they expired: a redeemed
//!   code is kept that long so that a late replay still ends its session.
//! - Security events once no token they could match is still valid
//!   ([`crate::events::KEEP_FOR`] after they took effect).
//! - Mailed links (`email_tokens`) `SESSION_RETENTION` after they expired,
//!   used or not; mails given up (`failed_at`) after `AUDIT_RETENTION`.
//! - Upstream sign-ins in progress once they expired (10 minutes).
//!
//! Purges run in the background every `RETENTION_INTERVAL`, in batches, on
//! one replica at a time (see [`signet_service::retention`]), and are
//! counted in `retention_purged_total{table}`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr};
use signet_service::retention::purge_in_batches;

use crate::accounts::email_token_entity as email_token;
use crate::audit::entity as audit_event;
pub use crate::config::RetentionPolicy;
use crate::events::entity as security_event;
use crate::mail::entity as outbox;
use crate::mfa::challenge_entity as mfa_challenge;
use crate::oauth::code_entity as code;
use crate::oauth::dpop::entity as dpop_proof;
use crate::passkeys::ceremony_entity as webauthn_ceremony;
use crate::sessions::{entity as session, refresh_token};
use crate::upstream::entity as upstream_login;

/// Rows deleted by one purge run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub audit_events: u64,
    pub authorization_codes: u64,
    pub security_events: u64,
    pub dpop_proofs: u64,
    pub email_tokens: u64,
    pub failed_mails: u64,
    pub upstream_logins: u64,
    pub mfa_challenges: u64,
    pub webauthn_ceremonies: u64,
    pub device_authorizations: u64,
    pub pushed_requests: u64,
    pub ssf_stream_sets: u64,
    pub rate_limit_states: u64,
}

fn before(now: DateTime<Utc>, age: Duration) -> DateTime<Utc> {
    now - super::clock::span(age)
}

/// Delete everything the policy says is no longer needed as of `now`.
pub async fn purge(
    db: &DatabaseConnection,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<Purged, DbErr> {
    let ended_before = before(now, policy.ended_sessions);
    let ended = Condition::any()
        .add(session::Column::RevokedAt.lt(ended_before))
        .add(session::Column::IdleExpiresAt.lt(ended_before))
        .add(session::Column::AbsoluteExpiresAt.lt(ended_before));
    let ended_sessions = Query::select()
        .column(session::Column::Id)
        .from(session::Entity)
        .cond_where(ended.clone())
        .to_owned();
    // The chains first, then the sessions that no longer have one.
    let mut refresh_tokens = purge_in_batches::<refresh_token::Entity>(
        db,
        "auth-server:retention:refresh_tokens",
        refresh_token::Column::Id,
        Condition::any()
            .add(refresh_token::Column::SessionId.in_subquery(ended_sessions))
            .add(refresh_token::Column::RotatedAt.lt(before(now, policy.rotated_tokens))),
        policy.batch,
    )
    .await?;
    let with_tokens = Query::select()
        .column(refresh_token::Column::SessionId)
        .from(refresh_token::Entity)
        .to_owned();
    let sessions = purge_in_batches::<session::Entity>(
        db,
        "auth-server:retention:sessions",
        session::Column::Id,
        // Both: ended, and no token left (`ended` itself is an `any`).
        Condition::all()
            .add(ended)
            .add(session::Column::Id.not_in_subquery(with_tokens)),
        policy.batch,
    )
    .await?;
    // Chains whose session is already gone (an interrupted earlier run).
    let live_sessions = Query::select()
        .column(session::Column::Id)
        .from(session::Entity)
        .to_owned();
    refresh_tokens += purge_in_batches::<refresh_token::Entity>(
        db,
        "auth-server:retention:refresh_tokens",
        refresh_token::Column::Id,
        Condition::all().add(refresh_token::Column::SessionId.not_in_subquery(live_sessions)),
        policy.batch,
    )
    .await?;
    let audit_events = purge_in_batches::<audit_event::Entity>(
        db,
        "auth-server:retention:audit_events",
        audit_event::Column::Id,
        Condition::all().add(audit_event::Column::At.lt(before(now, policy.audit_events))),
        policy.batch,
    )
    .await?;
    let authorization_codes = purge_in_batches::<code::Entity>(
        db,
        "auth-server:retention:authorization_codes",
        code::Column::CodeHash,
        Condition::all().add(code::Column::ExpiresAt.lt(ended_before)),
        policy.batch,
    )
    .await?;
    // Security events once no token they could match is still valid.
    let security_events = purge_in_batches::<security_event::Entity>(
        db,
        "auth-server:retention:security_events",
        security_event::Column::Id,
        Condition::all().add(security_event::Column::ExpiresAt.lt(now)),
        policy.batch,
    )
    .await?;
    // Used DPoP proofs once their iat would be refused anyway.
    let dpop_proofs = purge_in_batches::<dpop_proof::Entity>(
        db,
        "auth-server:retention:dpop_proofs",
        dpop_proof::Column::ReplayKey,
        Condition::all().add(dpop_proof::Column::ExpiresAt.lt(now)),
        policy.batch,
    )
    .await?;
    let email_tokens = purge_in_batches::<email_token::Entity>(
        db,
        "auth-server:retention:email_tokens",
        email_token::Column::TokenHash,
        Condition::all().add(email_token::Column::ExpiresAt.lt(ended_before)),
        policy.batch,
    )
    .await?;
    let failed_mails = purge_in_batches::<outbox::Entity>(
        db,
        "auth-server:retention:mail_outbox",
        outbox::Column::Id,
        Condition::all().add(outbox::Column::FailedAt.lt(before(now, policy.audit_events))),
        policy.batch,
    )
    .await?;
    let upstream_logins = purge_in_batches::<upstream_login::Entity>(
        db,
        "auth-server:retention:upstream_logins",
        upstream_login::Column::StateHash,
        Condition::all().add(upstream_login::Column::ExpiresAt.lt(now)),
        policy.batch,
    )
    .await?;
    let mfa_challenges = purge_in_batches::<mfa_challenge::Entity>(
        db,
        "auth-server:retention:mfa_challenges",
        mfa_challenge::Column::TokenHash,
        Condition::all().add(mfa_challenge::Column::ExpiresAt.lt(now)),
        policy.batch,
    )
    .await?;
    let webauthn_ceremonies = purge_in_batches::<webauthn_ceremony::Entity>(
        db,
        "auth-server:retention:webauthn_ceremonies",
        webauthn_ceremony::Column::TokenHash,
        Condition::all().add(webauthn_ceremony::Column::ExpiresAt.lt(now)),
        policy.batch,
    )
    .await?;
    // Like codes: kept past expiry as long as ended sessions are.
    let device_authorizations = purge_in_batches::<crate::device::entity::Entity>(
        db,
        "auth-server:retention:device_authorizations",
        crate::device::entity::Column::Id,
        Condition::all().add(crate::device::entity::Column::ExpiresAt.lt(ended_before)),
        policy.batch,
    )
    .await?;
    let pushed_requests = purge_in_batches::<crate::oauth::par_entity::Entity>(
        db,
        "auth-server:retention:pushed_requests",
        crate::oauth::par_entity::Column::UriHash,
        Condition::all().add(crate::oauth::par_entity::Column::ExpiresAt.lt(now)),
        policy.batch,
    )
    .await?;
    // SETs no receiver acknowledged while they mattered.
    let ssf_stream_sets = purge_in_batches::<crate::ssf::set_entity::Entity>(
        db,
        "auth-server:retention:ssf_stream_sets",
        crate::ssf::set_entity::Column::Id,
        Condition::all().add(crate::ssf::set_entity::Column::ExpiresAt.lt(now)),
        policy.batch,
    )
    .await?;
    // A bucket whose arrival time is past is full again: its row says nothing.
    let rate_limit_states = {
        use sea_orm::{ConnectionTrait as _, Statement};
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                sea_orm::DatabaseBackend::Postgres => {
                    "DELETE FROM rate_limit_states WHERE tat < $1"
                }
                _ => "DELETE FROM rate_limit_states WHERE tat < ?",
            },
            [now.into()],
        ))
        .await?
        .rows_affected()
    };
    Ok(Purged {
        rate_limit_states,
        ssf_stream_sets,
        pushed_requests,
        device_authorizations,
        upstream_logins,
        mfa_challenges,
        webauthn_ceremonies,
        sessions,
        refresh_tokens,
        audit_events,
        authorization_codes,
        security_events,
        dpop_proofs,
        email_tokens,
        failed_mails,
    })
}

/// One scheduled run: purge as of now, count, log.
pub async fn run(
    db: &DatabaseConnection,
    policy: &RetentionPolicy,
    metrics: &signet_service::metrics::Metrics,
) {
    match purge(db, policy, Utc::now()).await {
        Ok(purged) => {
            for (table, rows) in [
                ("sessions", purged.sessions),
                ("refresh_tokens", purged.refresh_tokens),
                ("audit_events", purged.audit_events),
                ("authorization_codes", purged.authorization_codes),
                ("security_events", purged.security_events),
                ("dpop_proofs", purged.dpop_proofs),
                ("email_tokens", purged.email_tokens),
                ("mail_outbox", purged.failed_mails),
                ("upstream_logins", purged.upstream_logins),
                ("mfa_challenges", purged.mfa_challenges),
                ("webauthn_ceremonies", purged.webauthn_ceremonies),
                ("device_authorizations", purged.device_authorizations),
                ("pushed_requests", purged.pushed_requests),
                ("ssf_stream_sets", purged.ssf_stream_sets),
                ("rate_limit_states", purged.rate_limit_states),
            ] {
                metrics
                    .counter(
                        &signet_service::metrics::RETENTION_PURGED,
                        &[("table", table)],
                    )
                    .increment(rows);
            }
            if purged != Purged::default() {
                tracing::info!(?purged, "retention purge");
            }
        }
        Err(error) => tracing::warn!(%error, "retention purge failed; retrying next interval"),
    }
}
