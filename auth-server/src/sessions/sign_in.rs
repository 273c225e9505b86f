//! Password sign-in: the domain step behind `POST /api/v1/auth/login` (and
//! any later sign-in form). It takes what it needs and the time, and knows
//! nothing of HTTP.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, Set};

use crate::accounts::entity as user;
use crate::accounts::password::{HashError, Password};
use crate::accounts::{
    account_label, find_by_email, ip_text, normalize_email, PasswordAttempt, PasswordCheckError,
    PasswordGate, MAX_EMAIL_LEN,
};
use crate::app::rate_limit::Refused;
use crate::audit::{self, AuditEvent};
use crate::mfa::challenge::{self, Purpose};
use crate::mfa::{self, FactorSeal, MfaError};
use crate::sessions::methods::Methods;
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
    /// `MFA_REQUIRED_ROLES`.
    pub mfa_required_roles: &'a [String],
    /// The origin of the sign-in page (its cookie will hold a second-factor
    /// challenge); `None` for the REST login.
    pub site: Option<&'a str>,
}

/// A signed-in user and the session just opened.
pub struct SignedIn {
    pub user: user::Model,
    pub started: Started,
    /// Recovery codes made by this sign-in (an enrolment it required), to
    /// be shown once.
    pub recovery_codes: Vec<String>,
}

