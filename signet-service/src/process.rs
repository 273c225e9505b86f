//! The process edge every binary shares: `.env`, and errors to exit codes.

use std::future::Future;
use std::process::ExitCode;

/// Load `.env` (a missing file is normal, a malformed one is an error), run
/// `main`, and turn its error into one line on stderr and a failing exit code.
pub async fn run(main: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    crate::http::install_signal_handlers();
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            eprintln!("error: .env: {error}");
            return ExitCode::FAILURE;
        }
    }
    match main.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
