//! Configuration from the environment (and `.env`), validated once at start.
//!
//! Every variable is documented in docs/CONFIGURATION.md with its default. A bad value
//! fails start-up with one line naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use signet_service::config::Env;
pub use signet_service::config::{parse_duration, ConfigError, LogFormat};

/// Where the signing key comes from, in order of precedence.
#[derive(Clone)]
pub enum PrivateKeySource {
    /// `JWT_PRIVATE_KEY`: the PEM itself (literal `\n` escapes allowed).
    Inline(String),
    /// `JWT_PRIVATE_KEY_FILE`: a path to a PEM file.
    File(PathBuf),
    /// Every `*.pem` in `KEYS_DIR`; generated there on first run if allowed.
    Directory,
}

impl std::fmt::Debug for PrivateKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Directory => f.write_str("Directory"),
        }
    }
}

/// `KEY_ENCRYPTION_KEY`, decoded; `Debug` never shows it.
#[derive(Clone)]
pub struct KeyEncryptionKey([u8; 32]);

impl KeyEncryptionKey {
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey([REDACTED])")
    }
}

// Plain settings the domain modules take; config.rs imports nothing from them.

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: std::time::Duration,
    pub absolute: std::time::Duration,
    pub reuse_grace: std::time::Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct RotationPolicy {
    /// How long a new key is published before it signs (≥ JWKS max-age).
    pub publish_delay: Duration,
    /// How long a retired key stays published (≥ the longest token lifetime).
    pub retire_after: Duration,
    /// Rotate on this schedule (zero: only on `auth-server keys rotate`).
    pub rotation_interval: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct RetentionPolicy {
    /// How long an ended session (and its token chain) is kept after it ended.
    pub ended_sessions: Duration,
    /// How long a rotated refresh token is kept in a live session.
    pub rotated_tokens: Duration,
    pub audit_events: Duration,
    /// Rows deleted per statement.
    pub batch: u64,
    /// Zero: no background purge.
    pub interval: Duration,
}

/// `N/period`, e.g. `10/1m`: a bucket of N tokens refilled evenly over the period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub period: Duration,
}

impl Rate {
    pub fn parse(variable: &'static str, raw: &str) -> Result<Self, ConfigError> {
        let (count, period) = raw.split_once('/').ok_or_else(|| {
            ConfigError::new(
                variable,
                format!("expected N/period like 10/1m, got {raw:?}"),
            )
        })?;
        let burst: u32 = count
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(variable, format!("{count:?} is not a count")))?;
        let period = signet_service::config::parse_duration(period)
            .map_err(|e| ConfigError::new(variable, e))?;
        if burst == 0 || period.is_zero() {
            return Err(ConfigError::new(
                variable,
                "count and period must be greater than zero",
            ));
        }
        Ok(Self { burst, period })
    }

    pub fn per_second(&self) -> f64 {
        f64::from(self.burst) / self.period.as_secs_f64()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub login_per_ip: Rate,
    pub signup_per_ip: Rate,
    pub token_per_ip: Rate,
    /// `/oauth/revoke` and `/oauth/introspect`, per (client, client IP).
    pub revoke_per_client: Rate,
    /// Mails a stranger can cause to one address (sign-ups, reset requests).
    pub mail_per_address: Rate,
    /// Password-reset requests per client IP.
    pub reset_per_ip: Rate,
    /// Failures of one (account, client IP) pair before its back-off starts.
    pub account_free_failures: u32,
    /// Failures of one account from all clients together before the account
    /// itself is slowed down: much higher, so a stranger guessing from a few
    /// addresses cannot lock the owner out, while distributed guessing still slows.
    pub account_ceiling_failures: u32,
    pub account_max_backoff: Duration,
    /// Password hashes one client IP or one account may have queued at once.
    pub hashes_in_flight_per_client: usize,
    /// On PostgreSQL, keep the limits in the database for every replica
    /// (`RATE_LIMIT_SHARED`); ignored on SQLite (one process).
    pub shared: bool,
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Config {
    /// OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    /// `/metrics` is served here only (loopback by default), never on `bind_addr`.
    pub metrics_addr: SocketAddr,
    /// May hold a password: `Debug` shows `[REDACTED]`.
    pub database_url: SecretString,
    pub issuer: String,
    /// `JWT_AUDIENCE`: the resources (services) tokens may be issued for.
    pub audiences: Vec<String>,
    /// `ACCOUNT_AUDIENCE`: auth-server's own API; only its own routes accept it.
    pub account_audience: String,
    /// `LOGIN_DEFAULT_AUDIENCE`: the audience of a password login that names none.
    pub login_audience: String,
    pub access_token_ttl: Duration,
    pub service_token_ttl: Duration,
    pub api_key_last_used_interval: Duration,
    pub sessions: SessionPolicy,
    pub retention: RetentionPolicy,
    /// Peers whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub limits: Limits,
    /// `KEY_ENCRYPTION_KEY`: set = keys live in the database (shared by replicas, rotatable).
    pub key_encryption_key: Option<KeyEncryptionKey>,
    pub rotation: RotationPolicy,
    pub key_refresh_interval: Duration,
    pub keys_dir: PathBuf,
    pub private_key: PrivateKeySource,
    pub generate_dev_key: bool,
    /// `MFA_REQUIRED_ROLES`: accounts with one of these roles must sign in
    /// with a second factor (set one up at their next sign-in).
    pub mfa_required_roles: Vec<String>,
    /// Passkeys: the relying party (`WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGIN`).
    pub passkeys: PasskeySettings,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    /// `ACCESS_LOG`: one INFO line per request (method, route, status, duration).
    pub access_log: bool,
    /// `CORS_ALLOWED_ORIGINS`: browsers on these origins may call the
    /// cross-origin endpoints (none by default).
    pub cors: signet_service::config::CorsOrigins,
    pub argon2: Argon2Config,
    pub password_hash_concurrency: usize,
    pub jwks_max_age: Duration,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    pub shutdown_grace: Duration,
    /// `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT`, `HTTP_MAX_CONNECTIONS`.
    pub server_limits: signet_service::http::ServerLimits,
    pub mail: MailSettings,
    /// `BRAND_NAME`, `BRAND_ACCENT_COLOR`, `BRAND_LOGO_FILE`: how the pages look.
    pub brand: BrandSettings,
    /// `UPSTREAM_PROVIDERS`: who people may sign in with besides a password.
    pub upstream: Vec<UpstreamProvider>,
    pub first_party_client_id: String,
    pub user_scope: String,
    /// `GATEWAY_PROTECTED_ORIGINS`: the origins (`scheme://host[:port]`)
    /// whose browsers forward-auth may send to the sign-in page and back.
    /// Empty: forward-auth answers every request without a token with 401.
    pub gateway_origins: Vec<String>,
    /// `CLIENT_METADATA_DOCUMENTS`, `CLIENT_METADATA_HOSTS`,
    /// `CLIENT_METADATA_ALLOW_LOCALHOST`: clients identified by the URL of
    /// their metadata document.
    pub client_documents: ClientDocumentSettings,
    /// `REGISTRATION_TOKEN` / `REGISTRATION_TOKEN_FILE`: the initial access
    /// token of RFC 7591 dynamic registration (`None`: registration is off).
    pub registration_token: Option<SecretString>,
}

/// Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document):
/// a `client_id` that is an `https` URL names a JSON document the client
/// publishes, fetched (under the address policy) instead of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientDocumentSettings {
    /// `CLIENT_METADATA_DOCUMENTS`: `on` (default) or `off`.
    pub enabled: bool,
    /// `CLIENT_METADATA_HOSTS`: the only hosts documents may come from
    /// (exact, lower-case names); empty: any public host.
    pub hosts: Vec<String>,
    /// `CLIENT_METADATA_ALLOW_LOCALHOST`: also `http://localhost:<port>/…`
    /// documents, fetched from loopback (development only).
    pub allow_localhost: bool,
}

