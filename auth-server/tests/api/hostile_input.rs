//! Hostile input, table-driven and byte for byte: every request is answered
//! with a precise 4xx and a JSON body, none with a 500, and the database is
//! exactly as it was.

use sea_orm::{EntityTrait, PaginatorTrait};
use signet_service::testing::{assert_refused, HostileRequest};

use auth_server::accounts::entity as user;
use auth_server::api_keys::entity as api_key;
use auth_server::keys::entity as signing_key;
use auth_server::sessions::{entity as session, refresh_token};

use crate::helpers::backend_tests;
use crate::helpers::{Backend, TestApp, PASSWORD};

/// Rows of every table a request could change (the audit log records refused
/// logins on purpose, so it is left out).
async fn row_counts(app: &TestApp) -> [u64; 5] {
    let db = &app.state.db;
    [
        user::Entity::find().count(db).await.expect("users"),
        session::Entity::find().count(db).await.expect("sessions"),
        refresh_token::Entity::find()
            .count(db)
            .await
            .expect("refresh tokens"),
        api_key::Entity::find().count(db).await.expect("api keys"),
        signing_key::Entity::find().count(db).await.expect("keys"),
    ]
}

async fn hostile_requests_get_a_json_4xx_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let someone = app.user("someone@example.com").await;
    let bearer = format!("Bearer {}", someone.token);
    let admin = format!("Bearer {}", app.admin().await.token);
    let before = row_counts(&app).await;
    let pw = PASSWORD;
    let huge = "x".repeat(70 * 1024);
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let signup = "/api/v1/users";
    let login = "/api/v1/auth/login";
    let login_mfa = "/api/v1/auth/login/mfa";
    let token = "/oauth/token";
    let verify = "/api/v1/auth/verify";
    let form: &[(&str, &[u8])] = &[("Content-Type", b"application/x-www-form-urlencoded")];

    let cases = vec![
        HostileRequest::post_json(
            "second factor: truncated JSON",
            login_mfa,
            &[],
            r#"{"mfa_token": "#,
            400,
        ),
        HostileRequest::post_json("second factor: a JSON array", login_mfa, &[], "[]", 422),
        HostileRequest::post_json(
            "second factor: a number for the code",
            login_mfa,
            &[],
            r#"{"mfa_token":"smf_x","code":123456}"#,
            422,
        ),
        HostileRequest::post_json(
            "second factor: an unknown token",
            login_mfa,
            &[],
            r#"{"mfa_token":"smf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","code":"123456"}"#,
            401,
        ),
        HostileRequest::post_json(
            "second factor: a code over the body limit",
            login_mfa,
            &[],
            format!(r#"{{"mfa_token":"smf_x","code":"{huge}"}}"#),
            413,
        ),
        HostileRequest::post_json("truncated JSON", signup, &[], r#"{"email": "#, 400),
        HostileRequest::post_json("empty body", signup, &[], "", 400),
        HostileRequest::post_json("a JSON null", signup, &[], "null", 422),
        HostileRequest::post_json("a JSON array", signup, &[], "[]", 422),
        HostileRequest::post_json(
            "a number where a string belongs",
            signup,
            &[],
            format!(r#"{{"email":5,"password":"{pw}"}}"#),
            422,
        ),
        HostileRequest::post_json(
            "a field over the body limit",
            signup,
            &[],
            format!(r#"{{"email":"{huge}@example.com","password":"{pw}"}}"#),
            413,
        ),
        HostileRequest::post_json(
            "invalid UTF-8 inside a string",
            signup,
            &[],
            [
                br#"{"email":""#.as_slice(),
                b"\xff\xfe",
                format!(r#"@example.com","password":"{pw}"}}"#).as_bytes(),
            ]
            .concat(),
            400,
        ),
        HostileRequest::post_json(
            "a duplicated key",
            signup,
            &[],
            format!(r#"{{"email":"a@example.com","email":"b@example.com","password":"{pw}"}}"#),
            422,
        ),
        HostileRequest::post_json(
            "a field the client may not set (roles)",
            signup,
            &[],
            format!(r#"{{"email":"mass@example.com","password":"{pw}","roles":["admin"]}}"#),
            422,
        ),
        // Refused as the wrong shape before serde_json's recursion limit matters.
        HostileRequest::post_json("nesting 5000 deep", signup, &[], &nested, 422),
        HostileRequest::post_json(
            "SQL in the email",
            signup,
            &[],
            format!(r#"{{"email":"x@example.com'; DROP TABLE users; --","password":"{pw}"}}"#),
            422,
        ),
        HostileRequest::post_json(
            "a NUL in the email",
            signup,
            &[],
            format!(r#"{{"email":"nul\u0000@example.com","password":"{pw}"}}"#),
            422,
        ),
        HostileRequest::new(
            "not JSON at all",
            "POST",
            signup,
            &[("Content-Type", b"text/plain")],
            b"email=a@example.com",
            415,
        ),
        HostileRequest::new("no content type", "POST", signup, &[], b"{}", 415),
        HostileRequest::post_json(
            "a header smuggled with CR LF",
            signup,
            &[("X-Note", b"a\r\nX-Injected: yes")],
            "{",
            400,
        ),
        HostileRequest::post_json(
            "SQL as the login email",
            login,
            &[],
            r#"{"email":"' OR '1'='1' --","password":"x"}"#,
            401,
        ),
        HostileRequest::post_json(
            "SQL as the login password",
            login,
            &[],
            r#"{"email":"someone@example.com","password":"' OR '1'='1' --"}"#,
            401,
        ),
        HostileRequest::new(
            "Basic credentials that are not base64",
            "POST",
            login,
            &[("Authorization", b"Basic !!!not-base64!!!")],
            b"",
            400,
        ),
        HostileRequest::new(
            "a token request without grant_type",
            "POST",
            token,
            form,
            b"scope=x",
            400,
        ),
        HostileRequest::new(
            "invalid percent-encoding in the form",
            "POST",
            token,
            form,
            b"grant_type=%ff%fe",
            400,
        ),
        HostileRequest::new(
            "grant_type given twice",
            "POST",
            token,
            form,
            b"grant_type=client_credentials&grant_type=refresh_token",
            400,
        ),
        HostileRequest::new(
            "the password grant (not offered)",
            "POST",
            token,
            form,
            b"grant_type=password&username=someone@example.com&password=x",
            400,
        ),
        HostileRequest::new(
            "client credentials with SQL as the secret",
            "POST",
            token,
            &[
                ("Content-Type", b"application/x-www-form-urlencoded"),
                (
                    "Authorization",
                    b"Basic c2duX3gnIE9SIDE9MSAtLTonIE9SIDE9MSAtLQ==",
                ),
            ],
            b"grant_type=client_credentials",
            401,
        ),
        HostileRequest::new(
            "a bearer token of Latin-1 bytes",
            "GET",
            verify,
            &[("Authorization", b"Bearer \xff\xfe\xfd")],
            b"",
            400,
        ),
        HostileRequest::new(
            "two Authorization headers",
            "GET",
            verify,
            &[
                ("Authorization", bearer.as_bytes()),
                ("Authorization", bearer.as_bytes()),
            ],
            b"",
            400,
        ),
        HostileRequest::new(
            "a header injected after the token",
            "GET",
            verify,
            &[("Authorization", b"Bearer abc\r\nX-Injected: yes")],
            b"",
            401,
        ),
        HostileRequest::new(
            "a token with a path in its kid",
            "GET",
            "/api/v1/users/me",
            &[(
                "Authorization",
                b"Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLy4uL2V0Yy9wYXNzd2QifQ.e30.AAAA",
            )],
            b"",
            401,
        ),
        HostileRequest::new(
            "a user id that is SQL",
            "GET",
            "/api/v1/users/1%27%20OR%20%271%27%3D%271",
            &[("Authorization", admin.as_bytes())],
            b"",
            400,
        ),
        HostileRequest::not_http("/healthz"),
    ];
    assert_refused(app.address.trim_start_matches("http://"), &cases).await;
    assert_eq!(row_counts(&app).await, before, "the database is unchanged");
}

/// The endpoints of issue 27 (PAR, the device grant, registration, client
/// assertions, SSF): the same rule, every refusal a JSON 4xx, nothing stored.
async fn hostile_requests_to_the_agent_endpoints_get_a_json_4xx_and_store_nothing(
    backend: Backend,
) {
    const TOKEN: &str = "initial-access-token-0123456789abcdef";
    let app = TestApp::spawn_with(backend, &[("REGISTRATION_TOKEN", TOKEN)]).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "receiver", &["ssf:stream"]).await;
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{key}", crate::helpers::client_id_of(&key))
        )
    );
    let registration = format!("Bearer {TOKEN}");
    let counts = || async {
        let mut counts = Vec::new();
        for table in [
            "oauth_clients",
            "pushed_requests",
            "device_authorizations",
            "ssf_streams",
            "ssf_stream_sets",
        ] {
            counts.push(app.count_rows(table).await);
        }
        counts
    };
    let before = counts().await;
    let huge = "x".repeat(70 * 1024);
    let form: &[(&str, &[u8])] = &[("Content-Type", b"application/x-www-form-urlencoded")];
    let text: &[(&str, &[u8])] = &[("Content-Type", b"text/plain")];
    let with_registration: &[(&str, &[u8])] = &[("Authorization", registration.as_bytes())];
    let with_basic: &[(&str, &[u8])] = &[("Authorization", basic.as_bytes())];
    let cases = vec![
        HostileRequest::new("PAR: no client", "POST", "/oauth/par", form, b"response_type=code", 401),
        HostileRequest::new("PAR: plain text", "POST", "/oauth/par", text, b"client_id=x", 400),
        HostileRequest::new(
            "PAR: a repeated parameter",
            "POST",
            "/oauth/par",
            form,
            b"client_id=a&client_id=b",
            400,
        ),
        HostileRequest::new("PAR: 70 KiB", "POST", "/oauth/par", form, huge.as_bytes(), 413),
        HostileRequest::post_json(
            "PAR: a number where a string goes",
            "/oauth/par",
            &[],
            r#"{"client_id": 7}"#,
            400,
        ),
        HostileRequest::new(
            "device authorization: no client",
            "POST",
            "/oauth/device_authorization",
            form,
            b"scope=openid",
            401,
        ),
        HostileRequest::post_json(
            "device authorization: truncated JSON",
            "/oauth/device_authorization",
            &[],
            r#"{"client_id": "#,
            400,
        ),
        HostileRequest::new(
            "device poll: no client",
            "POST",
            "/oauth/token",
            form,
            b"grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=x",
            401,
        ),
        HostileRequest::new(
            "a client assertion that is no JWT",
            "POST",
            "/oauth/token",
            form,
            b"grant_type=authorization_code&code=x&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=not-a-jwt",
            401,
        ),
        HostileRequest::new(
            "a client assertion of another type",
            "POST",
            "/oauth/token",
            form,
            b"grant_type=authorization_code&code=x&client_assertion_type=urn:x:saml&client_assertion=a.b.c",
            400,
        ),
        HostileRequest::post_json(
            "registration: no token",
            "/oauth/register",
            &[],
            r#"{"redirect_uris": ["https://a.example/cb"]}"#,
            401,
        ),
        HostileRequest::post_json(
            "registration: truncated JSON",
            "/oauth/register",
            with_registration,
            r#"{"redirect_uris": "#,
            400,
        ),
        HostileRequest::post_json(
            "registration: an array",
            "/oauth/register",
            with_registration,
            "[]",
            400,
        ),
        HostileRequest::post_json(
            "registration: 70 KiB",
            "/oauth/register",
            with_registration,
            format!(r#"{{"client_name": "{huge}"}}"#),
            413,
        ),
        HostileRequest::post_json(
            "SSF: no key",
            "/ssf/streams",
            &[],
            "{}",
            401,
        ),
        HostileRequest::post_json(
            "SSF: truncated JSON",
            "/ssf/streams",
            with_basic,
            r#"{"events_requested": "#,
            400,
        ),
        HostileRequest::post_json(
            "SSF: a number for the events",
            "/ssf/streams",
            with_basic,
            r#"{"events_requested": 7}"#,
            422,
        ),
        HostileRequest::post_json(
            "SSF: a poll of a stream id that is SQL",
            "/ssf/poll/1'%20OR%20'1'='1",
            with_basic,
            "{}",
            400,
        ),
        HostileRequest::new(
            "SSF: delete without a stream id",
            "DELETE",
            "/ssf/streams",
            with_basic,
            b"",
            400,
        ),
        HostileRequest::post_json(
            "SSF: a status of the wrong type",
            "/ssf/status",
            with_basic,
            r#"{"stream_id": [], "status": true}"#,
            422,
        ),
    ];
    assert_refused(app.address.trim_start_matches("http://"), &cases).await;
    assert_eq!(counts().await, before, "nothing stored");
}

backend_tests!(
    hostile_requests_get_a_json_4xx_and_change_nothing,
    hostile_requests_to_the_agent_endpoints_get_a_json_4xx_and_store_nothing,
);
