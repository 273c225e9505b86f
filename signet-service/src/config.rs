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

/// Which web origins may call a service's cross-origin endpoints from a
/// browser (`CORS_ALLOWED_ORIGINS`). Credentials (cookies) are never allowed
/// cross-origin: these endpoints take bearer tokens and client credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers at all: browsers keep other origins out (the default).
    #[default]
    None,
    /// `*`: any origin (public documents such as the JWKS; never with credentials).
    Any,
    /// Exactly these origins (`scheme://host[:port]`, normalized).
    List(Vec<String>),
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

    /// `CORS_ALLOWED_ORIGINS`: comma-separated exact origins
    /// (`https://app.example.com`, `http://localhost:5173`), or `*` alone.
    /// An origin with a path, query, user or a scheme other than http(s) is
    /// refused: a browser's `Origin` never has them, so it would never match.
    pub fn cors_origins(&self) -> Result<CorsOrigins, ConfigError> {
        const NAME: &str = "CORS_ALLOWED_ORIGINS";
        let Some(raw) = self.get(NAME) else {
            return Ok(CorsOrigins::None);
        };
        let entries: Vec<&str> = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if entries == ["*"] {
            return Ok(CorsOrigins::Any);
        }
        let mut origins = Vec::with_capacity(entries.len());
        for entry in entries {
            if entry == "*" || entry.contains('*') {
                return Err(ConfigError::new(
                    NAME,
                    "`*` stands alone (any origin); otherwise list exact origins such as https://app.example.com",
                ));
            }
            let url = url::Url::parse(entry).map_err(|_| {
                ConfigError::new(
                    NAME,
                    format!("{entry:?} is not an origin such as https://app.example.com"),
                )
            })?;
            let bare = matches!(url.path(), "" | "/")
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none()
                && !entry.trim_end_matches('/').ends_with('?');
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
                return Err(ConfigError::new(
                    NAME,
                    format!(
                        "{entry:?} is not an origin: give scheme://host[:port] only, with no path"
                    ),
                ));
            }
            origins.push(url.origin().ascii_serialization());
        }
        Ok(CorsOrigins::List(origins))
    }

    /// A secret: `NAME` itself, or else the contents of the file named by
    /// `NAME_FILE` (as Docker and Kubernetes mount secrets), trailing newline
    /// removed. Setting both is refused: which one wins would be a guess.
    pub fn secret(
        &self,
        name: &'static str,
        file_variable: &'static str,
    ) -> Result<Option<String>, ConfigError> {
        match (self.get(name), self.get(file_variable)) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                name,
                format!("set either {name} or {file_variable}, not both"),
            )),
            (Some(value), None) => Ok(Some(value)),
            (None, Some(path)) => {
                let contents = std::fs::read_to_string(path.trim()).map_err(|e| {
                    ConfigError::new(file_variable, format!("cannot read {path:?}: {e}"))
                })?;
                let value = contents.trim_end_matches(['\r', '\n']).to_owned();
                if value.trim().is_empty() {
                    return Err(ConfigError::new(
                        file_variable,
                        format!("{path:?} is empty"),
                    ));
                }
                Ok(Some(value))
            }
            (None, None) => Ok(None),
        }
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

    /// A listen address: `IP:PORT`, or `HOST:PORT` resolved once at start-up
    /// (`localhost:8080`; the first address the resolver gives).
    pub fn socket_addr(
        &self,
        name: &'static str,
        default: std::net::SocketAddr,
    ) -> Result<std::net::SocketAddr, ConfigError> {
        use std::net::ToSocketAddrs as _;
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let raw = raw.trim();
        if let Ok(addr) = raw.parse() {
            return Ok(addr);
        }
        let expected = || {
            ConfigError::new(
                name,
                format!("cannot use {raw:?}: expected IP:PORT or HOST:PORT, e.g. 127.0.0.1:8080"),
            )
        };
        if !raw
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        {
            return Err(expected());
        }
        raw.to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(expected)
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
        // The URL may carry the database password: it can come from a secret file.
        let raw = self
            .secret(variable, "DATABASE_URL_FILE")?
            .unwrap_or_else(|| default.to_owned());
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

/// The "Environment" part of a binary's `--help`: the variables of the
/// configuration table under the heading `## {section}` of
/// `docs/CONFIGURATION.md`, one per line with its default and the first
/// sentence of its meaning. That file is the one place they are described
/// (compiled in with `include_str!`), so the help cannot drift from it.
pub fn environment_help(reference: &str, section: &str) -> String {
    let heading = format!("## {section}");
    let Some(start) = reference.lines().position(|line| line.trim() == heading) else {
        return String::new();
    };
    let rows = reference
        .lines()
        .skip(start + 1)
        .take_while(|line| !line.starts_with("## "))
        .skip_while(|line| !line.starts_with("| Variable |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'));
    let mut out = format!(
        "Environment (also read from ./.env; *_FILE variants read secrets from files; see docs/CONFIGURATION.md, \"{section}\"):\n"
    );
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        let [names, default, meaning, ..] = cells[..] else {
            continue;
        };
        let names = plain(names);
        let default = plain(default);
        let meaning = plain(meaning);
        let first_sentence = meaning
            .split_once(". ")
            .map_or(meaning.as_str(), |(first, _)| first)
            .trim_end_matches('.');
        out.push_str(&format!("  {names}\n      default: {default}"));
        if !first_sentence.is_empty() {
            out.push_str(&format!("; {first_sentence}"));
        }
        out.push('\n');
    }
    out
}

/// Markdown cell text as plain text: no backticks, emphasis or link targets.
fn plain(cell: &str) -> String {
    let mut text = String::with_capacity(cell.len());
    let mut rest = cell;
    // [text](url) -> text
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](") else {
            break;
        };
        let Some(end) = rest[open + close..].find(')') else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..open + close]);
        rest = &rest[open + close + end + 1..];
    }
    text.push_str(rest);
    text.replace(['`'], "").replace("**", "")
}

