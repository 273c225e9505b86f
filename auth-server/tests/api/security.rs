//! Attacks from the adversarial review (issue #11), each performed the way an
//! attacker would: over HTTP, with tokens and requests they could really hold.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, backend_tests, claims_of, client_id_of, json_body, Backend, TestApp, PASSWORD,
};

/// Every admin route, as (method, path, body) for the token holder to try.
fn admin_requests(victim: &str) -> Vec<(reqwest::Method, String, Option<Value>)> {
    use reqwest::Method;
    vec![
        (Method::GET, "/api/v1/users".into(), None),
        (Method::GET, format!("/api/v1/users/{victim}"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{victim}"),
            Some(json!({ "roles": ["admin"], "disabled": false })),
        ),
        (Method::DELETE, format!("/api/v1/users/{victim}"), None),
        (Method::GET, "/api/v1/audit".into(), None),
        (Method::GET, "/api/v1/api-keys".into(), None),
        (
            Method::POST,
            "/api/v1/api-keys".into(),
            Some(json!({ "name": "backdoor", "scopes": ["posts:write"] })),
        ),
    ]
}

async fn try_every_admin_route(app: &TestApp, token: &str, victim: &str) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for (method, path, body) in admin_requests(victim) {
        let mut request = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        statuses.push(request.send().await.expect("request").status());
    }
    statuses
}

async fn a_former_admin_keeps_no_admin_power(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = app.admin().await;
    for (step, email) in ["demoted", "disabled", "deleted"].iter().zip([
        "demoted@example.com",
        "disabled@example.com",
        "deleted@example.com",
    ]) {
        let former = app.admin_named(email).await;
        let victim = app.user(&format!("victim-{step}@example.com")).await;
        assert_eq!(
            app.list_users(&former.token, "").await.status(),
            StatusCode::OK,
            "{step}: an admin before"
        );
        let change = match *step {
            "demoted" => app
                .patch_user(&root.token, &former.id, &json!({ "roles": [] }))
                .await
                .status(),
            "disabled" => app
                .patch_user(&root.token, &former.id, &json!({ "disabled": true }))
                .await
                .status(),
            _ => app.delete_user(&root.token, &former.id).await.status(),
        };
        assert!(change.is_success(), "{step}: {change}");
        let (keys, users, audit) = (
            app.count_rows("api_keys").await,
            app.count_rows("users").await,
            app.count_rows("audit_events").await,
        );
        let statuses = try_every_admin_route(&app, &former.token, &victim.id).await;
        let expected = if *step == "demoted" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert!(
            statuses.iter().all(|s| *s == expected),
            "{step}: {statuses:?}"
        );
        // Re-promoting oneself is one of the attempts above; nothing changed.
        assert_eq!(app.count_rows("api_keys").await, keys, "{step}");
        assert_eq!(app.count_rows("users").await, users, "{step}");
        assert_eq!(app.count_rows("audit_events").await, audit, "{step}");
        if *step == "demoted" {
            let row = json_body(
                app.get_with_token(&format!("/api/v1/users/{}", former.id), &root.token)
                    .await,
            )
            .await;
            assert_eq!(row["roles"], json!([]), "still demoted");
        }
    }
}

async fn an_ended_sessions_token_opens_none_of_the_account_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let routes = |token: String, app: &TestApp| {
        let requests = vec![
            app.client.get(app.url("/api/v1/users/me")),
            app.client.get(app.url("/api/v1/users/me/sessions")),
            app.client
                .delete(app.url("/api/v1/users/me"))
                .json(&json!({ "password": PASSWORD })),
            app.client
                .patch(app.url("/api/v1/users/me/password"))
                .json(&json!({ "old_password": PASSWORD, "new_password": "brand new password" })),
        ];
        async move {
            let mut statuses = Vec::new();
            for request in requests {
                statuses.push(
                    request
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("request")
                        .status(),
                );
            }
            statuses
        }
    };

    // Logged out.
    let user = app.user("logout@example.com").await;
    assert_eq!(
        app.logout(&user.token).await.status(),
        StatusCode::NO_CONTENT
    );
    let statuses = routes(user.token.clone(), &app).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );

    // Another session changed the password: the first session's token is dead.
    let other = app.token_for(&user.email, PASSWORD).await;
    let stolen = app.token_for(&user.email, PASSWORD).await;
    assert_eq!(
        app.change_password(&other, PASSWORD, "a different passphrase")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.me(&stolen).await.status(), StatusCode::UNAUTHORIZED);

    // The owner ended one session from another.
    let owner = app.token_for(&user.email, "a different passphrase").await;
    let thief = app.token_for(&user.email, "a different passphrase").await;
    let thief_sid = claims_of(&thief)["sid"].as_str().expect("sid").to_owned();
    let ended = app
        .client
        .delete(app.url(&format!("/api/v1/users/me/sessions/{thief_sid}")))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("request");
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    let statuses = routes(thief.clone(), &app).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(app.me(&owner).await.status(), StatusCode::OK);
    assert_eq!(
        app.count_rows("users").await,
        1,
        "the account survived every attempt"
    );
}

