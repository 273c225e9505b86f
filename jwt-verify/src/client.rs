//! Service-to-service login: exchange an API key for service tokens
//! (OAuth2 `client_credentials`, RFC 6749 §4.4) and reuse them until near expiry.

use std::sync::Arc;
use std::time::Duration;

// Pausable in tests (tokio's test-util); the monotonic clock otherwise.
use tokio::time::Instant;

use arc_swap::ArcSwapOption;
use backon::{ExponentialBuilder, Retryable as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

/// Why a service token could not be obtained.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The token endpoint could not be reached (after retries).
    #[error("token endpoint unreachable: {0}")]
    Unreachable(String),
    /// The auth server refused the request (`invalid_client`, `invalid_scope`, …): not retried.
    #[error("token request rejected ({status}): {error}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// RFC 6749 §5.2 error code.
        error: String,
    },
    /// The endpoint answered with something that is not a bearer token response.
    #[error("invalid token response: {0}")]
    InvalidResponse(String),
    /// The configuration is unusable (bad URL).
    #[error("invalid configuration: {0}")]
    Config(String),
}

struct CachedToken {
    access_token: String,
    /// `token_type: DPoP`: bound to the source's DPoP key.
    bound: bool,
    refresh_at: Instant,
    expires_at: Instant,
}

struct Inner {
    token_url: Url,
    client_id: String,
    secret: String,
    scope: Option<String>,
    http: reqwest::Client,
    cached: ArcSwapOption<CachedToken>,
    refreshing: tokio::sync::Mutex<()>,
    max_attempts: u32,
    initial_backoff: Duration,
    dpop: Option<Arc<crate::DpopKey>>,
}

/// A cached source of service tokens for one API key.
///
/// Cheap to clone. [`token`](Self::token) returns the cached token while it has
/// comfortably long to live and fetches a new one otherwise; concurrent callers
/// share one request. The secret is never logged (`Debug` omits it).
#[derive(Clone)]
pub struct ServiceTokenSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ServiceTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTokenSource")
            .field("token_url", &self.inner.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The fields of a successful RFC 6749 §5.1 response that we use.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
}

