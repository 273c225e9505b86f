//! The process edge every binary shares: `.env`, and errors to exit codes.

use std::future::Future;
use std::process::ExitCode;

/// One line for a `.env` that does not parse: its line number and variable,
/// never the line itself (it may hold a secret).
pub fn describe_dotenv_error(error: &dotenvy::Error, text: &str) -> String {
    match error {
        dotenvy::Error::LineParse(line, index) => {
            let number = text
                .lines()
                .position(|l| l.trim() == line.trim() || l.contains(line.as_str()))
                .map(|n| format!(" line {}", n + 1))
                .unwrap_or_default();
            let name = line
                .split_once('=')
                .map(|(name, _)| name.trim().trim_start_matches("export ").trim())
                .filter(|name| !name.is_empty() && name.len() <= 64)
                .map(|name| format!(" ({name})"))
                .unwrap_or_default();
            format!(
                ".env{number}{name}: cannot be parsed at character {}; expected NAME=value, with quotes around values that hold spaces or #",
                index + 1
            )
        }
        other => format!(".env: {other}"),
    }
}

/// Load `.env` (a missing file is normal, a malformed one is an error), run
/// `main`, and turn its error into one line on stderr and a failing exit code.
pub async fn run(main: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    crate::http::install_signal_handlers();
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            let text = std::fs::read_to_string(".env").unwrap_or_default();
            eprintln!("error: {}", describe_dotenv_error(&error, &text));
            return ExitCode::FAILURE;
        }
    }
    match main.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
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

/// An error and its causes on one line, `context: cause: cause`, leaving out
/// a cause whose text the line already holds: a context written as
/// `format!("… {e}")` and `e` itself as the source would otherwise print the
/// same words twice.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || line.contains(text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_context_is_not_printed_twice() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied");
        let inner =
            anyhow::Error::new(io).context("KEYS_DIR: cannot write to keys: Permission denied");
        let error = inner.context("KEYS_DIR: cannot write to keys: Permission denied");
        assert_eq!(
            one_line(&error),
            "KEYS_DIR: cannot write to keys: Permission denied"
        );
        let distinct = anyhow::anyhow!("connection refused").context("DATABASE_URL");
        assert_eq!(one_line(&distinct), "DATABASE_URL: connection refused");
    }

    #[test]
    fn a_malformed_env_line_is_named_by_number_and_variable_never_by_its_value() {
        let text =
            "BIND_ADDR=127.0.0.1:8080\n# a comment\nDATABASE_URL=postgres://u:s3cret@db/x y'z\n";
        let error = dotenvy::from_read_iter(text.as_bytes())
            .find_map(Result::err)
            .expect("a parse error");
        let line = describe_dotenv_error(&error, text);
        assert!(
            line.starts_with(".env line 3 (DATABASE_URL): cannot be parsed"),
            "{line}"
        );
        assert!(!line.contains("s3cret"), "{line}");
    }
}
