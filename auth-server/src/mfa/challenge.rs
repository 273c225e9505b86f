//! Sign-ins waiting for their second factor. Each is named by a random
//! token (`smf_…`, 256 bits) that only its browser (a cookie on `site`) or
//! REST client (`mfa_token`) holds, lives five minutes, takes at most
//! [`MAX_ATTEMPTS`] wrong codes and is finished once (a conditional UPDATE).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::challenge_entity as challenge;
use super::MfaError;
use crate::app::clock::span;
use crate::digest::sha256_hex;

pub const TOKEN_PREFIX: &str = "smf_";
pub const TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_ATTEMPTS: i32 = 5;

/// What the second factor completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The second half of a password sign-in.
    SignIn,
    /// The account must set up an authenticator app before it signs in.
    Enrol,
    /// A signed-in browser asked for a stronger sign-in (`session_id`).
    StepUp,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::Enrol => "enrol",
            Purpose::StepUp => "step_up",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Purpose::SignIn, Purpose::Enrol, Purpose::StepUp]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// Where the sign-in happens and what its session will be for.
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// The origin whose cookie holds the token (`None`: the REST login).
    pub site: Option<String>,
    pub audience: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The session a step-up strengthens.
    pub session_id: Option<Uuid>,
}

/// A live challenge.
pub struct Challenge {
    pub row: challenge::Model,
    pub purpose: Purpose,
}

/// Open a challenge; its token is returned once.
pub async fn open(
    db: &impl ConnectionTrait,
    user: Uuid,
    purpose: Purpose,
    context: Context,
    now: DateTime<Utc>,
) -> Result<String, MfaError> {
    let token = format!("{TOKEN_PREFIX}{}", signet_service::web::random_token());
    challenge::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        user_id: Set(user),
        purpose: Set(purpose.as_str().to_owned()),
        session_id: Set(context.session_id),
        site: Set(context.site),
        audience: Set(context.audience),
        user_agent: Set(context.user_agent.map(|ua| ua.chars().take(256).collect())),
        ip: Set(context.ip),
        attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(now + span(TTL)),
        finished_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The live challenge `token` names, if it was opened for `site` (a REST
/// token is no cookie's, and a cookie's is no REST token).
pub async fn live(
    db: &impl ConnectionTrait,
    token: &str,
    site: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Challenge>, MfaError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let row = challenge::Entity::find_by_id(sha256_hex(token))
        .filter(challenge::Column::FinishedAt.is_null())
        .filter(challenge::Column::ExpiresAt.gt(now))
        .filter(challenge::Column::Attempts.lt(MAX_ATTEMPTS))
        .one(db)
        .await?;
    Ok(row
        .filter(|row| row.site.as_deref() == site)
        .and_then(|row| Purpose::parse(&row.purpose).map(|purpose| Challenge { row, purpose })))
}

/// Count a wrong code.
pub async fn failed(db: &impl ConnectionTrait, row: &challenge::Model) -> Result<(), MfaError> {
    challenge::Entity::update_many()
        .col_expr(
            challenge::Column::Attempts,
            Expr::col(challenge::Column::Attempts).add(1),
        )
        .filter(challenge::Column::TokenHash.eq(row.token_hash.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Finish the challenge: true for the one caller that wins.
pub async fn finish(
    db: &impl ConnectionTrait,
    row: &challenge::Model,
    now: DateTime<Utc>,
) -> Result<bool, MfaError> {
    let finished = challenge::Entity::update_many()
        .col_expr(challenge::Column::FinishedAt, Expr::value(now))
        .filter(challenge::Column::TokenHash.eq(row.token_hash.as_str()))
        .filter(challenge::Column::FinishedAt.is_null())
        .filter(challenge::Column::Attempts.lt(MAX_ATTEMPTS))
        .exec(db)
        .await?;
    Ok(finished.rows_affected == 1)
}
