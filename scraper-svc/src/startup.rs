//! Building and running scraper-svc (shared by `main` and the tests).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use jwt_verify::ServiceTokenSource;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::migration::Migrator;
use crate::scrape::{spawn_schedule, Scraper};
use crate::state::AppState;
use signet_service::address_policy::{AddressPolicy, PolicyResolver};

pub struct Application {
    listener: TcpListener,
    metrics_listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let verifier =
            signet_service::auth::remote_verifier(&signet_service::auth::VerifierOptions {
                issuer: &config.auth_issuer,
                jwks_url: config.auth_jwks_url.as_deref(),
                audiences: &config.audiences,
                lazy: config.auth_lazy_start,
                revocation: config.revocation.as_ref(),
                dpop_origins: &config.dpop_origins,
                token_cache: config.auth_token_cache,
            })
            .await?;
        let mut tokens = ServiceTokenSource::from_api_key(&config.token_url, &config.api_key)
            .map_err(|e| anyhow::anyhow!("SCRAPER_API_KEY / AUTH_TOKEN_URL: {e}"))?;
        if config.dpop {
            let key = jwt_verify::DpopKey::generate().context("AUTH_DPOP: no DPoP key")?;
            tokens = tokens.with_dpop(Arc::new(key));
        }
        let client = || {
            reqwest::Client::builder()
                .connect_timeout(config.fetch_timeout)
                .timeout(config.fetch_timeout)
                .user_agent(concat!("signet-scraper/", env!("CARGO_PKG_VERSION")))
        };
        // blog-svc: configured by the operator, reached as configured.
        let http = client().build().context("HTTP client")?;
        // Sources: redirects are followed by hand, so each hop is checked.
        let sources_http = client()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("HTTP client")?;
        let policy = Arc::new(AddressPolicy::new(config.fetch_allowed.clone()));
        let redirected_http = client()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PolicyResolver::new(policy.clone())))
            .build()
            .context("HTTP client")?;
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .with_context(|| format!("BIND_ADDR: cannot listen on {}", config.bind_addr))?;
        // The default DPOP_ORIGINS names BIND_ADDR, whose port may be 0.
        let public_url = config
            .dpop_origins
            .first()
            .filter(|origin| !origin.ends_with(":0"))
            .cloned()
            .unwrap_or_else(|| format!("http://{}", signet_service::http::bound_addr(&listener)));
        let metrics_listener = signet_service::http::bind_metrics(config.metrics_addr).await?;
        let mut db = signet_service::db::connect(
            secrecy::ExposeSecret::expose_secret(&config.database_url),
            config.db_max_connections,
            config.db_acquire_timeout,
        )
        .await
        .context("DATABASE_URL: cannot connect to the database")?;
        signet_service::db::migrate::<Migrator>(&mut db, "scraper-svc")
            .await
            .context("DATABASE_URL: migrations failed")?;
        let interrupted = crate::scrape::fail_interrupted_runs(&db)
            .await
            .context("DATABASE_URL: cannot close interrupted runs")?;
        if interrupted > 0 {
            tracing::warn!(
                runs = interrupted,
                "runs left running by a stopped process marked failed"
            );
        }
        let scraper = Arc::new(Scraper {
            http,
            sources_http,
            redirected_http,
            policy,
            tokens,
            blog_url: config.blog_url.clone(),
            sources: config.sources.clone(),
            max_source_bytes: config.max_source_bytes,
            max_items_per_source: config.max_items_per_source,
            running: tokio::sync::Mutex::new(()),
        });
        Ok(Self {
            listener,
            metrics_listener,
            state: AppState {
                db,
                verifier,
                scraper,
                config: Arc::new(config),
                public_url,
                metrics: signet_service::metrics::Metrics::new(crate::scrape::METRICS),
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        signet_service::http::bound_addr(&self.listener)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Where `/metrics` is served (`METRICS_ADDR`).
    pub fn metrics_addr(&self) -> SocketAddr {
        signet_service::http::bound_addr(&self.metrics_listener)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(signet_service::http::shutdown_signal())
            .await
    }

    /// Serve and scrape on schedule until `shutdown`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        spawn_schedule(
            self.state.scraper.clone(),
            self.state.db.clone(),
            self.state.metrics.clone(),
            self.state.config.interval,
            stop_rx,
        );
        // Hourly: forget runs older than SCRAPE_RUN_RETENTION.
        let (db, metrics, keep) = (
            self.state.db.clone(),
            self.state.metrics.clone(),
            self.state.config.run_retention,
        );
        signet_service::retention::spawn_every(
            std::time::Duration::from_secs(3600),
            stop_tx.subscribe(),
            move || {
                let (db, metrics) = (db.clone(), metrics.clone());
                async move {
                    match crate::scrape::purge_old_runs(&db, keep, chrono::Utc::now()).await {
                        Ok(rows) => metrics
                            .counter(
                                &signet_service::metrics::RETENTION_PURGED,
                                &[("table", "scrape_runs")],
                            )
                            .increment(rows),
                        Err(error) => tracing::warn!(%error, "purging old scrape runs failed"),
                    }
                }
            },
        );
        let grace = self.state.config.shutdown_grace;
        let limits = self.state.config.server_limits;
        let shutdown = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        let metrics =
            signet_service::http::metrics_router(crate::routes::metrics_text, self.state.clone());
        signet_service::http::serve(
            self.listener,
            crate::routes::app(self.state),
            Some((self.metrics_listener, metrics)),
            shutdown,
            grace,
            limits,
        )
        .await
    }
}
