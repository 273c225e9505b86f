//! Passkeys (WebAuthn Level 3) through webauthn-rs: registration from the
//! security page, and a sign-in that needs no email (discoverable
//! credentials) and counts as two factors (user verification is required).
//!
//! Every check of a ceremony is webauthn-rs's (challenge, origin, RP id
//! hash, user-verified flag, signature, counter); this module keeps its
//! state in the database between the two requests, finishes each ceremony
//! once, refuses a credential id another account holds, and audits a
//! counter that went backwards (a cloned authenticator) before refusing it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Webauthn, WebauthnError,
};

use crate::accounts::entity as user;
use crate::app::clock::span;
use crate::audit::{self, AuditEvent};
use crate::digest::sha256_hex;

pub mod ceremony_entity;
pub mod entity;

use ceremony_entity as ceremony;
use entity as passkey;

/// How long a browser has between the options and its answer.
pub const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);
pub const TOKEN_PREFIX: &str = "swa_";
/// The longest name a passkey may have.
pub const MAX_NAME: usize = 64;
/// The largest credential answer accepted (the browser's JSON).
pub const MAX_ANSWER: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("passkeys are not available on this server")]
    Unavailable,
    /// No live ceremony for this browser: unknown, expired or finished.
    #[error("the passkey request is unknown or has expired")]
    Expired,
    #[error("the passkey answer is malformed")]
    Malformed,
    /// webauthn-rs refused the answer (challenge, origin, RP id, flags,
    /// signature). The reason goes to the log, not the page.
    #[error("the passkey was not accepted")]
    Refused(WebauthnError),
    /// The signature counter did not move forward: a cloned authenticator.
    #[error("the passkey's counter went backwards")]
    Cloned,
    /// No account holds this credential (or it was removed).
    #[error("this passkey is not registered here")]
    Unknown,
    #[error("this passkey is registered already")]
    Duplicate,
    #[error("the name must be 1 to 64 characters")]
    BadName,
    #[error("no such passkey")]
    NotFound,
    /// The account would have no way left to sign in.
    #[error("the last way to sign in cannot be removed")]
    LastMethod,
    #[error("passkey store: {0}")]
    Store(#[from] DbErr),
}

fn open_ceremony_token() -> String {
    format!("{TOKEN_PREFIX}{}", signet_service::web::random_token())
}

async fn store_ceremony(
    db: &impl ConnectionTrait,
    kind: &str,
    user: Option<Uuid>,
    site: &str,
    state: String,
    now: DateTime<Utc>,
) -> Result<String, PasskeyError> {
    let token = open_ceremony_token();
    ceremony::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        kind: Set(kind.to_owned()),
        user_id: Set(user),
        site: Set(site.to_owned()),
        state: Set(state),
        created_at: Set(now),
        expires_at: Set(now + span(CEREMONY_TTL)),
        finished_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Take the live ceremony `token` names (of `kind`, on `site`): finished
/// now, by this caller only, so an answer is never checked twice.
async fn take_ceremony(
    db: &impl ConnectionTrait,
    token: &str,
    kind: &str,
    site: &str,
    now: DateTime<Utc>,
) -> Result<ceremony::Model, PasskeyError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Err(PasskeyError::Expired);
    }
    let hash = sha256_hex(token);
    let row = ceremony::Entity::find_by_id(hash.clone())
        .one(db)
        .await?
        .filter(|row| row.kind == kind && row.site == site)
        .ok_or(PasskeyError::Expired)?;
    let taken = ceremony::Entity::update_many()
        .col_expr(ceremony::Column::FinishedAt, Expr::value(now))
        .filter(ceremony::Column::TokenHash.eq(hash))
        .filter(ceremony::Column::FinishedAt.is_null())
        .filter(ceremony::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Err(PasskeyError::Expired);
    }
    Ok(row)
}

fn credential_text(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// The account's passkeys, newest first.
pub async fn list(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<passkey::Model>, DbErr> {
    passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user))
        .order_by_desc(passkey::Column::CreatedAt)
        .all(db)
        .await
}

fn stored(row: &passkey::Model) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&row.credential)
        .map_err(|_| PasskeyError::Store(DbErr::Custom("a stored passkey does not parse".into())))
}

/// Options for a new passkey of `user`, and the token of its ceremony (the
/// browser's cookie). The account's passkeys are excluded, and the
/// credential is asked to be discoverable, so it signs in without an email.
pub async fn registration_options(
    db: &impl ConnectionTrait,
    webauthn: &Webauthn,
    user: &user::Model,
    site: &str,
    now: DateTime<Utc>,
) -> Result<(String, serde_json::Value), PasskeyError> {
    let existing = list(db, user.id)
        .await?
        .iter()
        .map(|row| stored(row).map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let display = user.display_name.as_deref().unwrap_or(&user.email);
    let (options, state) = webauthn
        .start_passkey_registration(user.id, &user.email, display, Some(existing))
        .map_err(PasskeyError::Refused)?;
    // A discoverable credential (WebAuthn §5.4.6), so it signs in without
    // an email; the rest of the options are webauthn-rs's.
    let mut options = serde_json::to_value(&options).map_err(|_| PasskeyError::Malformed)?;
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
    let state = serde_json::to_string(&state).map_err(|_| PasskeyError::Malformed)?;
    let token = store_ceremony(db, "register", Some(user.id), site, state, now).await?;
    Ok((token, options))
}

/// A browser's answer to registration options.
pub struct Registration<'a> {
    /// The ceremony's token (the browser's cookie).
    pub token: &'a str,
    /// The origin whose cookie held it.
    pub site: &'a str,
    /// The `RegisterPublicKeyCredential` JSON.
    pub answer: &'a str,
    /// The owner's name for the passkey.
    pub name: &'a str,
}

