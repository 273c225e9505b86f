//! `blog-svc`: entry point only.

use std::process::ExitCode;

use blog_svc::config::Config;
use blog_svc::{telemetry, Application};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "blog-svc",
    version,
    about = "Signet demo blog",
    after_help = signet_service::config::environment_help(include_str!("../../docs/CONFIGURATION.md"), "blog-svc")
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the web pages (the default command).
    ///
    /// Applies database migrations, fetches auth-server's keys (in the
    /// background with AUTH_LAZY_START=true: reads work at once, writes answer
    /// 503 until the keys are there), then answers HTTP on BIND_ADDR and
    /// /metrics on METRICS_ADDR. SIGTERM or SIGINT lets in-flight requests
    /// finish within SHUTDOWN_GRACE_PERIOD.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let database_url =
                secrecy::ExposeSecret::expose_secret(&config.database_url).to_owned();
            let app = Application::build(config).await?;
            signet_service::http::announce_listening(
                "blog-svc",
                app.local_addr(),
                &database_url,
                "",
            );
            app.run_until_stopped().await?;
            tracing::info!("blog-svc stopped");
        }
        Command::Migrate => {
            signet_service::db::migrate_command::<blog_svc::migration::Migrator>(
                secrecy::ExposeSecret::expose_secret(&config.database_url),
                config.db_acquire_timeout,
                "blog-svc",
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
