//! The blog's pages over HTTP with a cookie-keeping client that follows
//! redirects one at a time, as a browser would: sign in through the auth
//! server's page, write, edit, delete, sign out of both; and the attacks on
//! each step.

use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use signet_service::backend_tests;
use signet_service::testing::{hidden_inputs, Backend};

use crate::stack::{Stack, PASSWORD};

/// A cookie-keeping client that does not follow redirects by itself.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Follow redirects (303 and 302 become GET), returning the last response
/// and the URLs visited.
async fn follow(browser: &reqwest::Client, mut response: Response) -> (Response, Vec<String>) {
    let mut visited = vec![response.url().to_string()];
    while response.status().is_redirection() {
        let location = response.headers()[LOCATION].to_str().expect("location");
        let next = response.url().join(location).expect("url");
        visited.push(next.to_string());
        response = browser.get(next).send().await.expect("redirect");
    }
    (response, visited)
}

pub(crate) async fn get(browser: &reqwest::Client, url: &str) -> (Response, Vec<String>) {
    let response = browser.get(url).send().await.expect("get");
    follow(browser, response).await
}

pub(crate) fn csrf_of(html: &str) -> String {
    hidden_inputs(html)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .map(|(_, value)| value)
        .expect("a csrf_token field")
}

/// From a page that is the auth server's sign-in page: fill it in and
/// follow the redirects back.
async fn fill_in_sign_in(
    stack: &Stack,
    browser: &reqwest::Client,
    page: Response,
    email: &str,
) -> (Response, Vec<String>) {
    assert!(
        page.url().as_str().starts_with(&stack.auth),
        "{}",
        page.url()
    );
    let mut form = hidden_inputs(&page.text().await.expect("html"));
    form.push(("email".into(), email.into()));
    form.push(("password".into(), PASSWORD.into()));
    let response = browser
        .post(format!("{}/oauth/authorize", stack.auth))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    follow(browser, response).await
}

pub(crate) async fn sign_in(stack: &Stack, browser: &reqwest::Client, email: &str) -> String {
    let (page, _) = get(browser, &stack.blog_url("/auth/login?return_to=/")).await;
    let (home, _) = fill_in_sign_in(stack, browser, page, email).await;
    assert_eq!(home.status(), StatusCode::OK);
    home.text().await.expect("html")
}

