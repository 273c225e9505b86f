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

/// Series by their rendered label set (`k="v",…`), the only form ever needed.
type Series = BTreeMap<String, f64>;

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
        let mut key = String::new();
        for (i, (name, value)) in labels.iter().enumerate() {
            if i > 0 {
                key.push(',');
            }
            let _ = write!(key, "{name}=\"{}\"", escape(value));
        }
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
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
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

/// The `method` label: one of the standard methods, else `other`. A client
/// chooses the method (any token is valid HTTP), so taking it verbatim would
/// let anyone mint series — and memory — at will.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts every request by method (closed set), matched route pattern (never
/// the raw path) and status: every label comes from a closed set, so no
/// client can grow the number of series.
pub async fn count_requests(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let method = method_label(request.method());
    // Cheap: the matched path is shared.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    metrics.inc(
        "http_requests_total",
        "HTTP requests by method, route and status.",
        &[
            ("method", method),
            (
                "route",
                route.as_ref().map_or("unmatched", MatchedPath::as_str),
            ),
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

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        for raw in ["FOO", "X-1", "get", "PROPFIND"] {
            let method = axum::http::Method::from_bytes(raw.as_bytes()).expect("token");
            assert_eq!(method_label(&method), "other", "{raw}");
        }
        assert_eq!(method_label(&axum::http::Method::DELETE), "DELETE");
    }
}
