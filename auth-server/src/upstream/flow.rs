//! The authorization-code flow at an upstream provider, and what its answer
//! means for a Signet account.
//!
//! 1. [`begin`]: a random `state` (the browser keeps it in a cookie; the
//!    database keeps its SHA-256 with the nonce, the PKCE verifier and the
//!    authorization request to go on with), then the provider's
//!    authorization endpoint with PKCE S256, `state` and `nonce`.
//! 2. [`take`]: the callback's `state` must be this browser's (the cookie),
//!    unexpired, for this provider; it is spent once (a conditional DELETE).
//! 3. [`finish`]: the code is exchanged (client secret, PKCE verifier) and
//!    the ID token verified against the provider's JWKS (jwt-verify: `iss`,
//!    `aud`, `exp`, the provider's algorithms), then its `nonce` and `azp`.
//! 4. [`resolve`]: identities are linked by (issuer, `sub`), never by email
//!    alone. A new person becomes a user only with `email_verified: true`
//!    and an address no account has; an address an account has needs that
//!    account's password to link (see the web handlers).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set,
};
use serde::Deserialize;

use super::entity as login;
use super::entity::identity;
use super::{Discovered, Upstream};
use crate::accounts::entity as user;
use crate::app::clock::span;
use crate::audit::{self, AuditEvent};
use crate::digest::sha256_hex;

/// A flow must come back within this long.
pub const FLOW_TTL: Duration = Duration::from_secs(600);

/// Why an upstream sign-in ended without one. The texts are the error
/// page's; none echoes what the provider or the browser sent.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("this sign-in was not started in this browser, was used already or expired")]
    InvalidState,
    #[error("the provider cannot be reached just now")]
    Unavailable,
    #[error("the provider refused the sign-in")]
    Refused,
    #[error("the provider's answer could not be verified")]
    InvalidIdToken,
    #[error("the provider has not verified this email address")]
    EmailNotVerified,
    #[error("accounts of this email domain may not sign in here")]
    DomainNotAllowed,
    #[error("this account is disabled")]
    Disabled,
    #[error("sign-in store: {0}")]
    Store(#[from] DbErr),
}

/// Where to send the browser, and the value to keep in its cookie.
pub struct Started {
    pub state: String,
    pub location: String,
}

/// Start a flow at `upstream` for the authorization request `request` (a
/// query string), with `redirect_uri` registered there.
pub async fn begin(
    db: &impl ConnectionTrait,
    upstream: &Upstream,
    discovered: &Discovered,
    redirect_uri: &str,
    request: &str,
    now: DateTime<Utc>,
) -> Result<Started, DbErr> {
    let state = signet_service::web::random_token();
    let nonce = signet_service::web::random_token();
    let verifier = signet_service::web::random_token();
    login::ActiveModel {
        state_hash: Set(sha256_hex(&state)),
        kind: Set("start".to_owned()),
        provider: Set(upstream.provider.name.clone()),
        nonce: Set(Some(nonce.clone())),
        verifier: Set(Some(verifier.clone())),
        request: Set(request.to_owned()),
        subject: Set(None),
        email: Set(None),
        created_at: Set(now),
        expires_at: Set(now + span(FLOW_TTL)),
    }
    .insert(db)
    .await?;
    let mut location = url::Url::parse(&discovered.authorization_endpoint)
        .map_err(|_| DbErr::Custom("the authorization endpoint is not a URL".into()))?;
    location
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &upstream.provider.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &upstream.provider.scopes)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &crate::oauth::codes::s256(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(Started {
        state,
        location: location.to_string(),
    })
}

