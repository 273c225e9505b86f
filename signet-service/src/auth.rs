//! How a Signet service trusts the auth server: through its public keys only,
//! and (with `AUTH_EVENTS_API_KEY`) its security-event feed, so revocations
//! reach the service within a second.

use std::time::Duration;

use jwt_verify::{DpopSettings, KeyError, KeySource, RevocationFeed, Validation, Verifier};
use secrecy::ExposeSecret as _;

use crate::config::{ConfigError, Env};

/// Following the auth server's security-event feed (from the environment:
/// `AUTH_EVENTS_API_KEY` or `AUTH_EVENTS_API_KEY_FILE`, `AUTH_EVENTS_URL`,
/// `AUTH_REVOCATION_MAX_STALENESS`, `AUTH_REVOCATION_FAIL_CLOSED`).
#[derive(Debug, Clone)]
pub struct RevocationSettings {
    /// The feed (default: `{AUTH_ISSUER}/api/v1/security-events`).
    pub url: String,
    /// An API key with scope `events:read`; `Debug` shows `[REDACTED]`.
    pub api_key: secrecy::SecretString,
    /// Silent longer than this, the feed counts as stale (default 5 min).
    pub max_staleness: Duration,
    /// Stale: refuse every token (503) instead of accepting them (default false).
    pub fail_closed: bool,
}

impl RevocationSettings {
    /// The settings, or `None` when no events API key is configured.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        issuer: &str,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(api_key) = env.secret("AUTH_EVENTS_API_KEY", "AUTH_EVENTS_API_KEY_FILE")? else {
            return Ok(None);
        };
        let api_key = api_key.trim().to_owned();
        if !api_key.starts_with("sgn_") || api_key.splitn(3, '_').count() != 3 {
            return Err(ConfigError::new(
                "AUTH_EVENTS_API_KEY",
                "must be a Signet API key (sgn_<id>_<secret>) with scope events:read",
            ));
        }
        let default_url = format!("{}/api/v1/security-events", issuer.trim_end_matches('/'));
        let url = env
            .http_url("AUTH_EVENTS_URL", Some(&default_url))?
            .map(|u| u.to_string())
            .unwrap_or(default_url);
        Ok(Some(Self {
            url,
            api_key: api_key.into(),
            max_staleness: env
                .duration("AUTH_REVOCATION_MAX_STALENESS", Duration::from_secs(300))?,
            fail_closed: env.bool("AUTH_REVOCATION_FAIL_CLOSED", false)?,
        }))
    }
}

/// The origins clients address this service by, which DPoP proofs may name
/// (`DPOP_ORIGINS`, comma-separated http(s) URLs; default `default`, the
/// service's public URL). Bound tokens are accepted only with a proof
/// naming one of them.
pub fn dpop_origins<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    default: &str,
) -> Result<Vec<String>, ConfigError> {
    let origins = env.list("DPOP_ORIGINS", default)?;
    for origin in &origins {
        let valid = url::Url::parse(origin).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.query().is_none()
                && u.fragment().is_none()
        });
        if !valid {
            return Err(ConfigError::new(
                "DPOP_ORIGINS",
                "each entry must be an http(s) URL such as https://blog.example.com",
            ));
        }
    }
    Ok(origins)
}

/// How a service verifies the auth server's tokens (see [`remote_verifier`]).
#[derive(Debug, Clone, Copy)]
pub struct VerifierOptions<'a> {
    /// The expected `iss`, and where discovery happens.
    pub issuer: &'a str,
    /// The JWKS URL; `None`: from the issuer's discovery document.
    pub jwks_url: Option<&'a str>,
    /// Accepted audiences.
    pub audiences: &'a [String],
    /// Start even if the auth server is unreachable (readiness reports it
    /// until keys load).
    pub lazy: bool,
    /// Follow the security-event feed.
    pub revocation: Option<&'a RevocationSettings>,
    /// Accept DPoP-bound tokens with a proof naming one of these (RFC 9449).
    pub dpop_origins: &'a [String],
    /// Verified tokens cached (`AUTH_TOKEN_CACHE`; 0: off).
    pub token_cache: usize,
}

/// A verifier for tokens from `options.issuer` for one of its audiences
/// (RFC 9068 `at+jwt` only). Its error is one line naming the variable: a
/// wrong `AUTH_ISSUER` or `AUTH_JWKS_URL` is a configuration error (even with
/// a lazy start), an unreachable auth server an outage.
pub async fn remote_verifier(options: &VerifierOptions<'_>) -> anyhow::Result<Verifier> {
    build_remote_verifier(options).await.map_err(|error| {
        let variable = if options.jwks_url.is_some() {
            "AUTH_JWKS_URL"
        } else {
            "AUTH_ISSUER"
        };
        if error.is_misconfiguration() {
            let fix = match &error {
                KeyError::IssuerMismatch { found, .. } => format!(
                    "; the auth server calls itself {found:?}: set AUTH_ISSUER to exactly that (its JWT_ISSUER)"
                ),
                _ => format!("; set {variable} to the auth server's address (its JWT_ISSUER)"),
            };
            anyhow::anyhow!("{variable}: configuration error: {error}{fix}")
        } else {
            anyhow::anyhow!(
                "{variable}: cannot load the auth server's keys: {error} (set AUTH_LAZY_START=true to start without them)"
            )
        }
    })
}

