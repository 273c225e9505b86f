//! Security round 3: each test performs one attack an outside tester found
//! (issue 23) and checks that it now fails.

use auth_server::clients::{self, Actor, NewClient};
use auth_server::oauth::codes::{self, NewCode};
use reqwest::StatusCode;
use serde_json::{json, Value};

// A client and its secret.
use crate::authorize::Rp as Registered;
use crate::code_grant::{REDIRECT, VERIFIER};
use crate::helpers::{backend_tests, claims_of, error_of, json_body, Backend, TestApp, PASSWORD};

async fn confidential_client(app: &TestApp, first_party: bool) -> Registered {
    crate::authorize::register_rp(
        app,
        NewClient {
            name: if first_party { "Console" } else { "Stranger" }.into(),
            redirect_uris: vec![REDIRECT.into()],
            first_party,
            ..NewClient::default()
        },
    )
    .await
}

/// The user's code for `client`, as the consent page would issue it.
async fn code(app: &TestApp, client: &Registered, user_id: &str, scope: &str) -> String {
    codes::issue(
        &app.state.db,
        NewCode {
            client_id: &client.id,
            user_id: uuid::Uuid::parse_str(user_id).expect("uuid"),
            redirect_uri: REDIRECT,
            scope,
            nonce: None,
            code_challenge: &codes::s256(VERIFIER),
            auth_time: app.state.clock.now(),
            idp: None,
            methods: &auth_server::sessions::methods::Methods::password(),
            resource: None,
            browser_session: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("code")
}

async fn redeem(
    app: &TestApp,
    client: &Registered,
    code: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    form.extend_from_slice(extra);
    app.oauth_token(&form, Some((&client.id, &client.secret)))
        .await
}

async fn refresh_as(
    app: &TestApp,
    client: &Registered,
    token: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend_from_slice(extra);
    app.oauth_token(&form, Some((&client.id, &client.secret)))
        .await
}

async fn third_party_clients_never_get_the_account_audience(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let account = app.state.config.account_audience.clone();
    let stranger = confidential_client(&app, false).await;

    // The attack: consent to "who you are", then ask for the admin API.
    let code1 = code(&app, &stranger, &admin.id, "openid").await;
    let (status, error) =
        error_of(redeem(&app, &stranger, &code1, &[("resource", &account)]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_target")
    );
    let code2 = code(&app, &stranger, &admin.id, "openid").await;
    let (status, error) =
        error_of(redeem(&app, &stranger, &code2, &[("audience", &account)]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_target")
    );

    // Nor by refreshing a session the user did consent to.
    let code3 = code(&app, &stranger, &admin.id, "openid offline_access").await;
    let body = json_body(redeem(&app, &stranger, &code3, &[]).await).await;
    let refresh = body["refresh_token"].as_str().expect("refresh token");
    let access = body["access_token"].as_str().expect("access token");
    assert_ne!(claims_of(access)["aud"], account.as_str());
    let (status, error) =
        error_of(refresh_as(&app, &stranger, refresh, &[("resource", &account)]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_target")
    );

    // A token crafted with the account audience for the stranger's session
    // (as if the endpoint had slipped) still opens nothing: the guard checks
    // the session's client too.
    let mut crafted = claims_of(access);
    crafted["aud"] = json!(account);
    let forged = app.sign(app.at_jwt_header(), &crafted);
    assert_eq!(
        app.list_users(&forged, "").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(&forged).await.status(), StatusCode::UNAUTHORIZED);

    // A service's exchanged token names the service as its client: with the
    // account audience it opens nothing either.
    let mut exchanged = app.valid_claims(&admin.id);
    exchanged["aud"] = json!(account);
    exchanged["client_id"] = json!("sgk_someservice");
    exchanged["sid"] = claims_of(&admin.token)["sid"].clone();
    let forged = app.sign(app.at_jwt_header(), &exchanged);
    assert_eq!(app.me(&forged).await.status(), StatusCode::UNAUTHORIZED);

    // The first-party login and a first-party client still may.
    assert_eq!(app.me(&admin.token).await.status(), StatusCode::OK);
    let console = confidential_client(&app, true).await;
    let code4 = code(&app, &console, &admin.id, "openid").await;
    let response = redeem(&app, &console, &code4, &[("resource", &account)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    let token = body["access_token"].as_str().expect("access token");
    assert_eq!(claims_of(token)["aud"], account.as_str());
    assert_eq!(app.list_users(token, "").await.status(), StatusCode::OK);
}

async fn a_client_cannot_revoke_another_clients_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("victim@example.com").await;
    let owner = confidential_client(&app, false).await;
    let intruder = confidential_client(&app, false).await;
    let code1 = code(&app, &owner, &user.id, "openid offline_access").await;
    let body = json_body(redeem(&app, &owner, &code1, &[]).await).await;
    let refresh = body["refresh_token"].as_str().expect("refresh").to_owned();
    let access = body["access_token"].as_str().expect("access").to_owned();

    let revoke = |token: String, who: Option<&Registered>| {
        let mut request = app
            .client
            .post(app.url("/oauth/revoke"))
            .form(&[("token", token.as_str())]);
        if let Some(client) = who {
            request = request.basic_auth(&client.id, Some(&client.secret));
        }
        request.send()
    };
    // Another client, and the first-party client (no credentials): 200, no effect.
    for who in [Some(&intruder), None] {
        for token in [&refresh, &access] {
            let response = revoke(token.clone(), who).await.expect("request");
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
    let rotated = refresh_as(&app, &owner, &refresh, &[]).await;
    assert_eq!(
        rotated.status(),
        StatusCode::OK,
        "the owner's session lives"
    );
    let rotated = json_body(rotated).await["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();

    // A wrong secret is refused outright.
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .basic_auth(&owner.id, Some("wrong"))
        .form(&[("token", rotated.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The client it was issued to may.
    let response = revoke(rotated.clone(), Some(&owner))
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let (status, error) = error_of(refresh_as(&app, &owner, &rotated, &[]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );

    // And a registered client cannot end a password login's session.
    let login = app.login_json(&user.email).await;
    let first_party = login["refresh_token"].as_str().expect("rt").to_owned();
    revoke(first_party.clone(), Some(&intruder))
        .await
        .expect("request");
    assert_eq!(app.refresh(&first_party).await.status(), StatusCode::OK);
}

async fn logout_takes_the_default_logins_service_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("rest@example.com").await;
    let response = app.login_for(&user.email, PASSWORD, None).await;
    let body = json_body(response).await;
    let access = body["access_token"].as_str().expect("access");
    let refresh = body["refresh_token"].as_str().expect("refresh");
    assert_eq!(
        claims_of(access)["aud"],
        "signet",
        "a service-audience token"
    );

    // Ending all sessions, or any other account route, still needs the account audience.
    assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    let response = app.logout(access).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, error) = error_of(app.refresh(refresh).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    // Its session is over: the token ends nothing twice.
    assert_eq!(app.logout(access).await.status(), StatusCode::UNAUTHORIZED);
    // The user's other session (the account token's) is untouched.
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);

    // A token a service got by exchange for this user's session is not the
    // session holder's: it cannot end it.
    let mut exchanged = app.valid_claims(&user.id);
    exchanged["client_id"] = json!("sgk_someservice");
    exchanged["sid"] = claims_of(&user.token)["sid"].clone();
    let forged = app.sign(app.at_jwt_header(), &exchanged);
    assert_eq!(app.logout(&forged).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);
}

async fn discovery_lists_every_grant_the_token_endpoint_serves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let document = json_body(app.get(path).await).await;
        let grants: Vec<&str> = document["grant_types_supported"]
            .as_array()
            .expect("grant types")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for grant in [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:device_code",
        ] {
            assert!(grants.contains(&grant), "{path} lacks {grant}: {grants:?}");
            // Each one listed is dispatched: never unsupported_grant_type.
            let (_, error) = error_of(app.oauth_token(&[("grant_type", grant)], None).await).await;
            assert_ne!(error, "unsupported_grant_type", "{grant}");
        }
        assert_eq!(grants.len(), 5, "{grants:?}");
    }
}

async fn every_forwarded_for_line_is_read(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.user("hops@example.com").await;
    // The client sends a line naming an address of its choice; the proxy
    // appends a line of its own naming the real client.
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "203.0.113.66")
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({
            "email": "hops@example.com",
            "password": PASSWORD,
            "audience": app.state.config.account_audience,
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let token = json_body(response).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let sessions = json_body(
        app.get_with_token("/api/v1/users/me/sessions", &token)
            .await,
    )
    .await;
    let current = sessions
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["current"] == true)
        .expect("current session")
        .clone();
    assert_eq!(current["ip"], "198.51.100.7", "{current}");
}

async fn many_distinct_parameters_are_checked_in_one_pass(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 64 KiB of distinct names: refused or answered, but in linear time. A
    // repeated name at the very end is still found.
    let mut form: String = (0..6000).map(|i| format!("p{i}=&")).collect();
    form.push_str("token=a&token=b");
    for path in ["/oauth/revoke", "/oauth/introspect", "/oauth/token"] {
        let response = app
            .client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await
            .expect("request");
        let (status, error) = error_of(response).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{path}"
        );
    }
}

async fn revocation_and_introspection_are_rate_limited_per_client(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("RATE_LIMIT_REVOKE_PER_CLIENT", "3/1m")]).await;
    let revoke = || {
        app.client
            .post(app.url("/oauth/revoke"))
            .form(&[("token", "sgr_nothing")])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(revoke().await.expect("request").status(), StatusCode::OK);
    }
    let response = revoke().await.expect("request");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));

    let introspect = || {
        app.client
            .post(app.url("/oauth/introspect"))
            .basic_auth("sgk_guess", Some("guess"))
            .form(&[("token", "x")])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            introspect().await.expect("request").status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        introspect().await.expect("request").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Forward-auth until it refuses `token` (the server applies its own
/// events every 100 ms); panics if it never does.
async fn forward_auth_refuses_soon(app: &TestApp, token: &str) {
    for _ in 0..300 {
        let response = app.get_with_token("/api/v1/auth/verify", token).await;
        match response.status() {
            StatusCode::UNAUTHORIZED => return,
            StatusCode::OK => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            other => panic!("forward-auth answered {other}"),
        }
    }
    panic!("forward-auth still accepts a revoked token");
}

async fn forward_auth_refuses_tokens_revoked_since_they_were_issued(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("gated@example.com").await;

    // A session ended (logout): its tokens open nothing behind the gateway.
    let signed_out = app.service_audience_token(&user.email).await;
    let other_session = app.service_audience_token(&user.email).await;
    for token in [&signed_out, &other_session] {
        let response = app.get_with_token("/api/v1/auth/verify", token).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(
        app.logout(&signed_out).await.status(),
        StatusCode::NO_CONTENT
    );
    forward_auth_refuses_soon(&app, &signed_out).await;
    let response = app
        .get_with_token("/api/v1/auth/verify", &other_session)
        .await;
    assert_eq!(response.status(), StatusCode::OK, "another session lives");

    // An account disabled by an admin: every token of it, at once.
    let response = app
        .patch_user(&admin.token, &user.id, &json!({ "disabled": true }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    forward_auth_refuses_soon(&app, &other_session).await;

    // A server started later loads the same state from the table.
    let late = TestApp::spawn_on(&app.database_url, &[]).await;
    forward_auth_refuses_soon(&late, &signed_out).await;
    forward_auth_refuses_soon(&late, &other_session).await;
}

/// Issue 23, finding 6: a token the user consented to for "identity"
/// could write blog posts, since the code grant defaulted to a service
/// audience. Now a client reaches only the resources registered for it.
async fn a_client_reaches_only_the_resources_registered_for_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JWT_AUDIENCE", "signet,blog,scraper")]).await;
    let user = app.user("resources@example.com").await;
    let catalog = clients::ResourceCatalog::of(&app.state.config);
    let register = |resources: Vec<String>, first_party: bool| {
        clients::register_checked(
            &app.state.db,
            NewClient {
                name: "Reader".into(),
                redirect_uris: vec![REDIRECT.into()],
                first_party,
                resources,
                ..NewClient::default()
            },
            &catalog,
            Actor {
                id: "test",
                ip: None,
            },
            app.state.clock.now(),
        )
    };
    // The catalogue: configured audiences only, the account one for first-party clients.
    for (resources, first_party) in [
        (vec!["nope".to_owned()], false),
        (vec![app.state.config.account_audience.clone()], false),
    ] {
        assert!(matches!(
            register(resources, first_party).await,
            Err(clients::RegistryError::Invalid(_))
        ));
    }
    let identity_only = register(Vec::new(), false).await.expect("registered");
    let identity_only = Registered {
        id: identity_only.client.client_id,
        secret: identity_only.secret.expect("secret"),
    };
    let blog_reader = register(vec!["blog".into()], false)
        .await
        .expect("registered");
    let blog_reader = Registered {
        id: blog_reader.client.client_id,
        secret: blog_reader.secret.expect("secret"),
    };

    // "Identity" only: a token good at userinfo, and for nothing else.
    let code1 = code(&app, &identity_only, &user.id, "openid").await;
    let body = json_body(redeem(&app, &identity_only, &code1, &[]).await).await;
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(
        claims_of(token)["aud"],
        app.state.config.userinfo_audience().as_str()
    );
    assert_eq!(
        app.get_with_token("/oauth/userinfo", token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_with_token("/api/v1/auth/verify", token)
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "no service behind a gateway takes it"
    );
    for service in ["signet", "blog", "scraper"] {
        let code = code(&app, &identity_only, &user.id, "openid").await;
        let (status, error) =
            error_of(redeem(&app, &identity_only, &code, &[("resource", service)]).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_target"),
            "{service}"
        );
    }

    // Registered for the blog: the blog by default, and never the scraper.
    let code2 = code(&app, &blog_reader, &user.id, "openid").await;
    let body = json_body(redeem(&app, &blog_reader, &code2, &[]).await).await;
    assert_eq!(
        claims_of(body["access_token"].as_str().expect("token"))["aud"],
        "blog"
    );
    let code3 = code(&app, &blog_reader, &user.id, "openid").await;
    let (status, error) =
        error_of(redeem(&app, &blog_reader, &code3, &[("resource", "scraper")]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_target")
    );
    // Nor by refreshing.
    let refresh = body["refresh_token"].as_str().expect("refresh");
    let (status, error) =
        error_of(refresh_as(&app, &blog_reader, refresh, &[("resource", "scraper")]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_target")
    );
}

backend_tests!(
    a_client_reaches_only_the_resources_registered_for_it,
    forward_auth_refuses_tokens_revoked_since_they_were_issued,
    third_party_clients_never_get_the_account_audience,
    a_client_cannot_revoke_another_clients_tokens,
    logout_takes_the_default_logins_service_token,
    discovery_lists_every_grant_the_token_endpoint_serves,
    every_forwarded_for_line_is_read,
    many_distinct_parameters_are_checked_in_one_pass,
    revocation_and_introspection_are_rate_limited_per_client,
);
