//! Logs to stdout via `tracing`: human-readable by default, JSON with `LOG_FORMAT=json`.

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    /// A server: its log stream is stdout (12-factor).
    Stdout,
    /// A one-shot command whose stdout is its result (a key printed once, a
    /// listing): its log lines, audit included, go to stderr.
    Stderr,
}

/// Install the global subscriber. `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    init_to(format, LogTarget::Stdout)
}

/// [`init`], writing to `target`.
pub fn init_to(format: LogFormat, target: LogTarget) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let writer = match target {
        LogTarget::Stdout => BoxMakeWriter::new(std::io::stdout),
        LogTarget::Stderr => BoxMakeWriter::new(std::io::stderr),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // Already installed (a test harness, a second call): keep the first.
    if result.is_ok() {
        route_panics_to_the_log();
    }
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
