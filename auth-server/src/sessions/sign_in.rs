//! Password sign-in: the domain step behind `POST /api/v1/auth/login` (and
//! any later sign-in form). It takes what it needs and the time, and knows
//! nothing of HTTP.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DbErr, IntoActiveModel, Set, TransactionTrait,
};

use crate::accounts::entity as user;
use crate::accounts::password::{HashError, Password};
use crate::accounts::{
    account_label, find_by_email, ip_text, normalize_email, PasswordAttempt, PasswordCheckError,
    PasswordGate, MAX_EMAIL_LEN,
};
use crate::app::rate_limit::Refused;
use crate::audit::{self, AuditEvent};
use crate::sessions::{self, SessionPolicy, Started};

/// One sign-in attempt.
pub struct Credentials<'a> {
    /// As typed: normalised here.
    pub email: &'a str,
    pub password: &'a Password,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The resource the session's tokens are for (already checked by the caller).
    pub audience: &'a str,
    /// `REQUIRE_VERIFIED_EMAIL`: a right password of an account whose
    /// address is not verified opens no session.
    pub require_verified_email: bool,
}

/// A signed-in user and the session just opened.
pub struct SignedIn {
    pub user: user::Model,
    pub started: Started,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown account, wrong password or disabled account: one answer, so
    /// accounts cannot be enumerated.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The password was right, but the address is not verified and
    /// `REQUIRE_VERIFIED_EMAIL` is set. Only the account's owner learns this.
    #[error("the account's email address is not verified yet")]
    EmailNotVerified(Box<user::Model>),
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("sign-in store: {0}")]
    Store(#[from] DbErr),
}

impl From<PasswordCheckError> for SignInError {
    fn from(error: PasswordCheckError) -> Self {
        match error {
            PasswordCheckError::Refused(refused) => Self::Refused(refused),
            PasswordCheckError::Hash(error) => Self::Hash(error),
        }
    }
}

/// Check the credentials under every abuse limit and open a session.
///
/// An unknown email and a wrong password take the same path (the password is
/// checked against a dummy hash). A failure is counted and audited under
/// [`account_label`], so a password typed into the email field is never
/// stored. On success the session, its first refresh token and the
/// `login.success` row are one transaction.
pub async fn password_sign_in(
    db: &DatabaseConnection,
    gate: PasswordGate<'_>,
    policy: &SessionPolicy,
    credentials: Credentials<'_>,
    now: DateTime<Utc>,
) -> Result<SignedIn, SignInError> {
    let email = normalize_email(credentials.email);
    let ip = ip_text(credentials.ip);
    let user = if email.len() <= MAX_EMAIL_LEN {
        find_by_email(db, &email).await?
    } else {
        None
    };
    // Checked before the password, and the same for unknown accounts: it reveals nothing.
    let (verdict, check) = gate
        .check(PasswordAttempt {
            account: &email,
            ip: credentials.ip,
            password: credentials.password,
            stored_hash: user.as_ref().map(|u| u.password_hash.as_str()),
            now,
        })
        .await?;
    let Some(user) = user.filter(|u| verdict.matches && !u.disabled) else {
        let label = account_label(&email);
        gate.failed(db, check, &label, ip.as_deref()).await;
        count(gate, "failure");
        audit::record(
            db,
            AuditEvent::new("login.failure")
                .subject(&label)
                .ip(ip.as_deref()),
        )
        .await;
        return Err(SignInError::InvalidCredentials);
    };
    check.succeeded();
    if credentials.require_verified_email && !user.email_verified {
        let user_id = user.id.to_string();
        audit::record(
            db,
            AuditEvent::new("login.unverified")
                .actor(&user_id)
                .subject(&user_id)
                .ip(ip.as_deref()),
        )
        .await;
        return Err(SignInError::EmailNotVerified(Box::new(user)));
    }
    if verdict.needs_rehash {
        upgrade_hash(db, gate, &user, credentials.password).await;
    }
    count(gate, "success");
    let txn = db.begin().await?;
    let started = sessions::start(
        &txn,
        user.id,
        policy,
        sessions::Client {
            user_agent: credentials.user_agent,
            ip: ip.clone(),
            audience: Some(credentials.audience.to_owned()),
            ..sessions::Client::default()
        },
        now,
    )
    .await?;
    let user_id = user.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("login.success")
            .actor(&user_id)
            .subject(&user_id)
            .ip(ip.as_deref())
            .detail(serde_json::json!({ "session": started.session.id })),
    )
    .await?;
    txn.commit().await?;
    Ok(SignedIn { user, started })
}

fn count(gate: PasswordGate<'_>, outcome: &'static str) {
    gate.metrics
        .counter(&crate::app::metrics::LOGINS, &[("outcome", outcome)])
        .increment(1);
}

/// Store the hash under the current parameters. A failure here must not fail
/// the sign-in: the old hash still works and the next sign-in tries again.
async fn upgrade_hash(
    db: &DatabaseConnection,
    gate: PasswordGate<'_>,
    user: &user::Model,
    password: &Password,
) {
    let new_hash = match gate.hasher.hash(password).await {
        Ok(hash) => hash,
        Err(error) => {
            tracing::warn!(%error, user_id = %user.id, "could not upgrade password hash");
            return;
        }
    };
    let mut active = user.clone().into_active_model();
    active.password_hash = Set(new_hash);
    if let Err(error) = active.update(db).await {
        tracing::warn!(%error, user_id = %user.id, "could not upgrade password hash");
    }
}
