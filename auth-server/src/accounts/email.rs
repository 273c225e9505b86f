//! What mail does for accounts: sign-up without enumeration, verified
//! addresses, password recovery and changing the address.
//!
//! Every answer that a stranger can ask for is the same whether or not the
//! address is registered: sign-up (a new account gets a verification link,
//! an existing one a "someone tried" notice) and the reset request (a link
//! only for a real account). Links carry a 256-bit token; the database holds
//! its SHA-256, the purpose, the address it proves and its expiry, and a
//! conditional UPDATE spends it once. Each mail is queued in the
//! transaction of the change it reports (see [`crate::mail`]).

use std::net::IpAddr;
use std::time::Duration;

use askama::Template;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};
use uuid::Uuid;

use super::email_token_entity as token;
use super::entity as user;
use super::password::{Password, PasswordHasher};
use super::{
    apply_new_password, find_by_email, ip_text, new_password_hash, normalize_email, reauthenticate,
    validate_email, AccountError, NewPasswordFor, NewUser, PasswordGate,
};
use crate::app::clock::span;
use crate::audit::{self, AuditEvent};
use crate::digest::sha256_hex;
use crate::error::FieldError;
use crate::mail::{Kind, Mail, MailQueue, QueueError};

/// A verification link (sign-up, a new address) is good this long.
pub const VERIFY_TTL: Duration = Duration::from_secs(24 * 3600);
/// A password-reset link is good this long.
pub const RESET_TTL: Duration = Duration::from_secs(30 * 60);
/// The answer to every sign-up, whatever happened.
pub const SIGN_UP_ACCEPTED: &str =
    "If the address can be used, a mail is on its way to it: open its link to confirm the address.";
/// The answer to every password-reset request, whatever happened.
pub const RESET_ACCEPTED: &str =
    "If an account has this address, a mail with a link to choose a new password is on its way.";

/// What every link token starts with (easy to recognise in a leak).
pub const TOKEN_PREFIX: &str = "sge_";

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::ChangeEmail => "change_email",
        }
    }

    fn ttl(self) -> Duration {
        match self {
            Purpose::ResetPassword => RESET_TTL,
            Purpose::VerifyEmail | Purpose::ChangeEmail => VERIFY_TTL,
        }
    }
}

/// Where the links in mails point: this server's public URL (`JWT_ISSUER`).
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    pub base: &'a str,
}

impl Links<'_> {
    pub fn verify(&self, token: &str) -> String {
        format!("{}/account/verify-email?token={token}", self.base)
    }

    pub fn reset(&self, token: &str) -> String {
        format!("{}/account/password-reset/confirm?token={token}", self.base)
    }

    /// The page that asks for a reset link.
    pub fn reset_request(&self) -> String {
        format!("{}/account/password-reset", self.base)
    }
}

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyMail<'a> {
    email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/sign_up_attempt.txt")]
struct AttemptMail<'a> {
    email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct ResetMail<'a> {
    email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_reset_forced.txt")]
struct ForcedResetMail<'a> {
    email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct ChangedMail<'a> {
    email: &'a str,
}

#[derive(Template)]
#[template(path = "mail/recovery_code_used.txt")]
struct RecoveryCodeUsedMail<'a> {
    email: &'a str,
    left: u64,
}

#[derive(Template)]
#[template(path = "mail/confirm_new_email.txt")]
struct ConfirmNewMail<'a> {
    old_email: &'a str,
    email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_changed.txt")]
struct EmailChangedMail<'a> {
    old_email: &'a str,
    email: &'a str,
}

/// Why a mail flow failed.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The link is unknown, used, expired, or for another purpose: one
    /// answer for all.
    #[error("the link is invalid, used or expired")]
    InvalidLink,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("a mail could not be queued: {0}")]
    Queue(#[from] QueueError),
    #[error("a mail did not render")]
    Render,
}

impl From<sea_orm::DbErr> for EmailError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Account(AccountError::Store(error))
    }
}

fn render(template: impl Template) -> Result<String, EmailError> {
    template.render().map_err(|_| EmailError::Render)
}

