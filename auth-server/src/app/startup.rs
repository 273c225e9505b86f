//! Building and running the server: shared by `main` and the integration tests,
//! so tests exercise exactly what production runs. This is the process edge,
//! so errors are `anyhow` with the failing variable in the context.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use jwt_verify::Validation;
use tokio::net::TcpListener;

use crate::accounts::password::PasswordHasher;
use crate::app::db;
use crate::app::state::AppState;
use crate::config::Config;
use crate::keys::seal::KeyEncryption;
use crate::keys::store::{KeyManager, Seed};
use crate::keys::{self, Keys};
use crate::oauth::tokens::TokenIssuer;

pub struct Application {
    mail_transport: Arc<crate::mail::Transport>,
    mail_from: lettre::message::Mailbox,
    listener: TcpListener,
    metrics_listener: TcpListener,
    state: AppState,
    grace: Duration,
    key_source: String,
}

impl Application {
    /// Load keys, connect and migrate the database, bind the port.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .with_context(|| format!("BIND_ADDR: cannot listen on {}", config.bind_addr))?;
        let local = listener
            .local_addr()
            .context("BIND_ADDR: no local address")?;
        // The default issuer follows the bound port (tests bind port 0).
        if config.issuer == format!("http://{}", config.bind_addr) {
            config.issuer = format!("http://{local}");
        }
        // So does `http://localhost:0`: a port-0 server on a domain, as
        // passkeys need (tests in a real browser).
        if config.issuer == "http://localhost:0" {
            config.issuer = format!("http://localhost:{}", local.port());
        }
        if let crate::config::PasskeySettings::On { origin, .. } = &mut config.passkeys {
            if origin.port() == Some(0) {
                let _ = origin.set_port(Some(local.port()));
            }
        }
        let metrics_listener = signet_service::http::bind_metrics(config.metrics_addr).await?;
        let mut database = db::connect(&config)
            .await
            .context("DATABASE_URL: cannot connect to the database")?;
        db::migrate(&mut database)
            .await
            .context("DATABASE_URL: migrations failed")?;
        let hasher = PasswordHasher::new(config.argon2, config.password_hash_concurrency)
            .map_err(|e| anyhow::anyhow!("ARGON2_*: {e}"))?;
        let keys = load_keys(&config, &database).await?;
        let key_source = key_source(&config, keys.manager().is_some());
        tracing::info!(
            kid = %keys.ring().active().kid,
            published = keys.ring().published().len(),
            issuer = %config.issuer,
            store = if keys.manager().is_some() { "database" } else { "files" },
            "signing keys loaded"
        );
        let brand = Arc::new(crate::web::brand::Brand::load(&config.brand)?);
        let mail_transport = mail_transport(&config.mail)?;
        let mail_from: lettre::message::Mailbox = config
            .mail
            .from
            .parse()
            .map_err(|_| anyhow::anyhow!("MAIL_FROM: not an address"))?;
        if let crate::mail::Transport::Outbox(dir) = &mail_transport {
            tracing::warn!(
                outbox = %dir.display(),
                "SMTP_URL is not set: mail is written as .eml files into MAIL_OUTBOX_DIR, not sent"
            );
        }
        // Queued bodies may hold sign-in links: sealed at rest under a key
        // derived from KEY_ENCRYPTION_KEY when there is one.
        let mail_seal = config.key_encryption_key.as_ref().map(|kek| {
            use sha2::{Digest as _, Sha256};
            let mut key = [0u8; 32];
            key.copy_from_slice(
                &Sha256::new()
                    .chain_update(b"signet mail outbox v1\0")
                    .chain_update(kek.expose())
                    .finalize(),
            );
            key
        });
        let factor_seal = factor_seal(&config)?;
        let webauthn = relying_party(&config, &brand.name)?;
        let client_documents = Arc::new(
            crate::clients::documents::ClientDocuments::new(&config)
                .context("building the client metadata document fetcher")?,
        );
        // Rate limits every replica shares (PostgreSQL, unless RATE_LIMIT_SHARED
        // is false; SQLite is one process).
        let shared_limits = (config.limits.shared
            && sea_orm::ConnectionTrait::get_database_backend(&database)
                == sea_orm::DatabaseBackend::Postgres)
            .then(|| Arc::new(crate::app::rate_limit::Shared::new(database.clone())));
        let state = AppState {
            client_documents,
            webauthn,
            factor_seal,
            brand,
            mail: crate::mail::MailQueue::new(mail_seal),
            upstreams: crate::upstream::Upstreams::new(&config.upstream),
            clock: crate::app::clock::Clock::system(),
            db: database,
            tokens: TokenIssuer {
                issuer: config.issuer.clone(),
                access_ttl: config.access_token_ttl,
                first_party_client_id: config.first_party_client_id.clone(),
                user_scope: config.user_scope.clone(),
            },
            keys,
            hasher,
            last_used: crate::api_keys::LastUsedTracker::new(config.api_key_last_used_interval),
            limiters: crate::app::rate_limit::Limiters::new(&config.limits, shared_limits),
            metrics: signet_service::metrics::Metrics::new(crate::app::metrics::CATALOG),
            events: crate::events::EventsHub::new(),
            config: Arc::new(config),
        };
        Ok(Self {
            key_source,
            mail_transport: Arc::new(mail_transport),
            mail_from,
            grace: state.config.shutdown_grace,
            listener,
            metrics_listener,
            state,
        })
    }

    /// Where the signing keys came from, for the start-up line.
    pub fn key_source(&self) -> &str {
        &self.key_source
    }

    pub fn local_addr(&self) -> SocketAddr {
        signet_service::http::bound_addr(&self.listener)
    }

    /// Where `/metrics` is served (`METRICS_ADDR`).
    pub fn metrics_addr(&self) -> SocketAddr {
        signet_service::http::bound_addr(&self.metrics_listener)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until SIGINT/SIGTERM, then let in-flight requests finish within the grace period.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serve until `shutdown` completes (tests pass their own trigger).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Database key store: promote due keys, rotate on schedule and pick up
        // what other replicas (or `keys rotate`) changed, while serving.
        if let Some(manager) = self.state.keys.manager().cloned() {
            manager.spawn(self.state.config.key_refresh_interval);
        }
        // Retention: purge what is no longer needed, one replica at a time.
        let (stop_purging, purging_stopped) = tokio::sync::watch::channel(false);
        let policy = self.state.config.retention;
        if !policy.interval.is_zero() {
            let (db, metrics) = (self.state.db.clone(), self.state.metrics.clone());
            signet_service::retention::spawn_every(policy.interval, purging_stopped, move || {
                let (db, metrics) = (db.clone(), metrics.clone());
                async move { crate::app::retention::run(&db, &policy, &metrics).await }
            });
        }
        // The shared rate-limit rows stay bounded whatever the spray of keys.
        if let Some(shared) = &self.state.limiters.shared {
            shared.spawn_sweeper(
                self.state.clock.clone(),
                self.state.metrics.clone(),
                stop_purging.subscribe(),
            );
        }
        // Long-polling readers of the security-event feed learn of new
        // events (this replica's or another's) from one watcher.
        self.state
            .events
            .spawn(self.state.db.clone(), stop_purging.subscribe());
        // Outgoing mail, delivered off the request path.
        crate::mail::Sender {
            db: self.state.db.clone(),
            queue: self.state.mail.clone(),
            transport: self.mail_transport.clone(),
            from: self.mail_from.clone(),
            clock: self.state.clock.clone(),
            metrics: self.state.metrics.clone(),
            logout: match crate::backchannel::Notifier::new(
                self.state.keys.clone(),
                self.state.tokens.clone(),
            ) {
                Ok(notifier) => Some(Arc::new(notifier)),
                Err(error) => {
                    tracing::error!(%error, "back-channel logout notices cannot be sent");
                    None
                }
            },
        }
        .spawn(stop_purging.subscribe());
        // Upstream providers' discovery, retried with back-off while one is down.
        if !self.state.upstreams.all().is_empty() {
            match crate::upstream::http_client() {
                Ok(http) => self
                    .state
                    .upstreams
                    .spawn_discovery(http, stop_purging.subscribe()),
                Err(error) => tracing::error!(%error, "no http client for upstream providers"),
            }
        }
        // This server's own verifier (forward-auth) refuses revoked tokens too.
        crate::events::follow_locally(
            self.state.db.clone(),
            self.state.keys.verifier().clone(),
            self.state.clock.clone(),
            &self.state.events,
            self.state.metrics.clone(),
            stop_purging.subscribe(),
        );
        // PostgreSQL: other replicas' revocations arrive as notifications.
        if sea_orm::ConnectionTrait::get_database_backend(&self.state.db)
            == sea_orm::DatabaseBackend::Postgres
        {
            self.state.events.wakeups.spawn_listener(
                self.state.config.database_url.clone(),
                stop_purging.subscribe(),
            );
        }
        let shutdown = async move {
            shutdown.await;
            let _ = stop_purging.send(true);
        };
        let metrics =
            signet_service::http::metrics_router(crate::app::health::metrics, self.state.clone());
        let limits = self.state.config.server_limits;
        let router = crate::app(self.state);
        signet_service::http::serve(
            self.listener,
            router,
            Some((self.metrics_listener, metrics)),
            shutdown,
            self.grace,
            limits,
        )
        .await
    }
}

