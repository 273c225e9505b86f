use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, backend_tests, json_body, Backend, TestApp, ISSUER};

async fn health_and_readiness_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(json_body(ready).await["checks"]["verification_keys"], 1);
}

async fn anyone_reads_but_writing_needs_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let listing = json_body(app.get("/api/v1/posts").await).await;
    assert_eq!(listing["items"], json!([]));
    let response = app
        .create_post(None, &json!({ "title": "t", "body": "b" }))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"blog\""
    );
}

async fn a_user_writes_a_post_and_becomes_an_author(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.user_token("user-1", "Ada Lovelace", &[]);
    let response = app
        .create_post(
            Some(&token),
            &json!({ "title": "  Hello  ", "body": "First post" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let post = json_body(response).await;
    assert_eq!(
        location,
        format!("/api/v1/posts/{}", post["id"].as_str().expect("id"))
    );
    assert_eq!(post["title"], "Hello");
    assert_eq!(
        post["author"],
        json!({ "id": "user-1", "display_name": "Ada Lovelace", "kind": "user" })
    );
    let fetched = json_body(app.get(&location).await).await;
    assert_eq!(fetched["body"], "First post");
    assert!(
        fetched["author"].get("email").is_none(),
        "the blog keeps no email"
    );
    // A later write with a new display name in the token updates the author.
    let renamed = app.user_token("user-1", "Ada King", &[]);
    let second = app
        .create_post(
            Some(&renamed),
            &json!({ "title": "Again", "body": "Second post" }),
        )
        .await;
    assert_eq!(
        json_body(second).await["author"]["display_name"],
        "Ada King"
    );
    let first_again = json_body(app.get(&location).await).await;
    assert_eq!(
        first_again["author"]["display_name"], "Ada King",
        "one author row, updated"
    );
}

async fn a_service_needs_the_posts_write_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reader = app.service_token("sgn_reader", "posts:read");
    let response = app
        .create_post(Some(&reader), &json!({ "title": "t", "body": "b" }))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("scope=\"posts:write\""),
        "{challenge}"
    );
    let writer = app.service_token("sgn_writer", "posts:write");
    let response = app
        .create_post(Some(&writer), &json!({ "title": "t", "body": "b" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(json_body(response).await["author"]["kind"], "service");
}

/// Issue 23, finding 6: a user's token given to an application for "who
/// you are" (scope `openid`, no `posts:write`) wrote, edited and deleted
/// that user's posts.
async fn a_users_token_without_posts_write_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let writer = app.user_token("u-1", "Ann", &[]);
    let created = app
        .create_post(Some(&writer), &json!({ "title": "mine", "body": "b" }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = json_body(created).await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let mut claims = app.base_claims("u-1");
    claims["scope"] = json!("openid profile");
    let identity_only = app.sign(&claims);
    let refused = [
        app.create_post(Some(&identity_only), &json!({ "title": "t", "body": "b" }))
            .await,
        app.patch_post(&identity_only, &id, &json!({ "title": "defaced" }))
            .await,
        app.delete_post(&identity_only, &id).await,
    ];
    for response in refused {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(challenge.contains("scope=\"posts:write\""), "{challenge}");
    }
    let post = json_body(app.get(&format!("/api/v1/posts/{id}")).await).await;
    assert_eq!(post["title"], "mine", "unchanged");
}

async fn importing_the_same_source_url_again_updates_instead_of_duplicating(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let scraper = app.service_token("sgn_scraper", "posts:write posts:import");
    let item = json!({ "title": "News", "body": "v1", "source": "http://feeds.test/feed.xml", "source_url": "http://feeds.test/items/1" });
    assert_eq!(
        app.create_post(Some(&scraper), &item).await.status(),
        StatusCode::CREATED
    );
    let again = json!({ "title": "News (updated)", "body": "v2", "source": "http://feeds.test/feed.xml", "source_url": "http://feeds.test/items/1" });
    let response = app.create_post(Some(&scraper), &again).await;
    assert_eq!(response.status(), StatusCode::OK);
    let listing = json_body(app.get("/api/v1/posts").await).await;
    let items = listing["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["body"], "v2");

    let other = app.service_token("sgn_other", "posts:write posts:import");
    assert_problem(
        app.create_post(Some(&other), &again).await,
        StatusCode::CONFLICT,
    )
    .await;
}

async fn concurrent_imports_of_one_url_leave_one_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let scraper = app.service_token("sgn_scraper", "posts:write posts:import");
    let mut tasks = Vec::new();
    for i in 0..6 {
        let client = app.client.clone();
        let url = app.url("/api/v1/posts");
        let token = scraper.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "title": format!("take {i}"), "body": "b", "source": "http://feeds.test/feed.xml", "source_url": "http://feeds.test/race" }))
                .send()
                .await
                .expect("request")
                .status()
        }));
    }
    for task in tasks {
        let status = task.await.expect("task");
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}"
        );
    }
    let listing = json_body(app.get("/api/v1/posts").await).await;
    assert_eq!(listing["items"].as_array().expect("items").len(), 1);
}

