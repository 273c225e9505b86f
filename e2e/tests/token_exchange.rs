//! Token exchange (RFC 8693) across the stack as real processes: an admin
//! asks blog-svc to import feeds now; the blog exchanges the admin's token
//! for one to scraper-svc, which records the admin as the user and the blog
//! as the acting service. The admin's own token does not open the scraper,
//! and once the admin's session ends the blog can no longer act for them.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use signet_e2e::{
    api_key, auth_with_admin, feed_server, fresh_database, json_body, log_in, post_titles, sign_up,
    Backend, Service,
};
use signet_service::backend_tests;

const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Delegated</title>
<item><title>On behalf of</title><link>/news/obo</link><description>Exchanged.</description></item>
</channel></rss>"#;

fn claim(token: &str, name: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice::<Value>(&bytes).expect("json")[name].clone()
}

async fn an_admin_action_on_the_blog_reaches_the_scraper_as_the_admin_via_the_blog(
    backend: Backend,
) {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let feeds = feed_server(FEED).await;
    // Two services: the blog (signet) and the scraper.
    let auth = auth_with_admin(
        backend,
        &dir,
        &[("JWT_AUDIENCE", "signet,scraper".to_owned())],
    )
    .await;
    let blog_key = api_key(
        &auth,
        "blog",
        "posts:write",
        &[
            "--exchange-audiences",
            "scraper",
            "--exchange-scopes",
            "profile",
        ],
    );
    let scraper_key = api_key(&auth, "scraper", "posts:write,posts:import", &[]);
    // Each names the other: both ports chosen first, both started at once.
    let (scraper_port, blog_port) = (signet_e2e::free_port(), signet_e2e::free_port());
    let (scraper_db, blog_db) = (
        fresh_database(backend, &dir, "scraper").await,
        fresh_database(backend, &dir, "blog").await,
    );
    let mut scraper = Service::start_on(
        "scraper-svc",
        scraper_port,
        dir.path(),
        &[
            ("DATABASE_URL", scraper_db),
            ("AUTH_ISSUER", auth.url.clone()),
            ("AUTH_AUDIENCE", "scraper".to_owned()),
            ("SCRAPER_API_KEY", scraper_key),
            ("BLOG_URL", format!("http://127.0.0.1:{blog_port}")),
            ("SCRAPE_INTERVAL", "0".to_owned()),
            ("SCRAPER_SOURCES", format!("{feeds}/feed.xml")),
        ],
    );
    let mut blog = Service::start_on(
        "blog-svc",
        blog_port,
        dir.path(),
        &[
            ("DATABASE_URL", blog_db),
            ("AUTH_ISSUER", auth.url.clone()),
            ("SCRAPER_URL", format!("http://127.0.0.1:{scraper_port}")),
            ("BLOG_API_KEY", blog_key.clone()),
        ],
    );
    scraper.wait_ready().await;
    blog.wait_ready().await;

    let admin = log_in(&http, &auth.url, "root@example.com").await;
    let admin_token = admin["access_token"].as_str().expect("token").to_owned();
    let admin_id = claim(&admin_token, "sub");
    let blog_client_id = blog_key
        .splitn(3, '_')
        .take(2)
        .collect::<Vec<_>>()
        .join("_");
    let act = |token: &str| {
        http.post(format!("{}/api/v1/admin/scrape", blog.url))
            .bearer_auth(token)
            .send()
    };

    // The admin's token is for the blog: the scraper itself refuses it.
    let direct = http
        .post(format!("{}/api/v1/scrape", scraper.url))
        .bearer_auth(&admin_token)
        .send()
        .await
        .expect("scraper");
    assert_eq!(direct.status(), StatusCode::UNAUTHORIZED);

    let response = act(&admin_token).await.expect("blog");
    let status = response.status();
    let run = json_body(response).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{run}\nblog: {}\nscraper: {}",
        blog.log(),
        scraper.log()
    );
    assert_eq!(run["requested_by"], admin_id, "{run}");
    assert_eq!(
        run["requested_via"],
        blog_client_id.as_str(),
        "{run}\nblog: {}\nscraper: {}\nauth: {}",
        blog.log(),
        scraper.log(),
        auth.log()
    );
    assert_eq!(run["items_pushed"], 1, "{run}");
    assert_eq!(
        post_titles(&http, &blog.url).await.get("On behalf of"),
        Some(&1)
    );

    // A signed-in user who is not an admin is stopped at the blog.
    assert_eq!(
        sign_up(&http, &auth.url, "writer@example.com").await,
        StatusCode::ACCEPTED
    );
    let writer = log_in(&http, &auth.url, "writer@example.com").await;
    let response = act(writer["access_token"].as_str().expect("token"))
        .await
        .expect("blog");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The admin signs out: the blog still verifies the token locally (it
    // follows no feed here), but the auth server no longer acts for it.
    let revoked = http
        .post(format!("{}/oauth/revoke", auth.url))
        .form(&[("token", admin["refresh_token"].as_str().expect("refresh"))])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let response = act(&admin_token).await.expect("blog");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let problem = json_body(response).await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("will not act")),
        "{problem}"
    );
    for service in [&blog, &scraper, &auth] {
        assert!(service.errors_logged().is_empty(), "{}", service.log());
    }
}

backend_tests!(an_admin_action_on_the_blog_reaches_the_scraper_as_the_admin_via_the_blog);