/// A right password of an account that needs a second factor: no session
/// yet, a challenge for the code instead.
#[derive(Debug)]
pub struct Pending {
    pub user: user::Model,
    /// Names the challenge: the browser's cookie, or the REST `mfa_token`.
    pub token: String,
    /// The account must set up an authenticator app first.
    pub enrol: bool,
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
    /// The password was right; the second factor must follow.
    #[error("a second factor is required")]
    SecondFactor(Box<Pending>),
    #[error(transparent)]
    Mfa(MfaError),
    #[error(transparent)]
    Mail(#[from] crate::accounts::email::EmailError),
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("sign-in store: {0}")]
    Store(#[from] DbErr),
}

impl From<MfaError> for SignInError {
    fn from(error: MfaError) -> Self {
        match error {
            MfaError::Refused(refused) => Self::Refused(refused),
            MfaError::Store(error) => Self::Store(error),
            other => Self::Mfa(other),
        }
    }
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
    check.succeeded(gate.metrics).await;
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
    let has_factor = mfa::factors(db, user.id).await?.any();
    if has_factor || mfa::required(&user, credentials.mfa_required_roles) {
        let purpose = if has_factor {
            Purpose::SignIn
        } else {
            Purpose::Enrol
        };
        let token = challenge::open(
            db,
            user.id,
            purpose,
            challenge::Context {
                site: credentials.site.map(str::to_owned),
                audience: Some(credentials.audience.to_owned()),
                user_agent: credentials.user_agent,
                ip: ip.clone(),
                session_id: None,
            },
            now,
        )
        .await?;
        let user_id = user.id.to_string();
        audit::record(
            db,
            AuditEvent::new("login.second_factor_needed")
                .actor(&user_id)
                .subject(&user_id)
                .ip(ip.as_deref())
                .detail(serde_json::json!({ "purpose": purpose.as_str() })),
        )
        .await;
        return Err(SignInError::SecondFactor(Box::new(Pending {
            user,
            token,
            enrol: !has_factor,
        })));
    }
    count(gate, "success");
    let txn = signet_service::db::begin_write(db).await?;
    let started = sessions::start_within(
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
    Ok(SignedIn {
        user,
        started,
        recovery_codes: Vec::new(),
    })
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

/// Open the session of a passkey sign-in that passed (`amr` `hwk`/`swk`,
/// `user`, `mfa`), audited as `login.success` with the passkey's id.
pub async fn passkey_sign_in(
    db: &DatabaseConnection,
    gate: PasswordGate<'_>,
    policy: &SessionPolicy,
    verified: crate::passkeys::Verified,
    client: sessions::Client,
    now: DateTime<Utc>,
) -> Result<SignedIn, SignInError> {
    count(gate, "success");
    let ip = client.ip.clone();
    let txn = signet_service::db::begin_write(db).await?;
    let started = sessions::start_within(
        &txn,
        verified.user.id,
        policy,
        sessions::Client {
            methods: Some(crate::passkeys::methods(&verified.passkey)),
            ..client
        },
        now,
    )
    .await?;
    let user_id = verified.user.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("login.success")
            .actor(&user_id)
            .subject(&user_id)
            .ip(ip.as_deref())
            .detail(serde_json::json!({
                "session": started.session.id,
                "passkey": verified.passkey.id,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(SignedIn {
        user: verified.user,
        started,
        recovery_codes: Vec::new(),
    })
}

/// The code that completes a pending sign-in.
pub struct SecondFactorAttempt<'a> {
    /// The challenge's token (cookie or `mfa_token`).
    pub token: &'a str,
    /// The origin whose cookie held it (`None`: the REST login).
    pub site: Option<&'a str>,
    pub proof: Proof<'a>,
    pub ip: Option<IpAddr>,
}

/// What the person gave as their second factor.
#[derive(Clone, Copy)]
pub enum Proof<'a> {
    /// Six digits of the app, or a recovery code.
    Code(&'a str),
    /// A passkey's answer to the options of the ceremony `token` names.
    Passkey { token: &'a str, answer: &'a str },
}

/// What the second half of a sign-in needs besides the database.
#[derive(Clone, Copy)]
pub struct SecondFactorDeps<'a> {
    pub gate: PasswordGate<'a>,
    pub seal: Option<&'a FactorSeal>,
    pub outgoing: crate::accounts::email::Outgoing<'a>,
    pub policy: &'a SessionPolicy,
    /// The passkey relying party (`None`: passkeys are off).
    pub webauthn: Option<&'a webauthn_rs::Webauthn>,
}

/// Complete a pending sign-in (or step-up) with its second factor: the
/// challenge must be live and opened for this site, the code right (wrong
/// codes count against the challenge and the account's back-off). The
/// session starts with `amr` `pwd otp mfa` (a step-up adds `otp mfa` to
/// the session it replaces); `login.success` names the factor.
pub async fn second_factor_sign_in(
    db: &DatabaseConnection,
    deps: SecondFactorDeps<'_>,
    attempt: SecondFactorAttempt<'_>,
    now: DateTime<Utc>,
) -> Result<SignedIn, SignInError> {
    let expired = || SignInError::Mfa(MfaError::Expired);
    let Some(pending) = challenge::live(db, attempt.token, attempt.site, now).await? else {
        return Err(expired());
    };
    let row = pending.row;
    let user = user::Entity::find_by_id(row.user_id)
        .one(db)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(expired)?;
    let checked = match pending.purpose {
        Purpose::Enrol => match deps.seal {
            None => Err(MfaError::Unavailable),
            Some(seal) => {
                let Proof::Code(code) = attempt.proof else {
                    return Err(SignInError::Mfa(MfaError::WrongCode));
                };
                mfa::confirm_enrolment(db, deps.gate, seal, &user, code, attempt.ip, now)
                    .await
                    .map(|codes| (mfa::Proved::Totp, codes))
            }
        },
        Purpose::SignIn | Purpose::StepUp => match attempt.proof {
            Proof::Code(code) => {
                mfa::check_code(db, deps.gate, deps.seal, &user, code, attempt.ip, now).await
            }
            Proof::Passkey { token, answer } => match deps.webauthn {
                None => Err(MfaError::Unavailable),
                Some(webauthn) => {
                    let site = attempt.site.unwrap_or_default();
                    match crate::passkeys::second_factor(
                        db, webauthn, user.id, token, site, answer, now,
                    )
                    .await
                    {
                        Ok(key) => Ok(mfa::Proved::Passkey {
                            synced: key.backup_eligible,
                        }),
                        Err(crate::passkeys::PasskeyError::Store(error)) => {
                            Err(MfaError::Store(error))
                        }
                        Err(error) => {
                            tracing::info!(%error, reason = ?error, "a passkey second factor was refused");
                            Err(MfaError::WrongCode)
                        }
                    }
                }
            },
        }
        .map(|proved| (proved, Vec::new())),
    };
    let (proved, recovery_codes) = match checked {
        Ok(done) => done,
        Err(MfaError::WrongCode) => {
            challenge::failed(db, &row).await?;
            return Err(SignInError::Mfa(MfaError::WrongCode));
        }
        Err(other) => return Err(other.into()),
    };
    if !challenge::finish(db, &row, now).await? {
        return Err(expired());
    }
    if proved == mfa::Proved::RecoveryCode {
        let left = mfa::recovery::left(db, user.id).await?;
        crate::accounts::email::notify_recovery_code_used(db, deps.outgoing, &user, left, now)
            .await?;
    }
    // A step-up strengthens a live session of this account; one that ended
    // meanwhile (signed out, ended by an admin) is not brought back.
    let replaced = match row.session_id {
        Some(id) => Some(
            sessions::entity::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|s| s.user_id == user.id && s.is_active_at(now))
                .ok_or_else(expired)?,
        ),
        None => None,
    };
    let methods = replaced
        .as_ref()
        .map_or_else(Methods::password, |s| s.methods())
        .and(proved.method());
    count(deps.gate, "success");
    let txn = signet_service::db::begin_write(db).await?;
    if let Some(old) = &replaced {
        sessions::revoke(&txn, old.id, "stepped_up", now).await?;
    }
    let started = sessions::start_within(
        &txn,
        user.id,
        deps.policy,
        sessions::Client {
            user_agent: row.user_agent.clone(),
            ip: row.ip.clone(),
            audience: row.audience.clone(),
            idp: replaced.as_ref().and_then(|s| s.idp.clone()),
            methods: Some(methods),
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
            .ip(ip_text(attempt.ip).as_deref())
            .detail(serde_json::json!({
                "session": started.session.id,
                "second_factor": proved.as_str(),
                "step_up": replaced.is_some(),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(SignedIn {
        user,
        started,
        recovery_codes,
    })
}
