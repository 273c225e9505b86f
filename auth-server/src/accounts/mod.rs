//! User-account rules shared by the REST routes and the CLI.

pub mod admin;
pub(crate) mod admin_routes;
pub mod email;
pub mod email_token_entity;
pub mod entity;
pub mod password;
pub(crate) mod routes;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, ModelTrait, QueryFilter, Set,
};
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::password::{
    policy_violation, HashError, Password, PasswordHasher, Verification,
};
use crate::app::rate_limit::{Limiters, PasswordCheck, Refused};
use crate::audit::{self, AuditEvent};
use crate::config::Limits;
use crate::error::{is_unique_violation, FieldError};
use crate::sessions;
use entity as user;

pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Trim and lower-case; every provider we know treats the local part case-insensitively.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Why a value was refused: a stable code, which the pages translate, and
/// the English message the API answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// This refusal as the problem of `field`.
    pub fn on(self, field: &str) -> FieldError {
        FieldError::coded(field, self.code, self.message)
    }
}

pub fn validate_email(email: &str) -> Option<Refusal> {
    if email.is_empty() {
        return Some(Refusal::new("required", "is required"));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Some(Refusal::new(
            "email_too_long",
            format!("must be at most {MAX_EMAIL_LEN} characters"),
        ));
    }
    // A bare address (no display name, no spaces or line breaks): it goes
    // into mail headers as it is.
    if !email_address::EmailAddress::is_valid(email)
        || !email.contains('.')
        || email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c))
        || email.parse::<lettre::Address>().is_err()
    {
        return Some(Refusal::new(
            "email_invalid",
            "is not a valid email address",
        ));
    }
    None
}

/// `Ok(None)` for an absent or blank name, the trimmed name if valid.
pub fn validate_display_name(raw: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(Refusal::new(
            "name_too_long",
            format!("must be at most {MAX_DISPLAY_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Refusal::new(
            "name_control_characters",
            "must not contain control characters",
        ));
    }
    Ok(Some(name.to_owned()))
}

/// Role names: lower-case letters, digits, `_`, `-`, `:`; 1–64 characters.
pub fn validate_roles(roles: &[String]) -> Result<String, String> {
    let mut cleaned: Vec<&str> = Vec::new();
    for role in roles {
        let valid = !role.is_empty()
            && role.len() <= 64
            && role.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | ':')
            });
        if !valid {
            return Err(format!("{role:?} is not a valid role name"));
        }
        if !cleaned.contains(&role.as_str()) {
            cleaned.push(role);
        }
    }
    Ok(cleaned.join(" "))
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
    pub disabled: bool,
    /// The owner confirmed the address (a mailed link, or an upstream
    /// provider that verified it).
    pub email_verified: bool,
    /// An administrator requires a second factor for this account (a role
    /// in `MFA_REQUIRED_ROLES` requires one too).
    pub mfa_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(model: user::Model) -> Self {
        Self {
            roles: model.role_list(),
            id: model.id,
            email: model.email,
            display_name: model.display_name,
            disabled: model.disabled,
            email_verified: model.email_verified,
            mfa_required: model.mfa_required,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

pub struct NewUser {
    pub email: String,
    pub password: Password,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
}

/// Why an account operation was refused. Mapped to HTTP in `app::errors`.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// One entry per invalid field.
    #[error("one or more fields are invalid")]
    Invalid(Vec<FieldError>),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("no such user")]
    NotFound,
    /// Re-authentication failed (password change, account deletion).
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("account store: {0}")]
    Store(#[from] DbErr),
}

impl From<PasswordCheckError> for AccountError {
    fn from(error: PasswordCheckError) -> Self {
        match error {
            PasswordCheckError::Refused(refused) => Self::Refused(refused),
            PasswordCheckError::Hash(error) => Self::Hash(error),
        }
    }
}

