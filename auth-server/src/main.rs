//! `auth-server`: command-line entry point. Parses arguments, loads `.env`,
//! and hands over to the library; nothing else lives here.

use std::process::ExitCode;

use anyhow::{bail, Context};
use auth_server::accounts::password::{Password, PasswordHasher};
use auth_server::accounts::{admin, create_admin, AccountError, NewUser};
use auth_server::app::db;
use auth_server::config::Config;
use auth_server::{api_keys, clients, keys, telemetry, Application};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "auth-server",
    version,
    about = "Signet RS256 token authority",
    after_help = signet_service::config::environment_help(include_str!("../../docs/CONFIGURATION.md"), "auth-server")
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default command).
    ///
    /// Reads the configuration, loads the signing keys (on first run with
    /// GENERATE_DEV_KEY=true, makes a development key in KEYS_DIR), applies
    /// database migrations, then answers HTTP on BIND_ADDR and /metrics on
    /// METRICS_ADDR. SIGTERM or SIGINT (Ctrl-C) stops accepting connections
    /// and lets in-flight requests finish within SHUTDOWN_GRACE_PERIOD.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage signing keys in KEYS_DIR.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage users from the command line.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Measure raw Argon2id hashes per second with the configured parameters on
    /// one thread (the baseline for login throughput in scripts/bench.sh).
    #[command(name = "bench-hash", hide = true)]
    BenchHash {
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Manage API keys (service credentials) without a running admin session.
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeysCommand),
    /// Manage OpenID Connect clients (relying parties).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Upstream OpenID providers (UPSTREAM_PROVIDERS).
    #[command(subcommand)]
    Upstream(UpstreamCommand),
}

#[derive(Subcommand)]
enum UpstreamCommand {
    /// One JSON object per configured provider: its name, issuer, the
    /// redirect URI to register at the provider, and whether its discovery
    /// document can be read now.
    List,
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Register a client and print `{"client_id": …, "client_secret": …}` on
    /// stdout (the secret only for a confidential client, shown once).
    Create {
        #[arg(long)]
        name: String,
        /// An exact redirect URI (repeat for several): https, or http on loopback.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to (repeat for several).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (browser or native app): no secret, PKCE alone.
        #[arg(long)]
        public: bool,
        /// Space- or comma-separated scopes (default "openid profile email").
        #[arg(long, default_value = "")]
        scopes: String,
        /// Skip the consent page (the operator's own applications).
        #[arg(long)]
        first_party: bool,
        /// DPoP (RFC 9449): "required" makes every token request carry a
        /// proof; "allowed" (default) binds tokens only when one comes.
        #[arg(long, default_value = "allowed", value_parser = dpop_policy)]
        dpop: auth_server::oauth::dpop::DpopPolicy,
        /// An audience (a JWT_AUDIENCE name) the client may ask user tokens
        /// for (repeat for several). Default: all for a first-party client,
        /// none for a third-party one (its tokens are for userinfo alone).
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// A grant the client may use (repeat for several): authorization_code,
        /// refresh_token, or device_code (RFC 8628, for command-line tools and
        /// TVs; such a client needs no redirect URI). Default:
        /// authorization_code and refresh_token.
        #[arg(long = "grant", value_parser = grant_type)]
        grants: Vec<String>,
        /// RFC 9126: its authorization requests must be pushed first
        /// (POST /oauth/par); a plain one is refused.
        #[arg(long)]
        require_par: bool,
        /// OpenID Connect Back-Channel Logout: where a signed logout token
        /// is posted when one of the client's sessions ends.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
    },
    /// List clients (never their secrets), one JSON object per line.
    List,
    /// Delete a client by its client id.
    Delete { client_id: String },
}