async fn submit(browser: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Response {
    browser.post(url).form(form).send().await.expect("post")
}

async fn a_reader_signs_in_writes_edits_deletes_and_signs_out(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    stack.user("writer@example.com", "Wendy Writer").await;
    let browser = browser();

    let (home, _) = get(&browser, &stack.blog_url("/")).await;
    assert_eq!(home.status(), StatusCode::OK);
    let csp = home.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    let html = home.text().await.expect("html");
    assert!(html.contains("id=\"sign-in\""), "{html}");
    assert!(html.contains("No posts yet."));

    // Writing needs a session: the blog sends the browser to sign in and
    // back to the form.
    let write = browser
        .get(stack.blog_url("/write"))
        .send()
        .await
        .expect("write");
    assert_eq!(write.status(), StatusCode::SEE_OTHER);
    assert_eq!(write.headers()[LOCATION], "/auth/login?return_to=%2Fwrite");
    let (page, visited) = follow(&browser, write).await;
    assert!(
        visited[2].starts_with(&format!("{}/oauth/authorize?", stack.auth)),
        "{visited:?}"
    );
    let authorize = url::Url::parse(&visited[2]).expect("url");
    let params: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["response_type"], "code");
    assert!(params["scope"].contains("openid"));
    let (form_page, visited) = fill_in_sign_in(&stack, &browser, page, "writer@example.com").await;
    assert!(
        visited
            .iter()
            .any(|u| u.starts_with(&stack.blog_url("/auth/callback?"))),
        "{visited:?}"
    );
    assert_eq!(visited.last().expect("url"), &stack.blog_url("/write"));
    let html = form_page.text().await.expect("html");
    assert!(html.contains("Signed in as Wendy Writer"), "{html}");
    let csrf = csrf_of(&html);

    // Publish a post whose text is markup: it is shown, never run.
    let title = "<script>alert(1)</script> Hello";
    let body = "first line\n<img src=x onerror=alert(2)>";
    let published = submit(
        &browser,
        &stack.blog_url("/write"),
        &[("csrf_token", &csrf), ("title", title), ("body", body)],
    )
    .await;
    assert_eq!(published.status(), StatusCode::SEE_OTHER);
    let post_path = published.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(post_path.starts_with("/posts/"), "{post_path}");
    let (post, _) = get(&browser, &stack.blog_url(&post_path)).await;
    let html = post.text().await.expect("html");
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Hello"),
        "{html}"
    );
    assert!(html.contains("by Wendy Writer"));

    // Listed on the front page and under "my posts"; also in the JSON API.
    for path in ["/", "/my"] {
        let (list, _) = get(&browser, &stack.blog_url(path)).await;
        assert!(
            list.text().await.expect("html").contains(&post_path),
            "{path}"
        );
    }

    // A form without the CSRF token, or another site's, changes nothing.
    let id = post_path.trim_start_matches("/posts/");
    let forged = submit(
        &browser,
        &stack.blog_url(&format!("{post_path}/edit")),
        &[
            ("csrf_token", "forged"),
            ("title", "pwned"),
            ("body", "pwned"),
        ],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross_site = browser
        .post(stack.blog_url(&format!("{post_path}/delete")))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let api: serde_json::Value = reqwest::get(stack.blog_url(&format!("/api/v1/posts/{id}")))
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(api["title"], title, "unchanged");

    // Edit: a blank title is refused on the form, with the text kept.
    let refused = submit(
        &browser,
        &stack.blog_url(&format!("{post_path}/edit")),
        &[
            ("csrf_token", &csrf),
            ("title", "  "),
            ("body", "kept text"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("html");
    assert!(html.contains("Title must be 1 to 200 characters"), "{html}");
    assert!(html.contains("kept text"));
    let edited = submit(
        &browser,
        &stack.blog_url(&format!("{post_path}/edit")),
        &[
            ("csrf_token", &csrf),
            ("title", "Edited"),
            ("body", "new text"),
        ],
    )
    .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let (post, _) = get(&browser, &stack.blog_url(&post_path)).await;
    assert!(post.text().await.expect("html").contains("Edited"));

    // Delete.
    let deleted = submit(
        &browser,
        &stack.blog_url(&format!("{post_path}/delete")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let (gone, _) = get(&browser, &stack.blog_url(&post_path)).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Sign out: the blog's session ends, then the auth server's (RP-initiated
    // logout), and the browser lands on the front page, signed out.
    let out = submit(
        &browser,
        &stack.blog_url("/auth/logout"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let cleared = out
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("blog_session=") && v.contains("Max-Age=0"));
    assert!(cleared, "session cookie removed");
    let (front, visited) = follow(&browser, out).await;
    assert!(
        visited[1].starts_with(&format!("{}/oauth/logout?", stack.auth)),
        "{visited:?}"
    );
    assert!(visited[1].contains("id_token_hint="));
    assert_eq!(visited.last().expect("url"), &stack.blog_url("/"));
    let html = front.text().await.expect("html");
    assert!(html.contains("id=\"sign-in\""), "signed out: {html}");
    // Signed out of the auth server too: signing in asks for the password again.
    let (again, _) = get(&browser, &stack.blog_url("/auth/login")).await;
    assert!(again.url().as_str().starts_with(&stack.auth));
    assert!(again
        .text()
        .await
        .expect("html")
        .contains("name=\"password\""));
}

async fn the_session_cookie_is_http_only_and_the_tokens_are_sealed(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    stack.user("seal@example.com", "Sealed").await;
    let browser = browser();
    let (page, _) = get(&browser, &stack.blog_url("/auth/login")).await;
    let mut form = hidden_inputs(&page.text().await.expect("html"));
    form.push(("email".into(), "seal@example.com".into()));
    form.push(("password".into(), PASSWORD.into()));
    let mut response = browser
        .post(format!("{}/oauth/authorize", stack.auth))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    // Step to the callback and read the cookie it sets.
    while !response.url().path().starts_with("/auth/callback") {
        let next = response
            .url()
            .join(response.headers()[LOCATION].to_str().expect("loc"))
            .expect("url");
        response = browser.get(next).send().await.expect("redirect");
    }
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("blog_session="))
        .expect("session cookie")
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let value = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("value");
    let rows = stack
        .blog_db
        .query_all_raw(Statement::from_string(
            stack.blog_db.get_database_backend(),
            "SELECT id, tokens FROM web_sessions",
        ))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let id: String = rows[0].try_get("", "id").expect("id");
    let tokens: String = rows[0].try_get("", "tokens").expect("tokens");
    assert_ne!(id, value, "the cookie itself is not stored");
    // Sealed tokens are base64 (no '.'); a JWT or the JSON holding it would show.
    assert!(
        !tokens.contains('.') && !tokens.contains("access_token"),
        "no token in the clear: {tokens}"
    );
}

async fn a_callback_from_another_browser_or_replayed_is_refused(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    stack.user("cb@example.com", "Callback").await;
    let victim = browser();
    let (page, _) = get(&victim, &stack.blog_url("/auth/login")).await;
    let mut form = hidden_inputs(&page.text().await.expect("html"));
    form.push(("email".into(), "cb@example.com".into()));
    form.push(("password".into(), PASSWORD.into()));
    let signed_in = victim
        .post(format!("{}/oauth/authorize", stack.auth))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    let callback = signed_in.headers()[LOCATION]
        .to_str()
        .expect("loc")
        .to_owned();
    assert!(callback.starts_with(&stack.blog_url("/auth/callback?")));

    // Login CSRF: the attacker's callback URL opened in another browser
    // (which never started this sign-in) signs nobody in.
    let other = browser();
    let forced = other.get(&callback).send().await.expect("callback");
    assert_eq!(forced.status(), StatusCode::BAD_REQUEST);
    let (home, _) = get(&other, &stack.blog_url("/")).await;
    assert!(home.text().await.expect("html").contains("id=\"sign-in\""));

    // The right browser completes it once; a replay of the same URL fails.
    let done = victim.get(&callback).send().await.expect("callback");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let replay = victim.get(&callback).send().await.expect("callback");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);

    // A tampered state is refused too.
    let tampered = callback.replace("state=", "state=x");
    assert_eq!(
        victim.get(&tampered).send().await.expect("cb").status(),
        StatusCode::BAD_REQUEST
    );
}

async fn the_return_path_after_sign_in_never_leaves_the_blog(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    stack.user("ret@example.com", "Ret").await;
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let browser = browser();
        let url = format!(
            "{}?return_to={}",
            stack.blog_url("/auth/login"),
            urlencode(evil)
        );
        let (page, _) = get(&browser, &url).await;
        let (landed, _) = fill_in_sign_in(&stack, &browser, page, "ret@example.com").await;
        assert_eq!(landed.url().as_str(), stack.blog_url("/"), "{evil}");
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn a_session_whose_refresh_is_refused_must_sign_in_again(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    stack.user("revoked@example.com", "Revoked").await;
    let browser = browser();
    let html = sign_in(&stack, &browser, "revoked@example.com").await;
    let csrf = csrf_of(&html);
    let expire_access = || async {
        stack
            .blog_db
            .execute_unprepared(
                "UPDATE web_sessions SET access_expires_at = '2000-01-01 00:00:00+00:00'",
            )
            .await
            .expect("update");
    };

    // The access token is due: the blog refreshes it and the write succeeds.
    expire_access().await;
    let written = submit(
        &browser,
        &stack.blog_url("/write"),
        &[
            ("csrf_token", &csrf),
            ("title", "After refresh"),
            ("body", "b"),
        ],
    )
    .await;
    assert_eq!(written.status(), StatusCode::SEE_OTHER, "refreshed");
    assert!(written.headers()[LOCATION]
        .to_str()
        .expect("loc")
        .starts_with("/posts/"));

    // The user's sessions are ended at the auth server (password change,
    // disable, sign-out elsewhere): the next refresh is refused, the blog
    // session ends, and the write sends the browser to sign in instead.
    stack
        .auth_state
        .db
        .execute_unprepared("UPDATE sessions SET revoked_at = CURRENT_TIMESTAMP")
        .await
        .expect("revoke");
    expire_access().await;
    let refused = submit(
        &browser,
        &stack.blog_url("/write"),
        &[("csrf_token", &csrf), ("title", "Too late"), ("body", "b")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        refused.headers()[LOCATION],
        "/auth/login?return_to=%2Fwrite"
    );
    let (home, _) = get(&browser, &stack.blog_url("/")).await;
    assert!(home.text().await.expect("html").contains("id=\"sign-in\""));
}

async fn with_the_auth_server_down_reading_works_and_sign_in_says_so(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    // A port nothing listens on: the auth server is down.
    let down = format!("http://127.0.0.1:{}", signet_service::testing::free_port());
    let vars: std::collections::HashMap<&str, String> = std::collections::HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            signet_service::testing::fresh_database(backend, &dir, "blog").await,
        ),
        ("AUTH_ISSUER", down),
        ("OIDC_CLIENT_ID", "sgc_blog".to_owned()),
        ("OIDC_CLIENT_SECRET", "sgcs_secret".to_owned()),
    ]);
    let config = blog_svc::config::Config::from_lookup(|n| vars.get(n).cloned()).expect("config");
    let app = blog_svc::Application::build(config)
        .await
        .expect("starts lazily without the auth server");
    let blog = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let browser = browser();
    let (home, _) = get(&browser, &format!("{blog}/")).await;
    assert_eq!(home.status(), StatusCode::OK);
    let login = browser
        .get(format!("{blog}/auth/login"))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(login.headers().get(LOCATION).is_none());
    let html = login.text().await.expect("html");
    assert!(html.contains("Sign-in unavailable"), "{html}");
}

/// Issue 23, finding 10: each anonymous `GET /auth/login` stored a row,
/// without bound. Now the sign-in in progress is sealed into its cookie, and
/// a cookie that was tampered with or is another sign-in's is refused.
async fn starting_a_sign_in_stores_nothing_and_its_cookie_cannot_be_forged(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    for _ in 0..50 {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(stack.blog_url("/auth/login"))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let rows = stack
        .blog_db
        .query_one_raw(Statement::from_string(
            stack.blog_db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM web_logins",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(rows, 0, "no row before a sign-in completes");

    // A sign-in started, its cookie altered: the callback refuses it.
    let start = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(stack.blog_url("/auth/login"))
        .send()
        .await
        .expect("login");
    let cookie = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("blog_login="))
        .and_then(|c| c.split(';').next())
        .expect("login cookie")
        .to_owned();
    let location = start.headers()[LOCATION].to_str().expect("loc").to_owned();
    let oauth_state = url::Url::parse(&location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    let (prefix, sealed) = cookie.split_once('.').expect("state.sealed");
    let flipped: String = sealed.chars().rev().collect();
    let forged = [
        format!("{prefix}.{flipped}"),
        format!("blog_login={oauth_state}"),
        format!("blog_login=other.{sealed}"),
    ];
    for cookie in forged {
        let response = reqwest::Client::new()
            .get(stack.blog_url(&format!("/auth/callback?code=x&state={oauth_state}")))
            .header("cookie", cookie.as_str())
            .send()
            .await
            .expect("callback");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{cookie}");
    }
}

backend_tests!(
    starting_a_sign_in_stores_nothing_and_its_cookie_cannot_be_forged,
    with_the_auth_server_down_reading_works_and_sign_in_says_so,
    a_reader_signs_in_writes_edits_deletes_and_signs_out,
    the_session_cookie_is_http_only_and_the_tokens_are_sealed,
    a_callback_from_another_browser_or_replayed_is_refused,
    the_return_path_after_sign_in_never_leaves_the_blog,
    a_session_whose_refresh_is_refused_must_sign_in_again,
);
