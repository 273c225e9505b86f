//! scraper-svc configuration (see docs/CONFIGURATION.md).

use std::net::SocketAddr;
use std::time::Duration;

use signet_service::config::Env;
pub use signet_service::config::{ConfigError, LogFormat};
use url::Url;

/// `DATABASE_URL` when unset.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/scraper.db?mode=rwc";

/// What `scraper-svc migrate` needs: the database alone (no API key).
pub fn migration_settings() -> Result<(secrecy::SecretString, Duration), ConfigError> {
    let env = Env::new(|name: &str| std::env::var(name).ok());
    Ok((
        env.database_url(DEFAULT_DATABASE_URL)?.into(),
        env.duration("DB_ACQUIRE_TIMEOUT", Duration::from_secs(5))?,
    ))
}

#[derive(Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    /// `/metrics` is served here only (loopback by default), never on `bind_addr`.
    pub metrics_addr: SocketAddr,
    /// May hold a password: never shown by `Debug`.
    pub database_url: secrecy::SecretString,
    pub auth_issuer: String,
    /// `None`: discover it from `AUTH_ISSUER`.
    pub auth_jwks_url: Option<String>,
    pub audiences: Vec<String>,
    pub auth_lazy_start: bool,
    /// Verified tokens cached (`AUTH_TOKEN_CACHE`, 0: off).
    pub auth_token_cache: usize,
    /// Following the auth server's security-event feed (`AUTH_EVENTS_API_KEY`…).
    pub revocation: Option<signet_service::auth::RevocationSettings>,
    pub token_url: String,
    /// The scraper's own API key (`sgn_<id>_<secret>`); never logged.
    pub api_key: String,
    pub blog_url: Url,
    /// `AUTH_DPOP`: hold DPoP-bound service tokens (RFC 9449) under a key
    /// made at start-up and never written anywhere.
    pub dpop: bool,
    /// Origins DPoP proofs sent to this service may name (`DPOP_ORIGINS`).
    pub dpop_origins: Vec<String>,
    pub sources: Vec<Url>,
    /// `FETCH_ALLOWED_ADDRESSES`: non-public addresses a source may redirect to.
    pub fetch_allowed: Vec<ipnet::IpNet>,
    /// Zero: scrape on demand only.
    pub interval: Duration,
    pub fetch_timeout: Duration,
    /// `SCRAPE_RUN_RETENTION`: finished runs older than this are deleted.
    pub run_retention: Duration,
    pub max_source_bytes: usize,
    pub max_items_per_source: usize,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    /// `ACCESS_LOG`: one INFO line per request (method, route, status, duration).
    pub access_log: bool,
    /// `CORS_ALLOWED_ORIGINS`: browsers on these origins may call the
    /// cross-origin endpoints (none by default).
    pub cors: signet_service::config::CorsOrigins,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    pub shutdown_grace: Duration,
    /// `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT`, `HTTP_MAX_CONNECTIONS`.
    pub server_limits: signet_service::http::ServerLimits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind_addr", &self.bind_addr)
            .field("token_url", &self.token_url)
            .field("api_key", &"<redacted>")
            .field("blog_url", &self.blog_url.as_str())
            .field("dpop", &self.dpop)
            .field("sources", &self.sources.len())
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let auth_issuer = env
            .http_url("AUTH_ISSUER", Some("http://127.0.0.1:8080"))?
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let token_url = env
            .http_url(
                "AUTH_TOKEN_URL",
                Some(&format!("{auth_issuer}/oauth/token")),
            )?
            .map(|u| u.to_string())
            .unwrap_or_default();
        let api_key = env
            .secret("SCRAPER_API_KEY", "SCRAPER_API_KEY_FILE")?
            .ok_or_else(|| ConfigError::new("SCRAPER_API_KEY", "is required: create one with `auth-server api-keys create --name scraper --scopes posts:write,posts:import`"))?;
        if jwt_verify::api_key_client_id(api_key.trim()).is_none() {
            return Err(ConfigError::new(
                "SCRAPER_API_KEY",
                "is not of the form sgn_<id>_<secret>",
            ));
        }
        let mut sources = Vec::new();
        for raw in env
            .get("SCRAPER_SOURCES")
            .unwrap_or_default()
            .split([',', '\n', ' '])
        {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let url = Url::parse(raw)
                .map_err(|e| ConfigError::new("SCRAPER_SOURCES", format!("{raw:?}: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError::new(
                    "SCRAPER_SOURCES",
                    format!("{raw:?} is not an http(s) URL"),
                ));
            }
            sources.push(url);
        }
        let audiences = env.list("AUTH_AUDIENCE", "signet")?;
        let revocation = signet_service::auth::RevocationSettings::from_env(&env, &auth_issuer)?;
        let mut fetch_allowed = Vec::new();
        for raw in env
            .get("FETCH_ALLOWED_ADDRESSES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let net = raw
                .parse::<ipnet::IpNet>()
                .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "FETCH_ALLOWED_ADDRESSES",
                        format!("{raw:?} is not an IP address or CIDR block"),
                    )
                })?;
            fetch_allowed.push(net);
        }
        let bind_addr = env.socket_addr("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8082)))?;
        Ok(Self {
            fetch_allowed,
            bind_addr,
            dpop: env.bool("AUTH_DPOP", false)?,
            dpop_origins: signet_service::auth::dpop_origins(&env, &format!("http://{bind_addr}"))?,
            metrics_addr: env
                .socket_addr("METRICS_ADDR", SocketAddr::from(([127, 0, 0, 1], 9082)))?,
            database_url: env.database_url(DEFAULT_DATABASE_URL)?.into(),
            auth_jwks_url: env.http_url("AUTH_JWKS_URL", None)?.map(|u| u.to_string()),
            auth_issuer,
            audiences,
            auth_lazy_start: env.bool("AUTH_LAZY_START", true)?,
            auth_token_cache: env.parse("AUTH_TOKEN_CACHE", 0)?,
            revocation,
            token_url,
            api_key: api_key.trim().to_owned(),
            blog_url: env
                .http_url("BLOG_URL", Some("http://127.0.0.1:8081"))?
                .ok_or_else(|| ConfigError::new("BLOG_URL", "is required"))?,
            sources,
            interval: env.duration_or_zero("SCRAPE_INTERVAL", Duration::from_secs(15 * 60))?,
            fetch_timeout: env.duration("SCRAPE_TIMEOUT", Duration::from_secs(10))?,
            run_retention: env
                .duration("SCRAPE_RUN_RETENTION", Duration::from_secs(30 * 24 * 3600))?,
            max_source_bytes: env.positive("SCRAPE_MAX_BYTES", 2 * 1024 * 1024)?,
            max_items_per_source: env.positive("SCRAPE_MAX_ITEMS", 50)?,
            log_format: env.log_format()?,
            max_body_bytes: env.positive("MAX_BODY_BYTES", 64 * 1024)?,
            access_log: env.bool("ACCESS_LOG", false)?,
            cors: env.cors_origins()?,
            db_max_connections: env.positive("DB_MAX_CONNECTIONS", 5)?,
            db_acquire_timeout: env.duration("DB_ACQUIRE_TIMEOUT", Duration::from_secs(5))?,
            shutdown_grace: env.duration("SHUTDOWN_GRACE_PERIOD", Duration::from_secs(30))?,
            server_limits: signet_service::http::ServerLimits::from_env(&env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Config::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn the_api_key_is_required_and_never_printed() {
        assert_eq!(with(&[]).expect_err("no key").variable, "SCRAPER_API_KEY");
        assert_eq!(
            with(&[("SCRAPER_API_KEY", "hunter2")])
                .expect_err("bad key")
                .variable,
            "SCRAPER_API_KEY"
        );
        let config = with(&[("SCRAPER_API_KEY", "sgn_abcdefghijklmnop_s3cr3t")]).expect("ok");
        assert!(!format!("{config:?}").contains("s3cr3t"));
        assert_eq!(config.token_url, "http://127.0.0.1:8080/oauth/token");
        assert_eq!(config.interval, Duration::from_secs(900));
    }

    #[test]
    fn sources_are_validated_urls() {
        let key = ("SCRAPER_API_KEY", "sgn_abcdefghijklmnop_s3cr3t");
        let config = with(&[
            key,
            (
                "SCRAPER_SOURCES",
                "http://a.test/feed.xml, https://b.test/page",
            ),
        ])
        .expect("ok");
        assert_eq!(config.sources.len(), 2);
        assert_eq!(
            with(&[key, ("SCRAPER_SOURCES", "file:///etc/passwd")])
                .expect_err("bad")
                .variable,
            "SCRAPER_SOURCES"
        );
        assert_eq!(
            with(&[key, ("SCRAPE_INTERVAL", "0")])
                .expect("on demand")
                .interval,
            Duration::ZERO
        );
        for (name, value) in [
            ("FETCH_ALLOWED_ADDRESSES", "10.0.0.0/33"),
            ("FETCH_ALLOWED_ADDRESSES", "intranet.example"),
            ("SCRAPE_RUN_RETENTION", "forever"),
            ("METRICS_ADDR", "9082"),
        ] {
            assert_eq!(
                with(&[key, (name, value)]).expect_err(name).variable,
                name,
                "{value}"
            );
        }
        let allowed = with(&[key, ("FETCH_ALLOWED_ADDRESSES", "10.0.5.0/24, 192.0.2.7")])
            .expect("ok")
            .fetch_allowed;
        assert_eq!(allowed.len(), 2);
    }
}
