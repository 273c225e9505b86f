//! JwtAuthLayer, the guards and the extractors: status codes, challenges, bodies.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use common::{claims, key, static_verifier, validation};
use jwt_verify::{
    require_acr, require_any_role, require_scope, Claims, JwtAuthLayer, KeySet, OptionalClaims,
    Verifier,
};
use serde::Deserialize;
use tower::ServiceExt as _;

#[derive(Deserialize)]
struct Author {
    sub: String,
    email: String,
}

async fn me(claims: Claims<Author>) -> String {
    format!(
        "{} {} {:?}",
        claims.sub,
        claims.email,
        claims.standard().roles
    )
}

async fn greet(OptionalClaims(claims): OptionalClaims) -> String {
    match claims {
        Some(claims) => format!("hello {}", claims.sub.clone().unwrap_or_default()),
        None => "hello stranger".into(),
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct NeedsTenant {
    tenant: String,
}

async fn tenant(claims: Claims<NeedsTenant>) -> String {
    claims.tenant.clone()
}

fn app(verifier: Verifier) -> Router {
    let protected = Router::new()
        .route("/me", get(me))
        .route("/tenant", get(tenant))
        .route(
            "/posts",
            get(|| async { "posts" }).route_layer(require_scope("posts:write").realm("blog")),
        )
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(require_any_role(["admin"]).realm("blog")),
        )
        .route(
            "/payouts",
            get(|| async { "payouts" }).route_layer(require_acr("mfa").realm("blog")),
        )
        .layer(JwtAuthLayer::new(verifier.clone()).realm("blog"));
    let optional = Router::new()
        .route("/greet", get(greet))
        .layer(JwtAuthLayer::optional(verifier).realm("blog"));
    let unprotected = Router::new().route("/forgot-the-layer", get(me));
    protected.merge(optional).merge(unprotected)
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

async fn call(app: &Router, path: &str, authorization: Option<&str>) -> Answer {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Answer {
        status,
        challenge,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn no_token_gets_401_with_a_bare_challenge() {
    let app = app(static_verifier(&[key(0)]));
    for authorization in [None, Some("Basic dXNlcjpwYXNz")] {
        let answer = call(&app, "/me", authorization).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.challenge.as_deref(), Some(r#"Bearer realm="blog""#));
        let body: serde_json::Value = serde_json::from_str(&answer.body).expect("json body");
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn a_bad_token_gets_401_invalid_token_with_a_description() {
    let app = app(static_verifier(&[key(0)]));
    let mut expired = claims();
    expired["exp"] = serde_json::json!(common::now() - 3600);
    let answer = call(&app, "/me", Some(&bearer(&key(0).sign(&expired)))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let challenge = answer.challenge.expect("challenge");
    assert!(
        challenge.starts_with(r#"Bearer realm="blog", error="invalid_token", error_description="#),
        "{challenge}"
    );
    assert!(challenge.contains("expired"), "{challenge}");
    let body: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(body["error_description"], "token has expired");
}

#[tokio::test]
async fn a_malformed_authorization_header_is_400_invalid_request() {
    let app = app(static_verifier(&[key(0)]));
    for value in ["Bearer", "Bearer   ", "Bearer a b"] {
        let answer = call(&app, "/me", Some(value)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{value:?}");
        assert!(answer
            .challenge
            .expect("challenge")
            .contains(r#"error="invalid_request""#));
    }
}

#[tokio::test]
async fn two_authorization_headers_are_400_even_when_both_hold_a_valid_token() {
    let app = app(static_verifier(&[key(0)]));
    let valid = bearer(&key(0).sign(&claims()));
    let request = Request::get("/me")
        .header("authorization", valid.as_str())
        .header("authorization", valid.as_str())
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_request""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_claims() {
    let app = app(static_verifier(&[key(0)]));
    let answer = call(&app, "/me", Some(&bearer(&key(0).sign(&claims())))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body,
        r#"0190a5f1-0000-7000-8000-000000000001 ada@example.com ["editor"]"#
    );
    let lowercase = call(
        &app,
        "/me",
        Some(&format!("bearer {}", key(0).sign(&claims()))),
    )
    .await;
    assert_eq!(
        lowercase.status,
        StatusCode::OK,
        "the scheme is case-insensitive"
    );
}

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope_naming_it() {
    let app = app(static_verifier(&[key(0)]));
    let answer = call(&app, "/posts", Some(&bearer(&key(0).sign(&claims())))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let challenge = answer.challenge.expect("challenge");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.ends_with(r#"scope="posts:write""#), "{challenge}");

    let mut writer = claims();
    writer["scope"] = serde_json::json!("openid posts:write");
    assert_eq!(
        call(&app, "/posts", Some(&bearer(&key(0).sign(&writer))))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/posts", None).await.status,
        StatusCode::UNAUTHORIZED,
        "auth runs before the guard"
    );
}

#[tokio::test]
async fn a_weaker_sign_in_gets_401_insufficient_user_authentication_with_acr_values() {
    let app = app(static_verifier(&[key(0)]));
    // No acr at all, a password-only one, and a forged list in its place.
    for acr in [
        None,
        Some(serde_json::json!("pwd")),
        Some(serde_json::json!(["mfa"])),
    ] {
        let mut weak = claims();
        if let Some(acr) = &acr {
            weak["acr"] = acr.clone();
        }
        let answer = call(&app, "/payouts", Some(&bearer(&key(0).sign(&weak)))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{acr:?}");
        let challenge = answer.challenge.expect("challenge");
        let expected = if acr.as_ref().is_some_and(|a| a.is_array()) {
            // Not a string: the token is malformed, not merely weak.
            r#"error="invalid_token""#
        } else {
            r#"error="insufficient_user_authentication""#
        };
        assert!(challenge.contains(expected), "{acr:?}: {challenge}");
        if expected.contains("insufficient_user_authentication") {
            assert!(challenge.ends_with(r#"acr_values="mfa""#), "{challenge}");
        }
    }
    let mut strong = claims();
    strong["acr"] = serde_json::json!("mfa");
    strong["amr"] = serde_json::json!(["pwd", "otp"]);
    assert_eq!(
        call(&app, "/payouts", Some(&bearer(&key(0).sign(&strong))))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_missing_role_is_403() {
    let app = app(static_verifier(&[key(0)]));
    assert_eq!(
        call(&app, "/admin", Some(&bearer(&key(0).sign(&claims()))))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let mut admin = claims();
    admin["roles"] = serde_json::json!(["admin"]);
    assert_eq!(
        call(&app, "/admin", Some(&bearer(&key(0).sign(&admin))))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn optional_routes_accept_anonymous_but_never_downgrade_a_bad_token() {
    let app = app(static_verifier(&[key(0)]));
    let anonymous = call(&app, "/greet", None).await;
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (StatusCode::OK, "hello stranger")
    );
    let known = call(&app, "/greet", Some(&bearer(&key(0).sign(&claims())))).await;
    assert_eq!(known.body, "hello 0190a5f1-0000-7000-8000-000000000001");
    let forged = key(1).sign_with_header(key(0).header(), &claims());
    assert_eq!(
        call(&app, "/greet", Some(&bearer(&forged))).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn claims_that_do_not_fit_the_handlers_type_are_401() {
    let app = app(static_verifier(&[key(0)]));
    let answer = call(&app, "/tenant", Some(&bearer(&key(0).sign(&claims())))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer
        .challenge
        .expect("challenge")
        .contains("invalid_token"));
}

#[tokio::test]
async fn an_extractor_without_the_layer_fails_loudly_not_open() {
    let app = app(static_verifier(&[key(0)]));
    let answer = call(
        &app,
        "/forgot-the-layer",
        Some(&bearer(&key(0).sign(&claims()))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_verifier_with_no_keys_yet_answers_503() {
    let verifier = Verifier::from_key_set(KeySet::default(), validation());
    let answer = call(
        &app(verifier),
        "/me",
        Some(&bearer(&key(0).sign(&claims()))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
}

/// The layer is plain tower: it wraps any `Service<http::Request<_>>`, not only axum routers.
#[tokio::test]
async fn the_layer_protects_a_plain_tower_service() {
    use tower::{service_fn, Layer as _};
    let inner = service_fn(|request: Request<Body>| async move {
        let sub = request
            .extensions()
            .get::<jwt_verify::VerifiedToken>()
            .and_then(|t| t.claims().sub.clone())
            .unwrap_or_default();
        Ok::<_, std::convert::Infallible>(axum::http::Response::new(Body::from(sub)))
    });
    let service = JwtAuthLayer::new(static_verifier(&[key(0)])).layer(inner);
    let request = Request::get("/rpc")
        .header("authorization", bearer(&key(0).sign(&claims())))
        .body(Body::empty())
        .expect("request");
    let response = service.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let denied = service
        .oneshot(Request::get("/rpc").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
}

/// RFC 9728: a service publishes where its tokens come from, and every
/// Bearer challenge points there, so a client with nothing but the URL can
/// find the authorization server.
#[tokio::test]
async fn challenges_name_the_protected_resource_metadata_the_service_serves() {
    let resource =
        jwt_verify::ProtectedResource::new("https://blog.example.com", "https://auth.example.com")
            .expect("a resource")
            .scopes(["posts:write"]);
    let metadata = resource.metadata_url();
    let verifier = static_verifier(&[key(0)]);
    let app = Router::new()
        .route(
            "/posts",
            get(|| async { "posts" }).route_layer(
                require_scope("posts:write")
                    .realm("blog")
                    .resource_metadata(&metadata),
            ),
        )
        .layer(
            JwtAuthLayer::new(verifier)
                .realm("blog")
                .resource_metadata(metadata.clone()),
        )
        .merge(resource.router());

    let missing = call(&app, "/posts", None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.challenge.as_deref(),
        Some(
            r#"Bearer realm="blog", resource_metadata="https://blog.example.com/.well-known/oauth-protected-resource""#
        )
    );
    let bad = call(&app, "/posts", Some("Bearer not.a.token")).await;
    assert!(
        bad.challenge
            .as_deref()
            .is_some_and(|c| c.contains("error=\"invalid_token\"")
                && c.ends_with(&format!("resource_metadata=\"{metadata}\""))),
        "{:?}",
        bad.challenge
    );
    let token = key(0).sign(&claims());
    let narrow = call(&app, "/posts", Some(&bearer(&token))).await;
    assert_eq!(narrow.status, StatusCode::FORBIDDEN);
    assert!(narrow
        .challenge
        .as_deref()
        .is_some_and(|c| c.contains("scope=\"posts:write\"") && c.contains("resource_metadata=")));

    // The document is public: no token.
    let document = call(&app, "/.well-known/oauth-protected-resource", None).await;
    assert_eq!(document.status, StatusCode::OK);
    let document: serde_json::Value = serde_json::from_str(&document.body).expect("json");
    assert_eq!(document["resource"], "https://blog.example.com");
    assert_eq!(
        document["authorization_servers"][0],
        "https://auth.example.com"
    );
    assert_eq!(document["scopes_supported"][0], "posts:write");
}
