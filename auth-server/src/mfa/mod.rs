//! Second factors: an authenticator app (TOTP) and recovery codes, the
//! policy that requires them, and the check of a typed code under the same
//! account back-off as a password.
//!
//! A password sign-in of an account with a factor opens a
//! [`challenge`] instead of a session; the session starts when the code
//! comes (`sessions::sign_in::second_factor_sign_in`). What a session was
//! authenticated with is in its `amr` (`sessions::methods`).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use uuid::Uuid;

use crate::accounts::entity as user;
use crate::accounts::{ip_text, PasswordGate};
use crate::app::rate_limit::Refused;
use crate::audit::{self, AuditEvent};

pub mod challenge;
pub mod challenge_entity;
pub mod recovery;
pub mod recovery_entity;
pub mod totp;
pub mod totp_entity;

pub use totp::FactorSeal;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// No live challenge: unknown, expired, finished or out of attempts.
    #[error("the sign-in is unknown or has expired")]
    Expired,
    #[error("the code is not right")]
    WrongCode,
    #[error("an authenticator app is already set up")]
    AlreadyEnrolled,
    #[error("no authenticator app is set up")]
    NotEnrolled,
    /// No key to seal authenticator secrets with (`KEY_ENCRYPTION_KEY`).
    #[error("authenticator apps are not available on this server")]
    Unavailable,
    /// The account must keep a second factor.
    #[error("the account requires a second factor")]
    Required,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("an authenticator secret could not be sealed or opened")]
    Sealing,
    #[error("second-factor store: {0}")]
    Store(#[from] DbErr),
}

/// Which factors an account has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Factors {
    /// A confirmed authenticator app.
    pub totp: bool,
    pub recovery_codes_left: u64,
    /// Registered passkeys (a second factor after a password too).
    pub passkeys: u64,
}

impl Factors {
    /// Whether a password alone no longer signs the account in.
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

pub async fn factors(db: &impl sea_orm::ConnectionTrait, user: Uuid) -> Result<Factors, MfaError> {
    let totp = totp::find(db, user)
        .await?
        .is_some_and(|row| row.confirmed_at.is_some());
    use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
    let passkeys = crate::passkeys::entity::Entity::find()
        .filter(crate::passkeys::entity::Column::UserId.eq(user))
        .count(db)
        .await?;
    Ok(Factors {
        totp,
        recovery_codes_left: recovery::left(db, user).await?,
        passkeys,
    })
}

/// Whether `user` must sign in with a second factor: the per-user flag an
/// administrator sets, or a role in `MFA_REQUIRED_ROLES`.
pub fn required(user: &user::Model, required_roles: &[String]) -> bool {
    user.mfa_required
        || user
            .roles
            .split_ascii_whitespace()
            .any(|role| required_roles.iter().any(|r| r == role))
}

/// The second factor a code proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proved {
    Totp,
    RecoveryCode,
    /// A passkey after the password: device-bound (`hwk`) or synced (`swk`).
    Passkey {
        synced: bool,
    },
}

impl Proved {
    pub fn as_str(self) -> &'static str {
        match self {
            Proved::Totp => "totp",
            Proved::RecoveryCode => "recovery_code",
            Proved::Passkey { .. } => "passkey",
        }
    }

    /// Its RFC 8176 method value.
    pub fn method(self) -> &'static str {
        match self {
            Proved::Totp | Proved::RecoveryCode => crate::sessions::methods::ONE_TIME_CODE,
            Proved::Passkey { synced: true } => "swk",
            Proved::Passkey { synced: false } => "hwk",
        }
    }
}

/// Check a typed code (six digits: the app; otherwise a recovery code) for
/// `user`, under the account back-off that guards the password: wrong codes
/// count as failed sign-ins of the account. A used recovery code is audited;
/// the caller mails the owner.
pub async fn check_code(
    db: &impl sea_orm::ConnectionTrait,
    gate: PasswordGate<'_>,
    seal: Option<&FactorSeal>,
    user: &user::Model,
    code: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Proved, MfaError> {
    let attempt = gate
        .limiters
        .begin_password_check(&user.email, ip, gate.metrics, now)
        .await?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let (user_text, ip) = (user.id.to_string(), ip_text(ip));
    let proved = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        match seal {
            None => None,
            Some(seal) => match totp::check(db, seal, user.id, &code, false, now).await? {
                totp::Checked::Accepted => Some(Proved::Totp),
                totp::Checked::Replayed => {
                    audit::record(
                        db,
                        AuditEvent::new("mfa.code_replayed")
                            .actor(&user_text)
                            .subject(&user_text)
                            .ip(ip.as_deref()),
                    )
                    .await;
                    None
                }
                totp::Checked::Wrong => None,
            },
        }
    } else if recovery::spend(db, user.id, &code, now).await? {
        audit::record(
            db,
            AuditEvent::new("mfa.recovery_code_used")
                .actor(&user_text)
                .subject(&user_text)
                .ip(ip.as_deref())
                .detail(serde_json::json!({ "left": recovery::left(db, user.id).await? })),
        )
        .await;
        Some(Proved::RecoveryCode)
    } else {
        None
    };
    match proved {
        Some(proved) => {
            attempt.succeeded(gate.metrics).await;
            Ok(proved)
        }
        None => {
            gate.failed(db, attempt, &user.email, ip.as_deref()).await;
            audit::record(
                db,
                AuditEvent::new("mfa.failure")
                    .actor(&user_text)
                    .subject(&user_text)
                    .ip(ip.as_deref()),
            )
            .await;
            Err(MfaError::WrongCode)
        }
    }
}