async fn build_remote_verifier(options: &VerifierOptions<'_>) -> Result<Verifier, KeyError> {
    let source = match options.jwks_url {
        Some(url) => KeySource::jwks(url),
        None => KeySource::oidc_discovery(options.issuer),
    };
    let validation = Validation::new(options.issuer)
        .audiences_from(options.audiences.iter().cloned())
        .require_type("at+jwt");
    let mut builder = Verifier::builder(source, validation)
        .lazy(options.lazy)
        .token_cache(options.token_cache);
    if let Some(settings) = options.revocation {
        builder = builder
            .revocation_feed(RevocationFeed::with_api_key(
                &settings.url,
                settings.api_key.expose_secret(),
            ))
            .revocation_max_staleness(settings.max_staleness)
            .revocation_fail_closed(settings.fail_closed);
    }
    if !options.dpop_origins.is_empty() {
        builder = builder.dpop(DpopSettings::new(options.dpop_origins));
    }
    builder.build().await
}

/// `/readyz` for a service that verifies tokens: ready when the database
/// answers and the verifier holds keys, and, when it follows the revocation
/// feed and fails closed, while the feed is fresh (stale, it would refuse
/// every token), and while the feed's events verify (`untrusted`: a page
/// none of whose SETs verified; the follower is not moving). The feed's
/// position and health, and how many SETs were skipped, are reported either way.
pub async fn readiness(
    db: &sea_orm::DatabaseConnection,
    verifier: &Verifier,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let database = matches!(
        tokio::time::timeout(Duration::from_secs(2), db.ping()).await,
        Ok(Ok(()))
    );
    let keys = verifier.status();
    let revocations = verifier.revocation_status();
    let refusing_all =
        revocations.as_ref().is_some_and(|r| r.stale) && verifier.revocations_fail_closed();
    // A feed none of whose events verify is not being followed at all.
    let untrusted = revocations.as_ref().is_some_and(|r| r.untrusted);
    let ready = database && keys.key_count > 0 && !refusing_all && !untrusted;
    let feed = revocations.map(|r| {
        serde_json::json!({
            "cursor": r.cursor,
            "entries": r.entries,
            "last_synced_at": r.last_synced_at,
            "last_event_at": r.last_event_at,
            "failures": r.failures,
            "stale": r.stale,
            "skipped": r.skipped,
            "untrusted": r.untrusted,
        })
    });
    (
        if ready {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        },
        axum::Json(serde_json::json!({
            "status": if ready { "ready" } else { "unready" },
            "checks": {
                "database": database,
                "verification_keys": keys.key_count,
                "keys_last_error": keys.last_error,
                "revocation_feed": feed,
            },
        })),
    )
}

/// RFC 9728: the service as a protected resource, when one of its accepted
/// audiences (`AUTH_AUDIENCE`) is a URL, the resource identifier a client
/// asks the authorization server for; an audience that is a plain name
/// identifies no resource, and nothing is published (`None`).
pub fn protected_resource(
    audiences: &[String],
    issuer: &str,
) -> Option<jwt_verify::ProtectedResource> {
    audiences
        .iter()
        .find_map(|audience| jwt_verify::ProtectedResource::new(audience, issuer.to_owned()).ok())
}

/// Whether `path` is one of the metadata documents
/// [`jwt_verify::ProtectedResource::router`] serves (for CORS).
pub fn is_resource_metadata_path(path: &str) -> bool {
    path.starts_with("/.well-known/oauth-protected-resource")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Option<RevocationSettings>, ConfigError> {
        let env = Env::new(|name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        });
        RevocationSettings::from_env(&env, "http://127.0.0.1:8080")
    }

    #[test]
    fn the_feed_is_followed_only_with_an_events_key() {
        assert!(settings(&[]).expect("ok").is_none());
        let on = settings(&[("AUTH_EVENTS_API_KEY", "sgn_abc_secret")])
            .expect("ok")
            .expect("on");
        assert_eq!(on.url, "http://127.0.0.1:8080/api/v1/security-events");
        assert_eq!(on.max_staleness, Duration::from_secs(300));
        assert!(!on.fail_closed);
        assert!(!format!("{on:?}").contains("secret"));
        for (name, value) in [
            ("AUTH_EVENTS_API_KEY", "not-a-key"),
            ("AUTH_EVENTS_URL", "ftp://x"),
            ("AUTH_REVOCATION_MAX_STALENESS", "soon"),
            ("AUTH_REVOCATION_FAIL_CLOSED", "maybe"),
        ] {
            let mut vars = vec![("AUTH_EVENTS_API_KEY", "sgn_abc_secret"), (name, value)];
            if name == "AUTH_EVENTS_API_KEY" {
                vars.remove(0);
            }
            let error = settings(&vars).expect_err(name);
            assert_eq!(error.variable, name);
        }
    }
}
