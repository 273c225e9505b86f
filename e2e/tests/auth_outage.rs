//! auth-server killed (SIGKILL) while blog-svc is under load: the blog keeps
//! verifying from the keys it holds, the scraper's token request fails
//! cleanly and succeeds once auth-server is back, and the blog neither loses
//! nor duplicates a post.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_e2e::{
    api_key, auth_with_admin, feed_server, fresh_database, json_body, log_in, post_titles, sign_up,
    Backend, Service,
};
use signet_service::backend_tests;

const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Local news</title>
<item><title>Kept alive</title><link>/news/kept-alive</link><description>Keys cached.</description></item>
<item><title>Back again</title><link>/news/back-again</link><description>Tokens flow.</description></item>
</channel></rss>"#;

async fn scrape(http: &reqwest::Client, scraper: &str, admin_token: &str) -> Value {
    let response = http
        .post(format!("{scraper}/api/v1/scrape"))
        .bearer_auth(admin_token)
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    json_body(response).await
}

async fn killing_the_auth_server_under_load_loses_nothing_and_recovers(backend: Backend) {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let feeds = feed_server(FEED).await;

    let mut auth = auth_with_admin(backend, &dir, &[]).await;
    let api_key = api_key(&auth, "scraper", "posts:write,posts:import", &[]);

    let mut blog = Service::start(
        "blog-svc",
        dir.path(),
        &[
            ("DATABASE_URL", fresh_database(backend, &dir, "blog").await),
            ("AUTH_ISSUER", auth.url.clone()),
        ],
    );
    let mut scraper = Service::start(
        "scraper-svc",
        dir.path(),
        &[
            (
                "DATABASE_URL",
                fresh_database(backend, &dir, "scraper").await,
            ),
            ("AUTH_ISSUER", auth.url.clone()),
            ("SCRAPER_API_KEY", api_key),
            ("BLOG_URL", blog.url.clone()),
            ("SCRAPE_INTERVAL", "0".to_owned()),
            ("SCRAPER_SOURCES", format!("{feeds}/feed.xml")),
        ],
    );
    blog.wait_ready().await;
    scraper.wait_ready().await;

    assert_eq!(
        sign_up(&http, &auth.url, "writer@example.com").await,
        StatusCode::ACCEPTED
    );
    let token = log_in(&http, &auth.url, "writer@example.com").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let admin_token = log_in(&http, &auth.url, "root@example.com").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 6.., "AAAAAA");

    // Load: four writers post with a valid token and try a forged one, before,
    // during and after the kill. Every answer must be 201 or 401, never 5xx.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (http, blog_url, token, forged, stop) = (
            http.clone(),
            blog.url.clone(),
            token.clone(),
            forged.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut created = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 20 {
                let title = format!("load {writer}-{n}");
                let response = http
                    .post(format!("{blog_url}/api/v1/posts"))
                    .bearer_auth(&token)
                    .json(&json!({ "title": title, "body": "under load" }))
                    .send()
                    .await
                    .expect("blog answers");
                assert_eq!(response.status(), StatusCode::CREATED, "{title}");
                created.push(title);
                let refused = http
                    .post(format!("{blog_url}/api/v1/posts"))
                    .bearer_auth(&forged)
                    .json(&json!({ "title": "forged", "body": "x" }))
                    .send()
                    .await
                    .expect("blog answers");
                assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
                n += 1;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            created
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    auth.kill();
    assert!(
        http.get(format!("{}/healthz", auth.url))
            .send()
            .await
            .is_err(),
        "auth-server is gone"
    );

    // The scraper has no token yet: its run fails cleanly, nothing is pushed.
    let run = scrape(&http, &scraper.url, &admin_token).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["items_pushed"], 0, "{run}");
    let ready = http
        .get(format!("{}/readyz", blog.url))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "cached keys keep the blog ready"
    );

    let mut created = Vec::new();
    for writer in writers {
        created.extend(writer.await.expect("writer"));
    }
    stop.store(true, Ordering::Relaxed);

    // auth-server comes back (same database, same keys): the scraper recovers.
    auth.restart();
    auth.wait_ready().await;
    let run = scrape(&http, &scraper.url, &admin_token).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["items_pushed"], 2, "{run}");
    let again = scrape(&http, &scraper.url, &admin_token).await;
    assert_eq!(again["items_pushed"], 2, "{again}");

    // Every accepted post is there exactly once; the imports are not doubled.
    let titles = post_titles(&http, &blog.url).await;
    for title in &created {
        assert_eq!(titles.get(title), Some(&1), "{title}");
    }
    assert_eq!(titles.get("Kept alive"), Some(&1));
    assert_eq!(titles.get("Back again"), Some(&1));
    assert!(!titles.contains_key("forged"));
    assert_eq!(titles.len(), created.len() + 2);
    // A 5xx is logged at ERROR by the layer that builds it: there must be none.
    for service in [&blog, &scraper] {
        let errors = service.errors_logged();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

backend_tests!(killing_the_auth_server_under_load_loses_nothing_and_recovers);