/// A new link token for `user_id` and `purpose`, stored hashed; earlier
/// unused links of the same purpose stop working (the newest mail wins).
async fn issue(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: Purpose,
    address: &str,
    now: DateTime<Utc>,
) -> Result<String, sea_orm::DbErr> {
    token::Entity::update_many()
        .col_expr(token::Column::UsedAt, Expr::value(now))
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::Purpose.eq(purpose.as_str()))
        .filter(token::Column::UsedAt.is_null())
        .exec(txn)
        .await?;
    let value = format!("{TOKEN_PREFIX}{}", signet_service::web::random_token());
    token::ActiveModel {
        token_hash: Set(sha256_hex(&value)),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        new_email: Set(Some(address.to_owned())),
        created_at: Set(now),
        expires_at: Set(now + span(purpose.ttl())),
        used_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(value)
}

/// Spend `presented` for one of `purposes`: exactly once, before it expires.
async fn spend(
    txn: &impl ConnectionTrait,
    presented: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<token::Model, EmailError> {
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 100 {
        return Err(EmailError::InvalidLink);
    }
    let hash = sha256_hex(presented);
    let spent = token::Entity::update_many()
        .col_expr(token::Column::UsedAt, Expr::value(now))
        .filter(token::Column::TokenHash.eq(hash.as_str()))
        .filter(token::Column::Purpose.is_in(purposes.iter().map(|p| p.as_str())))
        .filter(token::Column::UsedAt.is_null())
        .filter(token::Column::ExpiresAt.gt(now))
        .exec(txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(EmailError::InvalidLink);
    }
    token::Entity::find_by_id(hash)
        .one(txn)
        .await?
        .ok_or(EmailError::InvalidLink)
}

/// Whether a link is still good (for the page that asks to confirm it),
/// without spending it.
pub async fn link_is_live(
    db: &impl ConnectionTrait,
    presented: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    Ok(live_link(db, presented, purposes, now).await?.is_some())
}

/// The unspent, unexpired link `presented` names, if it has one of
/// `purposes`; nothing is spent.
async fn live_link(
    db: &impl ConnectionTrait,
    presented: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<Option<token::Model>, sea_orm::DbErr> {
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 100 {
        return Ok(None);
    }
    Ok(token::Entity::find_by_id(sha256_hex(presented))
        .one(db)
        .await?
        .filter(|t| {
            t.used_at.is_none()
                && t.expires_at > now
                && purposes.iter().any(|p| p.as_str() == t.purpose)
        }))
}

/// What the mail flows need from the server.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    pub queue: &'a MailQueue,
    pub links: Links<'a>,
    /// Stops one address from being sent a flood of mails by strangers
    /// (sign-ups and reset requests for it): over the limit
    /// (`RATE_LIMIT_MAIL_PER_ADDRESS`), the mail is silently not sent, and
    /// the answer stays the same.
    pub mail_limit: &'a crate::app::rate_limit::Limit,
    pub metrics: &'a signet_service::metrics::Metrics,
}

impl Outgoing<'_> {
    async fn may_mail(&self, address: &str, now: DateTime<Utc>) -> bool {
        let allowed = self
            .mail_limit
            .admit(
                crate::app::rate_limit::text_key("mail", address),
                self.metrics,
                now,
            )
            .await
            .is_ok();
        if !allowed {
            tracing::info!("mail to an address over its limit not sent");
        }
        allowed
    }
}

/// Self-service sign-up. The same `Ok(())` whether or not the address is
/// registered, after the same work (a password hash either way): a new
/// account gets a verification link, an existing one a notice. Invalid
/// fields are still refused (that reveals nothing about other accounts).
pub async fn sign_up(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    out: Outgoing<'_>,
    new: NewUser,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    let email = normalize_email(&new.email);
    let row = match super::prepare_user(db, hasher, new, now).await {
        Ok(row) => row,
        Err(AccountError::EmailTaken) => return notify_existing(db, out, &email, now).await,
        Err(other) => return Err(other.into()),
    };
    let txn = signet_service::db::begin_write(db).await?;
    let created = match super::insert_user(&txn, row).await {
        Ok(created) => created,
        // Lost a race with another sign-up for the same address.
        Err(AccountError::EmailTaken) => {
            drop(txn);
            return notify_existing(db, out, &email, now).await;
        }
        Err(other) => return Err(other.into()),
    };
    let user_id = created.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("user.signup")
            .actor(&user_id)
            .subject(&user_id)
            .ip(ip_text(ip).as_deref())
            .detail(serde_json::json!({ "roles": created.role_list() })),
    )
    .await?;
    if out.may_mail(&created.email, now).await {
        queue_verification(out, &txn, created.id, &created.email, now).await?;
    }
    txn.commit().await?;
    out.queue.wake();
    Ok(())
}

