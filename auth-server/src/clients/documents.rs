//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document):
//! a client with no registration names itself by the `https` URL of a JSON
//! document it publishes (`client_name`, `redirect_uris`, …), and this
//! server fetches that document to learn who it is. This is how MCP clients
//! and other agents arrive.
//!
//! The fetch is made to a URL anyone can type into an authorization
//! request, so it is the dangerous part, and every rule is enforced here:
//!
//! - `https` only (`http://localhost` only with `CLIENT_METADATA_ALLOW_LOCALHOST`);
//!   the URL is in canonical form, has a path, and no query, fragment or
//!   credentials;
//! - only public addresses, checked on the resolved addresses the
//!   connection uses ([`signet_service::address_policy`]) and again on each
//!   redirect (at most [`MAX_REDIRECTS`]);
//! - at most [`MAX_DOCUMENT_BYTES`], whatever `Content-Length` claims, and
//!   [`FETCH_TIMEOUT`] for the whole fetch, redirects included;
//! - optionally only from the hosts in `CLIENT_METADATA_HOSTS`.
//!
//! Documents are cached as their `Cache-Control` allows, for at most
//! [`MAX_TTL`], in at most [`MAX_ENTRIES`] entries; a failed fetch is
//! remembered for [`FAILURE_TTL`] so that an authorization request cannot be
//! used to make this server hammer someone else's host.
//!
//! A document becomes a [`client::Model`] that is never stored: a public,
//! third-party client whose `client_id` is the URL. Its consent is asked for
//! every time (nothing vouches for the name it gives itself).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, LOCATION};
use serde::Deserialize;
use signet_service::address_policy::{refused_by_policy, AddressPolicy, PolicyResolver};
use url::Url;

use crate::clients::{entity as client, redirect_uri_problem, MAX_NAME_CHARS, MAX_URIS};
use crate::config::ClientDocumentSettings;

/// The largest document read (the draft suggests 5 kB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// The whole fetch, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Redirects followed, each checked like the first URL.
pub const MAX_REDIRECTS: usize = 3;
/// The longest `client_id` URL accepted (it is stored with codes and sessions).
pub const MAX_CLIENT_ID_LEN: usize = 255;
/// Documents (and failures) remembered at once.
pub const MAX_ENTRIES: usize = 1024;
/// The longest a document is trusted without fetching it again.
pub const MAX_TTL: Duration = Duration::from_secs(3600);
/// How long a document is kept when its response says nothing.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// How long a failed fetch is remembered.
pub const FAILURE_TTL: Duration = Duration::from_secs(60);

/// Why a `client_id` URL did not give a usable client. The messages are
/// fixed (they never echo the document); [`DocumentError::reason`] is a
/// stable label for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    #[error("client metadata documents are turned off")]
    Disabled,
    #[error(
        "the client_id is not a usable https URL (canonical, with a path, no query or fragment)"
    )]
    BadUrl,
    #[error("the client_id's host is not one this server accepts documents from")]
    HostNotAllowed,
    #[error("the document's address is not a public one")]
    AddressRefused,
    #[error("the document redirected too often")]
    TooManyRedirects,
    #[error("the document is larger than 5 kB")]
    TooLarge,
    #[error("fetching the document took too long")]
    Timeout,
    #[error("the document could not be fetched")]
    Unreachable,
    #[error("the document's server did not answer 200")]
    Status,
    #[error("the document is not valid client metadata: {0}")]
    Invalid(&'static str),
}

impl DocumentError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::BadUrl => "bad_url",
            Self::HostNotAllowed => "host_not_allowed",
            Self::AddressRefused => "address_refused",
            Self::TooManyRedirects => "too_many_redirects",
            Self::TooLarge => "too_large",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::Status => "status",
            Self::Invalid(_) => "invalid",
        }
    }
}