async fn shutdown_signal() {
    signet_service::http::shutdown_signal().await;
}

/// Where mail goes: the SMTP server of `SMTP_URL`, else `.eml` files.
fn mail_transport(
    settings: &crate::config::MailSettings,
) -> anyhow::Result<crate::mail::Transport> {
    use secrecy::ExposeSecret as _;
    match &settings.smtp_url {
        None => Ok(crate::mail::Transport::Outbox(settings.outbox_dir.clone())),
        Some(url) => {
            crate::mail::Transport::smtp(url.expose_secret(), crate::mail::PlainSmtp::LoopbackOnly)
                .map_err(|problem| anyhow::anyhow!("SMTP_URL: {problem}"))
        }
    }
}

/// The verification rules for this server's own tokens.
fn own_validation(config: &Config) -> Validation {
    // Every audience this server issues for: introspection answers for all of
    // them. Which routes accept which audience is decided per router (`guard`).
    Validation::new(config.issuer.clone())
        .audiences_from(
            config
                .audiences
                .iter()
                .cloned()
                .chain([config.account_audience.clone(), config.userinfo_audience()]),
        )
        .require_type("at+jwt")
}

/// The key authenticator-app secrets are sealed under: derived from
/// `KEY_ENCRYPTION_KEY`; without one, and with `GENERATE_DEV_KEY`, a
/// random key in `KEYS_DIR/factor-seal.key` made on first run (development;
/// a warning says so); otherwise none, and no one can set up an app.
fn factor_seal(config: &Config) -> anyhow::Result<Option<Arc<crate::mfa::FactorSeal>>> {
    use sha2::{Digest as _, Sha256};
    let derive = |secret: &[u8]| {
        let mut key = [0u8; 32];
        key.copy_from_slice(
            &Sha256::new()
                .chain_update(b"signet authenticator secrets v1\0")
                .chain_update(secret)
                .finalize(),
        );
        Some(Arc::new(crate::mfa::FactorSeal::new(&key)))
    };
    if let Some(kek) = config.key_encryption_key.as_ref() {
        return Ok(derive(kek.expose()));
    }
    let required = !config.mfa_required_roles.is_empty();
    if !config.generate_dev_key {
        if required {
            anyhow::bail!(
                "MFA_REQUIRED_ROLES: needs KEY_ENCRYPTION_KEY to seal authenticator secrets"
            );
        }
        tracing::warn!(
            "KEY_ENCRYPTION_KEY is not set: authenticator apps (TOTP) are not available"
        );
        return Ok(None);
    }
    let path = config.keys_dir.join("factor-seal.key");
    let secret = match std::fs::read(&path) {
        Ok(secret) if secret.len() == 32 => secret,
        Ok(_) => anyhow::bail!("KEYS_DIR: {} is not a 32-byte key", path.display()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            std::fs::create_dir_all(&config.keys_dir)
                .and_then(|()| write_private(&path, &secret))
                .with_context(|| format!("KEYS_DIR: cannot write {}", path.display()))?;
            secret
        }
        Err(error) => {
            return Err(error).with_context(|| format!("KEYS_DIR: cannot read {}", path.display()))
        }
    };
    tracing::warn!(
        file = %path.display(),
        "KEY_ENCRYPTION_KEY is not set: authenticator secrets are sealed under a development key file"
    );
    Ok(derive(&secret))
}

