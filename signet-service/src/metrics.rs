//! Prometheus text-format counters, per application instance.
//!
//! Deliberately small: monotonic counters with labels, rendered on `GET
//! /metrics`. Each service adds its own (logins, tokens issued, …) and
//! everything the request layer counts (requests by route and status).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

type Series = BTreeMap<Vec<(String, String)>, f64>;

#[derive(Default)]
struct Family {
    help: &'static str,
    kind: &'static str,
    series: Series,
}

/// A registry of counters (and gauges set at render time).
#[derive(Default, Clone)]
pub struct Metrics {
    families: Arc<Mutex<BTreeMap<&'static str, Family>>>,
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_series(
        &self,
        name: &'static str,
        help: &'static str,
        kind: &'static str,
        labels: &[(&str, &str)],
        apply: impl FnOnce(&mut f64),
    ) {
        let Ok(mut families) = self.families.lock() else {
            return;
        };
        let family = families.entry(name).or_insert_with(|| Family {
            help,
            kind,
            series: Series::new(),
        });
        let key: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        apply(family.series.entry(key).or_insert(0.0));
    }

    /// Add one to a counter.
    pub fn inc(&self, name: &'static str, help: &'static str, labels: &[(&str, &str)]) {
        self.add(name, help, labels, 1.0);
    }

    pub fn add(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        amount: f64,
    ) {
        self.with_series(name, help, "counter", labels, |value| *value += amount);
    }

    /// Set a counter mirrored from elsewhere (e.g. a library's own totals).
    pub fn set_counter(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        self.with_series(name, help, "counter", labels, |v| *v = value);
    }

    pub fn set_gauge(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        self.with_series(name, help, "gauge", labels, |v| *v = value);
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let Ok(families) = self.families.lock() else {
            return String::new();
        };
        let mut out = String::new();
        for (name, family) in families.iter() {
            let _ = writeln!(out, "# HELP {name} {}", family.help);
            let _ = writeln!(out, "# TYPE {name} {}", family.kind);
            for (labels, value) in &family.series {
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
                }
            }
        }
        out
    }

    /// The `/metrics` response.
    pub fn response(&self) -> Response {
        let mut response = self.render().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    }
}

/// Counts every request by method, matched route (never the raw path, which
/// would explode cardinality) and status.
pub async fn count_requests(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    metrics.inc(
        "http_requests_total",
        "HTTP requests by method, route and status.",
        &[
            ("method", &method),
            ("route", &route),
            ("status", response.status().as_str()),
        ],
    );
    response
}

/// Mirror a jwt-verify verifier's counters into `metrics`.
pub fn record_verifier(metrics: &Metrics, verifier: &jwt_verify::Verifier) {
    for (reason, count) in verifier.rejections() {
        metrics.set_counter(
            "token_verification_failures_total",
            "Bearer tokens rejected, by reason.",
            &[("reason", reason)],
            count as f64,
        );
    }
    metrics.set_counter(
        "tokens_verified_total",
        "Bearer tokens that passed verification.",
        &[],
        verifier.verified() as f64,
    );
    let status = verifier.status();
    if status.remote {
        let failed = status.failed_fetches as f64;
        metrics.set_counter(
            "jwks_refreshes_total",
            "JWKS fetches by outcome.",
            &[("outcome", "success")],
            status.fetches as f64 - failed,
        );
        metrics.set_counter(
            "jwks_refreshes_total",
            "JWKS fetches by outcome.",
            &[("outcome", "failure")],
            failed,
        );
    }
    metrics.set_gauge(
        "verification_keys",
        "Usable keys in the verifier's key set.",
        &[],
        status.key_count as f64,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_text_format() {
        let metrics = Metrics::new();
        metrics.inc("logins_total", "Logins.", &[("outcome", "failure")]);
        metrics.inc("logins_total", "Logins.", &[("outcome", "failure")]);
        metrics.inc("logins_total", "Logins.", &[("outcome", "su\"ccess")]);
        let text = metrics.render();
        assert!(text.contains("# TYPE logins_total counter"));
        assert!(text.contains("logins_total{outcome=\"failure\"} 2"));
        assert!(text.contains("logins_total{outcome=\"su\\\"ccess\"} 1"));
    }
}
