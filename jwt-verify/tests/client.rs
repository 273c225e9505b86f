//! ServiceTokenSource against a local stub token endpoint.
#![cfg(feature = "client")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use jwt_verify::{ClientError, ServiceTokenSource};
use serde_json::json;

/// One request as the stub saw it: the Authorization header and the form fields.
type SeenRequest = (String, Vec<(String, String)>);

#[derive(Clone)]
struct Stub {
    hits: Arc<AtomicUsize>,
    /// Statuses to answer with before succeeding.
    failures: Arc<Mutex<Vec<StatusCode>>>,
    expires_in: u64,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    /// Key thumbprints of the valid DPoP proofs that came.
    proof_keys: Arc<Mutex<Vec<String>>>,
}

async fn token(
    State(stub): State<Stub>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let n = stub.hits.fetch_add(1, Ordering::SeqCst);
    let authorization = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    stub.seen
        .lock()
        .expect("seen")
        .push((authorization.clone(), form.clone()));
    if let Some(status) = stub.failures.lock().expect("failures").pop() {
        return (status, Json(json!({ "error": "server_error" }))).into_response();
    }
    if authorization != format!("Basic {}", base64_of("sgn_abc:sgn_abc_s3cr3t")) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    // A proof for this endpoint binds the token (RFC 9449 §5).
    let token_type = match headers.get("dpop").and_then(|v| v.to_str().ok()) {
        None => "Bearer",
        Some(proof) => {
            let host = headers["host"].to_str().unwrap_or_default();
            let check = jwt_verify::dpop::ProofCheck {
                method: "POST",
                url: &format!("http://{host}/oauth/token"),
                access_token: None,
                now: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_secs() as i64,
                max_age: Duration::from_secs(60),
                leeway: Duration::from_secs(5),
            };
            match jwt_verify::dpop::verify_proof(proof, &check) {
                Ok(proof) => {
                    stub.proof_keys.lock().expect("keys").push(proof.jkt);
                    "DPoP"
                }
                Err(_) => {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({ "error": "invalid_dpop_proof" })),
                    )
                        .into_response()
                }
            }
        }
    };
    let exchanged = form
        .iter()
        .any(|(k, v)| k == "grant_type" && v.ends_with("token-exchange"));
    let mut body = json!({ "access_token": format!("token-{n}"), "token_type": token_type, "expires_in": stub.expires_in, "scope": "posts:write" });
    if exchanged {
        body["issued_token_type"] = json!("urn:ietf:params:oauth:token-type:access_token");
    }
    Json(body).into_response()
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn stub(expires_in: u64, failures: Vec<StatusCode>) -> (String, Stub) {
    let stub = Stub {
        hits: Arc::new(AtomicUsize::new(0)),
        failures: Arc::new(Mutex::new(failures)),
        expires_in,
        seen: Arc::new(Mutex::new(Vec::new())),
        proof_keys: Arc::new(Mutex::new(Vec::new())),
    };
    let app = Router::new()
        .route("/oauth/token", post(token))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/oauth/token",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, stub)
}

#[tokio::test]
async fn a_token_is_fetched_once_and_reused() {
    let (url, stub) = stub(300, vec![]).await;
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_s3cr3t").expect("source");
    assert_eq!(source.client_id(), "sgn_abc");
    assert_eq!(source.token().await.expect("token"), "token-0");
    assert_eq!(source.token().await.expect("token"), "token-0");
    assert_eq!(stub.hits.load(Ordering::SeqCst), 1);
    let seen = stub.seen.lock().expect("seen");
    assert!(seen[0]
        .1
        .contains(&("grant_type".into(), "client_credentials".into())));
}

#[tokio::test]
async fn concurrent_callers_share_one_request() {
    let (url, stub) = stub(300, vec![]).await;
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_s3cr3t").expect("source");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("token"), "token-0");
    }
    assert_eq!(stub.hits.load(Ordering::SeqCst), 1);
}

