//! The OpenID Connect client registry: relying parties (web apps, native
//! apps, off-the-shelf tools) that sign people in with the authorization-code
//! flow. API keys (`api_keys`) remain the credentials of services.
//!
//! A client id is `sgc_` and 16 random characters; a confidential client's
//! secret is `sgcs_` and 256 random bits, stored as SHA-256 only and shown
//! once. Redirect URIs are registered exactly and matched as exact strings
//! (OAuth 2.1 §2.3.1): no wildcard, no prefix match, no fragment; `https`,
//! `http` only on a loopback address, or (public clients) a private-use
//! scheme such as `com.example.app:/cb` (RFC 8252 §7.1).

pub mod credential;
pub mod documents;
pub mod entity;
pub(crate) mod routes;

use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::Rng as _;
use rand::RngCore as _;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    ModelTrait, QueryFilter, QueryOrder, Set,
};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::accounts::{ip_text, validate_roles};
use crate::audit::{self, AuditEvent};
use crate::digest::sha256_hex;
use crate::error::FieldError;
use entity as client;

pub const CLIENT_ID_PREFIX: &str = "sgc_";
pub const SECRET_PREFIX: &str = "sgcs_";
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
const ID_LEN: usize = 16;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_URIS: usize = 10;
pub const MAX_URI_LEN: usize = 2000;
/// The scopes a client gets when none are given.
pub const DEFAULT_SCOPES: &str = "openid profile email";
/// The grant types a client may be allowed.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    crate::device::GRANT_TYPE,
];
/// The grant types of a client registered without naming any: the device
/// grant is asked for explicitly (a code typed on another screen is what
/// phishing with device codes abuses, so only clients that need it have it).
pub const DEFAULT_GRANT_TYPES: &str = "authorization_code refresh_token";

/// The scopes a client that registers itself (by its metadata document or
/// RFC 7591) ends up with: those of `asked` that this server offers
/// (`DEFAULT_SCOPES` and `USER_TOKEN_SCOPE`), each once; unknown ones are
/// dropped (RFC 7591 §2: the server may change them). `None`: the defaults.
pub fn self_registered_scopes(asked: Option<&str>, user_scope: &str) -> Vec<String> {
    let Some(asked) = asked else {
        return DEFAULT_SCOPES
            .split_whitespace()
            .map(str::to_owned)
            .collect();
    };
    let offered: Vec<&str> = DEFAULT_SCOPES
        .split_whitespace()
        .chain(user_scope.split_whitespace())
        .collect();
    let mut scopes: Vec<String> = Vec::new();
    for scope in asked.split_whitespace() {
        if offered.contains(&scope) && !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}

/// A client to register.
#[derive(Debug, Default)]
pub struct NewClient {
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Empty: [`DEFAULT_SCOPES`].
    pub scopes: Vec<String>,
    /// Empty: [`DEFAULT_GRANT_TYPES`].
    pub grant_types: Vec<String>,
    pub first_party: bool,
    pub created_by: Option<Uuid>,
    pub dpop: crate::dpop_policy::DpopPolicy,
    /// The resources (audiences) the client may ask user tokens for; empty:
    /// every configured one for a first-party client, none for a
    /// third-party one (its access tokens are for userinfo alone).
    pub resources: Vec<String>,
    /// RFC 9126: authorization requests only through `/oauth/par`.
    pub require_par: bool,
    /// Back-Channel Logout: where to tell it a session of its ended.
    pub backchannel_logout_uri: Option<String>,
}

/// What a client's `resources` may name: the audiences this server issues
/// user tokens for.
pub struct ResourceCatalog<'a> {
    /// `JWT_AUDIENCE`: the services.
    pub services: &'a [String],
    /// `ACCOUNT_AUDIENCE`: auth-server's own API, for first-party clients only.
    pub account: &'a str,
}

impl<'a> ResourceCatalog<'a> {
    /// What this server's configuration offers.
    pub fn of(config: &'a crate::config::Config) -> Self {
        Self {
            services: &config.audiences,
            account: &config.account_audience,
        }
    }

