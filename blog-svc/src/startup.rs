//! Building and running blog-svc (shared by `main` and the tests).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use jwt_verify::Verifier;
use tokio::net::TcpListener;

use crate::config::{Config, KeysFrom};
use crate::migration::Migrator;
use crate::state::AppState;
use crate::web::oidc::Oidc;
use crate::web::{CookieNames, Web};

pub struct Application {
    listener: TcpListener,
    metrics_listener: TcpListener,
    state: AppState,
}

/// The verifier the configuration asks for: tokens from `AUTH_ISSUER`, for one
/// of `AUTH_AUDIENCE`, RFC 9068 `at+jwt` only.
pub async fn verifier_from_config(config: &Config) -> anyhow::Result<Verifier> {
    let jwks_url = match &config.keys_from {
        KeysFrom::Jwks(url) => Some(url.as_str()),
        KeysFrom::Discovery => None,
    };
    signet_service::auth::remote_verifier(&signet_service::auth::VerifierOptions {
        issuer: &config.auth_issuer,
        jwks_url,
        audiences: &config.audiences,
        lazy: config.auth_lazy_start,
        revocation: config.revocation.as_ref(),
        dpop_origins: &config.dpop_origins,
        token_cache: config.auth_token_cache,
    })
    .await
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let verifier = verifier_from_config(&config).await?;
        Self::build_with_verifier(config, verifier).await
    }

    /// Tests inject a verifier over known keys.
    pub async fn build_with_verifier(config: Config, verifier: Verifier) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .with_context(|| format!("BIND_ADDR: cannot listen on {}", config.bind_addr))?;
        Self::assemble(config, verifier, listener).await
    }

    /// Serve on a listener bound beforehand (`BIND_ADDR` is not used): tests
    /// that must know the blog's address before it starts, to register its
    /// redirect URI with the auth server.
    pub async fn build_on(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let verifier = verifier_from_config(&config).await?;
        Self::assemble(config, verifier, listener).await
    }

    async fn assemble(
        config: Config,
        verifier: Verifier,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let metrics_listener = signet_service::http::bind_metrics(config.metrics_addr).await?;
        let mut db = signet_service::db::connect(
            secrecy::ExposeSecret::expose_secret(&config.database_url),
            config.db_max_connections,
            config.db_acquire_timeout,
        )
        .await
        .context("DATABASE_URL: cannot connect to the database")?;
        signet_service::db::migrate::<Migrator>(&mut db, "blog-svc")
            .await
            .context("DATABASE_URL: migrations failed")?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", signet_service::http::bound_addr(&listener)));
        let oidc = match &config.web_sign_in {
            Some(sign_in) => Some(
                Oidc::new(&config.auth_issuer, sign_in, &public_url)
                    .context("OIDC_CLIENT_ID: cannot set up the web sign-in")?,
            ),
            None => None,
        };
        let web = Web {
            cookies: CookieNames::for_url(&public_url),
            public_url,
            oidc,
            lifetime: config.web_session_lifetime,
            idle: config.web_session_idle,
        };
        let scraper = match &config.scraper {
            Some(link) => Some(crate::routes::admin::Scraper::new(link)?),
            None => None,
        };
        Ok(Self {
            listener,
            metrics_listener,
            state: AppState {
                db,
                verifier,
                scraper,
                config: Arc::new(config),
                metrics: signet_service::metrics::Metrics::new(&[]),
                web: Arc::new(web),
            },
        })
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(signet_service::http::shutdown_signal())
            .await
    }

    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let grace = self.state.config.shutdown_grace;
        let limits = self.state.config.server_limits;
        let metrics = signet_service::http::metrics_router(
            crate::routes::health::metrics,
            self.state.clone(),
        );
        signet_service::http::serve(
            self.listener,
            crate::app(self.state),
            Some((self.metrics_listener, metrics)),
            shutdown,
            grace,
            limits,
        )
        .await
    }
}