#[derive(Subcommand)]
enum ApiKeysCommand {
    /// Create a key and print it once (on stdout, alone, so scripts can capture it).
    Create {
        #[arg(long)]
        name: String,
        /// Comma- or space-separated scopes, e.g. posts:write.
        #[arg(long, default_value = "")]
        scopes: String,
        /// Comma- or space-separated audiences (JWT_AUDIENCE values) the key may
        /// ask for; the first is its default. Default: the server's first audience.
        #[arg(long, default_value = "")]
        audiences: String,
        /// Expiry as RFC 3339 (e.g. 2027-01-01T00:00:00Z).
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// DPoP (RFC 9449): "required" makes every token request carry a
        /// proof; "allowed" (default) binds tokens only when one comes.
        #[arg(long, default_value = "allowed", value_parser = dpop_policy)]
        dpop: auth_server::oauth::dpop::DpopPolicy,
        /// Token exchange (RFC 8693): audiences (JWT_AUDIENCE values) the key
        /// may ask for when it acts for a user. Default: none (no exchange).
        #[arg(long, default_value = "")]
        exchange_audiences: String,
        /// …and the scopes it may ask for there.
        #[arg(long, default_value = "")]
        exchange_scopes: String,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id or client id: no new tokens from now on.
    Revoke { key: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a new RSA key pair into KEYS_DIR (the newest key signs).
    Generate {
        /// Modulus size: 2048, 3072 or 4096.
        #[arg(long, default_value_t = 2048)]
        bits: usize,
    },
    /// List the keys the server would load, with their kid (and state, in database mode).
    List,
    /// Database mode: publish a new key now; it signs after KEY_PUBLISH_DELAY,
    /// and the current key is retired then (still published for KEY_RETIRE_AFTER).
    Rotate,
    /// A key leaked: announce it on the security-event feed (verifiers that
    /// follow it refuse every token it signed) and, in database mode, remove
    /// it at once (a new key signs at once if it was the signing key).
    Compromise {
        /// The key's `kid` (an RFC 7638 thumbprint, which may start with `-`).
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an admin. The password comes from ADMIN_PASSWORD, or is typed
    /// twice at the terminal (hidden), or is read from a pipe; never from argv.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Recovery: set a user's password without the old one, and end all of
    /// their sessions. The password comes from USER_PASSWORD, or is typed
    /// twice at the terminal (hidden), or is read from a pipe.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Recovery: give a user the admin role.
    Promote {
        #[arg(long)]
        email: String,
    },
    /// Disable a user: no sign-in, every session ended at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Remove a user's second factors and passkeys (a lost device): the
    /// password stays, and a user who must have MFA sets it up again at
    /// the next sign-in.
    ResetMfa {
        #[arg(long)]
        email: String,
    },
}

/// The database (migrated) and the user with `email`, or a line saying there is none.
async fn user_by_email(
    config: &Config,
    email: &str,
) -> anyhow::Result<(
    sea_orm::DatabaseConnection,
    auth_server::accounts::entity::Model,
)> {
    let mut database = db::connect(config).await.context("DATABASE_URL")?;
    db::migrate(&mut database)
        .await
        .context("migrations failed")?;
    let normalized = auth_server::accounts::normalize_email(email);
    let user = auth_server::accounts::find_by_email(&database, &normalized)
        .await
        .context("DATABASE_URL")?
        .ok_or_else(|| anyhow::anyhow!("no user with the email {normalized}"))?;
    Ok((database, user))
}

/// Apply an administrative change, made from the user as found by `email`,
/// from the command line (audited as `cli`).
async fn change_user(
    config: &Config,
    email: &str,
    change: impl FnOnce(&auth_server::accounts::entity::Model) -> admin::UserChange,
) -> anyhow::Result<auth_server::accounts::entity::Model> {
    let (database, user) = user_by_email(config, email).await?;
    let change = change(&user);
    admin::update_user(
        &database,
        admin::Operator::CommandLine,
        user.id,
        change,
        None,
        chrono::Utc::now(),
    )
    .await
    .map_err(describe_account)
}

/// An API error as one CLI line (422 field problems joined).
/// One line per invalid field; any other error keeps its source chain.
fn fields(errors: &[auth_server::error::FieldError]) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

fn describe_account(error: AccountError) -> anyhow::Error {
    match error {
        AccountError::Invalid(errors) => fields(&errors),
        other => other.into(),
    }
}

fn describe_key(error: api_keys::ApiKeyError) -> anyhow::Error {
    match error {
        api_keys::ApiKeyError::Invalid(errors) => fields(&errors),
        other => other.into(),
    }
}

const CLI_ACTOR: api_keys::Actor<'static> = api_keys::Actor {
    id: "cli",
    ip: None,
};

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let command = cli.command.unwrap_or(Command::Serve);
    telemetry::init_to(
        config.log_format,
        match command {
            Command::Serve => telemetry::LogTarget::Stdout,
            _ => telemetry::LogTarget::Stderr,
        },
    )?;
    match command {
        Command::Serve => {
            let database_url =
                secrecy::ExposeSecret::expose_secret(&config.database_url).to_owned();
            let app = Application::build(config).await?;
            signet_service::http::announce_listening(
                "auth-server",
                app.local_addr(),
                &database_url,
                &format!("signing key from {}", app.key_source()),
            );
            app.run_until_stopped().await?;
            tracing::info!("auth-server stopped");
        }
        Command::Migrate => {
            signet_service::db::migrate_command::<auth_server::migration::Migrator>(
                secrecy::ExposeSecret::expose_secret(&config.database_url),
                config.db_acquire_timeout,
                "auth-server",
            )
            .await?;
        }
        Command::Keys(KeysCommand::Generate { bits }) => {
            if ![2048, 3072, 4096].contains(&bits) {
                bail!("--bits must be 2048, 3072 or 4096");
            }
            let path = keys::generate_into(&config.keys_dir, bits)?;
            let pem = std::fs::read_to_string(&path)?;
            let key = keys::SigningKey::from_pem(&pem, path.display().to_string())
                .with_context(|| format!("{}", path.display()))?;
            println!(
                "generated {} ({} bits), kid {}",
                path.display(),
                key.bits(),
                key.kid
            );
        }
        Command::Keys(KeysCommand::Rotate) => {
            if config.key_encryption_key.is_none() {
                bail!(
                    "keys rotate needs the database key store: set KEY_ENCRYPTION_KEY. \
                     With key files, add one with `keys generate` and restart (it signs at once)"
                );
            }
            let mut database = db::connect(&config).await.context("DATABASE_URL")?;
            db::migrate(&mut database)
                .await
                .context("migrations failed")?;
            let keys = auth_server::app::startup::load_keys(&config, &database).await?;
            let manager = keys.manager().context("key store unavailable")?;
            let kid = manager.rotate().await?;
            println!(
                "published {kid}; it starts signing in {} (KEY_PUBLISH_DELAY)",
                humantime::format_duration(config.rotation.publish_delay)
            );
        }
        Command::Keys(KeysCommand::Compromise { kid }) => {
            let mut database = db::connect(&config).await.context("DATABASE_URL")?;
            db::migrate(&mut database)
                .await
                .context("migrations failed")?;
            if config.key_encryption_key.is_none() {
                // Key files: the running servers hold the key until they
                // restart; the event makes verifiers refuse its tokens now.
                let ring = keys::load(&Config {
                    generate_dev_key: false,
                    ..config.clone()
                })?;
                let Some(file) = ring.published().iter().find(|k| k.kid == kid) else {
                    bail!(
                        "no key {kid} in KEYS_DIR or JWT_PRIVATE_KEY (`keys list` shows the kids)"
                    );
                };
                auth_server::events::key_compromised_in_file_mode(&database, &kid).await?;
                println!(
                    "announced {kid} as compromised: verifiers following the security-event feed refuse its tokens. \
                     Now delete {} (`keys generate` adds a new key) and restart auth-server",
                    file.origin
                );
            } else {
                let keys = auth_server::app::startup::load_keys(&config, &database).await?;
                let manager = keys.manager().context("key store unavailable")?;
                match manager.compromise(&kid).await? {
                    Some(new) => println!("removed {kid}; {new} signs from now on (every replica within KEY_REFRESH_INTERVAL)"),
                    None => println!("removed {kid}; it was not signing"),
                }
            }
        }
        Command::Keys(KeysCommand::List) if config.key_encryption_key.is_some() => {
            let mut database = db::connect(&config).await.context("DATABASE_URL")?;
            db::migrate(&mut database)
                .await
                .context("migrations failed")?;
            for key in auth_server::keys::store::list(&database).await? {
                let when = match key.state.as_str() {
                    "next" => key
                        .activate_after
                        .map(|t| format!("signs from {}", t.to_rfc3339())),
                    "retired" => key
                        .remove_after
                        .map(|t| format!("removed after {}", t.to_rfc3339())),
                    _ => key
                        .activated_at
                        .map(|t| format!("signing since {}", t.to_rfc3339())),
                };
                println!("{}\t{}\t{}", key.kid, key.state, when.unwrap_or_default());
            }
        }
        Command::Keys(KeysCommand::List) => {
            let ring = keys::load(&Config {
                generate_dev_key: false,
                ..config
            })?;
            for key in ring.published() {
                let marker = if key.kid == ring.active().kid {
                    "active"
                } else {
                    "published"
                };
                println!(
                    "{}\t{} bits\t{}\t{}",
                    key.kid,
                    key.bits(),
                    marker,
                    key.origin
                );
            }
        }
        Command::Users(UsersCommand::SetPassword { email }) => {
            let password = auth_server::terminal::read_new_password("USER_PASSWORD")?;
            let (database, user) = user_by_email(&config, &email).await?;
            let hasher =
                PasswordHasher::new(config.argon2, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
            admin::reset_password(
                &database,
                &hasher,
                admin::Operator::CommandLine,
                user.id,
                &password,
                chrono::Utc::now(),
            )
            .await
            .map_err(describe_account)?;
            println!(
                "password set for {} ({}); their sessions are ended",
                user.email, user.id
            );
        }
        Command::Users(UsersCommand::Promote { email }) => {
            let updated = change_user(&config, &email, |user| {
                let mut roles = user.role_list();
                if !roles.iter().any(|role| role == "admin") {
                    roles.push("admin".to_owned());
                }
                admin::UserChange {
                    roles: Some(roles),
                    ..Default::default()
                }
            })
            .await?;
            let roles = updated.role_list().join(",");
            println!("{} ({}) has roles {roles}", updated.email, updated.id);
        }
        Command::Users(UsersCommand::Disable { email }) => {
            let updated = change_user(&config, &email, |_| admin::UserChange {
                disabled: Some(true),
                ..Default::default()
            })
            .await?;
            println!(
                "disabled {} ({}); their sessions are ended",
                updated.email, updated.id
            );
        }
        Command::Users(UsersCommand::ResetMfa { email }) => {
            let (database, user) = user_by_email(&config, &email).await?;
            let reset = auth_server::mfa::reset_by_operator(&database, "cli", &user, None)
                .await
                .context("DATABASE_URL")?;
            println!(
                "second factors of {} ({}) removed: authenticator app {}, {} recovery codes, {} passkeys",
                user.email,
                user.id,
                if reset.totp { "yes" } else { "none" },
                reset.recovery_codes,
                reset.passkeys
            );
        }
        Command::Users(UsersCommand::Enable { email }) => {
            let updated = change_user(&config, &email, |_| admin::UserChange {
                disabled: Some(false),
                ..Default::default()
            })
            .await?;
            println!("enabled {} ({})", updated.email, updated.id);
        }
        Command::Users(UsersCommand::CreateAdmin {
            email,
            display_name,
        }) => {
            let password = auth_server::terminal::read_new_password("ADMIN_PASSWORD")?;
            let mut database = db::connect(&config).await.context("DATABASE_URL")?;
            db::migrate(&mut database)
                .await
                .context("migrations failed")?;
            let hasher =
                PasswordHasher::new(config.argon2, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
            let user = create_admin(
                &database,
                &hasher,
                NewUser {
                    email,
                    password,
                    display_name,
                    roles: vec!["admin".to_owned()],
                },
                chrono::Utc::now(),
            )
            .await
            .map_err(describe_account)?;
            println!("created admin {} ({})", user.email, user.id);
        }
        Command::BenchHash { seconds } => {
            let hasher =
                PasswordHasher::new(config.argon2, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = Password::new("benchmark passphrase");
            let started = std::time::Instant::now();
            let mut hashes = 0u64;
            while started.elapsed() < std::time::Duration::from_secs(seconds) {
                hasher
                    .hash(&password)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                hashes += 1;
            }
            println!("{:.1}", hashes as f64 / started.elapsed().as_secs_f64());
        }
        Command::Upstream(UpstreamCommand::List) => {
            let http = auth_server::upstream::http_client().context("an http client")?;
            if config.upstream.is_empty() {
                eprintln!("no upstream providers: set UPSTREAM_PROVIDERS (see docs/FEDERATION.md)");
            }
            for provider in &config.upstream {
                let discovery =
                    match auth_server::upstream::discover(&http, &provider.issuer).await {
                        Ok(found) => auth_server::upstream::Discovery::Ready(found),
                        Err(reason) => auth_server::upstream::Discovery::Failed(reason),
                    }
                    .label();
                println!(
                    "{}",
                    serde_json::json!({
                        "name": provider.name,
                        "display_name": provider.display_name,
                        "issuer": provider.issuer,
                        "client_id": provider.client_id,
                        "scopes": provider.scopes,
                        "allowed_domains": provider.allowed_domains,
                        "redirect_uri": auth_server::upstream::redirect_uri(&config.issuer, &provider.name),
                        "discovery": discovery,
                    })
                );
            }
        }
        Command::Clients(command) => {
            let mut database = db::connect(&config).await.context("DATABASE_URL")?;
            db::migrate(&mut database)
                .await
                .context("migrations failed")?;
            run_clients(&database, &config, command).await?;
        }
        Command::ApiKeys(command) => {
            let mut database = db::connect(&config).await.context("DATABASE_URL")?;
            db::migrate(&mut database)
                .await
                .context("migrations failed")?;
            run_api_keys(&database, &config, command).await?;
        }
    }
    Ok(())
}

async fn run_clients(
    database: &sea_orm::DatabaseConnection,
    config: &Config,
    command: ClientsCommand,
) -> anyhow::Result<()> {
    let actor = || clients::Actor {
        id: "cli",
        ip: None,
    };
    match command {
        ClientsCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            scopes,
            first_party,
            dpop,
            resources,
            grants,
            require_par,
            backchannel_logout_uri,
        } => {
            let registered = clients::register_checked(
                database,
                clients::NewClient {
                    name,
                    public,
                    redirect_uris,
                    post_logout_redirect_uris,
                    scopes: scopes
                        .split([',', ' '])
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    grant_types: grants,
                    first_party,
                    created_by: None,
                    dpop,
                    resources,
                    require_par,
                    backchannel_logout_uri,
                },
                &clients::ResourceCatalog::of(config),
                actor(),
                chrono::Utc::now(),
            )
            .await
            .map_err(|error| match error {
                clients::RegistryError::Invalid(errors) => fields(&errors),
                other => other.into(),
            })?;
            let mut printed = serde_json::json!({ "client_id": registered.client.client_id });
            if let Some(secret) = registered.secret {
                printed["client_secret"] = serde_json::Value::String(secret);
                eprintln!("registered a confidential client; its secret is shown once:");
            } else {
                eprintln!("registered a public client (PKCE, no secret):");
            }
            println!("{printed}");
        }
        ClientsCommand::List => {
            for client in clients::list(database).await? {
                println!(
                    "{}",
                    serde_json::json!({
                        "client_id": client.client_id,
                        "name": client.name,
                        "public": client.public,
                        "redirect_uris": client.redirect_uri_list(),
                        "post_logout_redirect_uris": client.post_logout_redirect_uri_list(),
                        "scopes": client.scope_list(),
                        "grant_types": client.grant_type_list(),
                        "resources": client.resource_list(),
                        "first_party": client.first_party,
                        "created_at": client.created_at,
                    })
                );
            }
        }
        ClientsCommand::Delete { client_id } => {
            match clients::delete(database, &client_id, actor()).await {
                Ok(client) => println!("deleted {} ({})", client.client_id, client.name),
                Err(clients::RegistryError::NotFound) => bail!("no client {client_id}"),
                Err(other) => return Err(other.into()),
            }
        }
    }
    Ok(())
}

async fn run_api_keys(
    database: &sea_orm::DatabaseConnection,
    config: &Config,
    command: ApiKeysCommand,
) -> anyhow::Result<()> {
    let list = |raw: &str| -> Vec<String> {
        raw.split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    match command {
        ApiKeysCommand::Create {
            name,
            scopes,
            audiences,
            expires_at,
            dpop,
            exchange_audiences,
            exchange_scopes,
        } => {
            let minted = api_keys::create_audited(
                database,
                api_keys::NewApiKey {
                    name,
                    scopes: list(&scopes),
                    audiences: list(&audiences),
                    expires_at,
                    created_by: None,
                    dpop,
                    exchange_audiences: list(&exchange_audiences),
                    exchange_scopes: list(&exchange_scopes),
                },
                &config.audiences,
                CLI_ACTOR,
                chrono::Utc::now(),
            )
            .await
            .map_err(describe_key)?;
            eprintln!(
                "created API key {} (client id {}, scopes {:?}); it is shown once:",
                minted.model.id,
                minted.model.client_id(),
                minted.model.scopes
            );
            println!("{}", minted.secret);
        }
        ApiKeysCommand::List => {
            for key in api_keys::list(database).await? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\tlast used {}",
                    key.id,
                    key.client_id(),
                    key.name,
                    key.scopes,
                    state,
                    key.last_used_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "never".into())
                );
            }
        }
        ApiKeysCommand::Revoke { key } => {
            let id = match uuid::Uuid::parse_str(&key) {
                Ok(id) => Some(id),
                Err(_) => api_keys::list(database)
                    .await?
                    .into_iter()
                    .find(|k| k.client_id() == key)
                    .map(|k| k.id),
            };
            let revoked = match id {
                Some(id) => {
                    api_keys::revoke_audited(database, id, CLI_ACTOR, chrono::Utc::now()).await?
                }
                None => None,
            };
            match revoked {
                Some(key) => println!("revoked {} ({})", key.id, key.client_id()),
                None => bail!("no API key {key}"),
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    signet_service::process::run(run(Cli::parse())).await
}

/// `--dpop allowed|required`.
/// `device_code` is short for the device grant's URN.
fn grant_type(raw: &str) -> Result<String, String> {
    let grant = match raw {
        "device_code" => auth_server::device::GRANT_TYPE,
        other => other,
    };
    if auth_server::clients::GRANT_TYPES.contains(&grant) {
        Ok(grant.to_owned())
    } else {
        Err("expected authorization_code, refresh_token or device_code".to_owned())
    }
}

fn dpop_policy(value: &str) -> Result<auth_server::oauth::dpop::DpopPolicy, String> {
    auth_server::oauth::dpop::DpopPolicy::parse(value)
        .ok_or_else(|| "expected allowed or required".to_owned())
}
