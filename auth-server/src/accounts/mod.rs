//! User-account rules shared by the REST routes and the CLI.

pub mod admin_routes;
pub mod entity;
pub mod password;
pub mod routes;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{conflict_on_unique, ApiError, FieldError};
use entity as user;
use std::net::IpAddr;

use crate::accounts::password::{policy_violation, Password, PasswordHasher, Verification};
use crate::app::rate_limit::{Limiters, PasswordCheck};

pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Trim and lower-case; every provider we know treats the local part case-insensitively.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

pub fn validate_email(email: &str) -> Option<String> {
    if email.is_empty() {
        return Some("is required".into());
    }
    if email.len() > MAX_EMAIL_LEN {
        return Some(format!("must be at most {MAX_EMAIL_LEN} characters"));
    }
    if !email_address::EmailAddress::is_valid(email) || !email.contains('.') {
        return Some("is not a valid email address".into());
    }
    None
}

/// `Ok(None)` for an absent or blank name, the trimmed name if valid.
pub fn validate_display_name(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(format!(
            "must be at most {MAX_DISPLAY_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
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

/// Validate and create a user; 422 listing each field's problem, 409 if taken.
pub async fn create_user(
    db: &impl ConnectionTrait,
    hasher: &PasswordHasher,
    new: NewUser,
) -> Result<user::Model, ApiError> {
    let email = normalize_email(&new.email);
    let mut errors = Vec::new();
    if let Some(problem) = validate_email(&email) {
        errors.push(FieldError::new("email", problem));
    }
    if let Some(problem) = policy_violation(new.password.expose(), Some(&email)) {
        errors.push(FieldError::new("password", problem));
    }
    let display_name = match validate_display_name(new.display_name.as_deref()) {
        Ok(name) => name,
        Err(problem) => {
            errors.push(FieldError::new("display_name", problem));
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
        return Err(ApiError::Validation(errors));
    }
    // Cheap pre-check so a taken email does not cost a hash; the unique index decides races.
    if find_by_email(db, &email).await?.is_some() {
        return Err(ApiError::Conflict(
            "an account with this email already exists".into(),
        ));
    }
    let password_hash = hasher.hash(&new.password).await.map_err(hash_error)?;
    let now = Utc::now();
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        password_hash: Set(password_hash),
        display_name: Set(display_name),
        roles: Set(roles),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict_on_unique(e, "an account with this email already exists"))
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?)
}

pub fn hash_error(error: crate::accounts::password::HashError) -> ApiError {
    match error {
        crate::accounts::password::HashError::Busy => ApiError::Busy,
        crate::accounts::password::HashError::Failed(e) => ApiError::internal(anyhow::anyhow!(e)),
    }
}

/// Check `password` for `account` from `ip` under every abuse limit (per
/// client back-off, account ceiling, hashing quota): login, password change
/// and re-authentication all go through here, so none of them is an
/// unthrottled password oracle. The caller reports the outcome on the
/// returned [`PasswordCheck`] (a disabled account is a failure too).
pub async fn check_password(
    limiters: &Limiters,
    hasher: &PasswordHasher,
    metrics: &signet_service::metrics::Metrics,
    attempt: PasswordAttempt<'_>,
) -> Result<(Verification, PasswordCheck), ApiError> {
    let check = limiters.begin_password_check(attempt.account, attempt.ip, metrics, attempt.now)?;
    let verdict = hasher
        .verify(attempt.password, attempt.stored_hash)
        .await
        .map_err(hash_error)?;
    Ok((verdict, check))
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