async fn only_the_author_or_an_admin_changes_a_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let author = app.user_token("author", "Author", &[]);
    let stranger = app.user_token("stranger", "Stranger", &[]);
    let admin = app.user_token("boss", "Boss", &["admin"]);
    let id = app.post(&author, "Mine").await;

    assert_problem(
        app.patch_post(&stranger, &id, &json!({ "title": "Hijacked" }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_problem(app.delete_post(&stranger, &id).await, StatusCode::FORBIDDEN).await;
    let response = app
        .patch_post(&author, &id, &json!({ "title": "Still mine" }))
        .await;
    assert_eq!(json_body(response).await["title"], "Still mine");
    let response = app
        .patch_post(&admin, &id, &json!({ "body": "moderated" }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.delete_post(&author, &id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        app.get(&format!("/api/v1/posts/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn posts_page_newest_first_and_filter_by_author_and_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.user_token("ada", "Ada", &[]);
    let bob = app.user_token("bob", "Bob", &[]);
    app.post(&ada, "Engines of 100% analysis").await;
    app.post(&bob, "Gardening").await;
    app.post(&ada, "More engines").await;

    let first = json_body(app.get("/api/v1/posts?limit=2").await).await;
    let titles: Vec<&str> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles, vec!["More engines", "Gardening"]);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let rest = json_body(
        app.get(&format!("/api/v1/posts?limit=2&cursor={cursor}"))
            .await,
    )
    .await;
    assert_eq!(rest["items"][0]["title"], "Engines of 100% analysis");
    assert!(rest["next_cursor"].is_null());

    let by_bob = json_body(app.get("/api/v1/posts?author=bob").await).await;
    assert_eq!(by_bob["items"].as_array().expect("items").len(), 1);
    let engines = json_body(app.get("/api/v1/posts?q=ENGINES").await).await;
    assert_eq!(engines["items"].as_array().expect("items").len(), 2);
    let percent = json_body(app.get("/api/v1/posts?q=100%25").await).await;
    assert_eq!(
        percent["items"].as_array().expect("items").len(),
        1,
        "% is literal, not a wildcard"
    );
    let wildcard = json_body(app.get("/api/v1/posts?q=%25").await).await;
    assert_eq!(wildcard["items"].as_array().expect("items").len(), 1);
}

async fn bad_input_gets_precise_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.user_token("u", "U", &[]);
    for body in [
        json!({ "title": "", "body": "b" }),
        json!({ "title": "t", "body": "   " }),
        json!({ "title": "t", "body": "b", "author_id": "someone-else" }),
        json!({ "title": 5, "body": "b" }),
    ] {
        assert_problem(
            app.create_post(Some(&token), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let response = app
        .client
        .post(app.url("/api/v1/posts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"title\":")
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::BAD_REQUEST).await;
    let huge = json!({ "title": "t", "body": "x".repeat(300 * 1024) });
    assert_problem(
        app.create_post(Some(&token), &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_problem(
        app.get("/api/v1/posts/not-a-uuid").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        app.get("/api/v1/posts?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        app.get("/api/v1/posts?sort=evil").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

async fn tokens_the_blog_must_not_trust_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({ "title": "t", "body": "b" });
    let mut wrong_audience = app.base_claims("u");
    wrong_audience["aud"] = json!("another-service");
    let mut expired = app.base_claims("u");
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut foreign_issuer = app.base_claims("u");
    foreign_issuer["iss"] = json!("http://evil.test");
    for claims in [wrong_audience, expired, foreign_issuer] {
        let response = app.create_post(Some(&app.sign(&claims)), &body).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{claims}");
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("invalid_token"));
    }
    // An ID token (typ JWT) is no access token, even one naming the blog's
    // audience and signed by the trusted key; and one for a client, as
    // auth-server issues them, neither.
    let mut id_claims = app.base_claims("u");
    id_claims["nonce"] = json!("n");
    id_claims["at_hash"] = json!("x");
    let mut for_a_client = id_claims.clone();
    for_a_client["aud"] = json!("sgc_blogclient");
    for (label, token) in [
        ("typ JWT", app.sign_typed(&id_claims, "JWT")),
        ("client audience", app.sign_typed(&for_a_client, "JWT")),
    ] {
        let response = app.create_post(Some(&token), &body).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{label}");
    }
}

async fn metrics_count_requests_and_verification_failures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut expired = app.base_claims("u");
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    app.create_post(
        Some(&app.sign(&expired)),
        &json!({ "title": "t", "body": "b" }),
    )
    .await;
    app.get("/api/v1/posts").await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let text = app.metrics().await.text().await.expect("body");
    assert!(
        text.contains("token_verification_failures_total{reason=\"expired\"} 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "http_requests_total{method=\"GET\",route=\"/api/v1/posts\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("verification_keys 1"), "{text}");
}

async fn imports_are_keyed_by_feed_and_link_and_need_the_import_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A user squatting a link before its feed is imported.
    let squatter = app.user_token("squatter", "Squatter", &[]);
    let squat = json!({ "title": "Mine now", "body": "b", "source": "http://feeds.test/a.xml", "source_url": "http://news.test/1" });
    let refused = app.create_post(Some(&squatter), &squat).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("posts:import"));
    let writer_only = app.service_token("sgn_writer", "posts:write");
    assert_eq!(
        app.create_post(Some(&writer_only), &squat).await.status(),
        StatusCode::FORBIDDEN
    );
    // Feed B reusing feed A's link (same importer) does not overwrite A's post.
    let scraper = app.service_token("sgn_scraper", "posts:write posts:import");
    let from_a = json!({ "title": "From A", "body": "a", "source": "http://feeds.test/a.xml", "source_url": "http://news.test/1" });
    let from_b = json!({ "title": "Defaced by B", "body": "b", "source": "http://evil.test/b.xml", "source_url": "http://news.test/1" });
    assert_eq!(
        app.create_post(Some(&scraper), &from_a).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.create_post(Some(&scraper), &from_b).await.status(),
        StatusCode::CREATED
    );
    let listing = json_body(app.get("/api/v1/posts").await).await;
    let titles: Vec<&str> = listing["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["title"].as_str().expect("title"))
        .collect();
    assert!(
        titles.contains(&"From A") && titles.contains(&"Defaced by B"),
        "{titles:?}"
    );
    // A link without its feed (or the reverse) is no import.
    assert_problem(
        app.create_post(
            Some(&scraper),
            &json!({ "title": "t", "body": "b", "source_url": "http://news.test/2" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

/// RFC 9728: with a URL among its audiences, the blog publishes itself as
/// a protected resource, and its challenges point there; with plain-name
/// audiences only, there is nothing to publish.
async fn a_url_audience_makes_the_blog_a_protected_resource_its_challenges_name(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("AUTH_AUDIENCE", "signet,https://blog.example.com")],
    )
    .await;
    let metadata = "https://blog.example.com/.well-known/oauth-protected-resource";
    let document = app.get("/.well-known/oauth-protected-resource").await;
    assert_eq!(document.status(), StatusCode::OK);
    let document = json_body(document).await;
    assert_eq!(document["resource"], "https://blog.example.com");
    assert_eq!(document["authorization_servers"], json!([ISSUER]));
    assert_eq!(document["scopes_supported"], json!(["posts:write"]));
    let anonymous = app
        .create_post(None, &json!({ "title": "t", "body": "b" }))
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let challenge = anonymous.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata}\"")),
        "{challenge}"
    );
    let mut claims = app.base_claims("u-1");
    claims["scope"] = json!("openid");
    let narrow = app
        .create_post(
            Some(&app.sign(&claims)),
            &json!({ "title": "t", "body": "b" }),
        )
        .await;
    assert_eq!(narrow.status(), StatusCode::FORBIDDEN);
    let challenge = narrow.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains("scope=\"posts:write\"") && challenge.contains("resource_metadata="),
        "{challenge}"
    );

    let plain = TestApp::spawn(backend).await;
    assert_eq!(
        plain
            .get("/.well-known/oauth-protected-resource")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let anonymous = plain
        .create_post(None, &json!({ "title": "t", "body": "b" }))
        .await;
    let challenge = anonymous.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(!challenge.contains("resource_metadata"), "{challenge}");
}

backend_tests!(
    a_url_audience_makes_the_blog_a_protected_resource_its_challenges_name,
    a_users_token_without_posts_write_writes_nothing,
    imports_are_keyed_by_feed_and_link_and_need_the_import_scope,
    metrics_count_requests_and_verification_failures,
    health_and_readiness_answer,
    anyone_reads_but_writing_needs_a_token,
    a_user_writes_a_post_and_becomes_an_author,
    a_service_needs_the_posts_write_scope,
    importing_the_same_source_url_again_updates_instead_of_duplicating,
    concurrent_imports_of_one_url_leave_one_post,
    only_the_author_or_an_admin_changes_a_post,
    posts_page_newest_first_and_filter_by_author_and_text,
    bad_input_gets_precise_problems,
    tokens_the_blog_must_not_trust_are_refused,
);

/// A browser application on a listed origin (`CORS_ALLOWED_ORIGINS`) may call
/// the JSON API and read its refusals (`WWW-Authenticate`); other origins and
/// the web pages get no CORS headers.
#[tokio::test]
async fn listed_origins_may_call_the_api_but_not_the_pages() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("CORS_ALLOWED_ORIGINS", "https://app.example.com")],
    )
    .await;
    let allowed = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/posts", app.address),
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        allowed(&preflight).as_deref(),
        Some("https://app.example.com")
    );
    assert!(preflight
        .headers()
        .get("access-control-allow-credentials")
        .is_none());

    // A refusal the page can read: origin allowed, challenge exposed.
    let refused = app
        .client
        .post(format!("{}/api/v1/posts", app.address))
        .header("origin", "https://app.example.com")
        .json(&json!({"title": "t", "body": "b"}))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        allowed(&refused).as_deref(),
        Some("https://app.example.com")
    );
    let exposed = refused
        .headers()
        .get("access-control-expose-headers")
        .map(|v| v.to_str().expect("ascii").to_ascii_lowercase())
        .unwrap_or_default();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );

    for (path, origin) in [
        ("/api/v1/posts", "https://evil.example"),
        ("/", "https://app.example.com"),
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .header("origin", origin)
            .send()
            .await
            .expect("get");
        assert_eq!(allowed(&response), None, "{path} from {origin}");
    }
}

/// `/openapi.json` describes the blog's API: where it is, how to
/// authenticate, every operation with path parameters that match their paths.
#[tokio::test]
async fn the_blog_describes_its_api_in_openapi() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let body = json_body(app.get("/openapi.json").await).await;
    assert!(body["openapi"]
        .as_str()
        .expect("version")
        .starts_with("3.1"));
    assert_eq!(body["servers"][0]["url"], app.address);
    assert_eq!(
        body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, method) in [
        ("/api/v1/posts", "get"),
        ("/api/v1/posts", "post"),
        ("/api/v1/posts/{id}", "get"),
        ("/api/v1/posts/{id}", "patch"),
        ("/api/v1/posts/{id}", "delete"),
        ("/api/v1/admin/scrape", "post"),
        ("/healthz", "get"),
    ] {
        assert!(body["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(body["paths"]["/api/v1/posts"]["post"]["security"]
        .to_string()
        .contains("bearer"));
    signet_service::testing::assert_path_parameters_match(&body);
}

/// The same document through a validator this project did not write.
#[cfg_attr(
    not(signet_openapi_validator),
    ignore = "needs openapi-spec-validator: install it (Debian: python3-openapi-spec-validator) or set OPENAPI_VALIDATOR to a python3 that has it"
)]
#[tokio::test]
async fn the_blogs_openapi_document_passes_an_independent_validator() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let text = app.get("/openapi.json").await.text().await.expect("body");
    signet_service::testing::assert_valid_openapi(&text);
}

/// `/docs`: the blog's API as a self-contained page.
#[tokio::test]
async fn the_blogs_api_documentation_page_is_self_contained() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    signet_service::testing::assert_docs_page(&app.address, &["/api/v1/posts/{id}", "PostView"])
        .await;
}
