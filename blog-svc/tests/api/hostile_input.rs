//! Hostile input, table-driven and byte for byte: every request is answered
//! with a precise 4xx and a JSON body, none with a 500, and the database is
//! exactly as it was.

use sea_orm::{EntityTrait, PaginatorTrait};
use signet_service::backend_tests;
use signet_service::testing::{assert_refused, Backend, HostileRequest};

use blog_svc::entity::{author, post};

use crate::helpers::TestApp;

async fn row_counts(app: &TestApp) -> [u64; 2] {
    [
        post::Entity::find().count(&app.db).await.expect("posts"),
        author::Entity::find()
            .count(&app.db)
            .await
            .expect("authors"),
    ]
}

async fn hostile_requests_get_a_json_4xx_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.user_token("owner", "Owner", &[]);
    let id = app.post(&owner, "The only post").await;
    let other = format!("Bearer {}", app.user_token("other", "Other", &[]));
    let bearer = format!("Bearer {owner}");
    let before = row_counts(&app).await;
    let auth: &[(&str, &[u8])] = &[("Authorization", bearer.as_bytes())];
    let importer = format!(
        "Bearer {}",
        app.service_token("sgn_importer", "posts:write posts:import")
    );
    let import_auth: &[(&str, &[u8])] = &[("Authorization", importer.as_bytes())];
    let posts = "/api/v1/posts";
    let this_post = format!("/api/v1/posts/{id}");
    let huge = "x".repeat(300 * 1024);
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));

    let cases = vec![
        HostileRequest::post_json("truncated JSON", posts, auth, r#"{"title": "#, 400),
        HostileRequest::post_json("empty body", posts, auth, "", 400),
        HostileRequest::post_json("a JSON string", posts, auth, r#""post""#, 422),
        HostileRequest::post_json(
            "a number where a string belongs",
            posts,
            auth,
            r#"{"title":1,"body":"b"}"#,
            422,
        ),
        HostileRequest::post_json(
            "a body over the limit",
            posts,
            auth,
            format!(r#"{{"title":"t","body":"{huge}"}}"#),
            413,
        ),
        HostileRequest::post_json(
            "invalid UTF-8 inside a string",
            posts,
            auth,
            [
                br#"{"title":""#.as_slice(),
                b"\xc3\x28",
                br#"","body":"b"}"#,
            ]
            .concat(),
            400,
        ),
        HostileRequest::post_json(
            "a duplicated key",
            posts,
            auth,
            r#"{"title":"one","title":"two","body":"b"}"#,
            422,
        ),
        HostileRequest::post_json(
            "a field the client may not set (author)",
            posts,
            auth,
            r#"{"title":"t","body":"b","author_id":"someone-else"}"#,
            422,
        ),
        HostileRequest::post_json("nesting 5000 deep", posts, auth, &nested, 422),
        HostileRequest::post_json(
            "an empty title",
            posts,
            auth,
            r#"{"title":"   ","body":"b"}"#,
            422,
        ),
        HostileRequest::post_json(
            "a source URL that is SQL",
            posts,
            import_auth,
            r#"{"title":"t","body":"b","source":"http://feeds.test/f","source_url":"'; DROP TABLE posts; --"}"#,
            422,
        ),
        HostileRequest::post_json(
            "a javascript: source URL",
            posts,
            import_auth,
            r#"{"title":"t","body":"b","source":"http://feeds.test/f","source_url":"javascript:alert(1)"}"#,
            422,
        ),
        HostileRequest::post_json(
            "a source URL without the import scope",
            posts,
            auth,
            r#"{"title":"t","body":"b","source":"http://feeds.test/f","source_url":"http://feeds.test/1"}"#,
            403,
        ),
        HostileRequest::new(
            "no content type",
            "POST",
            posts,
            auth,
            br#"{"title":"t","body":"b"}"#,
            415,
        ),
        HostileRequest::post_json("no token", posts, &[], r#"{"title":"t","body":"b"}"#, 401),
        HostileRequest::post_json(
            "a bearer token of Latin-1 bytes",
            posts,
            &[("Authorization", b"Bearer \xff\xfe")],
            r#"{"title":"t","body":"b"}"#,
            400,
        ),
        HostileRequest::post_json(
            "two Authorization headers",
            posts,
            &[
                ("Authorization", bearer.as_bytes()),
                ("Authorization", other.as_bytes()),
            ],
            r#"{"title":"t","body":"b"}"#,
            400,
        ),
        HostileRequest::post_json(
            "a header injected after the token",
            posts,
            &[("Authorization", b"Bearer abc\r\nX-Injected: yes")],
            r#"{"title":"t","body":"b"}"#,
            401,
        ),
        HostileRequest::new(
            "editing someone else's post",
            "PATCH",
            &this_post,
            &[
                ("Authorization", other.as_bytes()),
                ("Content-Type", b"application/json"),
            ],
            br#"{"title":"mine now"}"#,
            403,
        ),
        HostileRequest::new(
            "deleting someone else's post",
            "DELETE",
            &this_post,
            &[("Authorization", other.as_bytes())],
            b"",
            403,
        ),
        HostileRequest::new(
            "a post id that is SQL",
            "GET",
            "/api/v1/posts/1%27%20OR%20%271%27%3D%271",
            &[],
            b"",
            400,
        ),
        HostileRequest::new(
            "a cursor that is SQL",
            "GET",
            "/api/v1/posts?cursor=%27%20OR%201%3D1%20--",
            &[],
            b"",
            400,
        ),
        HostileRequest::new(
            "a limit with a statement after it",
            "GET",
            "/api/v1/posts?limit=1;DROP%20TABLE%20posts",
            &[],
            b"",
            400,
        ),
        HostileRequest::new(
            "an unknown query parameter",
            "GET",
            "/api/v1/posts?order=id;--",
            &[],
            b"",
            400,
        ),
        HostileRequest::not_http(posts),
    ];
    assert_refused(app.address.trim_start_matches("http://"), &cases).await;
    assert_eq!(row_counts(&app).await, before, "the database is unchanged");
    let kept = app.get(&format!("/api/v1/posts/{id}")).await;
    assert_eq!(
        crate::helpers::json_body(kept).await["title"],
        "The only post"
    );
}

backend_tests!(hostile_requests_get_a_json_4xx_and_change_nothing);