    /// The first resource of `new` this server cannot give it, with why.
    fn problem(&self, new: &NewClient) -> Option<FieldError> {
        new.resources.iter().find_map(|resource| {
            if resource == self.account {
                (!new.first_party).then(|| {
                    FieldError::new(
                        "resources",
                        "the account audience is for first-party clients only",
                    )
                })
            } else if !self.services.contains(resource) {
                Some(FieldError::new(
                    "resources",
                    format!(
                        "{resource:?} is not an audience this server issues (JWT_AUDIENCE: {})",
                        self.services.join(", ")
                    ),
                ))
            } else {
                None
            }
        })
    }
}

/// A registered client and, for a confidential one, its secret: the only
/// moment the secret exists outside the client.
pub struct Registered {
    pub client: client::Model,
    pub secret: Option<String>,
}

/// Why the registry refused. Mapped to HTTP in `app::errors`.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("one or more fields are invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such client")]
    NotFound,
    #[error("client store: {0}")]
    Store(#[from] DbErr),
}

/// Who made a change, for its audit row: a user id, or `cli`.
pub struct Actor<'a> {
    pub id: &'a str,
    pub ip: Option<IpAddr>,
}

fn mint_client_id() -> String {
    let mut rng = rand::rngs::OsRng;
    let id: String = (0..ID_LEN)
        .map(|_| ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())] as char)
        .collect();
    format!("{CLIENT_ID_PREFIX}{id}")
}

fn mint_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

use crate::config::is_loopback_host;

/// What is wrong with `raw` as a redirect URI of a `public` or confidential
/// client, if anything.
pub fn redirect_uri_problem(raw: &str, public: bool) -> Option<&'static str> {
    if raw.is_empty() || raw.len() > MAX_URI_LEN {
        return Some("must be 1 to 2000 characters");
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must not contain spaces or control characters");
    }
    if raw.contains('*') {
        return Some("must not contain wildcards: every URI is matched exactly");
    }
    let Ok(url) = url::Url::parse(raw) else {
        return Some("is not an absolute URI");
    };
    if url.fragment().is_some() || raw.contains('#') {
        return Some("must not contain a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not contain credentials");
    }
    match url.scheme() {
        "https" if url.host().is_some() => None,
        "http" if url.host().as_ref().is_some_and(is_loopback_host) => None,
        "http" => Some("http is allowed only on a loopback address (127.0.0.1, [::1], localhost)"),
        // RFC 8252 §7.1: a private-use scheme is a reversed domain name.
        scheme if public && scheme.contains('.') => None,
        _ => Some(
            "must be https (http only on loopback), or for a public native client a private-use scheme such as com.example.app:/callback",
        ),
    }
}

fn check_uris(field: &str, uris: &[String], public: bool, errors: &mut Vec<FieldError>) {
    if uris.len() > MAX_URIS {
        errors.push(FieldError::new(field, format!("at most {MAX_URIS} URIs")));
        return;
    }
    for uri in uris {
        if let Some(problem) = redirect_uri_problem(uri, public) {
            errors.push(FieldError::new(field, problem));
            return;
        }
    }
}