async fn deleting_the_account_needs_the_current_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("reauth@example.com").await;
    let bare = app
        .client
        .delete(app.url("/api/v1/users/me"))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_problem(
        app.delete_me_with(&user.token, "a stolen token only").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);
    assert_eq!(
        app.delete_me_with(&user.token, PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

async fn wrong_old_passwords_are_throttled_counted_and_audited(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("LOGIN_FAILURES_BEFORE_BACKOFF", "3"),
            ("LOGIN_MAX_BACKOFF", "1h"),
        ],
    )
    .await;
    let admin = app.admin().await;
    let user = app.user("oracle@example.com").await;
    for guess in ["guess one!", "guess two!", "guess three"] {
        assert_problem(
            app.change_password(&user.token, guess, "new passphrase!")
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let limited = app
        .change_password(&user.token, PASSWORD, "new passphrase!")
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    // The same back-off as a login from this client.
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let failed = app.audit(&admin, "password.change_failed").await;
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["subject"], user.id.as_str());
    assert_eq!(app.audit(&admin, "login.throttled").await.len(), 1);
}

async fn one_client_flooding_password_checks_cannot_starve_other_logins(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("PASSWORD_HASH_CONCURRENCY", "1"),
            ("PASSWORD_HASH_QUEUE_PER_CLIENT", "4"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let attacker = app.user("attacker@example.com").await;
    let owner = app.user("owner@example.com").await;
    let flood: Vec<_> = (0..200)
        .map(|i| {
            app.client
                .patch(app.url("/api/v1/users/me/password"))
                .header("x-forwarded-for", "203.0.113.66")
                .bearer_auth(&attacker.token)
                .json(&json!({ "old_password": format!("guess number {i}"), "new_password": "new passphrase!" }))
                .send()
        })
        .collect();
    let login = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({ "email": owner.email, "password": PASSWORD }))
        .send();
    let (flood, login) = tokio::join!(futures_util::future::join_all(flood), login);
    assert_eq!(
        login.expect("login").status(),
        StatusCode::OK,
        "another client's login is served"
    );
    let statuses: Vec<StatusCode> = flood
        .into_iter()
        .map(|r| r.expect("response").status())
        .collect();
    assert!(
        statuses
            .iter()
            .all(|s| matches!(*s, StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS)),
        "never a 503: {:?}",
        statuses
            .iter()
            .filter(|s| !matches!(**s, StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS))
            .collect::<Vec<_>>()
    );
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS));
}