/// Check the browser's answer to a registration and store the passkey as
/// its `name`, audited as `passkey.registered`.
pub async fn register(
    db: &impl ConnectionTrait,
    webauthn: &Webauthn,
    user: &user::Model,
    registration: Registration<'_>,
    now: DateTime<Utc>,
) -> Result<passkey::Model, PasskeyError> {
    let Registration {
        token,
        site,
        answer,
        name,
    } = registration;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(PasskeyError::BadName);
    }
    let row = take_ceremony(db, token, "register", site, now).await?;
    if row.user_id != Some(user.id) {
        return Err(PasskeyError::Expired);
    }
    if answer.len() > MAX_ANSWER {
        return Err(PasskeyError::Malformed);
    }
    let answer: RegisterPublicKeyCredential =
        serde_json::from_str(answer).map_err(|_| PasskeyError::Malformed)?;
    let state: PasskeyRegistration =
        serde_json::from_str(&row.state).map_err(|_| PasskeyError::Malformed)?;
    let key = webauthn
        .finish_passkey_registration(&answer, &state)
        .map_err(PasskeyError::Refused)?;
    let credential_id = credential_text(key.cred_id());
    if passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_id.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(PasskeyError::Duplicate);
    }
    let backup_eligible = serde_json::to_value(&key)
        .ok()
        .and_then(|v| v["cred"]["backup_eligible"].as_bool())
        .unwrap_or(false);
    let created = passkey::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        credential_id: Set(credential_id),
        name: Set(name.to_owned()),
        credential: Set(serde_json::to_string(&key).map_err(|_| PasskeyError::Malformed)?),
        backup_eligible: Set(backup_eligible),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(db)
    .await?;
    let user_text = user.id.to_string();
    audit::record(
        db,
        AuditEvent::new("passkey.registered")
            .actor(&user_text)
            .subject(&user_text)
            .detail(serde_json::json!({ "passkey": created.id, "name": created.name })),
    )
    .await;
    Ok(created)
}

/// Options for a sign-in with any passkey of this site (no account named),
/// and the token of its ceremony.
pub async fn sign_in_options(
    db: &impl ConnectionTrait,
    webauthn: &Webauthn,
    site: &str,
    now: DateTime<Utc>,
) -> Result<(String, RequestChallengeResponse), PasskeyError> {
    let (options, state) = webauthn
        .start_discoverable_authentication()
        .map_err(PasskeyError::Refused)?;
    let state = serde_json::to_string(&state).map_err(|_| PasskeyError::Malformed)?;
    let token = store_ceremony(db, "sign_in", None, site, state, now).await?;
    Ok((token, options))
}

/// Options for a passkey of `user` as the second factor after the
/// password (the account is known: its passkeys are named).
pub async fn second_factor_options(
    db: &impl ConnectionTrait,
    webauthn: &Webauthn,
    user: Uuid,
    site: &str,
    now: DateTime<Utc>,
) -> Result<(String, RequestChallengeResponse), PasskeyError> {
    let keys = list(db, user)
        .await?
        .iter()
        .map(stored)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(PasskeyError::Unknown);
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&keys)
        .map_err(PasskeyError::Refused)?;
    let state = serde_json::to_string(&state).map_err(|_| PasskeyError::Malformed)?;
    let token = store_ceremony(db, "second_factor", Some(user), site, state, now).await?;
    Ok((token, options))
}

/// Check a passkey answer to [`second_factor_options`] for `user`: the
/// passkey it used (its counter and backup state stored).
pub async fn second_factor(
    db: &impl ConnectionTrait,
    webauthn: &Webauthn,
    user: Uuid,
    token: &str,
    site: &str,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<passkey::Model, PasskeyError> {
    let row = take_ceremony(db, token, "second_factor", site, now).await?;
    if row.user_id != Some(user) {
        return Err(PasskeyError::Expired);
    }
    if answer.len() > MAX_ANSWER {
        return Err(PasskeyError::Malformed);
    }
    let answer: PublicKeyCredential =
        serde_json::from_str(answer).map_err(|_| PasskeyError::Malformed)?;
    let state: webauthn_rs::prelude::PasskeyAuthentication =
        serde_json::from_str(&row.state).map_err(|_| PasskeyError::Malformed)?;
    let result = accepted(
        db,
        webauthn.finish_passkey_authentication(&answer, &state),
        user,
        None,
    )
    .await?;
    let found = passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_text(result.cred_id())))
        .filter(passkey::Column::UserId.eq(user))
        .one(db)
        .await?
        .ok_or(PasskeyError::Unknown)?;
    record_use(db, found, &result, now).await
}

