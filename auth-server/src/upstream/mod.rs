//! Upstream OpenID providers ("Sign in with Google", a company's provider):
//! their configuration (`UPSTREAM_PROVIDERS`, see
//! [`crate::config::UpstreamProvider`]) and their discovery documents.
//!
//! Discovery is read from `{issuer}/.well-known/openid-configuration` at
//! start-up and retried with back-off until it answers: a provider that is
//! down never stops the server, whose password sign-in goes on; its button
//! shows it as unavailable meanwhile. The document's `issuer` must be the
//! configured one exactly (OIDC Discovery §4.3), and the endpoints it names
//! must be https (or http on loopback, for development and tests).

pub mod entity;
pub mod flow;
pub(crate) mod routes;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{is_loopback_host, UpstreamProvider};

/// Largest discovery document read.
const MAX_DISCOVERY_BYTES: usize = 64 * 1024;
/// One discovery request's time limit.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Back-off between failed discovery attempts: from this…
const RETRY_MIN: Duration = Duration::from_secs(1);
/// …doubling to this.
const RETRY_MAX: Duration = Duration::from_secs(300);
/// A good document is read again this often (endpoints and keys move).
const REFRESH_EVERY: Duration = Duration::from_secs(6 * 3600);

/// What a provider's discovery document says (the fields Signet uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovered {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// Where a provider's discovery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    /// Not read yet.
    Pending,
    Ready(Discovered),
    /// The last attempt failed (why, without secrets); retrying.
    Failed(String),
}

impl Discovery {
    /// A short label for listings and `/readyz`.
    pub fn label(&self) -> String {
        match self {
            Discovery::Pending => "pending".to_owned(),
            Discovery::Ready(_) => "ok".to_owned(),
            Discovery::Failed(reason) => format!("unavailable: {reason}"),
        }
    }
}

/// A configured provider and its discovery state.
pub struct Upstream {
    pub provider: UpstreamProvider,
    /// Read on every sign-in page; waited on by [`Upstream::settled`].
    state: tokio::sync::watch::Sender<Arc<Discovery>>,
    /// The ID-token verifier and the document it was built from: built on
    /// the first callback and kept (its key cache follows the provider's
    /// rotation), rebuilt when a refreshed document differs.
    id_tokens: std::sync::Mutex<Option<(Discovered, jwt_verify::Verifier)>>,
}

impl Upstream {
    pub fn discovery(&self) -> Arc<Discovery> {
        self.state.borrow().clone()
    }

    /// The discovery state once the first attempt has ended (ready or
    /// failed), awaited rather than polled: for callers (tests) that must
    /// not race the background task.
    pub async fn settled(&self) -> Arc<Discovery> {
        let mut changes = self.state.subscribe();
        let settled = changes
            .wait_for(|state| !matches!(**state, Discovery::Pending))
            .await
            .map(|state| state.clone());
        // The sender is `self.state`, alive while `self` is borrowed.
        settled.unwrap_or_else(|_| self.discovery())
    }

    /// The redirect URI to register at the provider.
    pub fn redirect_uri(&self, issuer: &str) -> String {
        redirect_uri(issuer, &self.provider.name)
    }
}

/// `{JWT_ISSUER}/oauth/upstream/{name}/callback`.
pub fn redirect_uri(issuer: &str, name: &str) -> String {
    format!("{issuer}/oauth/upstream/{name}/callback")
}

/// Every configured provider, in `UPSTREAM_PROVIDERS` order.
#[derive(Clone, Default)]
pub struct Upstreams {
    all: Arc<Vec<Upstream>>,
}

impl Upstreams {
    pub fn new(providers: &[UpstreamProvider]) -> Self {
        Self {
            all: Arc::new(
                providers
                    .iter()
                    .map(|provider| Upstream {
                        provider: provider.clone(),
                        state: tokio::sync::watch::Sender::new(Arc::new(Discovery::Pending)),
                        id_tokens: std::sync::Mutex::default(),
                    })
                    .collect(),
            ),
        }
    }

    pub fn all(&self) -> &[Upstream] {
        &self.all
    }

    pub fn get(&self, name: &str) -> Option<&Upstream> {
        self.all.iter().find(|u| u.provider.name == name)
    }

    /// Read every provider's discovery now, then keep each one fresh (and
    /// retry failures with back-off) until `stop` turns true.
    pub fn spawn_discovery(&self, http: reqwest::Client, stop: tokio::sync::watch::Receiver<bool>) {
        for index in 0..self.all.len() {
            let (all, http, mut stop) = (self.all.clone(), http.clone(), stop.clone());
            tokio::spawn(async move {
                let mut wait = RETRY_MIN;
                loop {
                    let upstream = &all[index];
                    let next = match discover(&http, &upstream.provider.issuer).await {
                        Ok(found) => {
                            if !matches!(*upstream.discovery(), Discovery::Ready(_)) {
                                tracing::info!(provider = %upstream.provider.name, "upstream provider discovered");
                            }
                            upstream
                                .state
                                .send_replace(Arc::new(Discovery::Ready(found)));
                            wait = RETRY_MIN;
                            REFRESH_EVERY
                        }
                        Err(reason) => {
                            tracing::warn!(provider = %upstream.provider.name, %reason, retry_in = ?wait, "upstream provider discovery failed");
                            // A document read before stays in use.
                            if !matches!(*upstream.discovery(), Discovery::Ready(_)) {
                                upstream
                                    .state
                                    .send_replace(Arc::new(Discovery::Failed(reason)));
                            }
                            let this = wait;
                            wait = (wait * 2).min(RETRY_MAX);
                            this
                        }
                    };
                    tokio::select! {
                        () = tokio::time::sleep(next) => {}
                        _ = stop.changed() => return,
                    }
                }
            });
        }
    }
}

/// An http client for talking to providers: no redirects followed, short
/// timeouts.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(DISCOVERY_TIMEOUT)
        .timeout(DISCOVERY_TIMEOUT)
        .build()
}

fn acceptable_endpoint(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|url| match url.scheme() {
        "https" => url.host().is_some(),
        "http" => url.host().as_ref().is_some_and(is_loopback_host),
        _ => false,
    })
}

/// Fetch and check `issuer`'s discovery document.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Discovered, String> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let mut response = http
        .get(&url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!("discovery answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > MAX_DISCOVERY_BYTES {
            return Err("the discovery document is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    let found: Discovered = serde_json::from_slice(&body)
        .map_err(|_| "the discovery document is not valid OpenID metadata".to_owned())?;
    if found.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err("the discovery document names another issuer".into());
    }
    for endpoint in [
        &found.authorization_endpoint,
        &found.token_endpoint,
        &found.jwks_uri,
    ] {
        if !acceptable_endpoint(endpoint) {
            return Err("an endpoint is not https (http only on loopback)".into());
        }
    }
    Ok(found)
}
