//! Metrics: the `metrics` facade with a Prometheus recorder per application
//! instance (tests run several in one process, so nothing is global).
//!
//! Every metric is declared once, as a constant with its help text
//! ([`CounterDef`], [`GaugeDef`], [`HistogramDef`]), and described when the
//! registry is made; a call site asks for a typed handle (`Counter`, `Gauge`,
//! `Histogram`) and updates it with an atomic operation. No mutex on the
//! request path: series are found in the recorder's sharded registry.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, SharedString,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// A counter's name and help text.
#[derive(Debug)]
pub struct CounterDef {
    pub name: &'static str,
    pub help: &'static str,
}

/// A gauge's name and help text.
#[derive(Debug)]
pub struct GaugeDef {
    pub name: &'static str,
    pub help: &'static str,
}

/// A histogram's name and help text; names ending in `_seconds` get the
/// latency buckets.
#[derive(Debug)]
pub struct HistogramDef {
    pub name: &'static str,
    pub help: &'static str,
}

/// One entry of a service's metric catalog (see [`Metrics::new`]).
#[derive(Debug, Clone, Copy)]
pub enum Described {
    Counter(&'static CounterDef),
    Gauge(&'static GaugeDef),
    Histogram(&'static HistogramDef),
}

pub const HTTP_REQUESTS: CounterDef = CounterDef {
    name: "http_requests_total",
    help: "HTTP requests by method, route and status.",
};
pub const HTTP_DURATION: HistogramDef = HistogramDef {
    name: "http_request_duration_seconds",
    help: "Time from request to response head, by method, route and status.",
};
pub const TOKENS_VERIFIED: CounterDef = CounterDef {
    name: "tokens_verified_total",
    help: "Bearer tokens that passed verification.",
};
pub const VERIFICATION_FAILURES: CounterDef = CounterDef {
    name: "token_verification_failures_total",
    help: "Bearer tokens rejected, by reason.",
};
pub const JWKS_REFRESHES: CounterDef = CounterDef {
    name: "jwks_refreshes_total",
    help: "JWKS fetches by outcome.",
};
pub const VERIFICATION_KEYS: GaugeDef = GaugeDef {
    name: "verification_keys",
    help: "Usable keys in the verifier's key set.",
};

pub const REVOCATION_ENTRIES: GaugeDef = GaugeDef {
    name: "revocation_deny_set_entries",
    help: "Revoked sessions, users, clients and keys the verifier holds (revocation feed).",
};

pub const REVOCATION_STALE: GaugeDef = GaugeDef {
    name: "revocation_feed_stale",
    help: "1 while the revocation feed has been silent longer than AUTH_REVOCATION_MAX_STALENESS.",
};

pub const REVOCATION_LAST_SYNC: GaugeDef = GaugeDef {
    name: "revocation_feed_last_sync_timestamp_seconds",
    help: "When the revocation feed was last read successfully (Unix time).",
};

pub const RETENTION_PURGED: CounterDef = CounterDef {
    name: "retention_purged_total",
    help: "Rows deleted by retention, by table.",
};

/// What every service records through this crate.
const SHARED: &[Described] = &[
    Described::Counter(&HTTP_REQUESTS),
    Described::Histogram(&HTTP_DURATION),
    Described::Counter(&TOKENS_VERIFIED),
    Described::Counter(&VERIFICATION_FAILURES),
    Described::Counter(&JWKS_REFRESHES),
    Described::Gauge(&VERIFICATION_KEYS),
    Described::Gauge(&REVOCATION_ENTRIES),
    Described::Gauge(&REVOCATION_STALE),
    Described::Gauge(&REVOCATION_LAST_SYNC),
    Described::Counter(&RETENTION_PURGED),
];

/// Request latency buckets, 1 ms to 10 s: token issuance and verification
/// sit in the first ones, password hashing in the middle.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded in when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// One application instance's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()))
}

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(name, value)| Label::new(*name, (*value).to_owned()))
        .collect();
    Key::from_parts(name, labels)
}

