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
            // Exit now: tearing down the runtime, the database pool and the
            // worker threads of a process that failed to start can only add
            // lines (a background task panicking as its runtime goes away
            // printed a second stderr line under CPU contention in CI). The
            // one line above is the whole story; nothing is left to flush but stdout.
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            std::process::exit(1);
        }
    }
}
