//! SIGTERM during load: requests already in flight complete, new connections
//! are refused at once, and the process exits within SHUTDOWN_GRACE_PERIOD,
//! dropping whatever is still running when the period ends.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use signet_e2e::{sign_up, test_tuning, Service, PASSWORD};
use tokio::task::JoinHandle;

/// An auth-server whose logins are slow on purpose (Argon2 with 64 MiB and
/// three passes, one hash at a time), so that a burst of them is still in
/// flight when the signal arrives.
async fn slow_login_server(dir: &std::path::Path, grace: &str) -> Service {
    let mut env: Vec<(&str, String)> = test_tuning()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("ARGON2_"))
        .collect();
    env.extend([
        (
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("auth.db").display()),
        ),
        ("KEYS_DIR", dir.join("keys").display().to_string()),
        ("ARGON2_MEMORY_KIB", "65536".to_owned()),
        ("ARGON2_ITERATIONS", "3".to_owned()),
        ("PASSWORD_HASH_CONCURRENCY", "1".to_owned()),
        ("SHUTDOWN_GRACE_PERIOD", grace.to_owned()),
    ]);
    let mut auth = Service::start("auth-server", dir, &env);
    auth.wait_ready().await;
    let http = reqwest::Client::new();
    assert_eq!(
        sign_up(&http, &auth.url, "busy@example.com").await,
        StatusCode::ACCEPTED
    );
    auth
}

/// `n` logins at once: one client opens a connection per concurrent request.
/// (Built before the burst: building a client per request takes long enough
/// in a debug build that the requests would not be in flight yet.)
/// Returns once the first login has been answered: the server has then been
/// working through the burst for at least one hash, so every request of it
/// has long been accepted and is in flight.
async fn login_burst(
    http: &reqwest::Client,
    url: &str,
    n: usize,
) -> Vec<JoinHandle<Result<(StatusCode, Instant), String>>> {
    let first_answer = std::sync::Arc::new(tokio::sync::Notify::new());
    let burst = (0..n)
        .map(|_| {
            let (http, url, first_answer) = (http.clone(), url.to_owned(), first_answer.clone());
            tokio::spawn(async move {
                let response = http
                    .post(format!("{url}/api/v1/auth/login"))
                    .json(&json!({ "email": "busy@example.com", "password": PASSWORD }))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                first_answer.notify_one();
                Ok((response.status(), Instant::now()))
            })
        })
        .collect();
    first_answer.notified().await;
    burst
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish_and_refuses_new_connections() {
    let dir = tempfile::tempdir().expect("dir");
    let mut auth = slow_login_server(dir.path(), "30s").await;
    let http = reqwest::Client::new();
    let burst = login_burst(&http, &auth.url, 12).await;
    auth.terminate();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let port = auth.url.rsplit(':').next().expect("port").to_owned();
    let refused_at = Instant::now();
    assert!(
        tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .is_err(),
        "a new connection after SIGTERM must be refused"
    );

    let mut finished_after_refusal = 0;
    for login in burst {
        let (status, done_at) = login
            .await
            .expect("task")
            .unwrap_or_else(|e| panic!("an in-flight login was cut off: {e}"));
        assert_eq!(status, StatusCode::OK);
        if done_at > refused_at {
            finished_after_refusal += 1;
        }
    }
    assert!(
        finished_after_refusal > 0,
        "the burst should still have been running when connections were refused"
    );
    let status = auth
        .wait_for_exit(Duration::from_secs(30))
        .await
        .expect("exits within the grace period");
    assert!(status.success(), "{status}");
    let log = auth.log();
    assert!(log.contains("shutdown requested"), "{log}");
    assert!(!log.contains("grace period elapsed"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_still_running_when_the_grace_period_ends_are_dropped_and_the_process_exits() {
    let dir = tempfile::tempdir().expect("dir");
    let mut auth = slow_login_server(dir.path(), "1s").await;
    // Far more work than one second holds.
    let http = reqwest::Client::new();
    let burst = login_burst(&http, &auth.url, 40).await;
    auth.terminate();
    let status = auth
        .wait_for_exit(Duration::from_secs(20))
        .await
        .expect("the process exits once the grace period is over");
    assert!(status.success(), "{status}");
    let log = auth.log();
    assert!(log.contains("grace period elapsed"), "{log}");
    let (mut completed, mut dropped) = (0, 0);
    for login in burst {
        match login.await.expect("task") {
            Ok((status, _)) => {
                assert_eq!(status, StatusCode::OK);
                completed += 1;
            }
            Err(_) => dropped += 1,
        }
    }
    assert!(
        completed > 0 && dropped > 0,
        "{completed} completed, {dropped} dropped"
    );
}
