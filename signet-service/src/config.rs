//! Reading configuration from the environment: every service validates its
//! variables once at start and fails with one line naming the bad one.

use std::time::Duration;

/// A configuration value that cannot be used, and which variable holds it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Reads variables through a lookup function, so tests configure services
/// without touching the process environment.
pub struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The value, or `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    pub fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e| ConfigError::new(name, format!("cannot parse {raw:?}: {e}"))),
        }
    }

    pub fn positive<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Default,
        T::Err: std::fmt::Display,
    {
        let value = self.parse(name, default)?;
        if value <= T::default() {
            return Err(ConfigError::new(name, "must be greater than zero"));
        }
        Ok(value)
    }

    /// Seconds or humantime; zero is refused.
    pub fn duration(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let value = self.duration_or_zero(name, default)?;
        if value.is_zero() {
            return Err(ConfigError::new(name, "must be greater than zero"));
        }
        Ok(value)
    }

    /// Seconds or humantime; zero allowed (e.g. "disabled").
    pub fn duration_or_zero(
        &self,
        name: &'static str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => parse_duration(&raw).map_err(|e| ConfigError::new(name, e)),
        }
    }

    pub fn bool(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::new(
                name,
                format!("expected true or false, got {v:?}"),
            )),
        }
    }

    /// A comma-separated list with at least one non-blank entry.
    pub fn list(&self, name: &'static str, default: &str) -> Result<Vec<String>, ConfigError> {
        let items: Vec<String> = self
            .get(name)
            .unwrap_or_else(|| default.to_owned())
            .split(',')
            .map(|item| item.trim().to_owned())
            .filter(|item| !item.is_empty())
            .collect();
        if items.is_empty() {
            return Err(ConfigError::new(name, "must name at least one value"));
        }
        Ok(items)
    }

    /// `LOG_FORMAT`: `pretty` (default) or `json`.
    pub fn log_format(&self) -> Result<LogFormat, ConfigError> {
        match self
            .get("LOG_FORMAT")
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => Ok(LogFormat::Pretty),
            Some(v) if v == "pretty" => Ok(LogFormat::Pretty),
            Some(v) if v == "json" => Ok(LogFormat::Json),
            Some(v) => Err(ConfigError::new(
                "LOG_FORMAT",
                format!("expected pretty or json, got {v:?}"),
            )),
        }
    }

    /// An absolute http(s) URL.
    pub fn http_url(
        &self,
        name: &'static str,
        default: Option<&str>,
    ) -> Result<Option<url::Url>, ConfigError> {
        let Some(raw) = self.get(name).or_else(|| default.map(str::to_owned)) else {
            return Ok(None);
        };
        let url = url::Url::parse(raw.trim())
            .map_err(|e| ConfigError::new(name, format!("not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::new(name, "must be an http or https URL"));
        }
        Ok(Some(url))
    }

    /// `sqlite:…` or `postgres://…`.
    pub fn database_url(&self, default: &str) -> Result<String, ConfigError> {
        let variable = "DATABASE_URL";
        let raw = self.get(variable).unwrap_or_else(|| default.to_owned());
        let raw = raw.trim();
        match raw.split(':').next().unwrap_or_default() {
            "sqlite" => Ok(raw.to_owned()),
            "postgres" | "postgresql" => url::Url::parse(raw)
                .map(|_| raw.to_owned())
                .map_err(|e| ConfigError::new(variable, format!("not a valid URL: {e}"))),
            _ => Err(ConfigError::new(
                variable,
                format!("must start with sqlite: or postgres:// (e.g. {default})"),
            )),
        }
    }
}

/// Seconds (`900`) or a humantime duration (`15m`, `1h 30m`).
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    if let Ok(seconds) = raw.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(raw).map_err(|e| format!("cannot parse {raw:?} as a duration: {e}"))
}
