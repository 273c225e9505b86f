//! `scraper-svc`: entry point only.

use std::process::ExitCode;

use scraper_svc::config::Config;
use scraper_svc::{telemetry, Application};

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format)?;
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.local_addr(), "scraper-svc listening");
    app.run_until_stopped().await?;
    tracing::info!("scraper-svc stopped");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    signet_service::process::run(run()).await
}