/// Spend the flow this browser holds (`bound`: its cookie) for the
/// callback's `state`, once.
pub async fn take(
    db: &impl ConnectionTrait,
    provider: &str,
    bound: Option<&str>,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<login::Model, FlowError> {
    let Some(bound) = bound else {
        return Err(FlowError::InvalidState);
    };
    if presented.is_empty() || !signet_service::web::same_secret(bound, presented) {
        return Err(FlowError::InvalidState);
    }
    let key = sha256_hex(presented);
    let Some(row) = login::Entity::find_by_id(key.clone()).one(db).await? else {
        return Err(FlowError::InvalidState);
    };
    let taken = login::Entity::delete_many()
        .filter(login::Column::StateHash.eq(key))
        .exec(db)
        .await?;
    if taken.rows_affected != 1
        || row.expires_at <= now
        || row.provider != provider
        || row.kind != "start"
    {
        return Err(FlowError::InvalidState);
    }
    Ok(row)
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct UpstreamPerson {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Google's hosted domain.
    pub hd: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    azp: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    name: Option<String>,
    hd: Option<String>,
}

/// `upstream`'s ID-token verifier for `discovered`: the kept one, or a new
/// one (fetching the provider's keys) when there is none yet or the
/// document changed. A build that fails is not kept.
async fn id_token_verifier(
    upstream: &Upstream,
    discovered: &Discovered,
) -> Result<jwt_verify::Verifier, FlowError> {
    if let Some((built_from, verifier)) =
        &*upstream.id_tokens.lock().unwrap_or_else(|e| e.into_inner())
    {
        if built_from == discovered {
            return Ok(verifier.clone());
        }
    }
    let provider = &upstream.provider;
    let algorithms: Vec<jwt_verify::Algorithm> =
        if discovered.id_token_signing_alg_values_supported.is_empty() {
            vec![jwt_verify::Algorithm::RS256]
        } else {
            discovered
                .id_token_signing_alg_values_supported
                .iter()
                .filter_map(|name| name.parse().ok())
                .collect()
        };
    if algorithms.is_empty() {
        return Err(FlowError::InvalidIdToken);
    }
    let verifier = jwt_verify::Verifier::builder(
        jwt_verify::KeySource::jwks(discovered.jwks_uri.clone()),
        jwt_verify::Validation::new(provider.issuer.clone())
            .audience(provider.client_id.clone())
            .algorithms(algorithms),
    )
    .build()
    .await
    .map_err(|error| {
        tracing::warn!(provider = %provider.name, %error, "upstream keys unavailable");
        FlowError::Unavailable
    })?;
    *upstream.id_tokens.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((discovered.clone(), verifier.clone()));
    Ok(verifier)
}

/// Exchange the callback's `code` and verify the ID token.
pub async fn finish(
    http: &reqwest::Client,
    upstream: &Upstream,
    discovered: &Discovered,
    flow: &login::Model,
    code: &str,
    redirect_uri: &str,
) -> Result<UpstreamPerson, FlowError> {
    use secrecy::ExposeSecret as _;
    let provider = &upstream.provider;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        (
            "code_verifier",
            flow.verifier.as_deref().unwrap_or_default(),
        ),
    ];
    // RFC 6749 §2.3.1: the id and secret are form-urlencoded inside Basic.
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let response = http
        .post(&discovered.token_endpoint)
        .basic_auth(
            encode(&provider.client_id),
            Some(encode(provider.client_secret.expose_secret())),
        )
        .form(&form)
        .send()
        .await
        .map_err(|error| {
            tracing::warn!(provider = %provider.name, error = %error.without_url(), "upstream token endpoint unreachable");
            FlowError::Unavailable
        })?;
    if !response.status().is_success() {
        tracing::info!(provider = %provider.name, status = %response.status(), "upstream refused the code");
        return Err(FlowError::Refused);
    }
    let answer: TokenAnswer = response.json().await.map_err(|_| FlowError::Refused)?;
    let id_token = answer.id_token.ok_or(FlowError::InvalidIdToken)?;
    let verifier = id_token_verifier(upstream, discovered).await?;
    let verified = verifier.verify(&id_token).await.map_err(|error| {
        tracing::info!(provider = %provider.name, reason = error.reason(), "upstream ID token refused");
        FlowError::InvalidIdToken
    })?;
    let claims: IdClaims = verified
        .deserialize()
        .map_err(|_| FlowError::InvalidIdToken)?;
    let expected_nonce = flow.nonce.as_deref().unwrap_or_default();
    if !claims
        .nonce
        .as_deref()
        .is_some_and(|nonce| signet_service::web::same_secret(nonce, expected_nonce))
    {
        return Err(FlowError::InvalidIdToken);
    }
    if claims
        .azp
        .as_deref()
        .is_some_and(|azp| azp != provider.client_id)
    {
        return Err(FlowError::InvalidIdToken);
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(FlowError::InvalidIdToken);
    }
    // Some providers send `"true"` as a string.
    let email_verified = match claims.email_verified {
        Some(serde_json::Value::Bool(verified)) => verified,
        Some(serde_json::Value::String(text)) => text == "true",
        _ => false,
    };
    Ok(UpstreamPerson {
        issuer: provider.issuer.clone(),
        subject: claims.sub,
        email: claims
            .email
            .map(|e| crate::accounts::normalize_email(&e))
            .filter(|e| crate::accounts::validate_email(e).is_none()),
        email_verified,
        name: claims.name,
        hd: claims.hd.map(|hd| hd.to_ascii_lowercase()),
    })
}

/// What an upstream person is to Signet.
#[derive(Debug)]
pub enum Resolution {
    /// Linked before, or just created.
    User(Box<user::Model>, &'static str),
    /// An account has this address: its password links the two.
    NeedsLink { email: String },
}

/// Find or create the user behind `person` (see the module notes).
pub async fn resolve(
    db: &DatabaseConnection,
    upstream: &Upstream,
    person: &UpstreamPerson,
    now: DateTime<Utc>,
) -> Result<Resolution, FlowError> {
    if let Some(linked) =
        identity::Entity::find_by_id((person.issuer.clone(), person.subject.clone()))
            .one(db)
            .await?
    {
        let account = user::Entity::find_by_id(linked.user_id)
            .one(db)
            .await?
            .ok_or(FlowError::InvalidState)?;
        if account.disabled {
            return Err(FlowError::Disabled);
        }
        let mut active: identity::ActiveModel = linked.into();
        active.last_used_at = Set(now);
        active.update(db).await?;
        return Ok(Resolution::User(Box::new(account), "existing"));
    }
    let Some(email) = person.email.clone().filter(|_| person.email_verified) else {
        return Err(FlowError::EmailNotVerified);
    };
    let allowed = &upstream.provider.allowed_domains;
    if !allowed.is_empty() {
        let domain = email.rsplit('@').next().unwrap_or_default();
        let hd_ok = upstream.provider.name != "google"
            || person
                .hd
                .as_deref()
                .is_some_and(|hd| allowed.iter().any(|a| a == hd));
        if !allowed.iter().any(|a| a == domain) || !hd_ok {
            return Err(FlowError::DomainNotAllowed);
        }
    }
    if crate::accounts::find_by_email(db, &email).await?.is_some() {
        return Ok(Resolution::NeedsLink { email });
    }
    // A new user: the address is the provider's verified one. No password
    // (a reset link sets one); the marker can never match.
    let password_hash = format!(
        "{}{}",
        crate::accounts::password::NO_PASSWORD_PREFIX,
        signet_service::web::random_token()
    );
    let txn = signet_service::db::begin_write(db).await?;
    let created = user::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        email: Set(email.clone()),
        password_hash: Set(password_hash),
        display_name: Set(person.name.as_deref().and_then(|n| {
            crate::accounts::validate_display_name(Some(n))
                .ok()
                .flatten()
        })),
        roles: Set(String::new()),
        disabled: Set(false),
        email_verified: Set(true),
        mfa_required: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|error| {
        if crate::error::is_unique_violation(&error) {
            FlowError::InvalidState
        } else {
            error.into()
        }
    })?;
    link_identity(&txn, upstream, person, created.id, now).await?;
    let user_text = created.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("user.signup")
            .actor(&user_text)
            .subject(&user_text)
            .detail(serde_json::json!({ "via": upstream.provider.name, "roles": [] })),
    )
    .await?;
    txn.commit().await?;
    Ok(Resolution::User(Box::new(created), "created"))
}

