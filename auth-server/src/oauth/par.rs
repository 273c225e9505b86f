//! Pushed authorization requests (RFC 9126): a client sends its
//! authorization parameters over the back channel, authenticated, and gets
//! a `request_uri` to send the browser with instead. Nothing the browser
//! carries can then change them, and a client that requires it
//! (`require_par`) cannot be impersonated by a crafted link.
//!
//! - The `request_uri` is `urn:ietf:params:oauth:request_uri:` and 256
//!   random bits, stored as SHA-256 only; the browser must open it within
//!   [`PUSHED_TTL`] (§2.2 `expires_in`).
//! - The first browser to open it starts it (a conditional UPDATE); from
//!   then on the sign-in has [`FLOW_TTL`], and the pages carry only
//!   `client_id` and `request_uri`.
//! - It is used once: issuing its code marks it (a conditional UPDATE), and
//!   a second code from it is refused (§4: one-time use).

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::app::clock::span;
use crate::digest::sha256_hex;
use crate::oauth::par_entity as pushed;

pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request waits for its browser.
pub const PUSHED_TTL: Duration = Duration::from_secs(60);
/// How long a started one lasts: the sign-in, second factor and consent.
pub const FLOW_TTL: Duration = Duration::from_secs(600);
/// The parameters a pushed request may not carry (§2.1: no nesting).
const FORBIDDEN: &[&str] = &["request_uri", "request"];

/// Why a pushed request was refused (§2.3: `invalid_request`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("a pushed request must not carry request_uri or request")]
    Nested,
}

/// The authorization parameters of a push, as stored: every one but the
/// client's credentials.
pub fn parameters_of(pairs: &[(String, String)]) -> Result<HashMap<String, String>, PushError> {
    if pairs
        .iter()
        .any(|(name, _)| FORBIDDEN.contains(&name.as_str()))
    {
        return Err(PushError::Nested);
    }
    Ok(pairs
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "client_secret" | "client_assertion" | "client_assertion_type"
            )
        })
        .cloned()
        .collect())
}

/// Store checked `parameters` for `client_id`; the `request_uri`, once.
pub async fn push(
    db: &DatabaseConnection,
    client_id: &str,
    parameters: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    pushed::ActiveModel {
        uri_hash: Set(sha256_hex(&secret)),
        client_id: Set(client_id.to_owned()),
        parameters: Set(serde_json::to_string(parameters).unwrap_or_default()),
        created_at: Set(now),
        expires_at: Set(now + span(PUSHED_TTL)),
        started_at: Set(None),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(format!("{REQUEST_URI_PREFIX}{secret}"))
}

fn hash_of(request_uri: &str) -> Option<String> {
    request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .filter(|secret| secret.len() == 43)
        .map(sha256_hex)
}

/// The parameters `request_uri` names for `client_id`, if it is live and
/// unused; the first call starts it (its span becomes [`FLOW_TTL`]).
pub async fn open(
    db: &DatabaseConnection,
    client_id: &str,
    request_uri: &str,
    now: DateTime<Utc>,
) -> Result<Option<HashMap<String, String>>, DbErr> {
    let Some(hash) = hash_of(request_uri) else {
        return Ok(None);
    };
    let Some(row) = pushed::Entity::find_by_id(hash.as_str()).one(db).await? else {
        return Ok(None);
    };
    if row.client_id != client_id || row.used_at.is_some() || row.expires_at <= now {
        return Ok(None);
    }
    if row.started_at.is_none() {
        pushed::Entity::update_many()
            .col_expr(pushed::Column::StartedAt, Expr::value(now))
            .col_expr(pushed::Column::ExpiresAt, Expr::value(now + span(FLOW_TTL)))
            .filter(pushed::Column::UriHash.eq(hash.as_str()))
            .filter(pushed::Column::StartedAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(serde_json::from_str(&row.parameters).ok())
}

/// Mark `request_uri` used as its code is issued; `false` if it was used
/// already (or is no longer live).
pub async fn spend(
    db: &DatabaseConnection,
    request_uri: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(hash) = hash_of(request_uri) else {
        return Ok(false);
    };
    let spent = pushed::Entity::update_many()
        .col_expr(pushed::Column::UsedAt, Expr::value(now))
        .filter(
            Condition::all()
                .add(pushed::Column::UriHash.eq(hash.as_str()))
                .add(pushed::Column::UsedAt.is_null())
                .add(pushed::Column::ExpiresAt.gt(now)),
        )
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}