/// Whether `client_id` names a metadata document (rather than a registered
/// `sgc_` client or an API key).
pub fn is_document_url(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// What the document says, as the draft and RFC 7591 name it. Unknown
/// members are ignored (RFC 7591 §2).
#[derive(Debug, Deserialize)]
struct Metadata {
    client_id: String,
    client_name: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    scope: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    /// Present only to be refused: a document is public, a secret in it is none.
    client_secret: Option<serde_json::Value>,
    /// `private_key_jwt`: where its keys are, or the keys themselves.
    jwks_uri: Option<String>,
    jwks: Option<serde_json::Value>,
}

/// How a document's client proves itself at the token endpoint.
#[derive(Clone, Debug)]
pub enum ClientKeys {
    /// `none`: PKCE alone.
    None,
    /// `private_key_jwt` with `jwks` in the document.
    Inline(Box<jsonwebtoken::jwk::JwkSet>),
    /// `private_key_jwt` with `jwks_uri`, fetched under the same rules.
    Remote(Url),
}

/// The algorithms a client assertion may be signed with.
pub const ASSERTION_ALGORITHMS: [jsonwebtoken::Algorithm; 4] = [
    jsonwebtoken::Algorithm::RS256,
    jsonwebtoken::Algorithm::PS256,
    jsonwebtoken::Algorithm::ES256,
    jsonwebtoken::Algorithm::EdDSA,
];
/// The longest a client assertion may live (`exp` - now).
pub const ASSERTION_MAX_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Clone)]
enum Cached {
    Client(Box<(client::Model, ClientKeys)>),
    Keys(Box<jsonwebtoken::jwk::JwkSet>),
    Failed(DocumentError),
}

struct Entry {
    value: Cached,
    until: tokio::time::Instant,
}

/// The fetcher and its cache; one per server, in `AppState`.
pub struct ClientDocuments {
    settings: ClientDocumentSettings,
    /// `USER_TOKEN_SCOPE`: with the defaults, what a document may ask for.
    user_scope: String,
    /// The resources (audiences) a document client may ask tokens for:
    /// the services (`JWT_AUDIENCE`), never this server's own API.
    resources: Vec<String>,
    /// Public addresses only.
    http: reqwest::Client,
    /// For `http://localhost` documents when allowed: loopback too.
    localhost_http: reqwest::Client,
    cache: Mutex<HashMap<String, Entry>>,
    timeout: Duration,
}

impl std::fmt::Debug for ClientDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientDocuments")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn http_client(policy: AddressPolicy) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        // Redirects are followed by hand so that each hop is checked.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(PolicyResolver::new(Arc::new(policy))))
        .user_agent(concat!("signet-auth-server/", env!("CARGO_PKG_VERSION")))
        .no_proxy()
        .build()
}

impl ClientDocuments {
    pub fn new(config: &crate::config::Config) -> reqwest::Result<Self> {
        let loopback = ["127.0.0.0/8", "::1/128"]
            .iter()
            .filter_map(|net| net.parse().ok())
            .collect();
        Ok(Self {
            settings: config.client_documents.clone(),
            user_scope: config.user_scope.clone(),
            resources: config.audiences.clone(),
            http: http_client(AddressPolicy::default())?,
            localhost_http: http_client(AddressPolicy::new(loopback))?,
            cache: Mutex::new(HashMap::new()),
            timeout: FETCH_TIMEOUT,
        })
    }