/// Link `person` to `user_id`.
pub async fn link_identity(
    db: &impl ConnectionTrait,
    upstream: &Upstream,
    person: &UpstreamPerson,
    user_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    identity::ActiveModel {
        issuer: Set(person.issuer.clone()),
        subject: Set(person.subject.clone()),
        user_id: Set(user_id),
        provider: Set(upstream.provider.name.clone()),
        email: Set(person.email.clone()),
        created_at: Set(now),
        last_used_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Park a person to be linked to the account of `email` once its password
/// is given; the value for the browser's cookie.
pub async fn park_link(
    db: &impl ConnectionTrait,
    upstream: &Upstream,
    person: &UpstreamPerson,
    email: &str,
    request: &str,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let value = signet_service::web::random_token();
    login::ActiveModel {
        state_hash: Set(sha256_hex(&value)),
        kind: Set("link".to_owned()),
        provider: Set(upstream.provider.name.clone()),
        nonce: Set(None),
        verifier: Set(None),
        request: Set(request.to_owned()),
        subject: Set(Some(person.subject.clone())),
        email: Set(Some(email.to_owned())),
        created_at: Set(now),
        expires_at: Set(now + span(FLOW_TTL)),
    }
    .insert(db)
    .await?;
    Ok(value)
}

/// The parked link the browser's cookie names (not spent: a wrong password
/// may be retried, under the account's back-off).
pub async fn parked(
    db: &impl ConnectionTrait,
    provider: &str,
    bound: Option<&str>,
    now: DateTime<Utc>,
) -> Result<login::Model, FlowError> {
    let Some(bound) = bound else {
        return Err(FlowError::InvalidState);
    };
    login::Entity::find_by_id(sha256_hex(bound))
        .one(db)
        .await?
        .filter(|row| row.provider == provider && row.kind == "link" && row.expires_at > now)
        .ok_or(FlowError::InvalidState)
}

/// Spend a parked link (after the right password).
pub async fn spend_parked(db: &impl ConnectionTrait, row: &login::Model) -> Result<bool, DbErr> {
    Ok(login::Entity::delete_many()
        .filter(login::Column::StateHash.eq(row.state_hash.as_str()))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// The identities linked to `user_id`, oldest first.
pub async fn identities_of(
    db: &impl ConnectionTrait,
    user_id: uuid::Uuid,
) -> Result<Vec<identity::Model>, DbErr> {
    use sea_orm::QueryOrder as _;
    identity::Entity::find()
        .filter(identity::Column::UserId.eq(user_id))
        .order_by_asc(identity::Column::CreatedAt)
        .all(db)
        .await
}

/// Why an identity was not unlinked.
#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    #[error("no identity of this provider is linked")]
    NotLinked,
    /// Without a password and without another identity, nobody could sign in.
    #[error("this is the account's last way to sign in: set a password first")]
    LastWayIn,
    #[error("identity store: {0}")]
    Store(#[from] DbErr),
}

/// Unlink `account`'s identity at `provider`, unless it is the last way to
/// sign in; audited as `upstream.unlinked`.
pub async fn unlink(
    db: &DatabaseConnection,
    account: &user::Model,
    provider: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<(), UnlinkError> {
    let txn = signet_service::db::begin_write(db).await?;
    let linked = identities_of(&txn, account.id).await?;
    let Some(target) = linked.iter().find(|i| i.provider == provider) else {
        return Err(UnlinkError::NotLinked);
    };
    if !account.has_password() && linked.len() == 1 {
        return Err(UnlinkError::LastWayIn);
    }
    identity::Entity::delete_by_id((target.issuer.clone(), target.subject.clone()))
        .exec(&txn)
        .await?;
    let user_text = account.id.to_string();
    audit::write(
        &txn,
        AuditEvent::new("upstream.unlinked")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip.map(|ip| ip.to_string()).as_deref())
            .detail(serde_json::json!({ "provider": provider })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A gateway hand-off is good this long: the browser goes straight on.
pub const HANDOFF_TTL: Duration = Duration::from_secs(60);

/// A gateway sign-in finished on the issuer's origin: a one-time value that
/// gives `session` to the protected site of `back` (its sign-in page
/// redeems it there and sets that site's cookie).
pub async fn handoff(
    db: &impl ConnectionTrait,
    provider: &str,
    session: uuid::Uuid,
    back: &str,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let value = signet_service::web::random_token();
    login::ActiveModel {
        state_hash: Set(sha256_hex(&value)),
        kind: Set("handoff".to_owned()),
        provider: Set(provider.to_owned()),
        nonce: Set(None),
        verifier: Set(None),
        request: Set(back.to_owned()),
        subject: Set(Some(session.to_string())),
        email: Set(None),
        created_at: Set(now),
        expires_at: Set(now + span(HANDOFF_TTL)),
    }
    .insert(db)
    .await?;
    Ok(value)
}

/// Spend a hand-off on `site` (the protected origin asking): once, in
/// time, and only for the site it was made for. The session it gives.
pub async fn take_handoff(
    db: &impl ConnectionTrait,
    presented: &str,
    site: &str,
    now: DateTime<Utc>,
) -> Result<uuid::Uuid, FlowError> {
    if presented.is_empty() || presented.len() > 100 {
        return Err(FlowError::InvalidState);
    }
    let key = sha256_hex(presented);
    let Some(row) = login::Entity::find_by_id(key.clone()).one(db).await? else {
        return Err(FlowError::InvalidState);
    };
    let taken = login::Entity::delete_many()
        .filter(login::Column::StateHash.eq(key))
        .exec(db)
        .await?;
    let for_site =
        url::Url::parse(&row.request).is_ok_and(|back| back.origin().ascii_serialization() == site);
    if taken.rows_affected != 1 || row.kind != "handoff" || row.expires_at <= now || !for_site {
        return Err(FlowError::InvalidState);
    }
    row.subject
        .as_deref()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or(FlowError::InvalidState)
}