impl Default for ClientDocumentSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            hosts: Vec::new(),
            allow_localhost: false,
        }
    }
}

impl ClientDocumentSettings {
    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let enabled = match env
            .get("CLIENT_METADATA_DOCUMENTS")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("on") => true,
            Some("off") => false,
            Some(_) => {
                return Err(ConfigError::new(
                    "CLIENT_METADATA_DOCUMENTS",
                    "expected on or off",
                ))
            }
        };
        let hosts = env
            .get("CLIENT_METADATA_HOSTS")
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .map(|host| match url::Host::parse(&host) {
                Ok(url::Host::Domain(name)) if name == host && !host.contains('*') => Ok(host),
                _ => Err(ConfigError::new(
                    "CLIENT_METADATA_HOSTS",
                    "expected comma-separated host names (no scheme, port, path, wildcard or IP address)",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            enabled,
            hosts,
            allow_localhost: env.bool("CLIENT_METADATA_ALLOW_LOCALHOST", false)?,
        })
    }
}

/// `localhost` or a loopback address: the only hosts plain `http` is
/// accepted for (redirect URIs, gateway origins).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        // A URL of a scheme the url crate does not know (smtp://) leaves an
        // IP address as text.
        url::Host::Domain(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Each an origin: https, or http on loopback; no path, query or fragment.
fn parse_origins(variable: &'static str, values: Vec<String>) -> Result<Vec<String>, ConfigError> {
    values
        .into_iter()
        .map(|raw| {
            let url = url::Url::parse(raw.trim())
                .map_err(|e| ConfigError::new(variable, format!("{raw:?} is not a URL: {e}")))?;
            let secure = url.scheme() == "https"
                || (url.scheme() == "http" && url.host().as_ref().is_some_and(is_loopback_host));
            if !secure
                || url.path() != "/"
                || url.query().is_some()
                || url.fragment().is_some()
                || !url.username().is_empty()
            {
                return Err(ConfigError::new(
                    variable,
                    format!("{raw:?} must be an origin: https://host[:port] (http only for localhost or loopback), no path"),
                ));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

fn parse_issuer(raw: &str) -> Result<String, ConfigError> {
    parse_issuer_named("JWT_ISSUER", raw)
}

/// An issuer URL read from `variable`.
fn parse_issuer_named(variable: &'static str, raw: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(raw)
        .map_err(|e| ConfigError::new(variable, format!("not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ConfigError::new(
            variable,
            "must be an http(s) URL without query or fragment (OIDC Discovery §3)",
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// An upstream OpenID provider people may sign in with ("Sign in with
/// Google"): `UPSTREAM_PROVIDERS=google,corp`, then per provider, its name
/// upper-cased with `-` as `_`: `UPSTREAM_<NAME>_ISSUER`, `_CLIENT_ID`,
/// `_CLIENT_SECRET` (or `_CLIENT_SECRET_FILE`), `_DISPLAY_NAME`, `_SCOPES`,
/// `_ALLOWED_DOMAINS`.
#[derive(Clone)]
pub struct UpstreamProvider {
    /// Lower-case, as in `UPSTREAM_PROVIDERS` and the callback path.
    pub name: String,
    /// Discovery is read from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// "Sign in with {display_name}".
    pub display_name: String,
    /// Space-separated; `openid` always among them.
    pub scopes: String,
    /// Email domains allowed (lower-case); empty: any. For Google, checked
    /// against the `hd` claim as well as the address.
    pub allowed_domains: Vec<String>,
}

impl std::fmt::Debug for UpstreamProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("display_name", &self.display_name)
            .field("scopes", &self.scopes)
            .field("allowed_domains", &self.allowed_domains)
            .finish()
    }
}

/// The variable name for `provider`'s `suffix`, kept for the process's
/// life (a start-up error names it, then the process ends).
fn upstream_variable(provider: &str, suffix: &str) -> &'static str {
    let name = format!(
        "UPSTREAM_{}_{suffix}",
        provider.to_ascii_uppercase().replace('-', "_")
    );
    Box::leak(name.into_boxed_str())
}

/// `UPSTREAM_PROVIDERS` and each provider's variables. A provider named but
/// half-configured stops start-up, naming the missing variable.
fn upstream_providers<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Vec<UpstreamProvider>, ConfigError> {
    let Some(list) = env.get("UPSTREAM_PROVIDERS") else {
        return Ok(Vec::new());
    };
    let mut providers: Vec<UpstreamProvider> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let valid = name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && name.starts_with(|c: char| c.is_ascii_lowercase());
        if !valid {
            return Err(ConfigError::new(
                "UPSTREAM_PROVIDERS",
                "names are lower-case letters, digits and '-', starting with a letter (at most 32)",
            ));
        }
        if providers.iter().any(|p| p.name == name) {
            return Err(ConfigError::new(
                "UPSTREAM_PROVIDERS",
                format!("{name} is listed twice"),
            ));
        }
        let google = name == "google";
        let var = |suffix| upstream_variable(name, suffix);
        let issuer = match env.get(var("ISSUER")) {
            Some(raw) => {
                let issuer = parse_issuer_named(var("ISSUER"), raw.trim())?;
                let loopback = url::Url::parse(&issuer)
                    .ok()
                    .and_then(|u| u.host().map(|h| is_loopback_host(&h)))
                    .unwrap_or(false);
                if !issuer.starts_with("https://") && !loopback {
                    return Err(ConfigError::new(
                        var("ISSUER"),
                        "must be https (http only on a loopback address)",
                    ));
                }
                issuer
            }
            None if google => "https://accounts.google.com".to_owned(),
            None => {
                return Err(ConfigError::new(
                    var("ISSUER"),
                    "is required for this provider",
                ))
            }
        };
        let client_id = env
            .get(var("CLIENT_ID"))
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ConfigError::new(var("CLIENT_ID"), "is required for this provider"))?;
        let client_secret = env
            .secret(var("CLIENT_SECRET"), var("CLIENT_SECRET_FILE"))?
            .ok_or_else(|| {
                ConfigError::new(
                    var("CLIENT_SECRET"),
                    format!(
                        "is required for this provider (or {})",
                        var("CLIENT_SECRET_FILE")
                    ),
                )
            })?;
        let display_name = match env.get(var("DISPLAY_NAME")) {
            Some(display) if !display.trim().is_empty() && display.trim().chars().count() <= 40 => {
                display.trim().to_owned()
            }
            Some(_) => {
                return Err(ConfigError::new(
                    var("DISPLAY_NAME"),
                    "must be 1 to 40 characters",
                ))
            }
            None if google => "Google".to_owned(),
            None => {
                let mut chars = name.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            }
        };
        let scopes: Vec<String> = env
            .get(var("SCOPES"))
            .unwrap_or_else(|| "openid email profile".to_owned())
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(ConfigError::new(var("SCOPES"), "must include openid"));
        }
        let allowed_domains = env
            .get(var("ALLOWED_DOMAINS"))
            .unwrap_or_default()
            .split(',')
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        providers.push(UpstreamProvider {
            name: name.to_owned(),
            issuer,
            client_id,
            client_secret: SecretString::from(client_secret),
            display_name,
            scopes: scopes.join(" "),
            allowed_domains,
        });
    }
    Ok(providers)
}

/// Outgoing mail and what depends on it.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `SMTP_URL` (or `SMTP_URL_FILE`): `smtp://user:pass@host:587`
    /// (STARTTLS, required except to a loopback host) or `smtps://…`
    /// (implicit TLS). `None`: mail goes to `outbox_dir` as `.eml` files.
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`: the sender, `Name <address>` or an address.
    pub from: String,
    /// `MAIL_OUTBOX_DIR` (default `data/outbox`).
    pub outbox_dir: PathBuf,
    /// `REQUIRE_VERIFIED_EMAIL`: refuse password sign-in until the address
    /// is verified (default `false`: allowed, with `email_verified: false`).
    pub require_verified_email: bool,
}

impl MailSettings {
    fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        issuer: &str,
    ) -> Result<Self, ConfigError> {
        let smtp_url = env.secret("SMTP_URL", "SMTP_URL_FILE")?;
        if let Some(url) = &smtp_url {
            if let Some(problem) = smtp_url_problem(url) {
                return Err(ConfigError::new("SMTP_URL", problem));
            }
        }
        let from = match env.get("MAIL_FROM") {
            Some(from) => from.trim().to_owned(),
            None => {
                let host = url::Url::parse(issuer)
                    .ok()
                    .and_then(|u| match u.host() {
                        Some(url::Host::Domain(d)) => Some(d.to_owned()),
                        _ => None,
                    })
                    .unwrap_or_else(|| "localhost".to_owned());
                format!("Signet <noreply@{host}>")
            }
        };
        if from.chars().any(char::is_control) || from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "MAIL_FROM",
                "must be an address, or Name <address>, on one line",
            ));
        }
        Ok(Self {
            smtp_url: smtp_url.map(SecretString::from),
            from,
            outbox_dir: PathBuf::from(
                env.get("MAIL_OUTBOX_DIR")
                    .unwrap_or_else(|| "data/outbox".to_owned()),
            ),
            require_verified_email: env.bool("REQUIRE_VERIFIED_EMAIL", false)?,
        })
    }
}

/// How the pages look (the logo file is read at start-up, see
/// `web::brand`).
#[derive(Debug, Clone)]
pub struct BrandSettings {
    /// `BRAND_NAME` (default `Signet`): page titles and the header.
    pub name: String,
    /// `BRAND_ACCENT_COLOR`: `#rrggbb` for buttons, links and focus rings;
    /// `None`: Signet's blue.
    pub accent: Option<[u8; 3]>,
    /// `BRAND_LOGO_FILE`: an SVG, PNG, JPEG or WebP image shown beside the
    /// name; `None`: Signet's mark.
    pub logo_file: Option<PathBuf>,
    /// `DEFAULT_LOCALE` (default `en`): the language of pages and mails when
    /// neither `ui_locales` nor the browser's `Accept-Language` names one
    /// with a catalogue; one of [`LOCALES`].
    pub default_locale: String,
}

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The lightest page background the accent is shown on (the cards of the
/// light theme): links in the accent colour need 4.5:1 against it.
const LIGHT_CARD: [u8; 3] = [0xff, 0xff, 0xff];

impl BrandSettings {
    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let name = env
            .get("BRAND_NAME")
            .map(|n| n.trim().to_owned())
            .unwrap_or_else(|| "Signet".to_owned());
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(ConfigError::new(
                "BRAND_NAME",
                "must be 1 to 60 characters on one line",
            ));
        }
        let accent = match env.get("BRAND_ACCENT_COLOR") {
            None => None,
            Some(raw) => {
                let rgb = parse_hex_color(raw.trim()).ok_or_else(|| {
                    ConfigError::new("BRAND_ACCENT_COLOR", "must be a colour as #rrggbb")
                })?;
                if contrast(rgb, LIGHT_CARD) < 4.5 {
                    return Err(ConfigError::new(
                        "BRAND_ACCENT_COLOR",
                        "is too light: links in it need a contrast of 4.5:1 on white (WCAG 2.1 AA); choose a darker shade",
                    ));
                }
                Some(rgb)
            }
        };
        let logo_file = env.get("BRAND_LOGO_FILE").map(PathBuf::from);
        let default_locale = env
            .get("DEFAULT_LOCALE")
            .map(|l| l.trim().to_owned())
            .unwrap_or_else(|| "en".to_owned());
        if !LOCALES.contains(&default_locale.as_str()) {
            return Err(ConfigError::new(
                "DEFAULT_LOCALE",
                format!(
                    "must be a language with a catalogue: {}",
                    LOCALES.join(", ")
                ),
            ));
        }
        Ok(Self {
            name,
            accent,
            logo_file,
            default_locale,
        })
    }
}

/// `#rrggbb`.
pub fn parse_hex_color(raw: &str) -> Option<[u8; 3]> {
    let hex = raw.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2.1 relative luminance of an sRGB colour.
pub fn luminance(rgb: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
}

/// WCAG 2.1 contrast ratio of two colours (1 to 21).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

/// What is wrong with `raw` as an `SMTP_URL`, without echoing it (it may
/// hold a password).
pub fn smtp_url_problem(raw: &str) -> Option<&'static str> {
    let Ok(url) = url::Url::parse(raw) else {
        return Some("is not a URL (smtp://user:pass@host:587 or smtps://user:pass@host:465)");
    };
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Some("must start with smtp:// (STARTTLS) or smtps:// (implicit TLS)");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some("names no host");
    }
    if url.path().len() > 1 || url.query().is_some() || url.fragment().is_some() {
        return Some("must be scheme://[user:pass@]host[:port] with nothing after it");
    }
    None
}

