//! CORS (`CORS_ALLOWED_ORIGINS`): browser applications on the listed origins
//! may call discovery, the JWKS, the API description and the token,
//! revocation and userinfo endpoints; nobody else, nowhere else, and never
//! with credentials.

use reqwest::{Method, StatusCode};

use crate::helpers::{Backend, TestApp};

const APP: &str = "https://app.example.com";

/// What `origin` is told about `path`: the preflight's and the request's
/// `Access-Control-Allow-Origin`, and whether credentials were allowed.
struct Answer {
    preflight_status: StatusCode,
    preflight_origin: Option<String>,
    allow_headers: String,
    credentials: bool,
    request_origin: Option<String>,
    vary: String,
}

async fn ask(app: &TestApp, method: Method, path: &str, origin: &str) -> Answer {
    let http = reqwest::Client::new();
    let preflight = http
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method.as_str())
        .header(
            "access-control-request-headers",
            "authorization,content-type,dpop",
        )
        .send()
        .await
        .expect("preflight");
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    let preflight_origin = header(&preflight, "access-control-allow-origin");
    let allow_headers = header(&preflight, "access-control-allow-headers").unwrap_or_default();
    let mut credentials = header(&preflight, "access-control-allow-credentials").is_some();
    let request = http
        .request(method, app.url(path))
        .header("origin", origin)
        .send()
        .await
        .expect("request");
    credentials |= header(&request, "access-control-allow-credentials").is_some();
    Answer {
        preflight_status: preflight.status(),
        preflight_origin,
        allow_headers,
        credentials,
        request_origin: header(&request, "access-control-allow-origin"),
        vary: header(&request, "vary").unwrap_or_default(),
    }
}

const CROSS_ORIGIN: [(&str, &str); 6] = [
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/openapi.json"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
    ("GET", "/oauth/userinfo"),
];

#[tokio::test]
async fn listed_origins_may_call_the_public_oauth_endpoints_and_nothing_else() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:5173",
        )],
    )
    .await;
    for (method, path) in CROSS_ORIGIN {
        let method: Method = method.parse().expect("method");
        let answer = ask(&app, method.clone(), path, APP).await;
        assert!(
            answer.preflight_status.is_success(),
            "{path}: {}",
            answer.preflight_status
        );
        assert_eq!(answer.preflight_origin.as_deref(), Some(APP), "{path}");
        assert_eq!(answer.request_origin.as_deref(), Some(APP), "{path}");
        assert!(
            answer.allow_headers.contains("dpop"),
            "{path}: {}",
            answer.allow_headers
        );
        assert!(!answer.credentials, "{path}: credentials are never allowed");
        assert!(
            answer.vary.to_ascii_lowercase().contains("origin"),
            "{path}: caches must key on Origin"
        );

        // Another origin, or a near miss of a listed one, learns nothing.
        for stranger in [
            "https://evil.example",
            "https://app.example.com.evil.example",
            "http://app.example.com",
            "null",
        ] {
            let answer = ask(&app, method.clone(), path, stranger).await;
            assert_eq!(answer.preflight_origin, None, "{path} from {stranger}");
            assert_eq!(answer.request_origin, None, "{path} from {stranger}");
        }
    }
    // The account API, sign-up, login and introspection stay same-origin.
    for (method, path) in [
        (Method::GET, "/api/v1/users/me"),
        (Method::POST, "/api/v1/users"),
        (Method::POST, "/api/v1/auth/login"),
        (Method::POST, "/oauth/introspect"),
    ] {
        let answer = ask(&app, method, path, APP).await;
        assert_eq!(answer.preflight_origin, None, "{path}");
        assert_eq!(answer.request_origin, None, "{path}");
    }
}

#[tokio::test]
async fn without_the_setting_no_origin_is_allowed_and_a_star_never_allows_credentials() {
    let closed = TestApp::spawn(Backend::Sqlite).await;
    for (method, path) in CROSS_ORIGIN {
        let answer = ask(&closed, method.parse().expect("method"), path, APP).await;
        assert_eq!(answer.preflight_origin, None, "{path}");
        assert_eq!(answer.request_origin, None, "{path}");
    }
    let open = TestApp::spawn_with(Backend::Sqlite, &[("CORS_ALLOWED_ORIGINS", "*")]).await;
    // `*`: any origin is echoed back (with `Vary: Origin`) on the
    // cross-origin paths only, and credentials are never allowed.
    for origin in [APP, "https://elsewhere.example"] {
        let answer = ask(&open, Method::GET, "/.well-known/jwks.json", origin).await;
        assert_eq!(answer.request_origin.as_deref(), Some(origin));
        assert!(!answer.credentials);
    }
    let answer = ask(&open, Method::GET, "/api/v1/users/me", APP).await;
    assert_eq!(answer.request_origin, None);
}