async fn a_token_for_a_service_opens_nothing_on_auth_server(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JWT_AUDIENCE", "blog,scraper")]).await;
    let admin = app.admin().await;
    let for_blog = json_body(app.login_for(&admin.email, PASSWORD, Some("blog")).await).await;
    let for_blog = for_blog["access_token"].as_str().expect("token").to_owned();
    assert_eq!(claims_of(&for_blog)["aud"], "blog");
    let statuses = try_every_admin_route(&app, &for_blog, &admin.id).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(app.me(&for_blog).await.status(), StatusCode::UNAUTHORIZED);
    // A service configured for another audience refuses it too.
    let scraper = jwt_verify::Verifier::builder(
        jwt_verify::KeySource::jwks(app.url("/.well-known/jwks.json")),
        jwt_verify::Validation::new(app.state.config.issuer.clone()).audience("scraper"),
    )
    .build()
    .await
    .expect("verifier");
    assert_eq!(
        scraper.verify(&for_blog).await.expect_err("wrong audience"),
        jwt_verify::VerifyError::WrongAudience
    );
    // And an account-API token is no good behind the gateway.
    assert_eq!(
        app.get_with_token("/api/v1/auth/verify", &admin.token)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Asking for an audience the server does not issue is refused.
    let unknown = app
        .login_for(&admin.email, PASSWORD, Some("elsewhere"))
        .await;
    assert_problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn service_tokens_are_issued_only_for_the_keys_audiences(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JWT_AUDIENCE", "blog,scraper")]).await;
    let admin = app.admin().await;
    let created = app
        .create_api_key(
            &admin.token,
            &json!({ "name": "feeds", "scopes": ["posts:write"], "audiences": ["scraper"] }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let key = json_body(created).await["api_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let client_id = client_id_of(&key);
    let token = |form: Vec<(&'static str, &'static str)>| {
        let (app, client_id, key) = (&app, client_id.clone(), key.clone());
        async move {
            let mut form = form;
            form.push(("grant_type", "client_credentials"));
            app.oauth_token(&form, Some((&client_id, &key))).await
        }
    };
    let default = json_body(token(vec![]).await).await;
    assert_eq!(
        claims_of(default["access_token"].as_str().expect("token"))["aud"],
        "scraper"
    );
    for form in [
        vec![("resource", "blog")],
        vec![("audience", "blog")],
        vec![("resource", "signet-account")],
        vec![("resource", "https://elsewhere.example")],
    ] {
        let refused = token(form.clone()).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(
            json_body(refused).await["error"],
            "invalid_target",
            "{form:?}"
        );
    }
    let mismatch = token(vec![("resource", "scraper"), ("audience", "blog")]).await;
    assert_eq!(json_body(mismatch).await["error"], "invalid_request");
    // A key cannot be made for an audience the server does not issue, nor for its own API.
    for audiences in [json!(["elsewhere"]), json!(["signet-account"])] {
        assert_problem(
            app.create_api_key(
                &admin.token,
                &json!({ "name": "bad", "audiences": audiences }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
}

async fn introspection_needs_its_scope_and_knows_revoked_api_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, plain) = app.api_key(&admin, "no-introspect", &["posts:write"]).await;
    let (_, introspector) = app.api_key(&admin, "rs", &["introspect"]).await;
    let (_, with_email) = app
        .api_key(&admin, "rs-email", &["introspect", "introspect:email"])
        .await;
    let (service_row, service_key) = app.api_key(&admin, "svc", &["posts:write"]).await;
    let service_token = app.service_token(&service_key).await;
    let introspect = |caller: &str, token: &str| {
        app.client
            .post(app.url("/oauth/introspect"))
            .basic_auth(client_id_of(caller), Some(caller))
            .form(&[("token", token)])
            .send()
    };
    let refused = introspect(&plain, &admin.token).await.expect("request");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_body(refused).await["error"], "insufficient_scope");

    let user_view = json_body(
        introspect(&introspector, &admin.token)
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(user_view["active"], true);
    assert!(
        user_view.get("username").is_none_or(Value::is_null),
        "{user_view}"
    );
    let with_email_view = json_body(
        introspect(&with_email, &admin.token)
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(with_email_view["username"], admin.email.as_str());

    assert_eq!(
        json_body(
            introspect(&introspector, &service_token)
                .await
                .expect("request")
        )
        .await["active"],
        true
    );
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{service_row}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_body(
            introspect(&introspector, &service_token)
                .await
                .expect("request")
        )
        .await,
        json!({ "active": false }),
        "the key behind it is revoked"
    );
}

async fn a_password_typed_into_the_email_field_is_never_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let typed = "MySecretPassw0rd!";
    assert_eq!(
        app.login(typed, "anything at all").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("typo@example.com", "anything at all")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let failures = app.audit(&admin, "login.failure").await;
    assert_eq!(failures.len(), 2);
    let subjects: Vec<&str> = failures
        .iter()
        .map(|f| f["subject"].as_str().expect("subject"))
        .collect();
    assert!(subjects.contains(&"typo@example.com"), "{subjects:?}");
    let hashed = subjects
        .iter()
        .find(|s| s.starts_with("not-an-email:"))
        .expect("a keyed hash stands in for the non-email");
    assert!(!hashed.to_lowercase().contains("secret"), "{hashed}");
    let everything = serde_json::to_string(&failures).expect("json");
    assert!(!everything.to_lowercase().contains("mysecretpassw0rd"));
}

async fn revoking_an_access_token_ends_its_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("revoke-at@example.com").await;
    let session = app.login_json(&user.email).await;
    let access = session["access_token"].as_str().expect("at");
    let refresh = session["refresh_token"].as_str().expect("rt");
    let revoke = |token: &str, hint: &str| {
        app.client
            .post(app.url("/oauth/revoke"))
            .form(&[("token", token), ("token_type_hint", hint)])
            .send()
    };
    assert_eq!(
        revoke(access, "access_token")
            .await
            .expect("request")
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    let refreshed = app.refresh(refresh).await;
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(refreshed).await["error"], "invalid_grant");
    assert_eq!(
        app.me(&user.token).await.status(),
        StatusCode::OK,
        "other sessions live on"
    );

    // A service token is revoked with its API key, which the answer says.
    let (_, key) = app.api_key(&admin, "svc", &[]).await;
    let service = json_body(
        app.oauth_token(
            &[("grant_type", "client_credentials")],
            Some((&client_id_of(&key), &key)),
        )
        .await,
    )
    .await;
    let refused = revoke(
        service["access_token"].as_str().expect("token"),
        "access_token",
    )
    .await
    .expect("request");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(refused).await["error"], "unsupported_token_type");
    // Garbage is still a quiet 200.
    assert_eq!(
        revoke("not.a.token", "access_token")
            .await
            .expect("request")
            .status(),
        StatusCode::OK
    );
}

async fn a_stranger_guessing_cannot_lock_the_owner_out(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("LOGIN_FAILURES_BEFORE_BACKOFF", "5"),
            ("LOGIN_ACCOUNT_FAILURE_CEILING", "12"),
            ("LOGIN_MAX_BACKOFF", "1h"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let admin = app.admin().await;
    let owner = app.user("owner@example.com").await;
    let login_from = |ip: &str, password: &str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "email": owner.email, "password": password }))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(
            login_from("203.0.113.1", "a wrong guess")
                .await
                .expect("r")
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from("203.0.113.1", PASSWORD)
            .await
            .expect("r")
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing client is slowed down"
    );
    assert_eq!(
        login_from("198.51.100.20", PASSWORD)
            .await
            .expect("r")
            .status(),
        StatusCode::OK,
        "the owner, elsewhere, is not"
    );
    // Distributed guessing still slows the account down past the ceiling.
    for i in 0..7 {
        assert_eq!(
            login_from(&format!("203.0.113.{}", 10 + i), "a wrong guess")
                .await
                .expect("r")
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from("192.0.2.99", PASSWORD)
            .await
            .expect("r")
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "past the account-wide ceiling"
    );
    let throttled = app.audit(&admin, "login.throttled").await;
    let scopes: Vec<&str> = throttled
        .iter()
        .map(|e| e["detail"]["scope"].as_str().expect("scope"))
        .collect();
    assert!(
        scopes.contains(&"client") && scopes.contains(&"account"),
        "{scopes:?}"
    );
}

async fn ipv6_clients_share_a_limit_across_their_64(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("RATE_LIMIT_SIGNUP_PER_IP", "2/1m"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let signup_from = |ip: &str, i: u32| {
        app.client
            .post(app.url("/api/v1/users"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "email": format!("v6-{i}@example.com"), "password": PASSWORD }))
            .send()
    };
    for (i, ip) in ["2001:db8:7:7::1", "2001:db8:7:7::2"].iter().enumerate() {
        assert_eq!(
            signup_from(ip, i as u32).await.expect("r").status(),
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(
        signup_from("2001:db8:7:7:ffff::3", 3)
            .await
            .expect("r")
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a fresh /128 in the same /64 is the same client"
    );
    assert_eq!(
        signup_from("2001:db8:7:8::1", 4).await.expect("r").status(),
        StatusCode::ACCEPTED
    );
}

async fn arbitrary_http_methods_do_not_grow_the_metrics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("M{i}").as_bytes()).expect("method");
        app.client
            .request(method, app.url("/api/v1/auth/verify"))
            .send()
            .await
            .expect("request");
    }
    let text = app.metrics().await.text().await.expect("body");
    let series = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{") && l.contains("/api/v1/auth/verify"))
        .count();
    assert_eq!(series, 1, "{text}");
    assert!(text.contains("method=\"other\""));
}

async fn personal_answers_are_not_cached_or_sniffed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("headers@example.com").await;
    let me = app.me(&user.token).await;
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert_eq!(me.headers()["x-content-type-options"], "nosniff");
    let denied = app.me("garbage").await;
    assert_eq!(denied.headers()["x-content-type-options"], "nosniff");
    let health = app.get("/healthz").await;
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
}

backend_tests!(
    a_former_admin_keeps_no_admin_power,
    an_ended_sessions_token_opens_none_of_the_account_routes,
    deleting_the_account_needs_the_current_password,
    wrong_old_passwords_are_throttled_counted_and_audited,
    one_client_flooding_password_checks_cannot_starve_other_logins,
    a_token_for_a_service_opens_nothing_on_auth_server,
    service_tokens_are_issued_only_for_the_keys_audiences,
    introspection_needs_its_scope_and_knows_revoked_api_keys,
    a_password_typed_into_the_email_field_is_never_stored,
    revoking_an_access_token_ends_its_session,
    a_stranger_guessing_cannot_lock_the_owner_out,
    ipv6_clients_share_a_limit_across_their_64,
    arbitrary_http_methods_do_not_grow_the_metrics,
    personal_answers_are_not_cached_or_sniffed,
);
