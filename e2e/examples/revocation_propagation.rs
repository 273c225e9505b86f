//! How long a revocation takes to reach a local verifier, measured with the
//! real binaries: auth-server, and blog-svc following its security-event
//! feed while it serves verified traffic. For each of N revocations (RFC
//! 7009 revocation of a fresh session's access token): from the moment the
//! revoking request has been answered to blog-svc's first 401 for that token,
//! polling every millisecond. Prints one JSON line; `scripts/bench.sh`
//! records it in docs/BENCHMARKS.md.
//!
//! Usage: `revocation_propagation [N=200] [LOAD_TASKS=4]` with the binaries
//! built in the same profile (`cargo build --release --bins`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use signet_e2e::{blog_answer, events_api_key, log_in, sign_up, test_tuning, Service};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let load_tasks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let mut auth_env = vec![
        (
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("auth.db").display()),
        ),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("LOG_FORMAT", "json".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    auth_env.extend(test_tuning());
    let mut auth = Service::start("auth-server", dir.path(), &auth_env);
    auth.wait_ready().await;
    let events_key = events_api_key(&auth);
    let mut blog = Service::start(
        "blog-svc",
        dir.path(),
        &[
            (
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("blog.db").display()),
            ),
            ("AUTH_ISSUER", auth.url.clone()),
            ("AUTH_EVENTS_API_KEY", events_key),
            ("LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ],
    );
    blog.wait_ready().await;
    assert_eq!(
        sign_up(&http, &auth.url, "bench@example.com").await,
        StatusCode::ACCEPTED
    );

    // Verified traffic on the blog meanwhile, from another session.
    let steady = log_in(&http, &auth.url, "bench@example.com").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for _ in 0..load_tasks {
        let (http, blog_url, token, stop, served) = (
            http.clone(),
            blog.url.clone(),
            steady.clone(),
            stop.clone(),
            served.clone(),
        );
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(
                    blog_answer(&http, &blog_url, &token).await,
                    StatusCode::NOT_FOUND
                );
                served.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let started = Instant::now();
    let mut delays = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let token = log_in(&http, &auth.url, "bench@example.com").await["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        assert_eq!(
            blog_answer(&http, &blog.url, &token).await,
            StatusCode::NOT_FOUND
        );
        let revoked = http
            .post(format!("{}/oauth/revoke", auth.url))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .expect("revoke");
        assert_eq!(revoked.status(), StatusCode::OK);
        let answered = Instant::now();
        loop {
            if blog_answer(&http, &blog.url, &token).await == StatusCode::UNAUTHORIZED {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            assert!(
                answered.elapsed() < Duration::from_secs(30),
                "a revocation did not arrive within 30 s"
            );
        }
        delays.push(answered.elapsed().as_secs_f64() * 1000.0);
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    delays.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "revocations": rounds,
            "p50_ms": percentile(&delays, 50.0),
            "p90_ms": percentile(&delays, 90.0),
            "p99_ms": percentile(&delays, 99.0),
            "max_ms": delays.last().copied().unwrap_or_default(),
            "verified_requests_meanwhile": served.load(Ordering::Relaxed),
            "verified_requests_per_second": served.load(Ordering::Relaxed) as f64 / elapsed,
        })
    );
    blog.terminate();
    auth.terminate();
}
