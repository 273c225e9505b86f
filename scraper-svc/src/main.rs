//! `scraper-svc`: entry point only.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scraper_svc::config::Config;
use scraper_svc::{telemetry, Application};

#[derive(Parser)]
#[command(
    name = "scraper-svc",
    version,
    about = "Signet demo scraper: imports feeds and pages into blog-svc with a service token",
    after_help = signet_service::config::environment_help(include_str!("../../docs/CONFIGURATION.md"), "scraper-svc")
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and scrape on schedule (the default command).
    ///
    /// Applies database migrations, then answers HTTP on BIND_ADDR and
    /// /metrics on METRICS_ADDR, and scrapes SCRAPER_SOURCES every
    /// SCRAPE_INTERVAL (the first run at start-up), pushing
    /// items to BLOG_URL with a service token from its API key. SIGTERM or
    /// SIGINT lets in-flight requests and a run under way finish within
    /// SHUTDOWN_GRACE_PERIOD.
    Serve,
    /// Apply database migrations and exit (needs only DATABASE_URL).
    Migrate,
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let config = Config::from_env()?;
            telemetry::init(config.log_format)?;
            let database_url =
                secrecy::ExposeSecret::expose_secret(&config.database_url).to_owned();
            let app = Application::build(config).await?;
            signet_service::http::announce_listening(
                "scraper-svc",
                app.local_addr(),
                &database_url,
                "",
            );
            app.run_until_stopped().await?;
            tracing::info!("scraper-svc stopped");
        }
        Command::Migrate => {
            let (database_url, acquire_timeout) = scraper_svc::config::migration_settings()?;
            signet_service::db::migrate_command::<scraper_svc::migration::Migrator>(
                secrecy::ExposeSecret::expose_secret(&database_url),
                acquire_timeout,
                "scraper-svc",
            )
            .await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    signet_service::process::run(run(Cli::parse())).await
}