/// Seconds (`900`) or a humantime duration (`15m`, `1h 30m`).
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    if let Ok(seconds) = raw.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(raw).map_err(|e| format!("cannot parse {raw:?} as a duration: {e}"))
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn cors_origins_are_exact_origins_or_a_lone_star() {
        let parse = |value: &str| {
            let value = value.to_owned();
            Env::new(move |name: &str| (name == "CORS_ALLOWED_ORIGINS").then(|| value.clone()))
                .cors_origins()
        };
        assert_eq!(parse("").expect("unset"), CorsOrigins::None);
        assert_eq!(parse(" * ").expect("star"), CorsOrigins::Any);
        assert_eq!(
            parse("https://App.Example.com/, http://localhost:5173").expect("list"),
            CorsOrigins::List(vec![
                "https://app.example.com".into(),
                "http://localhost:5173".into()
            ])
        );
        for bad in [
            "https://a.example, *",
            "https://*.example.com",
            "https://a.example/app",
            "https://a.example?x=1",
            "https://user@a.example",
            "ftp://a.example",
            "a.example",
            "null",
        ] {
            let error = parse(bad).expect_err(bad);
            assert_eq!(error.variable, "CORS_ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn environment_help_lists_the_readme_table_of_its_section() {
        let readme = "## One\n\ntext\n\n| Variable | Default | Meaning |\n|---|---|---|\n\
| `A_VAR` | `1s` | Does [a thing](https://x). More. |\n\
| `B` / `C` | **required** | |\n\n## Two\n| Variable | Default | Meaning |\n|---|---|---|\n| `D` | x | y |\n";
        let help = environment_help(readme, "One");
        assert!(
            help.contains("  A_VAR\n      default: 1s; Does a thing\n"),
            "{help}"
        );
        assert!(
            help.contains("  B / C\n      default: required\n"),
            "{help}"
        );
        assert!(!help.contains("  D\n"), "another section's table: {help}");
        assert_eq!(environment_help(readme, "Three"), "");
    }

    fn env<'a>(vars: &'a [(&'static str, String)]) -> Env<impl Fn(&str) -> Option<String> + 'a> {
        Env::new(move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn a_secret_comes_from_the_variable_or_from_its_file() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("secret");
        std::fs::write(&file, "s3cr3t\n").expect("write");
        let path = file.display().to_string();
        assert_eq!(
            env(&[("TOKEN", "inline".into())])
                .secret("TOKEN", "TOKEN_FILE")
                .expect("ok"),
            Some("inline".to_owned())
        );
        assert_eq!(
            env(&[("TOKEN_FILE", path.clone())])
                .secret("TOKEN", "TOKEN_FILE")
                .expect("ok"),
            Some("s3cr3t".to_owned()),
            "the trailing newline of the file is not part of the secret"
        );
        assert_eq!(env(&[]).secret("TOKEN", "TOKEN_FILE").expect("ok"), None);
    }

    #[test]
    fn a_bad_secret_file_names_the_variable_and_never_the_contents() {
        let dir = tempfile::tempdir().expect("dir");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").expect("write");
        let missing = env(&[("TOKEN_FILE", "/nonexistent/secret".into())])
            .secret("TOKEN", "TOKEN_FILE")
            .expect_err("missing file");
        assert_eq!(missing.variable, "TOKEN_FILE");
        let blank = env(&[("TOKEN_FILE", empty.display().to_string())])
            .secret("TOKEN", "TOKEN_FILE")
            .expect_err("empty file");
        assert_eq!(blank.variable, "TOKEN_FILE");
        let both = env(&[("TOKEN", "a".into()), ("TOKEN_FILE", "/x".into())])
            .secret("TOKEN", "TOKEN_FILE")
            .expect_err("both");
        assert_eq!(both.variable, "TOKEN");
    }
}
