//! What the request layer's metrics cost per request: one counter and one
//! latency histogram with method, route and status labels, as
//! `count_requests` records them, single-threaded and from two threads at
//! once (the registry must not serialise requests).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use signet_service::metrics::{Metrics, HTTP_DURATION, HTTP_REQUESTS};

fn record(metrics: &Metrics) {
    let labels = [
        ("method", "GET"),
        ("route", "/api/v1/auth/verify"),
        ("status", "200"),
    ];
    metrics.counter(&HTTP_REQUESTS, &labels).increment(1);
    metrics
        .histogram(&HTTP_DURATION, &labels)
        .record(Duration::from_micros(250));
}

fn per_request(c: &mut Criterion) {
    let metrics = Metrics::new(&[]);
    c.bench_function("metrics per request (counter + histogram)", |b| {
        b.iter(|| record(&metrics))
    });
    c.bench_function("metrics per request, two threads at once", |b| {
        b.iter_custom(|iterations| {
            let started = std::time::Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        for _ in 0..iterations {
                            record(&metrics);
                        }
                    });
                }
            });
            // Per request: two threads did `iterations` each.
            started.elapsed() / 2
        })
    });
}

criterion_group!(benches, per_request);
criterion_main!(benches);