/// Where passkeys work: the relying party id (a domain: browsers refuse an
/// IP address) and the one origin the pages are served on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeySettings {
    On {
        rp_id: String,
        origin: url::Url,
    },
    /// Derived from a `JWT_ISSUER` whose host is an IP address (the
    /// development default): passkeys are off, with a warning at start.
    Off {
        reason: String,
    },
}

fn passkey_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    issuer: &str,
) -> Result<PasskeySettings, ConfigError> {
    let explicit_origin = env.get("WEBAUTHN_ORIGIN").map(|o| o.trim().to_owned());
    let explicit_rp = env.get("WEBAUTHN_RP_ID").map(|r| r.trim().to_owned());
    let rp_is_domain = |rp_id: &str| {
        matches!(url::Host::parse(rp_id), Ok(url::Host::Domain(_))) && !rp_id.contains(':')
    };
    if explicit_rp
        .as_deref()
        .is_some_and(|rp| !rp_is_domain(&rp.to_ascii_lowercase()))
    {
        return Err(ConfigError::new(
            "WEBAUTHN_RP_ID",
            "must be a domain such as auth.example.com or localhost, without scheme or port (not an IP address)",
        ));
    }
    let origin_text = explicit_origin.clone().unwrap_or_else(|| issuer.to_owned());
    let name = if explicit_origin.is_some() {
        "WEBAUTHN_ORIGIN"
    } else {
        "JWT_ISSUER"
    };
    let origin = url::Url::parse(&origin_text).map_err(|_| {
        ConfigError::new(
            "WEBAUTHN_ORIGIN",
            "must be an origin such as https://auth.example.com",
        )
    })?;
    let origin_host = match origin.host() {
        Some(url::Host::Domain(domain)) => domain.to_ascii_lowercase(),
        Some(_) if explicit_origin.is_none() && explicit_rp.is_none() => {
            return Ok(PasskeySettings::Off {
                reason: format!(
                    "JWT_ISSUER {issuer} names an IP address, which browsers refuse as a WebAuthn relying party: use http://localhost:<port> or set WEBAUTHN_RP_ID"
                ),
            })
        }
        _ => {
            return Err(ConfigError::new(
                name,
                "must name a host by domain (browsers refuse an IP address for passkeys; use localhost in development)",
            ))
        }
    };
    let local = origin_host == "localhost" || origin_host.ends_with(".localhost");
    if origin.scheme() != "https" && !(origin.scheme() == "http" && local) {
        if explicit_origin.is_none() && explicit_rp.is_none() {
            return Ok(PasskeySettings::Off {
                reason: format!(
                    "JWT_ISSUER {issuer} is plain http on a host other than localhost, where browsers offer no passkeys: serve it over https"
                ),
            });
        }
        return Err(ConfigError::new(
            name,
            "must be https (plain http only on localhost) for passkeys",
        ));
    }
    let rp_id = match explicit_rp {
        None => origin_host.clone(),
        Some(rp_id) => {
            let rp_id = rp_id.to_ascii_lowercase();
            if origin_host != rp_id && !origin_host.ends_with(&format!(".{rp_id}")) {
                return Err(ConfigError::new(
                    "WEBAUTHN_RP_ID",
                    "must be the host of WEBAUTHN_ORIGIN or a parent domain of it",
                ));
            }
            rp_id
        }
    };
    let origin = url::Url::parse(&origin.origin().ascii_serialization())
        .map_err(|_| ConfigError::new(name, "must be an origin"))?;
    Ok(PasskeySettings::On { rp_id, origin })
}