/// The passkey relying party of `PasskeySettings`, or none (with the
/// reason in a warning).
fn relying_party(
    config: &Config,
    name: &str,
) -> anyhow::Result<Option<Arc<webauthn_rs::Webauthn>>> {
    match &config.passkeys {
        crate::config::PasskeySettings::Off { reason } => {
            tracing::warn!("passkeys are off: {reason}");
            Ok(None)
        }
        crate::config::PasskeySettings::On { rp_id, origin } => {
            let webauthn = webauthn_rs::WebauthnBuilder::new(rp_id, origin)
                .and_then(|builder| builder.rp_name(name).build())
                .map_err(|_| {
                    anyhow::anyhow!("WEBAUTHN_RP_ID: {rp_id} is not a domain of {origin}")
                })?;
            tracing::info!(rp_id = %rp_id, origin = %origin, "passkeys on");
            Ok(Some(Arc::new(webauthn)))
        }
    }
}

/// Write `bytes` to a new file only its owner can read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Files mode (no `KEY_ENCRYPTION_KEY`): keys from `JWT_PRIVATE_KEY*` or
/// `KEYS_DIR`, fixed for the process. Database mode: the shared key store,
/// seeded on first start from the configured key (or a generated one).
pub async fn load_keys(
    config: &Config,
    database: &sea_orm::DatabaseConnection,
) -> anyhow::Result<Keys> {
    let Some(kek) = config.key_encryption_key.as_ref().map(|k| *k.expose()) else {
        let ring = keys::load(config)?;
        return Keys::fixed(ring, own_validation(config)).context("signing keys cannot verify");
    };
    let encryption = KeyEncryption::new(&kek);
    let manager = KeyManager::start(
        database.clone(),
        encryption,
        config.rotation,
        seed(config)?,
        own_validation(config),
    )
    .await
    .context("KEY_ENCRYPTION_KEY: the key store cannot be used")?;
    Ok(Keys::managed(manager))
}

/// Where the signing keys came from, in the variable's words.
fn key_source(config: &Config, managed: bool) -> String {
    use crate::config::PrivateKeySource;
    if managed {
        return "the database (sealed with KEY_ENCRYPTION_KEY)".to_owned();
    }
    match &config.private_key {
        PrivateKeySource::Inline(_) => "JWT_PRIVATE_KEY".to_owned(),
        PrivateKeySource::File(path) => format!("JWT_PRIVATE_KEY_FILE {}", path.display()),
        PrivateKeySource::Directory => format!("KEYS_DIR {}", config.keys_dir.display()),
    }
}

/// The key an empty store starts with: the configured one, or a new one.
fn seed(config: &Config) -> anyhow::Result<Seed> {
    use crate::config::PrivateKeySource;
    let configured = match &config.private_key {
        PrivateKeySource::Directory => keys::read_key_dir(&config.keys_dir)?.pop().map(Arc::new),
        _ => Some(keys::load(config)?.active().clone()),
    };
    Ok(match configured {
        Some(key) => Seed::Key(key),
        None if config.generate_dev_key => Seed::Generate,
        None => Seed::Missing,
    })
}