/// webauthn-rs's verdict on an assertion; a counter that did not move
/// forward (a cloned authenticator) is audited as `passkey.clone_suspected`
/// before it is refused.
async fn accepted(
    db: &impl ConnectionTrait,
    verdict: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
    user: Uuid,
    passkey: Option<&passkey::Model>,
) -> Result<webauthn_rs::prelude::AuthenticationResult, PasskeyError> {
    match verdict {
        Ok(result) => Ok(result),
        Err(WebauthnError::CredentialPossibleCompromise) => {
            let user_text = user.to_string();
            let mut event = AuditEvent::new("passkey.clone_suspected")
                .actor(&user_text)
                .subject(&user_text);
            if let Some(found) = passkey {
                event =
                    event.detail(serde_json::json!({ "passkey": found.id, "name": found.name }));
            }
            audit::record(db, event).await;
            Err(PasskeyError::Cloned)
        }
        Err(error) => Err(PasskeyError::Refused(error)),
    }
}

/// Store what an accepted assertion changed (counter, backup state) and
/// when the passkey was used.
async fn record_use(
    db: &impl ConnectionTrait,
    found: passkey::Model,
    result: &webauthn_rs::prelude::AuthenticationResult,
    now: DateTime<Utc>,
) -> Result<passkey::Model, PasskeyError> {
    let mut key = stored(&found)?;
    key.update_credential(result);
    let mut active: passkey::ActiveModel = found.into();
    active.credential = Set(serde_json::to_string(&key).map_err(|_| PasskeyError::Malformed)?);
    active.last_used_at = Set(Some(now));
    Ok(active.update(db).await?)
}

/// A passkey sign-in that passed: the account and the passkey used.
pub struct Verified {
    pub user: user::Model,
    pub passkey: passkey::Model,
}

/// Check the browser's answer to a sign-in: the credential it names must be
/// registered to the account its user handle names, and every check of
/// webauthn-rs must pass; the counter and backup state are stored.
pub async fn sign_in(
    db: &impl ConnectionTrait,
    webauthn: &Webauthn,
    token: &str,
    site: &str,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<Verified, PasskeyError> {
    let row = take_ceremony(db, token, "sign_in", site, now).await?;
    if answer.len() > MAX_ANSWER {
        return Err(PasskeyError::Malformed);
    }
    let answer: PublicKeyCredential =
        serde_json::from_str(answer).map_err(|_| PasskeyError::Malformed)?;
    let state: DiscoverableAuthentication =
        serde_json::from_str(&row.state).map_err(|_| PasskeyError::Malformed)?;
    let (user_id, credential_id) = webauthn
        .identify_discoverable_authentication(&answer)
        .map_err(|_| PasskeyError::Unknown)?;
    let found = passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_text(credential_id)))
        .filter(passkey::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(PasskeyError::Unknown)?;
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(PasskeyError::Unknown)?;
    let key = stored(&found)?;
    let result = accepted(
        db,
        webauthn.finish_discoverable_authentication_v2(&answer, state, DiscoverableKey::from(&key)),
        user.id,
        Some(&found),
    )
    .await?;
    let passkey = record_use(db, found, &result, now).await?;
    Ok(Verified { user, passkey })
}

/// Remove one of the account's passkeys, unless it is the last way the
/// account can sign in (no password, no other passkey, no upstream
/// identity). Audited as `passkey.removed`.
pub async fn remove(
    db: &impl ConnectionTrait,
    user: &user::Model,
    id: Uuid,
) -> Result<(), PasskeyError> {
    let keys = list(db, user.id).await?;
    let Some(found) = keys.iter().find(|k| k.id == id) else {
        return Err(PasskeyError::NotFound);
    };
    let upstream = crate::upstream::flow::identities_of(db, user.id).await?;
    if keys.len() == 1 && !user.has_password() && upstream.is_empty() {
        return Err(PasskeyError::LastMethod);
    }
    passkey::Entity::delete_by_id(found.id).exec(db).await?;
    let user_text = user.id.to_string();
    audit::record(
        db,
        AuditEvent::new("passkey.removed")
            .actor(&user_text)
            .subject(&user_text)
            .detail(serde_json::json!({ "passkey": found.id, "name": found.name })),
    )
    .await;
    Ok(())
}

/// The methods a passkey sign-in proved (RFC 8176): a key synced between
/// devices is software-secured (`swk`), one bound to its device hardware
/// (`hwk`); the user was verified (`user`); two factors (`mfa`).
pub fn methods(passkey: &passkey::Model) -> crate::sessions::methods::Methods {
    crate::sessions::methods::Methods::passkey(passkey.backup_eligible)
}