    /// The same with another overall timeout (tests of a stalling server).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// The client `client_id` (a document URL) describes: from the cache,
    /// or fetched now. `now` is the created-at of the unstored row.
    pub async fn resolve(
        &self,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<client::Model, DocumentError> {
        self.resolve_keys(client_id, now)
            .await
            .map(|(client, _)| client)
    }

    /// [`resolve`](Self::resolve), and how the client authenticates.
    pub async fn resolve_keys(
        &self,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(client::Model, ClientKeys), DocumentError> {
        if !self.settings.enabled {
            return Err(DocumentError::Disabled);
        }
        let url = self.client_id_url(client_id)?;
        let at = tokio::time::Instant::now();
        if let Some(entry) = self.cache.lock().expect("cache").get(client_id) {
            if entry.until > at {
                match &entry.value {
                    Cached::Client(resolved) => return Ok((**resolved).clone()),
                    Cached::Failed(error) => return Err(error.clone()),
                    Cached::Keys(_) => {}
                }
            }
        }
        let outcome = match tokio::time::timeout(self.timeout, self.fetch(&url)).await {
            Err(_) => Err(DocumentError::Timeout),
            Ok(fetched) => fetched.and_then(|(body, ttl)| {
                self.client_of(client_id, &body, now)
                    .map(|model| (model, ttl))
            }),
        };
        let (value, ttl) = match &outcome {
            Ok((resolved, ttl)) => (Cached::Client(Box::new(resolved.clone())), *ttl),
            Err(error) => (Cached::Failed(error.clone()), FAILURE_TTL),
        };
        if !ttl.is_zero() {
            self.remember(client_id, value, at + ttl);
        }
        if let Err(error) = &outcome {
            tracing::info!(reason = error.reason(), %error, "client metadata document refused");
        }
        outcome.map(|(model, _)| model)
    }

    fn remember(&self, client_id: &str, value: Cached, until: tokio::time::Instant) {
        let mut cache = self.cache.lock().expect("cache");
        if cache.len() >= MAX_ENTRIES && !cache.contains_key(client_id) {
            let now = tokio::time::Instant::now();
            cache.retain(|_, entry| entry.until > now);
            if cache.len() >= MAX_ENTRIES {
                // Still full of live entries: drop the one that ends first.
                if let Some(first) = cache
                    .iter()
                    .min_by_key(|(_, entry)| entry.until)
                    .map(|(key, _)| key.clone())
                {
                    cache.remove(&first);
                }
            }
        }
        cache.insert(client_id.to_owned(), Entry { value, until });
    }

    /// `client_id` as a URL the draft allows (§3): canonical as written
    /// (so one client has one id), a path, no query, fragment or
    /// credentials; then this server's rules for where it may be.
    fn client_id_url(&self, client_id: &str) -> Result<Url, DocumentError> {
        if client_id.len() > MAX_CLIENT_ID_LEN {
            return Err(DocumentError::BadUrl);
        }
        let url = Url::parse(client_id).map_err(|_| DocumentError::BadUrl)?;
        if url.as_str() != client_id
            || url.path().len() < 2
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(DocumentError::BadUrl);
        }
        self.check_target(&url)?;
        Ok(url)
    }

    /// Whether a request may be sent to `url` (the document or a redirect).
    fn check_target(&self, url: &Url) -> Result<(), DocumentError> {
        let Some(host) = url.host() else {
            return Err(DocumentError::BadUrl);
        };
        let localhost = self.is_allowed_localhost(url);
        match url.scheme() {
            "https" => {}
            "http" if localhost => {}
            _ => return Err(DocumentError::BadUrl),
        }
        if !localhost && !AddressPolicy::default().permits_host(&host) {
            return Err(DocumentError::AddressRefused);
        }
        if !localhost
            && !self.settings.hosts.is_empty()
            && !self
                .settings
                .hosts
                .iter()
                .any(|allowed| url.host_str() == Some(allowed.as_str()))
        {
            return Err(DocumentError::HostNotAllowed);
        }
        Ok(())
    }

    fn is_allowed_localhost(&self, url: &Url) -> bool {
        self.settings.allow_localhost && url.host_str() == Some("localhost")
    }

    /// GET the document, following at most [`MAX_REDIRECTS`] redirects,
    /// each checked; the body and how long it may be cached.
    async fn fetch(&self, url: &Url) -> Result<(Vec<u8>, Duration), DocumentError> {
        let mut current = url.clone();
        let mut hops = 0;
        let mut response = loop {
            self.check_target(&current)?;
            let http = if self.is_allowed_localhost(&current) {
                &self.localhost_http
            } else {
                &self.http
            };
            let response = http
                .get(current.clone())
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|error| {
                    if refused_by_policy(&error) {
                        DocumentError::AddressRefused
                    } else {
                        DocumentError::Unreachable
                    }
                })?;
            if !response.status().is_redirection() {
                break response;
            }
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(DocumentError::TooManyRedirects);
            }
            current = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|location| current.join(location).ok())
                .ok_or(DocumentError::Unreachable)?;
        };
        if response.status() != reqwest::StatusCode::OK {
            return Err(DocumentError::Status);
        }
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64) {
            return Err(DocumentError::TooLarge);
        }
        let ttl = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map_or(DEFAULT_TTL, cache_lifetime);
        // Whatever Content-Length said: stop reading past the cap.
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| DocumentError::Unreachable)?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(DocumentError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, ttl))
    }

    /// The unstored client row a document describes, checked by the same
    /// rules as a registration (exact redirect URIs) and the draft's own.
    fn client_of(
        &self,
        client_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(client::Model, ClientKeys), DocumentError> {
        let metadata: Metadata = serde_json::from_slice(body).map_err(|_| {
            DocumentError::Invalid("not a JSON object with client_id and redirect_uris")
        })?;
        if metadata.client_id != client_id {
            return Err(DocumentError::Invalid(
                "client_id differs from the document's URL",
            ));
        }
        if metadata.client_secret.is_some() {
            return Err(DocumentError::Invalid(
                "a document must not hold a client_secret",
            ));
        }
        let keys = match metadata.token_endpoint_auth_method.as_deref() {
            None | Some("none") => ClientKeys::None,
            Some("private_key_jwt") => match (&metadata.jwks_uri, &metadata.jwks) {
                (Some(uri), None) => {
                    let url = Url::parse(uri)
                        .ok()
                        .filter(|url| self.check_target(url).is_ok())
                        .ok_or(DocumentError::Invalid(
                            "jwks_uri must be an https URL this server may fetch",
                        ))?;
                    ClientKeys::Remote(url)
                }
                (None, Some(jwks)) => ClientKeys::Inline(Box::new(
                    serde_json::from_value(jwks.clone())
                        .map_err(|_| DocumentError::Invalid("jwks is not a JWK set"))?,
                )),
                _ => {
                    return Err(DocumentError::Invalid(
                        "private_key_jwt needs jwks_uri or jwks (one of them)",
                    ))
                }
            },
            Some(_) => {
                return Err(DocumentError::Invalid(
                    "token_endpoint_auth_method must be none or private_key_jwt",
                ))
            }
        };
        if metadata.redirect_uris.is_empty() || metadata.redirect_uris.len() > MAX_URIS {
            return Err(DocumentError::Invalid(
                "redirect_uris must list 1 to 10 URIs",
            ));
        }
        if metadata
            .redirect_uris
            .iter()
            .any(|uri| redirect_uri_problem(uri, true).is_some())
        {
            return Err(DocumentError::Invalid(
                "a redirect URI is not exact https, loopback http or a private-use scheme",
            ));
        }
        if let Some(grants) = &metadata.grant_types {
            if !grants.iter().any(|g| g == "authorization_code")
                || grants
                    .iter()
                    .any(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
            {
                return Err(DocumentError::Invalid(
                    "grant_types must be authorization_code, optionally with refresh_token",
                ));
            }
        }
        if metadata
            .response_types
            .as_ref()
            .is_some_and(|types| types.iter().any(|t| t != "code"))
        {
            return Err(DocumentError::Invalid("response_types must be code"));
        }
        for uri in metadata.client_uri.iter().chain(metadata.logo_uri.iter()) {
            if !Url::parse(uri).is_ok_and(|u| u.scheme() == "https") {
                return Err(DocumentError::Invalid(
                    "client_uri and logo_uri must be https URLs",
                ));
            }
        }
        let host = Url::parse(client_id)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let name = match metadata.client_name.as_deref().map(str::trim) {
            None | Some("") => host,
            Some(name)
                if name.chars().count() <= MAX_NAME_CHARS
                    && !name.chars().any(char::is_control) =>
            {
                name.to_owned()
            }
            Some(_) => {
                return Err(DocumentError::Invalid(
                    "client_name must be at most 100 printable characters",
                ))
            }
        };
        let scopes =
            crate::clients::self_registered_scopes(metadata.scope.as_deref(), &self.user_scope);
        let grants = metadata
            .grant_types
            .map(|g| g.join(" "))
            .unwrap_or_else(|| "authorization_code refresh_token".to_owned());
        let public = matches!(keys, ClientKeys::None);
        let model = client::Model {
            // Never stored: the id is not used for anything.
            id: uuid::Uuid::nil(),
            client_id: client_id.to_owned(),
            name,
            // A key-holding client is confidential without a secret.
            public,
            secret_hash: None,
            redirect_uris: metadata.redirect_uris.join(" "),
            post_logout_redirect_uris: String::new(),
            scopes: scopes.join(" "),
            grant_types: grants,
            first_party: false,
            created_at: now,
            created_by: None,
            dpop: crate::dpop_policy::DpopPolicy::default()
                .as_str()
                .to_owned(),
            resources: self.resources.join(" "),
            require_par: false,
            // Never from a document: this server would post to a URL
            // anyone chose, at every sign-out.
            backchannel_logout_uri: None,
        };
        Ok((model, keys))
    }

    /// The keys `keys` names: inline, or fetched from `jwks_uri` under the
    /// fetch rules and cached like documents.
    async fn key_set(&self, keys: &ClientKeys) -> Result<jsonwebtoken::jwk::JwkSet, DocumentError> {
        let url = match keys {
            ClientKeys::None => return Err(DocumentError::Invalid("the client has no keys")),
            ClientKeys::Inline(set) => return Ok((**set).clone()),
            ClientKeys::Remote(url) => url,
        };
        let key = format!("jwks {url}");
        let at = tokio::time::Instant::now();
        if let Some(entry) = self.cache.lock().expect("cache").get(&key) {
            if entry.until > at {
                if let Cached::Keys(set) = &entry.value {
                    return Ok((**set).clone());
                }
            }
        }
        let (body, ttl) = match tokio::time::timeout(self.timeout, self.fetch(url)).await {
            Err(_) => return Err(DocumentError::Timeout),
            Ok(fetched) => fetched?,
        };
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&body)
            .map_err(|_| DocumentError::Invalid("jwks_uri did not answer a JWK set"))?;
        if !ttl.is_zero() {
            self.remember(&key, Cached::Keys(Box::new(set.clone())), at + ttl);
        }
        Ok(set)
    }

    /// RFC 7523 §3: a client assertion of `client_id`, signed by one of its
    /// keys with an allowed algorithm, `iss` and `sub` its id, `aud` one of
    /// `audiences` (this issuer or the endpoint), unexpired and at most
    /// [`ASSERTION_MAX_LIFETIME`] long, with a `jti`. What must be recorded
    /// against replay: the `jti` and when it stops mattering.
    pub async fn check_assertion(
        &self,
        keys: &ClientKeys,
        client_id: &str,
        assertion: &str,
        audiences: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), DocumentError> {
        let refused = || DocumentError::Invalid("the client assertion is not valid");
        let header = jsonwebtoken::decode_header(assertion).map_err(|_| refused())?;
        if !ASSERTION_ALGORITHMS.contains(&header.alg) {
            return Err(refused());
        }
        let set = self.key_set(keys).await?;
        let candidates: Vec<&jsonwebtoken::jwk::Jwk> = set
            .keys
            .iter()
            .filter(|jwk| header.kid.is_none() || jwk.common.key_id == header.kid)
            .collect();
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.set_audience(audiences);
        validation.set_issuer(&[client_id]);
        validation.sub = Some(client_id.to_owned());
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        validation.leeway = 5;
        // The clock is the server's (tests move it); jsonwebtoken reads the
        // system's, so expiry is checked below against `now`.
        validation.validate_exp = false;
        #[derive(serde::Deserialize)]
        struct Claims {
            exp: i64,
            jti: Option<String>,
        }
        let claims = candidates
            .iter()
            .filter_map(|jwk| jsonwebtoken::DecodingKey::from_jwk(jwk).ok())
            .find_map(|key| jsonwebtoken::decode::<Claims>(assertion, &key, &validation).ok())
            .ok_or_else(refused)?
            .claims;
        let now_secs = now.timestamp();
        let max = i64::try_from(ASSERTION_MAX_LIFETIME.as_secs()).unwrap_or(300);
        if claims.exp + 5 < now_secs || claims.exp > now_secs + max + 5 {
            return Err(refused());
        }
        let jti = claims
            .jti
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or_else(refused)?;
        let until = DateTime::from_timestamp(claims.exp + 5, 0).unwrap_or(now);
        Ok((jti, until))
    }
}

