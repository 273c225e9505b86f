//! A rotated key reaches a running service before it signs (issue #11, item 15):
//! auth-server (database key store) and blog-svc as real processes, `keys
//! rotate` from the command line, and an attacker flooding blog-svc with tokens
//! naming random key ids the whole time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use signet_e2e::{
    fresh_database, key_encryption_key, kid_of, log_in, run_command, sign_up, test_tuning, Backend,
    Service,
};

/// A well-formed RS256 token with a kid nobody has (its signature is junk).
fn random_kid_token(i: usize) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(&format!(
            r#"{{"alg":"RS256","typ":"at+jwt","kid":"attacker-{i}"}}"#
        )),
        b64(r#"{"sub":"x","exp":9999999999}"#),
        b64("not a signature")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_token_of_a_rotated_key_is_accepted_by_a_running_service() {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let mut auth_env = vec![
        (
            "DATABASE_URL",
            fresh_database(Backend::Sqlite, &dir, "auth").await,
        ),
        ("KEY_ENCRYPTION_KEY", key_encryption_key()),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("KEY_REFRESH_INTERVAL", "200ms".to_owned()),
        // Short, as an operator might choose: verifiers must honour it.
        ("JWKS_MAX_AGE", "1s".to_owned()),
        ("KEY_PUBLISH_DELAY", "2s".to_owned()),
    ];
    auth_env.extend(test_tuning());
    let mut auth = Service::start("auth-server", dir.path(), &auth_env);
    auth.wait_ready().await;
    let mut blog = Service::start(
        "blog-svc",
        dir.path(),
        &[
            (
                "DATABASE_URL",
                fresh_database(Backend::Sqlite, &dir, "blog").await,
            ),
            ("AUTH_ISSUER", auth.url.clone()),
        ],
    );
    blog.wait_ready().await;
    assert_eq!(
        sign_up(&http, &auth.url, "rotate@example.com").await,
        StatusCode::ACCEPTED
    );
    let old_kid = kid_of(
        log_in(&http, &auth.url, "rotate@example.com").await["access_token"]
            .as_str()
            .expect("token"),
    );

    // The attacker's flood runs for the whole test.
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let (http, blog_url, stop) = (http.clone(), blog.url.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let _ = http
                    .post(format!("{blog_url}/api/v1/posts"))
                    .bearer_auth(random_kid_token(i))
                    .json(&json!({ "title": "x", "body": "y" }))
                    .send()
                    .await;
                i += 1;
            }
            i
        })
    };

    let rotated = run_command("auth-server", dir.path(), &auth_env, &["keys", "rotate"]);
    assert!(rotated.status.success(), "{rotated:?}");
    // Log in until the new key signs; post with its very first token.
    let mut first_new = None;
    for _ in 0..100 {
        let token = log_in(&http, &auth.url, "rotate@example.com").await["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        if kid_of(&token) != old_kid {
            first_new = Some(token);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first_new = first_new.expect("the new key signs after the publish delay");
    let response = http
        .post(format!("{}/api/v1/posts", blog.url))
        .bearer_auth(&first_new)
        .json(&json!({ "title": "Signed by the new key", "body": "first token" }))
        .send()
        .await
        .expect("post");
    stop.store(true, Ordering::Relaxed);
    let flooded = flood.await.expect("flood");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "the first token of the new key is accepted at once ({flooded} random-kid tokens sent meanwhile): {challenge}"
    );
}