fn dedup(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in list {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

/// Validate `new` into a row (without its secret).
fn validate(new: &NewClient, now: DateTime<Utc>) -> Result<client::ActiveModel, RegistryError> {
    let mut errors = Vec::new();
    let name = new.name.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        errors.push(FieldError::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    // A device-only client (RFC 8628) is sent nowhere: it needs none.
    let device_only =
        !new.grant_types.is_empty() && !new.grant_types.iter().any(|g| g == "authorization_code");
    if new.redirect_uris.is_empty() && !device_only {
        errors.push(FieldError::new(
            "redirect_uris",
            "at least one redirect URI is required",
        ));
    }
    check_uris("redirect_uris", &new.redirect_uris, new.public, &mut errors);
    check_uris(
        "post_logout_redirect_uris",
        &new.post_logout_redirect_uris,
        new.public,
        &mut errors,
    );
    let scopes = if new.scopes.is_empty() {
        DEFAULT_SCOPES.to_owned()
    } else {
        match validate_roles(&new.scopes) {
            Ok(scopes) => scopes,
            Err(problem) => {
                errors.push(FieldError::new("scopes", problem.replace("role", "scope")));
                String::new()
            }
        }
    };
    let grant_types = if new.grant_types.is_empty() {
        DEFAULT_GRANT_TYPES.to_owned()
    } else {
        let grants = dedup(&new.grant_types);
        if let Some(unknown) = grants.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
            errors.push(FieldError::new(
                "grant_types",
                format!(
                    "{unknown:?} is not supported (supported: {})",
                    GRANT_TYPES.join(", ")
                ),
            ));
        } else if !grants
            .iter()
            .any(|g| g == "authorization_code" || g == crate::device::GRANT_TYPE)
        {
            errors.push(FieldError::new(
                "grant_types",
                "authorization_code or the device grant is required (refresh_token alone issues nothing)",
            ));
        }
        grants.join(" ")
    };
    let resources = dedup(&new.resources);
    if resources.len() > MAX_URIS
        || resources.iter().any(|r| {
            r.is_empty() || r.len() > 200 || r.chars().any(|c| c.is_whitespace() || c.is_control())
        })
    {
        errors.push(FieldError::new(
            "resources",
            format!("at most {MAX_URIS} audience names, each 1 to 200 characters without spaces"),
        ));
    }
    // Back-Channel Logout 1.0 §2.2: an absolute https URI (http on
    // loopback), no fragment; exact like a redirect URI.
    let backchannel_logout_uri = new
        .backchannel_logout_uri
        .as_deref()
        .map(str::trim)
        .filter(|uri| !uri.is_empty())
        .map(str::to_owned);
    if let Some(problem) = backchannel_logout_uri
        .as_deref()
        .and_then(|uri| redirect_uri_problem(uri, false))
    {
        errors.push(FieldError::new("backchannel_logout_uri", problem));
    }
    if !errors.is_empty() {
        return Err(RegistryError::Invalid(errors));
    }
    Ok(client::ActiveModel {
        resources: Set(resources.join(" ")),
        id: Set(Uuid::now_v7()),
        client_id: Set(mint_client_id()),
        name: Set(name),
        public: Set(new.public),
        secret_hash: Set(None),
        redirect_uris: Set(dedup(&new.redirect_uris).join(" ")),
        post_logout_redirect_uris: Set(dedup(&new.post_logout_redirect_uris).join(" ")),
        scopes: Set(scopes),
        grant_types: Set(grant_types),
        first_party: Set(new.first_party),
        created_at: Set(now),
        created_by: Set(new.created_by),
        dpop: Set(new.dpop.as_str().to_owned()),
        require_par: Set(new.require_par),
        backchannel_logout_uri: Set(backchannel_logout_uri),
    })
}

/// [`register`], after checking that every resource asked for is one
/// `catalog` offers to this kind of client: what the CLI and the admin API call.
pub async fn register_checked(
    db: &DatabaseConnection,
    new: NewClient,
    catalog: &ResourceCatalog<'_>,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<Registered, RegistryError> {
    if let Some(problem) = catalog.problem(&new) {
        return Err(RegistryError::Invalid(vec![problem]));
    }
    register(db, new, actor, now).await
}

/// Register a client; the row and its `client.created` audit row are one
/// transaction. A confidential client's secret is returned once.
pub async fn register(
    db: &DatabaseConnection,
    new: NewClient,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<Registered, RegistryError> {
    let mut row = validate(&new, now)?;
    let secret = (!new.public).then(mint_secret);
    row.secret_hash = Set(secret.as_deref().map(sha256_hex));
    let txn = signet_service::db::begin_write(db).await?;
    let client = row.insert(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("client.created")
            .actor(actor.id)
            .subject(&client.client_id)
            .ip(ip_text(actor.ip).as_deref())
            .detail(serde_json::json!({
                "name": client.name,
                "public": client.public,
                "redirect_uris": client.redirect_uri_list(),
                "scopes": client.scope_list(),
                "resources": client.resource_list(),
                "first_party": client.first_party,
                "require_par": client.require_par,
                "backchannel_logout_uri": client.backchannel_logout_uri,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(Registered { client, secret })
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<client::Model>, DbErr> {
    client::Entity::find()
        .order_by_asc(client::Column::Id)
        .all(db)
        .await
}

/// The client with this `client_id` (`sgc_…`), if registered.
pub async fn find_by_client_id(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<client::Model>, DbErr> {
    if !client_id.starts_with(CLIENT_ID_PREFIX) || client_id.len() > 64 {
        return Ok(None);
    }
    client::Entity::find()
        .filter(client::Column::ClientId.eq(client_id))
        .one(db)
        .await
}

/// What an admin may change on a registered client; `None` keeps the value.
#[derive(Debug, Default)]
pub struct ClientChange {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub resources: Option<Vec<String>>,
    pub require_par: Option<bool>,
    /// `Some("")` removes it.
    pub backchannel_logout_uri: Option<String>,
}

/// Change a client by the same rules as a registration (exact redirect
/// URIs, resources the catalogue offers to its kind); the row and its
/// `client.updated` audit row are one transaction. Codes and tokens issued
/// before stay valid; the next authorization request meets the new rules.
pub async fn update(
    db: &DatabaseConnection,
    client_id: &str,
    change: ClientChange,
    catalog: &ResourceCatalog<'_>,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<client::Model, RegistryError> {
    let txn = signet_service::db::begin_write(db).await?;
    let Some(client) = find_by_client_id(&txn, client_id).await? else {
        return Err(RegistryError::NotFound);
    };
    let new = NewClient {
        name: change.name.unwrap_or_else(|| client.name.clone()),
        public: client.public,
        redirect_uris: change
            .redirect_uris
            .unwrap_or_else(|| client.redirect_uri_list()),
        post_logout_redirect_uris: change
            .post_logout_redirect_uris
            .unwrap_or_else(|| client.post_logout_redirect_uri_list()),
        scopes: client.scope_list(),
        grant_types: client
            .grant_types
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        first_party: client.first_party,
        created_by: client.created_by,
        dpop: client.dpop_policy(),
        resources: change.resources.unwrap_or_else(|| client.resource_list()),
        require_par: change.require_par.unwrap_or(client.require_par),
        backchannel_logout_uri: change
            .backchannel_logout_uri
            .or_else(|| client.backchannel_logout_uri.clone()),
    };
    if let Some(problem) = catalog.problem(&new) {
        return Err(RegistryError::Invalid(vec![problem]));
    }
    let checked = validate(&new, now)?;
    let mut row: client::ActiveModel = client.into();
    row.name = checked.name;
    row.redirect_uris = checked.redirect_uris;
    row.post_logout_redirect_uris = checked.post_logout_redirect_uris;
    row.resources = checked.resources;
    row.require_par = checked.require_par;
    row.backchannel_logout_uri = checked.backchannel_logout_uri;
    let client = row.update(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("client.updated")
            .actor(actor.id)
            .subject(&client.client_id)
            .ip(ip_text(actor.ip).as_deref())
            .detail(serde_json::json!({
                "name": client.name,
                "redirect_uris": client.redirect_uri_list(),
                "post_logout_redirect_uris": client.post_logout_redirect_uri_list(),
                "resources": client.resource_list(),
                "require_par": client.require_par,
                "backchannel_logout_uri": client.backchannel_logout_uri,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(client)
}

/// A new secret for a confidential client, returned once; the old one stops
/// working at once. The row and its `client.secret_rotated` audit row are
/// one transaction. A public client has no secret: `Invalid`.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    client_id: &str,
    actor: Actor<'_>,
) -> Result<String, RegistryError> {
    let txn = signet_service::db::begin_write(db).await?;
    let Some(client) = find_by_client_id(&txn, client_id).await? else {
        return Err(RegistryError::NotFound);
    };
    if client.public {
        return Err(RegistryError::Invalid(vec![FieldError::new(
            "client_id",
            "a public client has no secret",
        )]));
    }
    let secret = mint_secret();
    let mut row: client::ActiveModel = client.into();
    row.secret_hash = Set(Some(sha256_hex(&secret)));
    let client = row.update(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("client.secret_rotated")
            .actor(actor.id)
            .subject(&client.client_id)
            .ip(ip_text(actor.ip).as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Delete a client (by `client_id`); the row and its `client.deleted` audit
/// row are one transaction.
pub async fn delete(
    db: &DatabaseConnection,
    client_id: &str,
    actor: Actor<'_>,
) -> Result<client::Model, RegistryError> {
    let txn = signet_service::db::begin_write(db).await?;
    let Some(client) = find_by_client_id(&txn, client_id).await? else {
        return Err(RegistryError::NotFound);
    };
    client.clone().delete(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("client.deleted")
            .actor(actor.id)
            .subject(&client.client_id)
            .ip(ip_text(actor.ip).as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(client)
}

/// Why a client could not be authenticated at the token endpoint. All but
/// `Store` are `invalid_client` to the caller.
#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    #[error("unknown client")]
    Unknown,
    #[error("a confidential client must authenticate with its secret")]
    SecretRequired,
    #[error("a public client has no secret to present")]
    UnexpectedSecret,
    #[error("wrong client secret")]
    WrongSecret,
    #[error("client metadata document: {0}")]
    Document(#[from] documents::DocumentError),
    #[error("this client authenticates with a client assertion (private_key_jwt)")]
    AssertionRequired,
    #[error("a client assertion from a client that has no keys here")]
    UnexpectedAssertion,
    #[error("the client assertion was used before")]
    ReplayedAssertion,
    #[error("client store: {0}")]
    Store(#[from] DbErr),
}

/// Why `client_id` could not be looked up at all.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("client metadata document: {0}")]
    Document(#[from] documents::DocumentError),
    #[error("client store: {0}")]
    Store(#[from] DbErr),
}

/// The client `client_id` names: a registered one (`sgc_…`), or the one
/// the metadata document at that URL describes (never stored); `None` for
/// anything else.
pub async fn resolve(
    db: &impl ConnectionTrait,
    documents: &documents::ClientDocuments,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<client::Model>, ResolveError> {
    if documents::is_document_url(client_id) {
        return Ok(Some(documents.resolve(client_id, now).await?));
    }
    Ok(find_by_client_id(db, client_id).await?)
}

/// [`authenticate`] for any client [`resolve`] knows. A document's client
/// is public (PKCE proves it) or, with `private_key_jwt`, proves itself with
/// a client assertion: signed by one of its keys, for one of `audiences`
/// (this issuer, the endpoint), used once (its `jti` is recorded where
/// every replica sees it).
pub async fn authenticate_any(
    db: &impl ConnectionTrait,
    documents: &documents::ClientDocuments,
    client_id: &str,
    credential: &credential::Credential,
    audiences: &[&str],
    now: DateTime<Utc>,
) -> Result<client::Model, ClientAuthError> {
    use credential::Credential;
    if !documents::is_document_url(client_id) {
        return match credential {
            Credential::Assertion(_) => Err(ClientAuthError::UnexpectedAssertion),
            Credential::Secret(secret) => authenticate(db, client_id, Some(secret)).await,
            Credential::None => authenticate(db, client_id, None).await,
        };
    }
    let (client, keys) = documents.resolve_keys(client_id, now).await?;
    match (&keys, credential) {
        (documents::ClientKeys::None, Credential::None) => Ok(client),
        (documents::ClientKeys::None, Credential::Secret(_)) => {
            Err(ClientAuthError::UnexpectedSecret)
        }
        (documents::ClientKeys::None, Credential::Assertion(_)) => {
            Err(ClientAuthError::UnexpectedAssertion)
        }
        (_, Credential::Assertion(assertion)) => {
            let (jti, until) = documents
                .check_assertion(&keys, client_id, assertion, audiences, now)
                .await?;
            if !first_use_of_assertion(db, client_id, &jti, until).await? {
                return Err(ClientAuthError::ReplayedAssertion);
            }
            Ok(client)
        }
        _ => Err(ClientAuthError::AssertionRequired),
    }
}

/// Record an assertion's `jti` (with the DPoP proofs' replay keys, purged
/// with them); `false` if it was there already.
async fn first_use_of_assertion(
    db: &impl ConnectionTrait,
    client_id: &str,
    jti: &str,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use crate::oauth::dpop_entity as replay;
    use sea_orm::sea_query::OnConflict;
    let row = replay::ActiveModel {
        replay_key: Set(sha256_hex(&format!("client_assertion\0{client_id}\0{jti}"))),
        expires_at: Set(until),
    };
    let inserted = replay::Entity::insert(row)
        .on_conflict(
            OnConflict::column(replay::Column::ReplayKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// Authenticate `client_id` with `secret` (`client_secret_basic` or
/// `client_secret_post`), or with none for a public client (`none`; PKCE
/// then proves the caller).
pub async fn authenticate(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret: Option<&str>,
) -> Result<client::Model, ClientAuthError> {
    let client = find_by_client_id(db, client_id)
        .await?
        .ok_or(ClientAuthError::Unknown)?;
    match (client.secret_hash.as_deref(), secret) {
        // A public client: no secret (PKCE proves the caller).
        (None, None) => Ok(client),
        (None, Some(_)) => Err(ClientAuthError::UnexpectedSecret),
        (Some(_), None) => Err(ClientAuthError::SecretRequired),
        (Some(stored), Some(secret)) => {
            if bool::from(stored.as_bytes().ct_eq(sha256_hex(secret).as_bytes())) {
                Ok(client)
            } else {
                Err(ClientAuthError::WrongSecret)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_oauth_2_1_and_rfc_8252() {
        for (uri, public) in [
            ("https://blog.example.com/callback", false),
            ("https://blog.example.com:8443/cb?x=1", false),
            ("http://127.0.0.1:8081/auth/callback", false),
            ("http://localhost:3000/cb", false),
            ("http://[::1]:9000/cb", true),
            ("com.example.app:/oauth2redirect", true),
        ] {
            assert_eq!(redirect_uri_problem(uri, public), None, "{uri}");
        }
        for (uri, public) in [
            ("https://*.example.com/cb", false),
            ("https://example.com/cb#frag", false),
            ("http://example.com/cb", false),
            ("http://127.0.0.1.nip.io/cb", false),
            ("https://user:pw@example.com/cb", false),
            ("/relative/cb", false),
            ("javascript:alert(1)", true),
            ("data:text/html,hi", true),
            ("com.example.app:/cb", false),
            ("https://example.com/a b", false),
            ("", false),
        ] {
            assert!(redirect_uri_problem(uri, public).is_some(), "{uri}");
        }
        assert!(
            redirect_uri_problem(&format!("https://e.com/{}", "a".repeat(2000)), false).is_some()
        );
    }

    #[test]
    fn ids_and_secrets_are_recognisable_and_random() {
        let (a, b) = (mint_client_id(), mint_client_id());
        assert!(a.starts_with("sgc_") && a.len() == 20, "{a}");
        assert_ne!(a, b);
        let secret = mint_secret();
        assert!(secret.starts_with("sgcs_"));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(&secret[SECRET_PREFIX.len()..])
                .expect("b64")
                .len(),
            32
        );
        assert_eq!(sha256_hex(&secret).len(), 64);
    }
}