/// How long a response may be cached, from its `Cache-Control`
/// (`no-store`/`no-cache`/`private`... `max-age`), capped at [`MAX_TTL`].
fn cache_lifetime(value: &str) -> Duration {
    let mut ttl = DEFAULT_TTL;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            match seconds.trim_matches('"').parse::<u64>() {
                Ok(seconds) => ttl = Duration::from_secs(seconds),
                Err(_) => return Duration::ZERO,
            }
        }
    }
    ttl.min(MAX_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_headers_bound_the_lifetime() {
        assert_eq!(
            cache_lifetime("public, max-age=60"),
            Duration::from_secs(60)
        );
        assert_eq!(cache_lifetime("max-age=999999"), MAX_TTL);
        assert_eq!(cache_lifetime("no-store"), Duration::ZERO);
        assert_eq!(cache_lifetime("max-age=10, no-cache"), Duration::ZERO);
        assert_eq!(cache_lifetime("max-age=soon"), Duration::ZERO);
        assert_eq!(cache_lifetime("public"), DEFAULT_TTL);
    }

    fn documents(settings: ClientDocumentSettings) -> ClientDocuments {
        let mut config = crate::config::Config::from_lookup(|_| None).expect("defaults");
        config.client_documents = settings;
        ClientDocuments::new(&config).expect("client")
    }

    #[test]
    fn client_ids_must_be_canonical_https_urls_with_a_path() {
        let documents = documents(ClientDocumentSettings::default());
        assert!(documents
            .client_id_url("https://app.example.com/client.json")
            .is_ok());
        for (client_id, expected) in [
            ("http://app.example.com/client.json", DocumentError::BadUrl),
            ("https://app.example.com", DocumentError::BadUrl),
            ("https://app.example.com/", DocumentError::BadUrl),
            ("https://APP.example.com/c", DocumentError::BadUrl),
            ("https://app.example.com/a/../c", DocumentError::BadUrl),
            ("https://app.example.com/./c", DocumentError::BadUrl),
            ("https://app.example.com/c?x=1", DocumentError::BadUrl),
            ("https://app.example.com/c#f", DocumentError::BadUrl),
            ("https://u:p@app.example.com/c", DocumentError::BadUrl),
            ("https://app.example.com:443/c", DocumentError::BadUrl),
            ("https://127.0.0.1/c", DocumentError::AddressRefused),
            ("https://[::1]/c", DocumentError::AddressRefused),
            (
                "https://169.254.169.254/latest",
                DocumentError::AddressRefused,
            ),
            ("https://10.0.0.1/c", DocumentError::AddressRefused),
            ("http://localhost:8080/c", DocumentError::BadUrl),
        ] {
            assert_eq!(
                documents.client_id_url(client_id).err(),
                Some(expected),
                "{client_id}"
            );
        }
        let long = format!("https://app.example.com/{}", "a".repeat(MAX_CLIENT_ID_LEN));
        assert_eq!(
            documents.client_id_url(&long).err(),
            Some(DocumentError::BadUrl)
        );
    }

    #[test]
    fn the_host_list_and_the_localhost_opt_in_are_exact() {
        let listed = documents(ClientDocumentSettings {
            hosts: vec!["apps.example.com".into()],
            ..ClientDocumentSettings::default()
        });
        assert!(listed.client_id_url("https://apps.example.com/c").is_ok());
        assert_eq!(
            listed
                .client_id_url("https://evil.apps.example.com/c")
                .err(),
            Some(DocumentError::HostNotAllowed)
        );
        let dev = documents(ClientDocumentSettings {
            allow_localhost: true,
            ..ClientDocumentSettings::default()
        });
        assert!(dev.client_id_url("http://localhost:8080/c").is_ok());
        assert_eq!(
            dev.client_id_url("http://127.0.0.1:8080/c").err(),
            Some(DocumentError::BadUrl)
        );
        assert_eq!(
            dev.client_id_url("http://localhost.example.com/c").err(),
            Some(DocumentError::BadUrl)
        );
    }
}