/// A new verification link for `address`, mailed to it (in `txn`).
async fn queue_verification(
    out: Outgoing<'_>,
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    let token = issue(txn, user_id, Purpose::VerifyEmail, address, now).await?;
    let link = out.links.verify(&token);
    let body = render(VerifyMail {
        email: address,
        link: &link,
    })?;
    queue_mail(
        out,
        txn,
        address,
        Kind::VerifyEmail,
        &crate::i18n::t("mail-verify-subject"),
        body,
        now,
    )
    .await
}

/// Queue one mail in `txn` (sent if and only if it commits).
async fn queue_mail(
    out: Outgoing<'_>,
    txn: &impl ConnectionTrait,
    to: impl Into<String>,
    kind: Kind,
    subject: &str,
    body: String,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    out.queue
        .enqueue(
            txn,
            Mail {
                to: to.into(),
                kind,
                subject: subject.to_owned(),
                body,
            },
            now,
        )
        .await?;
    Ok(())
}

async fn notify_existing(
    db: &DatabaseConnection,
    out: Outgoing<'_>,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    if !out.may_mail(email, now).await {
        return Ok(());
    }
    let link = out.links.reset_request();
    let body = render(AttemptMail { email, link: &link })?;
    queue_mail(
        out,
        db,
        email.to_owned(),
        Kind::SignUpAttempt,
        &crate::i18n::t("mail-attempt-subject"),
        body,
        now,
    )
    .await?;
    out.queue.wake();
    Ok(())
}

/// Send `user` a new verification link for their current address.
pub async fn send_verification(
    db: &DatabaseConnection,
    out: Outgoing<'_>,
    user: &user::Model,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    if user.email_verified || !out.may_mail(&user.email, now).await {
        return Ok(());
    }
    let txn = signet_service::db::begin_write(db).await?;
    queue_verification(out, &txn, user.id, &user.email, now).await?;
    txn.commit().await?;
    out.queue.wake();
    Ok(())
}

/// What a verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The account's address is now verified.
    Address { user_id: Uuid, email: String },
    /// The account's address changed to the one the link proved.
    Changed { user_id: Uuid, email: String },
}