/// Validate a new user and hash its password: `Invalid` listing each
/// field's problem, `EmailTaken` if taken. Done before any transaction, so
/// no transaction is held open across a hash.
async fn prepare_user(
    db: &impl ConnectionTrait,
    hasher: &PasswordHasher,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<user::ActiveModel, AccountError> {
    let email = normalize_email(&new.email);
    let mut errors = Vec::new();
    if let Some(problem) = validate_email(&email) {
        errors.push(problem.on("email"));
    }
    if let Some(problem) = policy_violation(new.password.expose(), Some(&email)) {
        errors.push(problem.on("password"));
    }
    let display_name = match validate_display_name(new.display_name.as_deref()) {
        Ok(name) => name,
        Err(problem) => {
            errors.push(problem.on("display_name"));
            None
        }
    };
    let roles = match validate_roles(&new.roles) {
        Ok(roles) => roles,
        Err(problem) => {
            errors.push(FieldError::new("roles", problem));
            String::new()
        }
    };
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    // The hash first, taken or not: a sign-up with a registered address
    // must take as long as one with a new address (its answer is the same).
    // The unique index decides races.
    let password_hash = hasher.hash(&new.password).await?;
    if find_by_email(db, &email).await?.is_some() {
        return Err(AccountError::EmailTaken);
    }
    Ok(user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        password_hash: Set(password_hash),
        display_name: Set(display_name),
        roles: Set(roles),
        disabled: Set(false),
        email_verified: Set(false),
        mfa_required: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// The unique index decides a race between two sign-ups with one email.
async fn insert_user(
    db: &impl ConnectionTrait,
    row: user::ActiveModel,
) -> Result<user::Model, AccountError> {
    row.insert(db).await.map_err(|error| {
        if is_unique_violation(&error) {
            AccountError::EmailTaken
        } else {
            AccountError::Store(error)
        }
    })
}

/// Validate and create a user, with `event` about it audited in the same
/// transaction as the insert. The actor is `actor`, or the new user itself.
async fn create_audited(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    new: NewUser,
    now: DateTime<Utc>,
    event: &'static str,
    actor: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<user::Model, AccountError> {
    let mut row = prepare_user(db, hasher, new, now).await?;
    // The operator who creates an account from the command line vouches
    // for its address (else REQUIRE_VERIFIED_EMAIL would lock the first
    // admin out).
    row.email_verified = Set(true);
    let txn = signet_service::db::begin_write(db).await?;
    let created = insert_user(&txn, row).await?;
    let user_id = created.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new(event)
            .actor(actor.unwrap_or(&user_id))
            .subject(&user_id)
            .ip(ip_text(ip).as_deref())
            .detail(serde_json::json!({ "roles": created.role_list() })),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// An administrator created from the command line (there is no API to
/// become one), with its `user.created` audit row.
pub async fn create_admin(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<user::Model, AccountError> {
    create_audited(db, hasher, new, now, "user.created", Some("cli"), None).await
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

/// Why a password could not be checked at all (as opposed to not matching).
#[derive(Debug, thiserror::Error)]
pub enum PasswordCheckError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// Every password check goes through the gate: login, password change and
/// re-authentication, so none of them is an unthrottled password oracle.
#[derive(Clone, Copy)]
pub struct PasswordGate<'a> {
    pub limiters: &'a Limiters,
    pub hasher: &'a PasswordHasher,
    pub metrics: &'a signet_service::metrics::Metrics,
    pub limits: &'a Limits,
}

impl PasswordGate<'_> {
    /// Check `password` for `account` from `ip` under every abuse limit (per
    /// client back-off, account ceiling, hashing quota). The caller reports
    /// the outcome on the returned [`PasswordCheck`] (a disabled account is a
    /// failure too), or through [`PasswordGate::failed`].
    pub async fn check(
        &self,
        attempt: PasswordAttempt<'_>,
    ) -> Result<(Verification, PasswordCheck), PasswordCheckError> {
        let check = self
            .limiters
            .begin_password_check(attempt.account, attempt.ip, self.metrics, attempt.now)
            .await?;
        let verdict = self
            .hasher
            .verify(attempt.password, attempt.stored_hash)
            .await?;
        Ok((verdict, check))
    }

    /// Count a failed check and audit each back-off it started (once per
    /// episode, so a flood of failures cannot flood the trail).
    pub async fn failed(
        &self,
        db: &impl ConnectionTrait,
        check: PasswordCheck,
        account_label: &str,
        ip: Option<&str>,
    ) {
        let throttled = check.failed(self.metrics).await;
        audit::throttled(db, self.limits, throttled, account_label, ip).await;
    }
}

/// One password presented for an account.
pub struct PasswordAttempt<'a> {
    /// The normalised email (whether or not the account exists).
    pub account: &'a str,
    pub ip: Option<IpAddr>,
    pub password: &'a Password,
    /// `None` for an unknown account: a dummy hash is checked instead.
    pub stored_hash: Option<&'a str>,
    pub now: chrono::DateTime<Utc>,
}

pub fn ip_text(ip: Option<IpAddr>) -> Option<String> {
    ip.map(|ip| ip.to_string())
}

/// Check the signed-in user's password again (password change, account
/// deletion) under the same limits as a login. A wrong password is counted,
/// audited as `failure_event` and refused as `WrongPassword`.
pub async fn reauthenticate(
    db: &impl ConnectionTrait,
    gate: PasswordGate<'_>,
    user: &user::Model,
    password: &Password,
    ip: Option<IpAddr>,
    failure_event: &'static str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let (verdict, check) = gate
        .check(PasswordAttempt {
            account: &user.email,
            ip,
            password,
            stored_hash: Some(&user.password_hash),
            now,
        })
        .await?;
    if verdict.matches {
        check.succeeded(gate.metrics).await;
        return Ok(());
    }
    let (user_text, ip_text) = (user.id.to_string(), ip_text(ip));
    gate.failed(db, check, &user.email, ip_text.as_deref())
        .await;
    audit::record(
        db,
        AuditEvent::new(failure_event)
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip_text.as_deref()),
    )
    .await;
    Err(AccountError::WrongPassword)
}

/// The signed-in user's own profile change: the display name (blank
/// clears it), audited as `user.profile_changed` in the same transaction. A
/// name that changes nothing records nothing.
pub async fn update_profile(
    db: &DatabaseConnection,
    user: user::Model,
    display_name: Option<&str>,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<user::Model, AccountError> {
    let name = validate_display_name(display_name)
        .map_err(|problem| AccountError::Invalid(vec![problem.on("display_name")]))?;
    if name == user.display_name {
        return Ok(user);
    }
    let (actor, ip) = (user.id.to_string(), ip_text(ip));
    let mut active = user.into_active_model();
    active.display_name = Set(name);
    active.updated_at = Set(now);
    let txn = signet_service::db::begin_write(db).await?;
    let updated = active.update(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("user.profile_changed")
            .actor(&actor)
            .subject(&actor)
            .ip(ip.as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Change the signed-in user's password after checking the old one. The new
/// hash, the end of every session (perhaps the reason for the change) and the
/// audit row are one transaction.
pub async fn change_password(
    db: &DatabaseConnection,
    gate: PasswordGate<'_>,
    user: user::Model,
    old: &Password,
    new: &Password,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    reauthenticate(db, gate, &user, old, ip, "password.change_failed", now).await?;
    let actor = user.id.to_string();
    let change = NewPasswordFor {
        field: "new_password",
        event: "password.changed",
        actor: &actor,
        reason: "password changed",
        ip,
    };
    set_password(db, gate.hasher, user, new, change, now).await
}

/// Who sets a password and how it is recorded (see [`set_password`]).
pub(crate) struct NewPasswordFor<'a> {
    /// The request field a policy violation is reported on.
    pub field: &'static str,
    /// The audit event.
    pub event: &'static str,
    pub actor: &'a str,
    /// Why the sessions end (the security-event feed carries it).
    pub reason: &'static str,
    pub ip: Option<IpAddr>,
}

/// Give `user` the password `new` (the policy as at sign-up) and end every
/// session they have: the new hash, the ended sessions and the audit row are
/// one transaction. Both the user's own change and an operator's reset.
pub(crate) async fn set_password(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    user: user::Model,
    new: &Password,
    change: NewPasswordFor<'_>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let hash = new_password_hash(hasher, &user, new, change.field).await?;
    let txn = signet_service::db::begin_write(db).await?;
    apply_new_password(&txn, user, hash, &change, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The policy check and the hash of [`set_password`], before its transaction.
pub(crate) async fn new_password_hash(
    hasher: &PasswordHasher,
    user: &user::Model,
    new: &Password,
    field: &'static str,
) -> Result<String, AccountError> {
    if let Some(problem) = policy_violation(new.expose(), Some(&user.email)) {
        return Err(AccountError::Invalid(vec![problem.on(field)]));
    }
    Ok(hasher.hash(new).await?)
}

/// The writes of [`set_password`] inside `txn`: the hash, every session
/// ended (announced on the feed), the audit row.
pub(crate) async fn apply_new_password(
    txn: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    user: user::Model,
    hash: String,
    change: &NewPasswordFor<'_>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let user_id = user.id;
    let mut active = user.into_active_model();
    active.password_hash = Set(hash);
    active.updated_at = Set(now);
    active.update(txn).await?;
    let ended = sessions::revoke_all_for_user(
        txn,
        user_id,
        crate::events::SubjectChange::CredentialChange,
        change.reason,
        now,
    )
    .await?;
    audit::write(
        txn,
        AuditEvent::new(change.event)
            .actor(change.actor)
            .subject(&user_id.to_string())
            .ip(ip_text(change.ip).as_deref())
            .detail(serde_json::json!({ "sessions_revoked": ended })),
    )
    .await?;
    Ok(())
}

/// Delete the signed-in user's own account after checking the password:
/// sessions ended, row deleted, audit row written, in one transaction.
pub async fn delete_account(
    db: &DatabaseConnection,
    gate: PasswordGate<'_>,
    user: user::Model,
    password: &Password,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    reauthenticate(db, gate, &user, password, ip, "user.delete_failed", now).await?;
    let user_text = user.id.to_string();
    let txn = signet_service::db::begin_write(db).await?;
    sessions::revoke_all_for_user(
        &txn,
        user.id,
        crate::events::SubjectChange::Deleted,
        "user deleted",
        now,
    )
    .await?;
    user.delete(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("user.deleted")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip_text(ip).as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What the audit trail and the logs may say about a typed-in account name:
/// the address itself when it is one, otherwise a keyed hash. People type
/// passwords into email fields; those must never be stored or logged.
pub fn account_label(typed: &str) -> String {
    let email = normalize_email(typed);
    if validate_email(&email).is_none() {
        return email;
    }
    static KEY: std::sync::OnceLock<aws_lc_rs::hmac::Key> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret)
    });
    let tag = aws_lc_rs::hmac::sign(key, email.as_bytes());
    let hex: String = tag.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("not-an-email:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_label_is_the_email_or_a_hash_never_other_text() {
        assert_eq!(account_label(" Ann@Example.com "), "ann@example.com");
        let typed_password = account_label("hunter2-correct-horse");
        assert!(
            typed_password.starts_with("not-an-email:"),
            "{typed_password}"
        );
        assert!(!typed_password.contains("hunter2"));
        assert_eq!(typed_password, account_label("hunter2-correct-horse"));
        assert_ne!(typed_password, account_label("other"));
    }
}
