//! The device authorization grant (RFC 8628): a command-line tool or a TV
//! with no browser of its own asks for a code pair, shows the person the
//! short user code and `/device`, and polls the token endpoint while the
//! person signs in on their phone or laptop, types the code and allows it.
//!
//! - The device code (`sgdc_` and 256 random bits) is the device's secret;
//!   the user code is eight letters of an alphabet without vowels or
//!   look-alikes (`BCDFGHJKLMNPQRSTVWXZ`, about 2^34.6 codes, RFC 8628
//!   §6.1), shown as `BCDF-GHJK`, typed in any case, with or without the
//!   dash. Both are stored as SHA-256 only.
//! - A request lives [`DEVICE_CODE_TTL`]; the device polls no faster than
//!   its interval ([`INTERVAL`], raised by 5 s at each `slow_down`, §3.5).
//! - The decision and the redemption are conditional UPDATEs from the state
//!   before: one person decides, once; one poll gets the tokens, and the
//!   session they belong to is started in the same transaction.

pub mod entity;
pub(crate) mod routes;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::Rng as _;
use rand::RngCore as _;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use crate::digest::sha256_hex;
use crate::sessions::{self, SessionPolicy, Started};
use entity as device;

/// The `grant_type` of the token request (RFC 8628 §3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const DEVICE_CODE_PREFIX: &str = "sgdc_";
/// How long a device has for its person to approve (§3.2 `expires_in`).
pub const DEVICE_CODE_TTL: Duration = Duration::from_secs(600);
/// The first polling interval (§3.2 `interval`).
pub const INTERVAL: Duration = Duration::from_secs(5);
/// No vowels (no words), no look-alikes such as 0/O or 1/I (§6.1).
pub const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LEN: usize = 8;

const PENDING: &str = "pending";
const APPROVED: &str = "approved";
const DENIED: &str = "denied";
const REDEEMED: &str = "redeemed";

/// What the device is told (§3.2), the codes in the clear once.
pub struct Issued {
    pub device_code: String,
    /// As shown: `BCDF-GHJK`.
    pub user_code: String,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// A device's request, before it is stored.
pub struct NewRequest<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    pub resource: Option<&'a str>,
}

fn mint_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..USER_CODE_LEN)
        .map(|_| USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect()
}

/// A user code as typed, in the stored form: upper case, no dash or
/// spaces; `None` if it cannot be one.
pub fn normalise_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// `BCDFGHJK` as people read it: `BCDF-GHJK`.
pub fn display_user_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a}-{b}")
}

/// Store a device's request; the codes are returned once.
pub async fn start(
    db: &DatabaseConnection,
    new: NewRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Issued, DbErr> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let device_code = format!("{DEVICE_CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    // Two live requests sharing a user code is a unique violation (about
    // one in 2^34 per pair): draw again.
    for _ in 0..3 {
        let user_code = mint_user_code();
        let inserted = device::ActiveModel {
            id: Set(Uuid::now_v7()),
            device_code_hash: Set(sha256_hex(&device_code)),
            user_code_hash: Set(sha256_hex(&user_code)),
            client_id: Set(new.client_id.to_owned()),
            scope: Set(new.scope.to_owned()),
            resource: Set(new.resource.map(str::to_owned)),
            status: Set(PENDING.to_owned()),
            user_id: Set(None),
            auth_time: Set(None),
            amr: Set(None),
            idp: Set(None),
            interval_secs: Set(INTERVAL.as_secs() as i32),
            created_at: Set(now),
            expires_at: Set(now + crate::app::clock::span(DEVICE_CODE_TTL)),
            last_polled_at: Set(None),
            decided_at: Set(None),
            issued_session_id: Set(None),
        }
        .insert(db)
        .await;
        match inserted {
            Ok(_) => {
                return Ok(Issued {
                    device_code,
                    user_code: display_user_code(&user_code),
                    expires_in: DEVICE_CODE_TTL,
                    interval: INTERVAL,
                })
            }
            Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                continue
            }
            Err(error) => return Err(error),
        }
    }
    Err(DbErr::Custom("no free user code after three draws".into()))
}

/// The pending, unexpired request a typed user code names, if any.
pub async fn find_pending(
    db: &DatabaseConnection,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<Option<device::Model>, DbErr> {
    let Some(code) = normalise_user_code(typed) else {
        return Ok(None);
    };
    device::Entity::find()
        .filter(device::Column::UserCodeHash.eq(sha256_hex(&code)))
        .filter(device::Column::Status.eq(PENDING))
        .filter(device::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// What the person at the browser decided.
pub enum Decision<'a> {
    Allow {
        user_id: Uuid,
        auth_time: DateTime<Utc>,
        methods: &'a crate::sessions::methods::Methods,
        idp: Option<&'a str>,
    },
    Deny {
        user_id: Uuid,
    },
}

/// Record `decision` on the pending request `id`; `false` if it was no
/// longer pending (decided in another tab, or expired).
pub async fn decide(
    db: &DatabaseConnection,
    id: Uuid,
    decision: Decision<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = device::Entity::update_many()
        .col_expr(device::Column::DecidedAt, Expr::value(now))
        .filter(device::Column::Id.eq(id))
        .filter(device::Column::Status.eq(PENDING))
        .filter(device::Column::ExpiresAt.gt(now));
    update = match decision {
        Decision::Allow {
            user_id,
            auth_time,
            methods,
            idp,
        } => update
            .col_expr(device::Column::Status, Expr::value(APPROVED))
            .col_expr(device::Column::UserId, Expr::value(user_id))
            .col_expr(device::Column::AuthTime, Expr::value(auth_time))
            .col_expr(device::Column::Amr, Expr::value(methods.to_stored()))
            .col_expr(device::Column::Idp, Expr::value(idp.map(str::to_owned))),
        Decision::Deny { user_id } => update
            .col_expr(device::Column::Status, Expr::value(DENIED))
            .col_expr(device::Column::UserId, Expr::value(user_id)),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// A poll of the token endpoint (§3.5). All but `Store` are RFC 8628's
/// error codes, named by [`PollError::code`].
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("the person has not decided yet")]
    Pending,
    #[error("polled faster than the interval")]
    SlowDown,
    #[error("the person denied the request")]
    Denied,
    #[error("the device code has expired")]
    Expired,
    /// Unknown, another client's, or already redeemed.
    #[error("the device code is invalid")]
    Invalid,
    /// RFC 8707 §2.2: the token request names another resource.
    #[error("the token request names another resource than the device request")]
    WrongResource,
    #[error("device store: {0}")]
    Store(#[from] DbErr),
}

impl PollError {
    /// The `error` of the token endpoint's answer.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Pending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::Denied => "access_denied",
            Self::Expired => "expired_token",
            Self::Invalid => "invalid_grant",
            Self::WrongResource => "invalid_target",
            Self::Store(_) => "server_error",
        }
    }
}

/// An approved request, redeemed, and the session started for its tokens.
pub struct Redeemed {
    pub request: device::Model,
    pub started: Started,
}

/// The token request with `grant_type=…:device_code`.
pub struct Poll<'a> {
    pub device_code: &'a str,
    /// The authenticated client (or, for a public client, the one named).
    pub client_id: &'a str,
    /// The token request's `resource`/`audience`, if it named one.
    pub resource: Option<&'a str>,
}