impl Metrics {
    /// A registry describing the shared metrics and the service's `catalog`.
    /// Inside a Tokio runtime it also folds histogram samples in every few
    /// seconds, so memory stays bounded even if `/metrics` is never scraped.
    pub fn new(catalog: &[Described]) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        for entry in SHARED.iter().chain(catalog) {
            let (name, help) = match entry {
                Described::Counter(def) => (def.name, def.help),
                Described::Gauge(def) => (def.name, def.help),
                Described::Histogram(def) => (def.name, def.help),
            };
            let (name, help) = (KeyName::from_const_str(name), SharedString::const_str(help));
            match entry {
                Described::Counter(_) => recorder.describe_counter(name, None, help),
                Described::Gauge(_) => recorder.describe_gauge(name, None, help),
                Described::Histogram(_) => recorder.describe_histogram(name, None, help),
            }
        }
        let handle = recorder.handle();
        let metrics = Self {
            recorder: Arc::new(recorder),
            handle,
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak: Weak<PrometheusRecorder> = Arc::downgrade(&metrics.recorder);
            let handle = metrics.handle.clone();
            runtime.spawn(async move {
                let mut ticker = tokio::time::interval(UPKEEP_INTERVAL);
                loop {
                    ticker.tick().await;
                    if weak.strong_count() == 0 {
                        break;
                    }
                    handle.run_upkeep();
                }
            });
        }
        metrics
    }

    /// The counter `def` with these labels (each label from a closed set).
    pub fn counter(&self, def: &CounterDef, labels: &[(&'static str, &str)]) -> Counter {
        self.recorder
            .register_counter(&key(def.name, labels), &metadata())
    }

    /// The gauge `def` with these labels.
    pub fn gauge(&self, def: &GaugeDef, labels: &[(&'static str, &str)]) -> Gauge {
        self.recorder
            .register_gauge(&key(def.name, labels), &metadata())
    }

    /// The histogram `def` with these labels.
    pub fn histogram(&self, def: &HistogramDef, labels: &[(&'static str, &str)]) -> Histogram {
        self.recorder
            .register_histogram(&key(def.name, labels), &metadata())
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
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

/// Counts every request and records its latency, by method (closed set),
/// matched route pattern (never the raw path) and status: every label comes
/// from a closed set, so no client can grow the number of series.
pub async fn count_requests(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    // Cheap: the matched path is shared.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let status = response.status();
    let labels = [
        ("method", method),
        (
            "route",
            route.as_ref().map_or("unmatched", MatchedPath::as_str),
        ),
        ("status", status.as_str()),
    ];
    metrics.counter(&HTTP_REQUESTS, &labels).increment(1);
    metrics
        .histogram(&HTTP_DURATION, &labels)
        .record(started.elapsed());
    response
}

/// Mirror a jwt-verify verifier's counters into `metrics`.
pub fn record_verifier(metrics: &Metrics, verifier: &jwt_verify::Verifier) {
    for (reason, count) in verifier.rejections() {
        metrics
            .counter(&VERIFICATION_FAILURES, &[("reason", reason)])
            .absolute(count);
    }
    metrics
        .counter(&TOKENS_VERIFIED, &[])
        .absolute(verifier.verified());
    let status = verifier.status();
    if status.remote {
        let failed = status.failed_fetches;
        metrics
            .counter(&JWKS_REFRESHES, &[("outcome", "success")])
            .absolute(status.fetches.saturating_sub(failed));
        metrics
            .counter(&JWKS_REFRESHES, &[("outcome", "failure")])
            .absolute(failed);
    }
    metrics
        .gauge(&VERIFICATION_KEYS, &[])
        .set(status.key_count as f64);
    if let Some(revocations) = verifier.revocation_status() {
        metrics
            .gauge(&REVOCATION_ENTRIES, &[])
            .set(revocations.entries as f64);
        metrics
            .gauge(&REVOCATION_STALE, &[])
            .set(if revocations.stale { 1.0 } else { 0.0 });
        if let Some(at) = revocations.last_synced_at {
            metrics.gauge(&REVOCATION_LAST_SYNC, &[]).set(at as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGINS: CounterDef = CounterDef {
        name: "logins_total",
        help: "Logins.",
    };

    #[test]
    fn counters_and_latencies_render_in_prometheus_text_format() {
        let metrics = Metrics::new(&[Described::Counter(&LOGINS)]);
        let failures = metrics.counter(&LOGINS, &[("outcome", "failure")]);
        failures.increment(1);
        failures.increment(1);
        metrics
            .counter(&LOGINS, &[("outcome", "su\"ccess")])
            .increment(1);
        metrics
            .histogram(&HTTP_DURATION, &[("route", "/x")])
            .record(Duration::from_millis(3));
        let text = metrics.render();
        assert!(text.contains("# HELP logins_total Logins."), "{text}");
        assert!(text.contains("# TYPE logins_total counter"), "{text}");
        assert!(
            text.contains("logins_total{outcome=\"failure\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("logins_total{outcome=\"su\\\"ccess\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn two_instances_count_apart() {
        let (a, b) = (
            Metrics::new(&[Described::Counter(&LOGINS)]),
            Metrics::new(&[Described::Counter(&LOGINS)]),
        );
        a.counter(&LOGINS, &[]).increment(3);
        assert!(a.render().contains("logins_total 3"));
        assert!(!b.render().contains("logins_total 3"));
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
