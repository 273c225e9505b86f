//! blog-svc configuration (see docs/CONFIGURATION.md).

use std::net::SocketAddr;
use std::time::Duration;

use signet_service::config::Env;
pub use signet_service::config::{ConfigError, LogFormat};

/// Where the blog learns the auth server's public keys.
#[derive(Debug, Clone)]
pub enum KeysFrom {
    /// `AUTH_JWKS_URL`.
    Jwks(String),
    /// OIDC discovery on `AUTH_ISSUER` (when no JWKS URL is given).
    Discovery,
}

/// The web front end's sign-in through the auth server (OpenID Connect code
/// flow, confidential client): `OIDC_CLIENT_ID` and `OIDC_CLIENT_SECRET`.
#[derive(Debug, Clone)]
pub struct WebSignIn {
    pub client_id: String,
    /// `Debug` shows `[REDACTED]`.
    pub client_secret: secrecy::SecretString,
}

/// Acting for an admin at scraper-svc with a token exchanged for theirs
/// (RFC 8693): `SCRAPER_URL` and `BLOG_API_KEY`.
#[derive(Debug, Clone)]
pub struct ScraperLink {
    /// scraper-svc's base URL.
    pub url: String,
    /// The audience scraper-svc accepts (`SCRAPER_AUDIENCE`).
    pub audience: String,
    /// Where the exchange happens (`AUTH_TOKEN_URL`).
    pub token_url: String,
    /// The blog's own API key, allowed to exchange for `audience`; `Debug`
    /// shows `[REDACTED]`.
    pub api_key: secrecy::SecretString,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    /// `/metrics` is served here only (loopback by default), never on `bind_addr`.
    pub metrics_addr: SocketAddr,
    /// May hold a password: `Debug` shows `[REDACTED]`.
    pub database_url: secrecy::SecretString,
    pub auth_issuer: String,
    pub keys_from: KeysFrom,
    pub audiences: Vec<String>,
    /// Start even if the auth server is unreachable (public reads work; writes get 503 until keys load).
    pub auth_lazy_start: bool,
    /// Verified tokens cached (`AUTH_TOKEN_CACHE`, 0: off).
    pub auth_token_cache: usize,
    /// Following the auth server's security-event feed (`AUTH_EVENTS_API_KEY`…).
    pub revocation: Option<signet_service::auth::RevocationSettings>,
    /// Where browsers reach the blog (`PUBLIC_URL`): the OIDC redirect URI
    /// is `{public_url}/auth/callback`. `None`: `http://` + the bound address.
    pub public_url: Option<String>,
    /// Origins DPoP proofs may name (`DPOP_ORIGINS`; default the public URL).
    pub dpop_origins: Vec<String>,
    /// `None`: `POST /api/v1/admin/scrape` answers 404.
    pub scraper: Option<ScraperLink>,
    /// `None`: pages are read-only and "Sign in" is not offered.
    pub web_sign_in: Option<WebSignIn>,
    /// A browser session ends this long after sign-in (`WEB_SESSION_LIFETIME`).
    pub web_session_lifetime: Duration,
    /// …or after this long unused (`WEB_SESSION_IDLE_TIMEOUT`).
    pub web_session_idle: Duration,
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
        let keys_from = match env.http_url("AUTH_JWKS_URL", None)? {
            Some(url) => KeysFrom::Jwks(url.to_string()),
            None => KeysFrom::Discovery,
        };
        let audiences = env.list("AUTH_AUDIENCE", "signet")?;
        let revocation = signet_service::auth::RevocationSettings::from_env(&env, &auth_issuer)?;
        let public_url = env
            .http_url("PUBLIC_URL", None)?
            .map(|u| u.as_str().trim_end_matches('/').to_owned());
        let web_sign_in = match (
            env.get("OIDC_CLIENT_ID"),
            env.secret("OIDC_CLIENT_SECRET", "OIDC_CLIENT_SECRET_FILE")?,
        ) {
            (Some(client_id), Some(secret)) => Some(WebSignIn {
                client_id: client_id.trim().to_owned(),
                client_secret: secret.into(),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "OIDC_CLIENT_SECRET",
                    "is required with OIDC_CLIENT_ID (the blog is a confidential client)",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "OIDC_CLIENT_ID",
                    "is required with OIDC_CLIENT_SECRET",
                ))
            }
        };
        let scraper =
            match (
                env.http_url("SCRAPER_URL", None)?,
                env.secret("BLOG_API_KEY", "BLOG_API_KEY_FILE")?,
            ) {
                (None, None) => None,
                (Some(url), Some(api_key)) => {
                    let api_key = api_key.trim().to_owned();
                    if jwt_verify::api_key_client_id(&api_key).is_none() {
                        return Err(ConfigError::new(
                            "BLOG_API_KEY",
                            "must be a Signet API key (sgn_<id>_<secret>)",
                        ));
                    }
                    let default_token_url = format!("{auth_issuer}/oauth/token");
                    Some(ScraperLink {
                        url: url.as_str().trim_end_matches('/').to_owned(),
                        audience: env
                            .get("SCRAPER_AUDIENCE")
                            .unwrap_or_else(|| "scraper".to_owned()),
                        token_url: env
                            .http_url("AUTH_TOKEN_URL", Some(&default_token_url))?
                            .map(|u| u.to_string())
                            .unwrap_or(default_token_url),
                        api_key: api_key.into(),
                    })
                }
                (Some(_), None) => return Err(ConfigError::new(
                    "BLOG_API_KEY",
                    "is required with SCRAPER_URL (the blog exchanges tokens with its own API key)",
                )),
                (None, Some(_)) => {
                    return Err(ConfigError::new(
                        "SCRAPER_URL",
                        "is required with BLOG_API_KEY",
                    ))
                }
            };
        let bind_addr = env.socket_addr("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8081)))?;
        let dpop_origins = signet_service::auth::dpop_origins(
            &env,
            &public_url
                .clone()
                .unwrap_or_else(|| format!("http://{bind_addr}")),
        )?;
        Ok(Self {
            bind_addr,
            dpop_origins,
            scraper,
            metrics_addr: env
                .socket_addr("METRICS_ADDR", SocketAddr::from(([127, 0, 0, 1], 9081)))?,
            database_url: env.database_url("sqlite://data/blog.db?mode=rwc")?.into(),
            auth_issuer,
            keys_from,
            audiences,
            auth_lazy_start: env.bool("AUTH_LAZY_START", true)?,
            auth_token_cache: env.parse("AUTH_TOKEN_CACHE", 0)?,
            revocation,
            public_url,
            web_sign_in,
            web_session_lifetime: env
                .duration("WEB_SESSION_LIFETIME", Duration::from_secs(12 * 3600))?,
            web_session_idle: env
                .duration("WEB_SESSION_IDLE_TIMEOUT", Duration::from_secs(2 * 3600))?,
            log_format: env.log_format()?,
            max_body_bytes: env.positive("MAX_BODY_BYTES", 256 * 1024)?,
            access_log: env.bool("ACCESS_LOG", false)?,
            cors: env.cors_origins()?,
            db_max_connections: env.positive("DB_MAX_CONNECTIONS", 10)?,
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
    fn defaults_point_at_the_local_auth_server_through_discovery() {
        let config = Config::from_lookup(|_| None).expect("defaults");
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8081");
        assert_eq!(config.auth_issuer, "http://127.0.0.1:8080");
        assert!(matches!(config.keys_from, KeysFrom::Discovery));
        assert_eq!(config.audiences, vec!["signet"]);
        assert!(config.web_sign_in.is_none(), "read-only pages by default");
        assert!(config.public_url.is_none());
    }

    #[test]
    fn a_client_id_needs_its_secret_and_the_secret_is_redacted() {
        let error = Config::from_lookup(|n| (n == "OIDC_CLIENT_ID").then(|| "c".to_owned()))
            .expect_err("secret missing");
        assert_eq!(error.variable, "OIDC_CLIENT_SECRET");
        let error = Config::from_lookup(|n| (n == "OIDC_CLIENT_SECRET").then(|| "s".to_owned()))
            .expect_err("id missing");
        assert_eq!(error.variable, "OIDC_CLIENT_ID");
        let config = Config::from_lookup(|n| match n {
            "OIDC_CLIENT_ID" => Some("sgc_1".into()),
            "OIDC_CLIENT_SECRET" => Some("hunter2-hunter2".into()),
            _ => None,
        })
        .expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("AUTH_JWKS_URL", "ftp://x"),
            ("AUTH_ISSUER", "nope"),
            ("BIND_ADDR", "x"),
            ("METRICS_ADDR", "localhost"),
            ("AUTH_AUDIENCE", ","),
            ("PUBLIC_URL", "localhost:8081"),
            ("WEB_SESSION_LIFETIME", "forever"),
            ("WEB_SESSION_IDLE_TIMEOUT", "-1s"),
        ] {
            let error =
                Config::from_lookup(|n| (n == name).then(|| value.to_owned())).expect_err(name);
            assert_eq!(error.variable, name);
        }
    }

    #[test]
    fn the_scraper_link_needs_both_its_url_and_the_blogs_api_key() {
        let key = ("BLOG_API_KEY", "sgn_abcdefghijklmnop_s3cr3t");
        let url = ("SCRAPER_URL", "http://127.0.0.1:8082/");
        assert!(with(&[]).expect("ok").scraper.is_none());
        assert_eq!(with(&[url]).expect_err("no key").variable, "BLOG_API_KEY");
        assert_eq!(with(&[key]).expect_err("no url").variable, "SCRAPER_URL");
        assert_eq!(
            with(&[url, ("BLOG_API_KEY", "hunter2")])
                .expect_err("not a key")
                .variable,
            "BLOG_API_KEY"
        );
        let config = with(&[url, key]).expect("ok");
        let link = config.scraper.as_ref().expect("link");
        assert_eq!(link.url, "http://127.0.0.1:8082");
        assert_eq!(link.audience, "scraper");
        assert_eq!(link.token_url, "http://127.0.0.1:8080/oauth/token");
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }

    #[test]
    fn dpop_origins_default_to_the_public_url_and_must_be_urls() {
        assert_eq!(
            with(&[("PUBLIC_URL", "https://blog.example.com")])
                .expect("ok")
                .dpop_origins,
            ["https://blog.example.com"]
        );
        assert_eq!(
            with(&[]).expect("ok").dpop_origins,
            ["http://127.0.0.1:8081"]
        );
        assert_eq!(
            with(&[("DPOP_ORIGINS", "blog.example.com")])
                .expect_err("not a URL")
                .variable,
            "DPOP_ORIGINS"
        );
    }
}