impl Config {
    /// The audience of access tokens a client with no resource gets: good
    /// at `/oauth/userinfo` only (no service and no account route takes it).
    pub fn userinfo_audience(&self) -> String {
        format!("{}/oauth/userinfo", self.issuer)
    }

    /// Whether a signed-in user may ask for a token for `audience`.
    pub fn user_may_request(&self, audience: &str) -> bool {
        audience == self.account_audience || self.audiences.iter().any(|a| a == audience)
    }

    /// Read the process environment (after `.env`, which `main` loads).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read configuration through `lookup` (variable name → value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let bind_addr: SocketAddr =
            env.socket_addr("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let metrics_addr: SocketAddr =
            env.socket_addr("METRICS_ADDR", SocketAddr::from(([127, 0, 0, 1], 9080)))?;
        let database_url = SecretString::from(env.database_url("sqlite://data/auth.db?mode=rwc")?);
        let issuer = match env.get("JWT_ISSUER") {
            Some(raw) => parse_issuer(raw.trim())?,
            None => format!("http://{bind_addr}"),
        };
        let passkeys = passkey_settings(&env, &issuer)?;
        let audiences = env.list("JWT_AUDIENCE", "signet")?;
        let account_audience = env
            .get("ACCOUNT_AUDIENCE")
            .map(|a| a.trim().to_owned())
            .unwrap_or_else(|| "signet-account".to_owned());
        if account_audience.is_empty() || audiences.contains(&account_audience) {
            return Err(ConfigError::new(
                "ACCOUNT_AUDIENCE",
                "must be set and differ from every JWT_AUDIENCE value: a token for a service must not open this server's own API",
            ));
        }
        let login_audience = env
            .get("LOGIN_DEFAULT_AUDIENCE")
            .map(|a| a.trim().to_owned())
            .unwrap_or_else(|| audiences[0].clone());
        if login_audience != account_audience && !audiences.contains(&login_audience) {
            return Err(ConfigError::new(
                "LOGIN_DEFAULT_AUDIENCE",
                "must be one of JWT_AUDIENCE or ACCOUNT_AUDIENCE",
            ));
        }
        let access_token_ttl = env.duration("ACCESS_TOKEN_TTL", Duration::from_secs(15 * 60))?;
        if access_token_ttl > Duration::from_secs(24 * 3600) {
            return Err(ConfigError::new(
                "ACCESS_TOKEN_TTL",
                "must be at most 24h: access tokens are meant to be short-lived",
            ));
        }
        let service_token_ttl = env.duration("SERVICE_TOKEN_TTL", Duration::from_secs(5 * 60))?;
        if service_token_ttl > Duration::from_secs(24 * 3600) {
            return Err(ConfigError::new("SERVICE_TOKEN_TTL", "must be at most 24h"));
        }
        let sessions = SessionPolicy {
            idle: env.duration("REFRESH_IDLE_TTL", Duration::from_secs(14 * 24 * 3600))?,
            absolute: env.duration("REFRESH_ABSOLUTE_TTL", Duration::from_secs(30 * 24 * 3600))?,
            reuse_grace: env.duration_or_zero("REFRESH_REUSE_GRACE", Duration::from_secs(5))?,
        };
        if sessions.reuse_grace > Duration::from_secs(60) {
            return Err(ConfigError::new(
                "REFRESH_REUSE_GRACE",
                "must be at most 60s: it is a retry allowance",
            ));
        }
        let retention = RetentionPolicy {
            ended_sessions: env
                .duration("SESSION_RETENTION", Duration::from_secs(7 * 24 * 3600))?,
            rotated_tokens: sessions.idle,
            audit_events: env.duration("AUDIT_RETENTION", Duration::from_secs(90 * 24 * 3600))?,
            batch: 1000,
            interval: env.duration_or_zero("RETENTION_INTERVAL", Duration::from_secs(3600))?,
        };
        let mut trusted_proxies = Vec::new();
        for raw in env
            .get("TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            trusted_proxies.push(raw.parse().map_err(|_| {
                ConfigError::new("TRUSTED_PROXIES", format!("{raw:?} is not an IP address"))
            })?);
        }
        let rate = |name: &'static str, default: &str| {
            Rate::parse(name, &env.get(name).unwrap_or_else(|| default.to_owned()))
        };
        let account_free_failures: u32 = env.positive("LOGIN_FAILURES_BEFORE_BACKOFF", 5)?;
        let limits = Limits {
            login_per_ip: rate("RATE_LIMIT_LOGIN_PER_IP", "30/1m")?,
            signup_per_ip: rate("RATE_LIMIT_SIGNUP_PER_IP", "10/1m")?,
            token_per_ip: rate("RATE_LIMIT_TOKEN_PER_IP", "300/1m")?,
            revoke_per_client: rate("RATE_LIMIT_REVOKE_PER_CLIENT", "120/1m")?,
            mail_per_address: rate("RATE_LIMIT_MAIL_PER_ADDRESS", "5/1h")?,
            reset_per_ip: rate("RATE_LIMIT_PASSWORD_RESET_PER_IP", "10/1m")?,
            account_free_failures,
            account_ceiling_failures: env.positive(
                "LOGIN_ACCOUNT_FAILURE_CEILING",
                account_free_failures.saturating_mul(10),
            )?,
            account_max_backoff: env.duration("LOGIN_MAX_BACKOFF", Duration::from_secs(15 * 60))?,
            hashes_in_flight_per_client: env.positive("PASSWORD_HASH_QUEUE_PER_CLIENT", 8)?,
            shared: env.bool("RATE_LIMIT_SHARED", true)?,
        };
        if limits.account_ceiling_failures < limits.account_free_failures {
            return Err(ConfigError::new(
                "LOGIN_ACCOUNT_FAILURE_CEILING",
                "must be at least LOGIN_FAILURES_BEFORE_BACKOFF",
            ));
        }
        let key_encryption_key =
            match env.secret("KEY_ENCRYPTION_KEY", "KEY_ENCRYPTION_KEY_FILE")? {
                None => None,
                Some(raw) => {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(raw.trim())
                        .map_err(|_| {
                            ConfigError::new(
                                "KEY_ENCRYPTION_KEY",
                                "must be base64 (e.g. `openssl rand -base64 32`)",
                            )
                        })?;
                    let key: [u8; 32] = bytes.try_into().map_err(|_| {
                        ConfigError::new("KEY_ENCRYPTION_KEY", "must decode to exactly 32 bytes")
                    })?;
                    Some(KeyEncryptionKey(key))
                }
            };
        let jwks_max_age = env.duration("JWKS_MAX_AGE", Duration::from_secs(300))?;
        if jwks_max_age < Duration::from_secs(1) {
            return Err(ConfigError::new(
                "JWKS_MAX_AGE",
                "must be at least 1s: jwt-verify refreshes no more often, so a shorter max-age would not be honoured",
            ));
        }
        let publish_delay = env.duration("KEY_PUBLISH_DELAY", jwks_max_age)?;
        if publish_delay < jwks_max_age {
            return Err(ConfigError::new(
                "KEY_PUBLISH_DELAY",
                "must be at least JWKS_MAX_AGE, so verifiers hold a key before it signs",
            ));
        }
        let longest_token = access_token_ttl.max(service_token_ttl);
        let rotation = RotationPolicy {
            publish_delay,
            // Never shorter than a token's life: what a key signed must keep verifying.
            retire_after: env
                .duration("KEY_RETIRE_AFTER", Duration::from_secs(3600))?
                .max(longest_token),
            rotation_interval: env.duration_or_zero("KEY_ROTATION_INTERVAL", Duration::ZERO)?,
        };
        let private_key = if let Some(pem) = env.get("JWT_PRIVATE_KEY") {
            PrivateKeySource::Inline(pem.replace("\\n", "\n"))
        } else if let Some(path) = env.get("JWT_PRIVATE_KEY_FILE") {
            PrivateKeySource::File(PathBuf::from(path))
        } else {
            PrivateKeySource::Directory
        };
        let log_format = env.log_format()?;
        let argon2 = Argon2Config {
            memory_kib: env.positive("ARGON2_MEMORY_KIB", Argon2Config::default().memory_kib)?,
            iterations: env.positive("ARGON2_ITERATIONS", Argon2Config::default().iterations)?,
            parallelism: env.positive("ARGON2_PARALLELISM", Argon2Config::default().parallelism)?,
        };
        argon2::Params::new(
            argon2.memory_kib,
            argon2.iterations,
            argon2.parallelism,
            None,
        )
        .map_err(|e| {
            ConfigError::new(
                "ARGON2_MEMORY_KIB",
                format!("invalid Argon2 parameters: {e}"),
            )
        })?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let mail = MailSettings::from_env(&env, &issuer)?;
        let upstream = upstream_providers(&env)?;
        let brand = BrandSettings::from_env(&env)?;
        let client_documents = ClientDocumentSettings::from_env(&env)?;
        let registration_token = match env
            .secret("REGISTRATION_TOKEN", "REGISTRATION_TOKEN_FILE")?
        {
            None => None,
            Some(token)
                if token.len() < 32
                    || token.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                return Err(ConfigError::new(
                    "REGISTRATION_TOKEN",
                    "must be at least 32 characters without spaces (e.g. openssl rand -base64 32)",
                ))
            }
            Some(token) => Some(SecretString::from(token)),
        };
        Ok(Self {
            registration_token,
            client_documents,
            bind_addr,
            metrics_addr,
            database_url,
            issuer,
            audiences,
            account_audience,
            login_audience,
            access_token_ttl,
            service_token_ttl,
            api_key_last_used_interval: env
                .duration("API_KEY_LAST_USED_INTERVAL", Duration::from_secs(60))?,
            sessions,
            retention,
            trusted_proxies,
            limits,
            key_encryption_key,
            rotation,
            key_refresh_interval: env.duration("KEY_REFRESH_INTERVAL", Duration::from_secs(30))?,
            keys_dir: PathBuf::from(env.get("KEYS_DIR").unwrap_or_else(|| "keys".to_owned())),
            private_key,
            generate_dev_key: env.bool("GENERATE_DEV_KEY", true)?,
            passkeys,
            mfa_required_roles: env
                .get("MFA_REQUIRED_ROLES")
                .unwrap_or_default()
                .split([',', ' '])
                .map(str::trim)
                .filter(|role| !role.is_empty())
                .map(str::to_owned)
                .collect(),
            log_format,
            max_body_bytes: env.positive("MAX_BODY_BYTES", 64 * 1024)?,
            access_log: env.bool("ACCESS_LOG", false)?,
            cors: env.cors_origins()?,
            argon2,
            password_hash_concurrency: env.positive("PASSWORD_HASH_CONCURRENCY", cores)?,
            jwks_max_age,
            db_max_connections: env.positive("DB_MAX_CONNECTIONS", 10)?,
            db_acquire_timeout: env.duration("DB_ACQUIRE_TIMEOUT", Duration::from_secs(5))?,
            shutdown_grace: env.duration("SHUTDOWN_GRACE_PERIOD", Duration::from_secs(30))?,
            server_limits: signet_service::http::ServerLimits::from_env(&env)?,
            mail,
            brand,
            upstream,
            first_party_client_id: env
                .get("FIRST_PARTY_CLIENT_ID")
                .unwrap_or_else(|| "signet".to_owned()),
            user_scope: env
                .get("USER_TOKEN_SCOPE")
                .unwrap_or_else(|| "openid profile email".to_owned()),
            gateway_origins: parse_origins(
                "GATEWAY_PROTECTED_ORIGINS",
                env.get("GATEWAY_PROTECTED_ORIGINS")
                    .map(|raw| {
                        raw.split(',')
                            .map(|o| o.trim().to_owned())
                            .filter(|o| !o.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    #[test]
    fn a_brand_that_would_be_unreadable_or_malformed_stops_start_up() {
        for (name, value) in [
            ("BRAND_ACCENT_COLOR", "blue"),
            ("BRAND_ACCENT_COLOR", "#12345"),
            ("BRAND_ACCENT_COLOR", "#gg0000"),
            // 1.07:1 on white: links would be unreadable.
            ("BRAND_ACCENT_COLOR", "#f5f5f5"),
            ("BRAND_NAME", &"n".repeat(61)),
            ("BRAND_NAME", "two\nlines"),
        ] {
            let error = config(&[(name, value)]).expect_err(value);
            assert_eq!(error.variable, name, "{value:?}: {error}");
        }
        let brand = config(&[("BRAND_NAME", " Acme "), ("BRAND_ACCENT_COLOR", "#1A6B35")])
            .expect("valid")
            .brand;
        assert_eq!(brand.name, "Acme");
        assert_eq!(brand.accent, Some([0x1a, 0x6b, 0x35]));
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = config(&[
            (
                "DATABASE_URL",
                "postgres://signet:hunter2-db@db.internal/signet",
            ),
            (
                "KEY_ENCRYPTION_KEY",
                "c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXk=",
            ),
            ("REGISTRATION_TOKEN", "registration-token-0123456789abcdef"),
        ])
        .expect("valid");
        let shown = format!("{config:?}");
        assert!(!shown.contains("registration-token-0123"), "{shown}");
        assert!(!shown.contains("hunter2-db"), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(!shown.contains("115, 101, 99"), "no raw key bytes: {shown}");
    }
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn upstream_providers_are_configured_per_name_and_half_configured_ones_refused() {
        let google = config(&[
            ("UPSTREAM_PROVIDERS", "google, corp-sso"),
            (
                "UPSTREAM_GOOGLE_CLIENT_ID",
                "1234.apps.googleusercontent.com",
            ),
            ("UPSTREAM_GOOGLE_CLIENT_SECRET", "g-secret-value"),
            (
                "UPSTREAM_GOOGLE_ALLOWED_DOMAINS",
                "Example.com, @corp.example",
            ),
            ("UPSTREAM_CORP_SSO_ISSUER", "https://sso.corp.example/"),
            ("UPSTREAM_CORP_SSO_CLIENT_ID", "signet"),
            ("UPSTREAM_CORP_SSO_CLIENT_SECRET", "c-secret-value"),
            ("UPSTREAM_CORP_SSO_SCOPES", "openid email"),
        ])
        .expect("valid");
        let [g, corp] = &google.upstream[..] else {
            panic!("two providers: {:?}", google.upstream);
        };
        assert_eq!(
            (
                g.issuer.as_str(),
                g.display_name.as_str(),
                g.scopes.as_str()
            ),
            (
                "https://accounts.google.com",
                "Google",
                "openid email profile"
            ),
            "the google preset"
        );
        assert_eq!(g.allowed_domains, vec!["example.com", "corp.example"]);
        assert_eq!(
            (corp.issuer.as_str(), corp.display_name.as_str()),
            ("https://sso.corp.example", "Corp-sso")
        );
        let shown = format!("{google:?}");
        assert!(!shown.contains("secret-value"), "{shown}");

        let base = [
            ("UPSTREAM_PROVIDERS", "corp"),
            ("UPSTREAM_CORP_ISSUER", "https://sso.corp.example"),
            ("UPSTREAM_CORP_CLIENT_ID", "signet"),
            ("UPSTREAM_CORP_CLIENT_SECRET", "s"),
        ];
        assert!(config(&base).is_ok());
        for (name, value, blamed) in [
            ("UPSTREAM_CORP_ISSUER", "", "UPSTREAM_CORP_ISSUER"),
            ("UPSTREAM_CORP_CLIENT_ID", "", "UPSTREAM_CORP_CLIENT_ID"),
            (
                "UPSTREAM_CORP_CLIENT_SECRET",
                "",
                "UPSTREAM_CORP_CLIENT_SECRET",
            ),
            (
                "UPSTREAM_CORP_ISSUER",
                "http://sso.corp.example",
                "UPSTREAM_CORP_ISSUER",
            ),
            ("UPSTREAM_CORP_ISSUER", "not a url", "UPSTREAM_CORP_ISSUER"),
            (
                "UPSTREAM_CORP_SCOPES",
                "email profile",
                "UPSTREAM_CORP_SCOPES",
            ),
            ("UPSTREAM_PROVIDERS", "Corp", "UPSTREAM_PROVIDERS"),
            ("UPSTREAM_PROVIDERS", "corp,corp", "UPSTREAM_PROVIDERS"),
        ] {
            let vars: Vec<(&str, &str)> = base
                .iter()
                .copied()
                .filter(|(n, _)| *n != name)
                .chain((!value.is_empty()).then_some((name, value)))
                .collect();
            let error = config(&vars).expect_err(name);
            assert_eq!(error.variable, blamed, "{name}={value:?}: {error:?}");
        }
        // http is fine on loopback (development, tests).
        let mut local = base.to_vec();
        local[1] = ("UPSTREAM_CORP_ISSUER", "http://127.0.0.1:9000");
        assert!(config(&local).is_ok());
    }

    #[test]
    fn defaults_serve_sqlite_on_loopback_with_fifteen_minute_tokens() {
        let config = config(&[]).expect("defaults are valid");
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.issuer, "http://127.0.0.1:8080");
        assert!(config.database_url.expose_secret().starts_with("sqlite:"));
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.audiences, vec!["signet"]);
    }

    #[test]
    fn passkeys_follow_the_issuer_and_refuse_what_browsers_refuse() {
        let on = |rp: &str, origin: &str| PasskeySettings::On {
            rp_id: rp.to_owned(),
            origin: url::Url::parse(origin).expect("url"),
        };
        let settings = |vars: &[(&str, &str)]| config(vars).map(|c| c.passkeys);
        // The development default (an IP address) and plain http elsewhere
        // than localhost: off, and the server still starts.
        assert!(matches!(settings(&[]), Ok(PasskeySettings::Off { .. })));
        assert!(matches!(
            settings(&[("JWT_ISSUER", "http://auth.example.com")]),
            Ok(PasskeySettings::Off { .. })
        ));
        assert_eq!(
            settings(&[("JWT_ISSUER", "http://localhost:8080")]).expect("ok"),
            on("localhost", "http://localhost:8080")
        );
        assert_eq!(
            settings(&[("JWT_ISSUER", "https://auth.example.com/realm")]).expect("ok"),
            on("auth.example.com", "https://auth.example.com")
        );
        assert_eq!(
            settings(&[
                ("JWT_ISSUER", "https://auth.example.com"),
                ("WEBAUTHN_RP_ID", "example.com")
            ])
            .expect("a parent domain"),
            on("example.com", "https://auth.example.com")
        );
        // What was asked for explicitly and cannot work refuses to start.
        for (vars, blamed) in [
            (vec![("WEBAUTHN_RP_ID", "127.0.0.1")], "WEBAUTHN_RP_ID"),
            (
                vec![("WEBAUTHN_ORIGIN", "http://127.0.0.1:8080")],
                "WEBAUTHN_ORIGIN",
            ),
            (
                vec![("WEBAUTHN_ORIGIN", "http://auth.example.com")],
                "WEBAUTHN_ORIGIN",
            ),
            (
                vec![("WEBAUTHN_ORIGIN", "not an origin")],
                "WEBAUTHN_ORIGIN",
            ),
            (
                vec![
                    ("WEBAUTHN_ORIGIN", "https://auth.example.com"),
                    ("WEBAUTHN_RP_ID", "other.com"),
                ],
                "WEBAUTHN_RP_ID",
            ),
            (
                vec![
                    ("WEBAUTHN_ORIGIN", "https://auth.example.com"),
                    ("WEBAUTHN_RP_ID", "https://example.com"),
                ],
                "WEBAUTHN_RP_ID",
            ),
        ] {
            let error = config(&vars).expect_err("refused");
            assert_eq!(error.variable, blamed, "{vars:?}: {error:?}");
        }
    }

    #[test]
    fn ttl_accepts_seconds_and_humantime() {
        assert_eq!(
            config(&[("ACCESS_TOKEN_TTL", "600")])
                .expect("ok")
                .access_token_ttl,
            Duration::from_secs(600)
        );
        assert_eq!(
            config(&[("ACCESS_TOKEN_TTL", "5m")])
                .expect("ok")
                .access_token_ttl,
            Duration::from_secs(300)
        );
    }

    #[test]
    fn gateway_origins_are_normalised_origins() {
        let config = config(&[(
            "GATEWAY_PROTECTED_ORIGINS",
            "https://App.Example.com:443/, http://127.0.0.1:8088",
        )])
        .expect("valid");
        assert_eq!(
            config.gateway_origins,
            vec!["https://app.example.com", "http://127.0.0.1:8088"]
        );
        assert!(config_default_has_no_gateway_origins());
    }

    fn config_default_has_no_gateway_origins() -> bool {
        config(&[]).expect("defaults").gateway_origins.is_empty()
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (name, value) in [
            ("ACCESS_TOKEN_TTL", "0"),
            ("ACCESS_TOKEN_TTL", "soon"),
            ("BIND_ADDR", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("JWT_ISSUER", "not a url"),
            ("LOG_FORMAT", "xml"),
            ("MAX_BODY_BYTES", "-1"),
            ("GENERATE_DEV_KEY", "maybe"),
            ("JWT_AUDIENCE", " , "),
            ("TRUSTED_PROXIES", "10.0.0.0/8"),
            ("RATE_LIMIT_LOGIN_PER_IP", "lots"),
            ("RATE_LIMIT_TOKEN_PER_IP", "0/1m"),
            ("REFRESH_REUSE_GRACE", "5m"),
            ("KEY_ENCRYPTION_KEY", "not base64!"),
            ("KEY_ENCRYPTION_KEY", "c2hvcnQ="),
            ("KEY_PUBLISH_DELAY", "1s"),
            ("SERVICE_TOKEN_TTL", "2d"),
            ("ACCOUNT_AUDIENCE", "signet"),
            ("LOGIN_DEFAULT_AUDIENCE", "elsewhere"),
            ("LOGIN_ACCOUNT_FAILURE_CEILING", "2"),
            ("PASSWORD_HASH_QUEUE_PER_CLIENT", "0"),
            ("GATEWAY_PROTECTED_ORIGINS", "http://app.example.com"),
            ("GATEWAY_PROTECTED_ORIGINS", "https://app.example.com/path"),
            ("GATEWAY_PROTECTED_ORIGINS", "app.example.com"),
            ("JWKS_MAX_AGE", "500ms"),
            ("METRICS_ADDR", "localhost"),
            ("SESSION_RETENTION", "0"),
            ("AUDIT_RETENTION", "a while"),
            ("RETENTION_INTERVAL", "hourly"),
            ("CLIENT_METADATA_DOCUMENTS", "maybe"),
            ("CLIENT_METADATA_HOSTS", "https://apps.example.com"),
            ("CLIENT_METADATA_HOSTS", "*.example.com"),
            ("CLIENT_METADATA_HOSTS", "10.0.0.1"),
            ("CLIENT_METADATA_HOSTS", "apps.example.com:443"),
            ("CLIENT_METADATA_ALLOW_LOCALHOST", "sometimes"),
            ("REGISTRATION_TOKEN", "short"),
        ] {
            let error = config(&[(name, value)]).expect_err(name);
            assert_eq!(error.variable, name, "{error}");
        }
    }

    #[test]
    fn a_listen_address_may_name_a_host() {
        let config = config(&[("BIND_ADDR", "localhost:8080")]).expect("resolves");
        assert!(config.bind_addr.ip().is_loopback(), "{}", config.bind_addr);
        assert_eq!(config.bind_addr.port(), 8080);
    }

    #[test]
    fn inline_key_unescapes_newlines() {
        let config = config(&[(
            "JWT_PRIVATE_KEY",
            "-----BEGIN X-----\\nabc\\n-----END X-----",
        )])
        .expect("ok");
        match config.private_key {
            PrivateKeySource::Inline(pem) => assert_eq!(pem.lines().count(), 3),
            other => panic!("unexpected {other:?}"),
        }
    }
}