/// Answer a poll: the wait, the refusal, or (once) the session of the
/// approved request, started in the transaction that claims it.
pub async fn redeem(
    db: &DatabaseConnection,
    poll: Poll<'_>,
    policy: &SessionPolicy,
    client: sessions::Client,
    now: DateTime<Utc>,
) -> Result<Redeemed, PollError> {
    if !poll.device_code.starts_with(DEVICE_CODE_PREFIX) || poll.device_code.len() > 128 {
        return Err(PollError::Invalid);
    }
    let row = device::Entity::find()
        .filter(device::Column::DeviceCodeHash.eq(sha256_hex(poll.device_code)))
        .one(db)
        .await?
        .ok_or(PollError::Invalid)?;
    if row.client_id != poll.client_id {
        return Err(PollError::Invalid);
    }
    match row.status.as_str() {
        REDEEMED => return Err(PollError::Invalid),
        DENIED => return Err(PollError::Denied),
        _ if row.expires_at <= now => return Err(PollError::Expired),
        APPROVED => {}
        _ => return Err(pace(db, &row, now).await?),
    }
    if row
        .resource
        .as_deref()
        .is_some_and(|allowed| poll.resource.is_some_and(|asked| asked != allowed))
    {
        return Err(PollError::WrongResource);
    }
    let Some(user_id) = row.user_id else {
        return Err(PollError::Invalid);
    };
    let txn = signet_service::db::begin_write(db).await?;
    let claimed = device::Entity::update_many()
        .col_expr(device::Column::Status, Expr::value(REDEEMED))
        .filter(device::Column::Id.eq(row.id))
        .filter(device::Column::Status.eq(APPROVED))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Another poll won between our read and our claim.
        txn.rollback().await?;
        return Err(PollError::Invalid);
    }
    let client = sessions::Client {
        client_id: Some(row.client_id.clone()),
        scope: Some(row.scope.clone()),
        idp: row.idp.clone(),
        methods: Some(row.methods()),
        audience: row.resource.clone().or(client.audience),
        ..client
    };
    let started = sessions::start_within(&txn, user_id, policy, client, now).await?;
    device::Entity::update_many()
        .col_expr(
            device::Column::IssuedSessionId,
            Expr::value(started.session.id),
        )
        .filter(device::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let request = device::Model {
        status: REDEEMED.to_owned(),
        issued_session_id: Some(started.session.id),
        ..row
    };
    Ok(Redeemed { request, started })
}

/// A poll of a pending request: `slow_down` (and 5 s more interval) when
/// it comes before the interval has passed since the last, else
/// `authorization_pending`. Either way the poll is the new last one.
async fn pace(
    db: &DatabaseConnection,
    row: &device::Model,
    now: DateTime<Utc>,
) -> Result<PollError, DbErr> {
    let interval = chrono::Duration::seconds(i64::from(row.interval_secs));
    let too_soon = row.last_polled_at.is_some_and(|last| now < last + interval);
    let mut update = device::Entity::update_many()
        .col_expr(device::Column::LastPolledAt, Expr::value(now))
        .filter(device::Column::Id.eq(row.id));
    if too_soon {
        update = update.col_expr(
            device::Column::IntervalSecs,
            Expr::col(device::Column::IntervalSecs).add(INTERVAL.as_secs() as i32),
        );
    }
    update.exec(db).await?;
    Ok(if too_soon {
        PollError::SlowDown
    } else {
        PollError::Pending
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_unambiguous_and_typed_loosely() {
        for _ in 0..100 {
            let code = mint_user_code();
            assert_eq!(normalise_user_code(&code).as_deref(), Some(code.as_str()));
            assert!(
                !code.contains(['A', 'E', 'I', 'O', 'U', '0', '1']),
                "{code}"
            );
        }
        assert_eq!(
            normalise_user_code("bcdf-ghjk").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(
            normalise_user_code(" BCDF GHJK ").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
        for typed in [
            "BCDF-GHJ",
            "BCDF-GHJKG",
            "AEIO-UBCD",
            "BCDF-GHJ1",
            "",
            "BCDF_GHJK",
        ] {
            assert_eq!(normalise_user_code(typed), None, "{typed}");
        }
    }
}
