//! What an operator reads: every line a request logs carries its request id
//! (the `x-request-id` the client got back), the 5xx line included; the
//! optional access log is one line per request; a 503 while the signing keys
//! cannot be fetched is a warning with its cause, not an ERROR.

use reqwest::StatusCode;
use serde_json::Value;
use signet_e2e::{free_port, Service};

/// A token-shaped string (RS256 header with a `kid`): the layer has to look
/// for its key, which is what cannot happen while the keys are unavailable.
fn token_shaped() -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","typ":"at+jwt","kid":"k1"}"#),
        b64(r#"{"sub":"x"}"#),
        b64("signature")
    )
}

fn lines_with(log: &str, needle: &str) -> Vec<Value> {
    log.lines()
        .filter(|line| line.contains(needle))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[tokio::test]
async fn every_request_line_carries_its_request_id_and_a_503_for_missing_keys_is_a_warning() {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    // An auth server nobody runs: the blog starts (lazily) without keys.
    let mut blog = Service::start(
        "blog-svc",
        dir.path(),
        &[
            (
                "DATABASE_URL",
                format!("sqlite://{}/blog.db", dir.path().display()),
            ),
            ("AUTH_ISSUER", format!("http://127.0.0.1:{}", free_port())),
            ("ACCESS_LOG", "true".into()),
        ],
    );
    blog.wait_live().await;

    let health = http
        .get(format!("{}/healthz", blog.url))
        .header("x-request-id", "rid-health-1")
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.headers()["x-request-id"], "rid-health-1");

    let refused = http
        .post(format!("{}/api/v1/posts", blog.url))
        .header("x-request-id", "rid-write-1")
        .bearer_auth(token_shaped())
        .json(&serde_json::json!({"title": "t", "body": "b"}))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["x-request-id"], "rid-write-1");
    let problem: Value = refused.json().await.expect("problem+json");
    assert_eq!(problem["status"], 503);

    let log = blog.log();
    let health_lines = lines_with(&log, "rid-health-1");
    assert_eq!(health_lines.len(), 1, "one access line: {health_lines:#?}");
    assert_eq!(health_lines[0]["target"], "access");
    assert_eq!(health_lines[0]["route"], "/healthz");
    assert_eq!(health_lines[0]["status"], 200);
    assert!(health_lines[0]["duration_ms"].is_number());

    let write_lines = lines_with(&log, "rid-write-1");
    assert!(
        write_lines.iter().any(|line| line["level"] == "WARN"
            && line["status"] == 503
            && line["cause"]
                .as_str()
                .is_some_and(|cause| cause.contains("authentication"))),
        "the 503 is logged once, at WARN, with its cause and request id: {write_lines:#?}"
    );
    assert!(
        write_lines
            .iter()
            .any(|line| line["target"] == "access" && line["status"] == 503),
        "{write_lines:#?}"
    );
    assert!(blog.errors_logged().is_empty(), "{}", log);
    // The token itself is never logged.
    assert!(!log.contains(&token_shaped()[..40]), "{log}");
}