/// Confirm a waiting enrolment with its first code (under the same back-off)
/// and give the account a fresh set of recovery codes, returned once.
pub async fn confirm_enrolment(
    db: &impl sea_orm::ConnectionTrait,
    gate: PasswordGate<'_>,
    seal: &FactorSeal,
    user: &user::Model,
    code: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, MfaError> {
    let attempt = gate
        .limiters
        .begin_password_check(&user.email, ip, gate.metrics, now)
        .await?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let ip = ip_text(ip);
    if totp::check(db, seal, user.id, &code, true, now).await? != totp::Checked::Accepted {
        gate.failed(db, attempt, &user.email, ip.as_deref()).await;
        return Err(MfaError::WrongCode);
    }
    attempt.succeeded(gate.metrics).await;
    let codes = recovery::replace(db, user.id, now).await?;
    let user_text = user.id.to_string();
    audit::record(
        db,
        AuditEvent::new("mfa.totp_enrolled")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip.as_deref()),
    )
    .await;
    Ok(codes)
}

/// Remove the account's authenticator app and recovery codes (the caller
/// re-checked the password), in one transaction with the `mfa.totp_removed`
/// audit row. Refused while the account requires MFA.
pub async fn remove_totp(
    db: &sea_orm::DatabaseConnection,
    user: &user::Model,
    required_roles: &[String],
    ip: Option<IpAddr>,
) -> Result<(), MfaError> {
    if required(user, required_roles) {
        return Err(MfaError::Required);
    }
    let txn = signet_service::db::begin_write(db).await?;
    if !totp::remove(&txn, user.id).await? {
        return Err(MfaError::NotEnrolled);
    }
    recovery::remove_all(&txn, user.id).await?;
    let user_text = user.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("mfa.totp_removed")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip_text(ip).as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A new set of recovery codes for an account with an app, returned once.
pub async fn regenerate_recovery_codes(
    db: &impl sea_orm::ConnectionTrait,
    user: &user::Model,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, MfaError> {
    if !factors(db, user.id).await?.totp {
        return Err(MfaError::NotEnrolled);
    }
    let codes = recovery::replace(db, user.id, now).await?;
    let user_text = user.id.to_string();
    audit::record(
        db,
        AuditEvent::new("mfa.recovery_codes_replaced")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip_text(ip).as_deref()),
    )
    .await;
    Ok(codes)
}

/// What an operator's reset removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reset {
    pub totp: bool,
    pub recovery_codes: u64,
    pub passkeys: u64,
}

/// An operator's recovery path for a person who lost their devices: the
/// account's authenticator app, recovery codes and passkeys go, in one
/// transaction with the `mfa.reset` audit row (actor: the admin's id, or
/// `cli`). The password stays; an account that must have a second factor
/// sets one up again at its next sign-in.
pub async fn reset_by_operator(
    db: &sea_orm::DatabaseConnection,
    actor: &str,
    user: &user::Model,
    ip: Option<IpAddr>,
) -> Result<Reset, MfaError> {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let txn = signet_service::db::begin_write(db).await?;
    let totp = totp::remove(&txn, user.id).await?;
    let recovery_codes = recovery_entity::Entity::delete_many()
        .filter(recovery_entity::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?
        .rows_affected;
    let passkeys = crate::passkeys::entity::Entity::delete_many()
        .filter(crate::passkeys::entity::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?
        .rows_affected;
    let reset = Reset {
        totp,
        recovery_codes,
        passkeys,
    };
    audit::write(
        &txn,
        AuditEvent::new("mfa.reset")
            .actor(actor)
            .subject(&user.id.to_string())
            .ip(ip_text(ip).as_deref())
            .detail(serde_json::json!({
                "totp": reset.totp,
                "recovery_codes": reset.recovery_codes,
                "passkeys": reset.passkeys,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(reset)
}