impl ServiceTokenSource {
    /// A source for the API key `client_id`/`secret` at `token_url`
    /// (e.g. `http://127.0.0.1:8080/oauth/token`).
    pub fn new(
        token_url: &str,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<Self, ClientError> {
        let token_url = crate::http_client::parse_http_url(token_url)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // A 307/308 keeps the body: the client secret must never follow
            // a redirect to another origin.
            .redirect(crate::http_client::same_origin_redirects())
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                token_url,
                client_id: client_id.into(),
                secret: secret.into(),
                scope: None,
                http,
                cached: ArcSwapOption::empty(),
                refreshing: tokio::sync::Mutex::new(()),
                max_attempts: 3,
                initial_backoff: Duration::from_millis(200),
                dpop: None,
            }),
        })
    }

    /// Parse a Signet API key of the form `sgn_<id>_<secret>`: the client id is
    /// `sgn_<id>` and the whole key is the secret.
    pub fn from_api_key(token_url: &str, api_key: &str) -> Result<Self, ClientError> {
        let client_id = api_key_client_id(api_key).ok_or_else(|| {
            ClientError::Config("API key is not of the form sgn_<id>_<secret>".into())
        })?;
        Self::new(token_url, client_id, api_key)
    }

    /// Ask for a narrower scope than the key's full set.
    pub fn with_scope(self, scope: impl Into<String>) -> Self {
        self.rebuild(|inner| inner.scope = Some(scope.into()))
    }

    /// Ask for DPoP-bound tokens (RFC 9449) held by `key`: each token request
    /// carries a proof, and [`request_headers`](Self::request_headers) signs
    /// one per outgoing request. A stolen token is then useless without the
    /// key, which never leaves this process.
    pub fn with_dpop(self, key: Arc<crate::DpopKey>) -> Self {
        self.rebuild(|inner| inner.dpop = Some(key))
    }

    /// Attempts per fetch for network errors and 5xx (default 3), and the first
    /// back-off (default 200 ms, doubling).
    pub fn with_retries(self, max_attempts: u32, initial_backoff: Duration) -> Self {
        self.rebuild(|inner| {
            inner.max_attempts = max_attempts.max(1);
            inner.initial_backoff = initial_backoff;
        })
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                token_url: shared.token_url.clone(),
                client_id: shared.client_id.clone(),
                secret: shared.secret.clone(),
                scope: shared.scope.clone(),
                http: shared.http.clone(),
                cached: ArcSwapOption::empty(),
                refreshing: tokio::sync::Mutex::new(()),
                max_attempts: shared.max_attempts,
                initial_backoff: shared.initial_backoff,
                dpop: shared.dpop.clone(),
            },
        };
        change(&mut inner);
        inner.cached = ArcSwapOption::empty();
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The client id this source authenticates as.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// A valid access token, from the cache or freshly fetched.
    #[tracing::instrument(name = "service_token", skip_all, fields(client_id = %self.inner.client_id))]
    pub async fn token(&self) -> Result<String, ClientError> {
        self.current()
            .await
            .map(|cached| cached.access_token.clone())
    }

    async fn current(&self) -> Result<Arc<CachedToken>, ClientError> {
        if let Some(cached) = self.fresh_cached() {
            return Ok(cached);
        }
        let _single_flight = self.inner.refreshing.lock().await;
        if let Some(cached) = self.fresh_cached() {
            return Ok(cached);
        }
        let fetched = Arc::new(self.fetch_with_retries().await?);
        self.inner.cached.store(Some(fetched.clone()));
        Ok(fetched)
    }

    /// The headers that authenticate one outgoing request for `method` on
    /// `url` (the URL as the resource server's clients address it):
    /// `Authorization: Bearer …`, or with [`with_dpop`](Self::with_dpop)
    /// `Authorization: DPoP …` and a fresh `DPoP` proof. Values are marked
    /// sensitive.
    pub async fn request_headers(
        &self,
        method: &http::Method,
        url: &str,
    ) -> Result<http::HeaderMap, ClientError> {
        let cached = self.current().await?;
        let key = self.inner.dpop.as_deref().filter(|_| cached.bound);
        authorization_headers(&cached.access_token, key, method, url)
    }

    /// Forget the cached token (e.g. after a resource server answered 401).
    pub fn invalidate(&self) {
        self.inner.cached.store(None);
    }

    /// The `Authorization: Bearer <token>` value for an outgoing request,
    /// marked sensitive (HTTP clients and `http`'s `Debug` then hide it).
    /// A DPoP-bound token needs a proof per request: use
    /// [`request_headers`](Self::request_headers) instead (this fails with
    /// [`ClientError::Config`]).
    pub async fn authorization(&self) -> Result<http::HeaderValue, ClientError> {
        let cached = self.current().await?;
        if cached.bound {
            return Err(ClientError::Config(
                "the token is DPoP-bound: use request_headers".into(),
            ));
        }
        sensitive(format!("Bearer {}", cached.access_token))
    }

    fn fresh_cached(&self) -> Option<Arc<CachedToken>> {
        let cached = self.inner.cached.load_full()?;
        let now = Instant::now();
        (now < cached.refresh_at && now < cached.expires_at).then_some(cached)
    }

    /// Up to `max_attempts` tries, backing off exponentially with jitter
    /// (so replicas that lost the auth server together do not retry in step);
    /// a refusal or a configuration error is final at once.
    async fn fetch_with_retries(&self) -> Result<CachedToken, ClientError> {
        let policy = ExponentialBuilder::default()
            .with_min_delay(self.inner.initial_backoff)
            .with_factor(2.0)
            .with_max_times(self.inner.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        (|| self.fetch_once())
            .retry(policy)
            .sleep(tokio::time::sleep)
            .when(|error| !matches!(error, ClientError::Rejected { .. } | ClientError::Config(_)))
            .notify(|error, wait| {
                tracing::warn!(%error, ?wait, "service token request failed; retrying");
            })
            .await
    }

    async fn fetch_once(&self) -> Result<CachedToken, ClientError> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = self.inner.scope.as_deref() {
            form.push(("scope", scope));
        }
        let started = Instant::now();
        let (parsed, bound) = self.token_request(&form).await?;
        let lifetime = Duration::from_secs(parsed.expires_in);
        // Renew when 10% of the lifetime (at least 30 s, at most half) remains.
        let margin = (lifetime / 10)
            .max(Duration::from_secs(30))
            .min(lifetime / 2);
        Ok(CachedToken {
            access_token: parsed.access_token,
            bound,
            refresh_at: started + lifetime - margin,
            expires_at: started + lifetime,
        })
    }

    /// Exchange `subject_token`, the access token a user sent this service,
    /// for a token to call the service `audience` on that user's behalf
    /// (RFC 8693; the API key must be allowed to). `scope`: narrower than
    /// the user's token (default: what the key may ask for there). Not
    /// cached: each user's token is exchanged when needed. With
    /// [`with_dpop`](Self::with_dpop) the new token is bound to the key.
    #[tracing::instrument(name = "token_exchange", skip_all, fields(client_id = %self.inner.client_id, audience = %audience))]
    pub async fn exchange(
        &self,
        subject_token: &str,
        audience: &str,
        scope: Option<&str>,
    ) -> Result<ExchangedToken, ClientError> {
        let mut form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", subject_token),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            ("audience", audience),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let (parsed, bound) = self.token_request(&form).await?;
        Ok(ExchangedToken {
            access_token: parsed.access_token,
            expires_in: parsed.expires_in,
            dpop: bound.then(|| self.inner.dpop.clone()).flatten(),
        })
    }

    /// One request to the token endpoint with this key's credentials (and a
    /// DPoP proof when it holds a key): the answer and whether it is bound.
    async fn token_request(
        &self,
        form: &[(&str, &str)],
    ) -> Result<(TokenResponse, bool), ClientError> {
        let inner = &self.inner;
        // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = STANDARD.encode(format!(
            "{}:{}",
            encode(&inner.client_id),
            encode(&inner.secret)
        ));
        let mut request = inner
            .http
            .post(inner.token_url.clone())
            .header(AUTHORIZATION, format!("Basic {basic}"))
            .header(ACCEPT, "application/json");
        if let Some(key) = &inner.dpop {
            let proof = key
                .proof("POST", inner.token_url.as_str(), None, None)
                .map_err(|e| ClientError::Config(e.to_string()))?;
            request = request.header("dpop", proof);
        }
        let response = request.form(form).send().await.map_err(|e| {
            ClientError::Unreachable(if e.is_timeout() {
                "timed out".into()
            } else {
                e.to_string()
            })
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ClientError::Unreachable(format!("HTTP status {status}")));
        }
        if !status.is_success() {
            let error = serde_json::from_slice::<ErrorResponse>(&body)
                .map(|e| e.error)
                .unwrap_or_else(|_| "unknown_error".into());
            return Err(ClientError::Rejected {
                status: status.as_u16(),
                error,
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| ClientError::InvalidResponse(e.to_string()))?;
        // A DPoP token only when one was asked for (RFC 9449 §5).
        let bound = match (
            inner.dpop.is_some(),
            parsed.token_type.to_ascii_lowercase().as_str(),
        ) {
            (_, "bearer") => false,
            (true, "dpop") => true,
            _ => {
                return Err(ClientError::InvalidResponse(format!(
                    "token_type is {:?}, not Bearer{}",
                    parsed.token_type,
                    if inner.dpop.is_some() { " or DPoP" } else { "" }
                )))
            }
        };
        Ok((parsed, bound))
    }
}