/// Spend a verification or address-change link: the address it proves is
/// now the account's, verified. A link for an address the account no longer
/// has (it changed since) verifies nothing.
pub async fn confirm_link(
    db: &DatabaseConnection,
    out: Outgoing<'_>,
    presented: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Verified, EmailError> {
    let txn = signet_service::db::begin_write(db).await?;
    let link = spend(
        &txn,
        presented,
        &[Purpose::VerifyEmail, Purpose::ChangeEmail],
        now,
    )
    .await?;
    let Some(account) = user::Entity::find_by_id(link.user_id).one(&txn).await? else {
        return Err(EmailError::InvalidLink);
    };
    let address = link.new_email.clone().unwrap_or_default();
    let user_text = account.id.to_string();
    let outcome = if link.purpose == Purpose::ChangeEmail.as_str() {
        if find_by_email(&txn, &address).await?.is_some() {
            // Taken since the request: nothing changes.
            return Err(EmailError::InvalidLink);
        }
        let old = account.email.clone();
        let mut active = account.into_active_model();
        active.email = Set(address.clone());
        active.email_verified = Set(true);
        active.updated_at = Set(now);
        active.update(&txn).await.map_err(|error| {
            if crate::error::is_unique_violation(&error) {
                EmailError::InvalidLink
            } else {
                error.into()
            }
        })?;
        audit::write(
            &txn,
            AuditEvent::new("email.changed")
                .actor(&user_text)
                .subject(&user_text)
                .ip(ip_text(ip).as_deref())
                .detail(serde_json::json!({ "from": old, "to": address })),
        )
        .await?;
        let body = render(EmailChangedMail {
            old_email: &old,
            email: &address,
        })?;
        queue_mail(
            out,
            &txn,
            old,
            Kind::EmailChanged,
            &crate::i18n::t("mail-email-changed-subject"),
            body,
            now,
        )
        .await?;
        Verified::Changed {
            user_id: link.user_id,
            email: address,
        }
    } else {
        if account.email != address {
            return Err(EmailError::InvalidLink);
        }
        user::Entity::update_many()
            .col_expr(user::Column::EmailVerified, Expr::value(true))
            .filter(user::Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
        audit::write(
            &txn,
            AuditEvent::new("email.verified")
                .actor(&user_text)
                .subject(&user_text)
                .ip(ip_text(ip).as_deref())
                .detail(serde_json::json!({ "email": address })),
        )
        .await?;
        Verified::Address {
            user_id: link.user_id,
            email: address,
        }
    };
    txn.commit().await?;
    out.queue.wake();
    Ok(outcome)
}

/// Why a reset link is mailed: its mail says so.
#[derive(Clone, Copy)]
enum ResetCause {
    /// Someone asked (perhaps not the owner): "ignore this if it was not you".
    Asked,
    /// An administrator reset the password: the old one no longer works.
    Forced,
}

/// A new reset link for `user_id`, mailed to `email` (in `txn`).
async fn queue_reset_link(
    out: Outgoing<'_>,
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    email: &str,
    cause: ResetCause,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    let token = issue(txn, user_id, Purpose::ResetPassword, email, now).await?;
    let link = out.links.reset(&token);
    let (body, subject) = match cause {
        ResetCause::Asked => (
            render(ResetMail { email, link: &link })?,
            crate::i18n::t("mail-reset-subject"),
        ),
        ResetCause::Forced => (
            render(ForcedResetMail { email, link: &link })?,
            crate::i18n::t("mail-reset-forced-subject"),
        ),
    };
    queue_mail(out, txn, email, Kind::PasswordReset, &subject, body, now).await
}

/// A stranger asks to reset the password of `typed`: a link goes to the
/// account if there is one (and it is enabled); the caller answers the
/// same either way.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    out: Outgoing<'_>,
    typed: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    let email = normalize_email(typed);
    if validate_email(&email).is_some() || !out.may_mail(&email, now).await {
        return Ok(());
    }
    let Some(account) = find_by_email(db, &email).await?.filter(|u| !u.disabled) else {
        return Ok(());
    };
    let txn = signet_service::db::begin_write(db).await?;
    queue_reset_link(
        out,
        &txn,
        account.id,
        &account.email,
        ResetCause::Asked,
        now,
    )
    .await?;
    let user_text = account.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("password.reset_requested")
            .actor("anonymous")
            .subject(&user_text)
            .ip(ip_text(ip).as_deref()),
    )
    .await?;
    txn.commit().await?;
    out.queue.wake();
    Ok(())
}

/// An administrator forces a new password on `account`: it is left with no
/// password (the state an upstream sign-up starts in), every session ends (announced on the
/// feed), and a reset link goes to its address, all in one transaction,
/// audited as `password.reset_forced` with `actor`. Refused (`Invalid`,
/// field `email`) when the address is over its mail limit: the account
/// would be locked out with no link on its way.
pub async fn force_password_reset(
    db: &DatabaseConnection,
    out: Outgoing<'_>,
    account: user::Model,
    actor: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    if !out.may_mail(&account.email, now).await {
        return Err(AccountError::Invalid(vec![FieldError::new(
            "email",
            "was mailed too often just now; try again in a while",
        )])
        .into());
    }
    // The account's no-password state (as after an upstream sign-up): the
    // marker never matches, and the sign-in spends the same work on it.
    let hash = format!(
        "{}{}",
        super::password::NO_PASSWORD_PREFIX,
        signet_service::web::random_token()
    );
    let txn = signet_service::db::begin_write(db).await?;
    let email = account.email.clone();
    let user_id = account.id;
    apply_new_password(
        &txn,
        account,
        hash,
        &NewPasswordFor {
            field: "password",
            event: "password.reset_forced",
            actor,
            reason: "password reset forced by an administrator",
            ip,
        },
        now,
    )
    .await?;
    queue_reset_link(out, &txn, user_id, &email, ResetCause::Forced, now).await?;
    txn.commit().await?;
    out.queue.wake();
    Ok(())
}