// Virtual time: the token's remaining life is counted on a paused clock.
#[tokio::test(start_paused = true)]
async fn a_token_near_expiry_is_renewed() {
    let (url, stub) = stub(1, vec![]).await;
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_s3cr3t").expect("source");
    assert_eq!(source.token().await.expect("token"), "token-0");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(source.token().await.expect("token"), "token-1");
    assert_eq!(stub.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let (url, stub) = stub(
        300,
        vec![StatusCode::SERVICE_UNAVAILABLE, StatusCode::BAD_GATEWAY],
    )
    .await;
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_s3cr3t")
        .expect("source")
        .with_retries(3, Duration::from_millis(10));
    assert_eq!(source.token().await.expect("third attempt"), "token-2");
    assert_eq!(stub.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_rejected_client_is_not_retried() {
    let (url, stub) = stub(300, vec![]).await;
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_wrong")
        .expect("source")
        .with_retries(3, Duration::from_millis(10));
    let error = source.token().await.expect_err("must be rejected");
    assert!(
        matches!(&error, ClientError::Rejected { status: 401, error } if error == "invalid_client"),
        "{error}"
    );
    assert_eq!(stub.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_requested_scope_is_sent_and_the_secret_never_appears_in_debug() {
    let (url, stub) = stub(300, vec![]).await;
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_s3cr3t")
        .expect("source")
        .with_scope("posts:write");
    source.token().await.expect("token");
    assert!(stub.seen.lock().expect("seen")[0]
        .1
        .contains(&("scope".into(), "posts:write".into())));
    let debug = format!("{source:?}");
    assert!(
        !debug.contains("s3cr3t") && debug.contains("redacted"),
        "{debug}"
    );
    assert!(ServiceTokenSource::from_api_key(&url, "not-a-key").is_err());
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_clean_error() {
    let source =
        ServiceTokenSource::from_api_key("http://127.0.0.1:9/oauth/token", "sgn_abc_s3cr3t")
            .expect("source")
            .with_retries(2, Duration::from_millis(10));
    assert!(matches!(
        source.token().await.expect_err("must be rejected"),
        ClientError::Unreachable(_)
    ));
}

#[tokio::test]
async fn with_a_dpop_key_tokens_are_bound_and_each_request_gets_its_own_proof() {
    let (url, stub) = stub(300, vec![]).await;
    let key = Arc::new(jwt_verify::DpopKey::generate().expect("key"));
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_s3cr3t")
        .expect("source")
        .with_dpop(key.clone());
    let target = "https://blog.test/api/v1/posts";
    let headers = source
        .request_headers(&http::Method::POST, target)
        .await
        .expect("headers");
    assert_eq!(
        stub.proof_keys.lock().expect("keys").as_slice(),
        [key.thumbprint().to_owned()]
    );
    assert_eq!(headers["authorization"], "DPoP token-0");
    assert!(headers["authorization"].is_sensitive() && headers["dpop"].is_sensitive());
    let check = |proof: &str| {
        jwt_verify::dpop::verify_proof(
            proof,
            &jwt_verify::dpop::ProofCheck {
                method: "POST",
                url: target,
                access_token: Some("token-0"),
                now: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_secs() as i64,
                max_age: Duration::from_secs(60),
                leeway: Duration::from_secs(5),
            },
        )
        .expect("a proof for this request and token")
    };
    let first = check(headers["dpop"].to_str().expect("ascii"));
    let again = source
        .request_headers(&http::Method::POST, target)
        .await
        .expect("headers");
    let second = check(again["dpop"].to_str().expect("ascii"));
    assert_ne!(first.jti, second.jti, "a fresh proof per request");
    assert_eq!(stub.hits.load(Ordering::SeqCst), 1, "the token is reused");
    // A bound token is never handed out as a bearer value.
    assert!(matches!(
        source.authorization().await,
        Err(ClientError::Config(_))
    ));
}

#[tokio::test]
async fn an_exchange_sends_the_users_token_and_is_never_cached() {
    let (url, stub) = stub(300, vec![]).await;
    let source = ServiceTokenSource::from_api_key(&url, "sgn_abc_s3cr3t").expect("source");
    let first = source
        .exchange("user-token", "scraper", Some("profile"))
        .await
        .expect("exchanged");
    let second = source
        .exchange("user-token", "scraper", None)
        .await
        .expect("exchanged");
    assert_ne!(first.access_token(), second.access_token());
    assert!(!format!("{first:?}").contains(first.access_token()));
    let headers = first
        .request_headers(&http::Method::POST, "http://scraper.test/api/v1/scrape")
        .expect("headers");
    assert_eq!(headers["authorization"], "Bearer token-0");
    let seen = stub.seen.lock().expect("seen");
    let form = &seen[0].1;
    for (name, value) in [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", "user-token"),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
        ("audience", "scraper"),
        ("scope", "profile"),
    ] {
        assert!(
            form.contains(&(name.into(), value.into())),
            "{name}: {form:?}"
        );
    }
    assert!(!seen[1].1.iter().any(|(k, _)| k == "scope"));
}