/// A token obtained by [`ServiceTokenSource::exchange`]: for one user, at
/// one service. `Debug` hides the token.
pub struct ExchangedToken {
    access_token: String,
    expires_in: u64,
    dpop: Option<Arc<crate::DpopKey>>,
}

impl std::fmt::Debug for ExchangedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangedToken")
            .field("expires_in", &self.expires_in)
            .field("bound", &self.dpop.is_some())
            .finish_non_exhaustive()
    }
}

impl ExchangedToken {
    /// The access token.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// Seconds it lives (never longer than the user's token).
    pub fn expires_in(&self) -> u64 {
        self.expires_in
    }

    /// The headers for one request with it (as
    /// [`ServiceTokenSource::request_headers`]).
    pub fn request_headers(
        &self,
        method: &http::Method,
        url: &str,
    ) -> Result<http::HeaderMap, ClientError> {
        authorization_headers(&self.access_token, self.dpop.as_deref(), method, url)
    }
}

/// `Authorization` (Bearer, or DPoP with a fresh proof by `key`).
fn authorization_headers(
    token: &str,
    key: Option<&crate::DpopKey>,
    method: &http::Method,
    url: &str,
) -> Result<http::HeaderMap, ClientError> {
    let mut headers = http::HeaderMap::new();
    let proof = match key {
        Some(key) => Some(
            key.proof(method.as_str(), url, Some(token), None)
                .map_err(|e| ClientError::Config(e.to_string()))?,
        ),
        None => None,
    };
    let scheme = if proof.is_some() { "DPoP" } else { "Bearer" };
    headers.insert(
        http::header::AUTHORIZATION,
        sensitive(format!("{scheme} {token}"))?,
    );
    if let Some(proof) = proof {
        headers.insert("dpop", sensitive(proof)?);
    }
    Ok(headers)
}

fn sensitive(value: String) -> Result<http::HeaderValue, ClientError> {
    let mut value = http::HeaderValue::try_from(value)
        .map_err(|_| ClientError::InvalidResponse("token is not a header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The client id part of a `sgn_<id>_<secret>` API key.
pub fn api_key_client_id(api_key: &str) -> Option<&str> {
    let rest = api_key.strip_prefix("sgn_")?;
    let (id, secret) = rest.split_once('_')?;
    if id.is_empty() || secret.is_empty() {
        return None;
    }
    Some(&api_key[..4 + id.len()])
}