/// Spend a reset link and set `new`: the same policy as at sign-up; every
/// session of the account ends (announced on the feed); audited as
/// `password.reset` by the user; a notice goes to the address. A policy
/// violation leaves the link unspent. The address is verified too: the
/// link reached it.
pub async fn confirm_password_reset(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    out: Outgoing<'_>,
    presented: &str,
    new: &Password,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    let account_id = live_link(db, presented, &[Purpose::ResetPassword], now)
        .await?
        .map(|t| t.user_id)
        .ok_or(EmailError::InvalidLink)?;
    let account = user::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(EmailError::InvalidLink)?;
    let hash = new_password_hash(hasher, &account, new, "new_password").await?;
    let txn = signet_service::db::begin_write(db).await?;
    let link = spend(&txn, presented, &[Purpose::ResetPassword], now).await?;
    if link.user_id != account.id {
        return Err(EmailError::InvalidLink);
    }
    let email = account.email.clone();
    let actor = account.id.to_string();
    apply_new_password(
        &txn,
        account,
        hash,
        &NewPasswordFor {
            field: "new_password",
            event: "password.reset",
            actor: &actor,
            reason: "password reset",
            ip,
        },
        now,
    )
    .await?;
    user::Entity::update_many()
        .col_expr(user::Column::EmailVerified, Expr::value(true))
        .filter(user::Column::Id.eq(link.user_id))
        .filter(user::Column::Email.eq(email.as_str()))
        .exec(&txn)
        .await?;
    let body = render(ChangedMail { email: &email })?;
    queue_mail(
        out,
        &txn,
        email,
        Kind::PasswordChanged,
        &crate::i18n::t("mail-password-changed-subject"),
        body,
        now,
    )
    .await?;
    txn.commit().await?;
    out.queue.wake();
    Ok(())
}

/// A request to use another address, with the current password.
#[derive(Clone, Copy)]
pub struct EmailChange<'a> {
    pub new_email: &'a str,
    pub password: &'a Password,
}

/// The signed-in user asks to use `new_email` (password required): a link
/// goes to the new address; the change happens when it is opened, and the
/// old address is told then. An address another account has gets no link,
/// and the answer is the same.
pub async fn request_email_change(
    db: &DatabaseConnection,
    gate: PasswordGate<'_>,
    out: Outgoing<'_>,
    account: &user::Model,
    change: EmailChange<'_>,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    let password = change.password;
    let new_email = normalize_email(change.new_email);
    if let Some(problem) = validate_email(&new_email) {
        return Err(AccountError::Invalid(vec![problem.on("new_email")]).into());
    }
    reauthenticate(db, gate, account, password, ip, "email.change_failed", now).await?;
    if new_email == account.email
        || find_by_email(db, &new_email).await?.is_some()
        || !out.may_mail(&new_email, now).await
    {
        return Ok(());
    }
    let txn = signet_service::db::begin_write(db).await?;
    let token = issue(&txn, account.id, Purpose::ChangeEmail, &new_email, now).await?;
    let link = out.links.verify(&token);
    let body = render(ConfirmNewMail {
        old_email: &account.email,
        email: &new_email,
        link: &link,
    })?;
    queue_mail(
        out,
        &txn,
        new_email.clone(),
        Kind::ConfirmNewEmail,
        &crate::i18n::t("mail-confirm-new-subject"),
        body,
        now,
    )
    .await?;
    let user_text = account.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("email.change_requested")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip_text(ip).as_deref())
            .detail(serde_json::json!({ "to": new_email })),
    )
    .await?;
    txn.commit().await?;
    out.queue.wake();
    Ok(())
}

/// Tell the owner that a recovery code of theirs signed the account in,
/// and how many are left. A security notice: not subject to the per-address
/// mail limit (ten codes make at most ten of these).
pub async fn notify_recovery_code_used(
    db: &DatabaseConnection,
    out: Outgoing<'_>,
    user: &user::Model,
    left: u64,
    now: DateTime<Utc>,
) -> Result<(), EmailError> {
    let body = render(RecoveryCodeUsedMail {
        email: &user.email,
        left,
    })?;
    queue_mail(
        out,
        db,
        user.email.clone(),
        Kind::RecoveryCodeUsed,
        &crate::i18n::t("mail-recovery-code-used-subject"),
        body,
        now,
    )
    .await?;
    out.queue.wake();
    Ok(())
}
