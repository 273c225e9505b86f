//! Fetching a JWKS (directly or through OIDC discovery) over HTTP, bounded in time and size.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_LENGTH};
use url::Url;

use crate::{KeyError, KeySet};

pub(crate) use crate::http_client::parse_http_url;

pub(crate) enum Target {
    Jwks(Url),
    Discovery {
        issuer: String,
        discovery_url: Url,
        /// Learned from the discovery document on the first successful fetch.
        jwks_uri: Mutex<Option<Url>>,
    },
}

impl Target {
    /// The discovery document of `issuer` (OIDC Discovery §4).
    pub(crate) fn discovery(issuer: &str) -> Result<Self, KeyError> {
        let base = parse_http_url(issuer)?;
        let discovery_url = parse_http_url(&format!(
            "{}/.well-known/openid-configuration",
            base.as_str().trim_end_matches('/')
        ))?;
        Ok(Self::Discovery {
            issuer: issuer.to_owned(),
            discovery_url,
            jwks_uri: Mutex::new(None),
        })
    }
}

pub(crate) struct Fetcher {
    pub(crate) client: reqwest::Client,
    pub(crate) target: Target,
    pub(crate) max_bytes: usize,
}

/// What one fetch produced: the keys and the server's `Cache-Control: max-age`.
pub(crate) struct Fetched {
    pub(crate) keys: KeySet,
    pub(crate) max_age: Option<Duration>,
}

impl Fetcher {
    pub(crate) fn describe(&self) -> String {
        match &self.target {
            Target::Jwks(url) => url.to_string(),
            Target::Discovery { discovery_url, .. } => discovery_url.to_string(),
        }
    }

    pub(crate) async fn fetch(&self) -> Result<Fetched, KeyError> {
        let jwks_url = match &self.target {
            Target::Jwks(url) => url.clone(),
            Target::Discovery {
                issuer,
                discovery_url,
                jwks_uri,
            } => {
                let known = jwks_uri.lock().map(|g| g.clone()).unwrap_or(None);
                match known {
                    Some(url) => url,
                    None => {
                        let url = self.discover(issuer, discovery_url).await?;
                        if let Ok(mut slot) = jwks_uri.lock() {
                            *slot = Some(url.clone());
                        }
                        url
                    }
                }
            }
        };
        let (body, max_age) = self.get(&jwks_url).await?;
        let text = String::from_utf8(body)
            .map_err(|_| KeyError::InvalidJwks("document is not UTF-8".into()))?;
        Ok(Fetched {
            keys: KeySet::from_jwks_json(&text)?,
            max_age,
        })
    }

    async fn discover(&self, issuer: &str, discovery_url: &Url) -> Result<Url, KeyError> {
        #[derive(serde::Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let (body, _) = self.get(discovery_url).await?;
        let doc: Discovery = serde_json::from_slice(&body).map_err(|e| KeyError::Fetch {
            url: discovery_url.to_string(),
            reason: format!("invalid discovery document: {e}"),
        })?;
        if doc.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(KeyError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: doc.issuer,
            });
        }
        parse_http_url(&doc.jwks_uri)
    }

    async fn get(&self, url: &Url) -> Result<(Vec<u8>, Option<Duration>), KeyError> {
        let fetch_error = |reason: String| KeyError::Fetch {
            url: url.to_string(),
            reason,
        };
        let mut response = self
            .client
            .get(url.clone())
            .header(ACCEPT, "application/json, application/jwk-set+json")
            .send()
            .await
            .map_err(|e| fetch_error(describe_reqwest_error(&e)))?;
        let status = response.status();
        if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            return Err(KeyError::Refused {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(fetch_error(format!("HTTP status {status}")));
        }
        let too_large = || KeyError::TooLarge {
            url: url.to_string(),
            limit: self.max_bytes,
        };
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > self.max_bytes) {
            return Err(too_large());
        }
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_max_age);
        let mut body = Vec::with_capacity(declared.unwrap_or(4096).min(self.max_bytes));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| fetch_error(describe_reqwest_error(&e)))?
        {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, max_age))
    }
}

fn describe_reqwest_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "connection failed".into()
    } else {
        // reqwest's Display includes the URL, which never holds credentials here.
        error.to_string()
    }
}

/// `max-age` from a Cache-Control value; `no-store`/`no-cache` mean "as short as allowed".
pub(crate) fn parse_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            max_age = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            parse_max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
    }
}
