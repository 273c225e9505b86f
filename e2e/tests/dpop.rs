//! DPoP (RFC 9449) across the stack as real processes: the scraper's API key
//! requires DPoP, so it imports feeds into the blog with tokens bound to a
//! key that never leaves its process; such a token taken alone opens
//! nothing at the blog, and each proof works once.

use jwt_verify::DpopKey;
use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_e2e::{
    api_key, auth_with_admin, feed_server, fresh_database, json_body, log_in, post_titles, Backend,
    Service,
};
use signet_service::backend_tests;

const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Bound</title>
<item><title>Proof of possession</title><link>/news/pop</link><description>Bound tokens.</description></item>
</channel></rss>"#;

async fn the_scraper_imports_with_dpop_bound_tokens_that_are_useless_when_stolen(backend: Backend) {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let feeds = feed_server(FEED).await;
    let auth = auth_with_admin(backend, &dir, &[]).await;
    let scraper_key = api_key(
        &auth,
        "scraper",
        "posts:write,posts:import",
        &["--dpop", "required"],
    );
    let mut blog = Service::start(
        "blog-svc",
        dir.path(),
        &[
            ("DATABASE_URL", fresh_database(backend, &dir, "blog").await),
            ("AUTH_ISSUER", auth.url.clone()),
        ],
    );
    blog.wait_ready().await;
    let mut scraper = Service::start(
        "scraper-svc",
        dir.path(),
        &[
            (
                "DATABASE_URL",
                fresh_database(backend, &dir, "scraper").await,
            ),
            ("AUTH_ISSUER", auth.url.clone()),
            ("SCRAPER_API_KEY", scraper_key),
            ("AUTH_DPOP", "true".to_owned()),
            ("BLOG_URL", blog.url.clone()),
            ("SCRAPE_INTERVAL", "0".to_owned()),
            ("SCRAPER_SOURCES", format!("{feeds}/feed.xml")),
        ],
    );
    scraper.wait_ready().await;

    let admin = log_in(&http, &auth.url, "root@example.com").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let run = json_body(
        http.post(format!("{}/api/v1/scrape", scraper.url))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("scrape"),
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["items_pushed"], 1, "{run}");
    assert_eq!(
        post_titles(&http, &blog.url)
            .await
            .get("Proof of possession"),
        Some(&1)
    );

    // The same kind of key, used from here: no proof, no token.
    let key = api_key(&auth, "pusher", "posts:write", &["--dpop", "required"]);
    let client_id = key.splitn(3, '_').take(2).collect::<Vec<_>>().join("_");
    let token_url = format!("{}/oauth/token", auth.url);
    let request = |proof: Option<String>| {
        let mut request = http
            .post(&token_url)
            .basic_auth(&client_id, Some(&key))
            .form(&[("grant_type", "client_credentials")]);
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.send()
    };
    let refused = request(None).await.expect("token endpoint");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(refused).await["error"], "invalid_dpop_proof");
    let dpop_key = DpopKey::generate().expect("key");
    let proof = dpop_key
        .proof("POST", &token_url, None, None)
        .expect("proof");
    let issued: Value = json_body(request(Some(proof)).await.expect("token endpoint")).await;
    assert_eq!(issued["token_type"], "DPoP");
    let token = issued["access_token"].as_str().expect("token");

    let posts = format!("{}/api/v1/posts", blog.url);
    let post = |authorization: String, proof: Option<String>| {
        let mut request = http
            .post(&posts)
            .header("authorization", authorization)
            .json(&json!({ "title": "bound", "body": "with a proof" }));
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.send()
    };
    // Stolen, the token alone is refused, and the answer says why.
    let stolen = post(format!("Bearer {token}"), None).await.expect("blog");
    assert_eq!(stolen.status(), StatusCode::UNAUTHORIZED);
    let challenge = stolen.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    let thief = DpopKey::generate().expect("key");
    let forged = thief
        .proof("POST", &posts, Some(token), None)
        .expect("proof");
    let with_thiefs_key = post(format!("DPoP {token}"), Some(forged))
        .await
        .expect("blog");
    assert_eq!(with_thiefs_key.status(), StatusCode::UNAUTHORIZED);
    // Its holder, with a fresh proof for this request: accepted, once.
    let proof = dpop_key
        .proof("POST", &posts, Some(token), None)
        .expect("proof");
    let accepted = post(format!("DPoP {token}"), Some(proof.clone()))
        .await
        .expect("blog");
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let replayed = post(format!("DPoP {token}"), Some(proof))
        .await
        .expect("blog");
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_body(replayed).await["error"], "invalid_dpop_proof");
    for service in [&blog, &scraper, &auth] {
        assert!(service.errors_logged().is_empty(), "{}", service.log());
    }
}

backend_tests!(the_scraper_imports_with_dpop_bound_tokens_that_are_useless_when_stolen);
