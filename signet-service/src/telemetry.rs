//! Logs to stdout via `tracing`: human-readable by default, JSON with `LOG_FORMAT=json`.

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, LogFormat};

/// What is logged when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    /// A server: its log stream is stdout (12-factor).
    Stdout,
    /// A one-shot command whose stdout is its result (a key printed once, a
    /// listing): its log lines, audit included, go to stderr.
    Stderr,
}

/// Install the global subscriber. `RUST_LOG` filters (default `info`); one
/// that does not parse fails start-up like any bad setting.
pub fn init(format: LogFormat) -> Result<(), ConfigError> {
    init_to(format, LogTarget::Stdout)
}

/// The filter `RUST_LOG` asks for (`None`, empty: the default).
pub fn log_filter(rust_log: Option<&str>) -> Result<EnvFilter, ConfigError> {
    match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(EnvFilter::new(DEFAULT_FILTER)),
        Some(directives) => EnvFilter::try_new(directives).map_err(|error| {
            ConfigError::new(
                "RUST_LOG",
                format!(
                    "cannot parse {directives:?}: {error} (e.g. info or info,auth_server=debug)"
                ),
            )
        }),
    }
}

/// [`init`], writing to `target`.
pub fn init_to(format: LogFormat, target: LogTarget) -> Result<(), ConfigError> {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref())?;
    use std::io::IsTerminal as _;
    let (writer, terminal) = match target {
        LogTarget::Stdout => (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        ),
        LogTarget::Stderr => (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        ),
    };
    // Colours only for a person at a terminal (and not with NO_COLOR set):
    // escape codes in a file or a log pipeline are noise.
    let colour = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    let result = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // Already installed (a test harness, a second call): keep the first.
    if result.is_ok() {
        route_panics_to_the_log();
    }
    Ok(())
}

/// A panic anywhere (a handler, a background task, a worker thread) becomes
/// one ERROR event in the log stream, with its location, instead of raw text
/// on stderr: log pipelines see it, and stderr stays reserved for the
/// process's one start-up error line.
fn route_panics_to_the_log() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        tracing::error!(target: "panic", %message, %location, %thread, "panicked");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_log_that_does_not_parse_is_a_configuration_error() {
        assert!(log_filter(None).is_ok());
        assert!(log_filter(Some("  ")).is_ok());
        assert!(log_filter(Some("info,auth_server=debug")).is_ok());
        let error = log_filter(Some("info,auth_server=loud")).expect_err("bad level");
        assert_eq!(error.variable, "RUST_LOG");
    }
}
