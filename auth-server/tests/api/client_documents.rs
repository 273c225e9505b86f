//! Client ID metadata documents: a client with no registration names itself
//! by the URL of its document. The fetcher's rules are tested one by one
//! against a document server this test runs on loopback (which redirects,
//! lies about sizes, stalls and trickles), and the whole code flow is
//! driven with such a client: its name and host on the consent page, asked
//! every time, PKCE alone at the token endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_server::clients::documents::{ClientDocuments, DocumentError, MAX_DOCUMENT_BYTES};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::json;

use crate::authorize::{consent, get_authorize, query_of, request_params, sign_in, Rp, REDIRECT};
use crate::helpers::{backend_tests, json_body, set_cookie, value_of, Backend, TestApp, PASSWORD};

/// The document server: `http://localhost:<port>`, counting requests per path.
#[derive(Clone)]
struct Documents {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Documents {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

fn document(client_id: &str) -> serde_json::Value {
    json!({
        "client_id": client_id,
        "client_name": "Agent <b>Smith</b>",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid email profile admin:everything",
        "client_uri": "https://agent.example.com",
    })
}

fn json_response(value: &serde_json::Value, cache: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, cache),
        ],
        value.to_string(),
    )
        .into_response()
}

fn redirect(to: &str) -> Response {
    (AxumStatus::FOUND, [(header::LOCATION, to.to_owned())]).into_response()
}

async fn serve(State(docs): State<Documents>, Path(path): Path<String>) -> Response {
    let path = format!("/{path}");
    *docs
        .hits
        .lock()
        .expect("hits")
        .entry(path.clone())
        .or_default() += 1;
    let own = docs.url(&path);
    let port = docs.base.rsplit(':').next().unwrap_or_default().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["client.json"] => json_response(&document(&own), "public, max-age=60"),
        ["no-store.json"] => json_response(&document(&own), "no-store"),
        // /chain/<total>/<left>: `left` more redirects, then the document
        // of /chain/<total>/<total> (the URL the client is named by).
        ["chain", total, left] => match left.parse::<usize>().expect("number") {
            0 => json_response(
                &document(&docs.url(&format!("/chain/{total}/{total}"))),
                "no-store",
            ),
            n => redirect(&format!("/chain/{total}/{}", n - 1)),
        },
        ["to-ip-literal"] => redirect(&format!("https://127.0.0.1:{port}/client.json")),
        ["to-plain-http"] => redirect("http://agent.example.com/client.json"),
        ["to-metadata-service"] => redirect("https://169.254.169.254/latest/meta-data"),
        ["declared-big"] => json_response(
            &json!({ "client_id": own, "padding": "x".repeat(MAX_DOCUMENT_BYTES) }),
            "no-store",
        ),
        // No Content-Length: 64 kB in 1 kB chunks, the size a reader must count.
        ["streamed-big"] => Response::new(Body::from_stream(futures_util::stream::iter(
            (0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])),
        ))),
        ["stall"] => std::future::pending().await,
        // Headers at once, then a byte a second, forever.
        ["trickle"] => Response::new(Body::from_stream(futures_util::stream::unfold(
            (),
            |()| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Some((Ok::<_, std::io::Error>(vec![b' ']), ()))
            },
        ))),
        ["broken"] => AxumStatus::INTERNAL_SERVER_ERROR.into_response(),
        ["not-json"] => "<html>hello</html>".into_response(),
        ["mismatch.json"] => json_response(&document(&docs.url("/elsewhere.json")), "no-store"),
        ["secret.json"] => {
            let mut doc = document(&own);
            doc["client_secret"] = json!("shh");
            json_response(&doc, "no-store")
        }
        ["basic.json"] => {
            let mut doc = document(&own);
            doc["token_endpoint_auth_method"] = json!("client_secret_basic");
            json_response(&doc, "no-store")
        }
        ["remote-redirect.json"] => {
            let mut doc = document(&own);
            doc["redirect_uris"] = json!(["http://agent.example.com/cb"]);
            json_response(&doc, "no-store")
        }
        ["wildcard.json"] => {
            let mut doc = document(&own);
            doc["redirect_uris"] = json!(["https://*.example.com/cb"]);
            json_response(&doc, "no-store")
        }
        ["implicit.json"] => {
            let mut doc = document(&own);
            doc["response_types"] = json!(["token"]);
            json_response(&doc, "no-store")
        }
        ["keyed.json"] => {
            let mut doc = document(&own);
            doc["token_endpoint_auth_method"] = json!("private_key_jwt");
            doc["jwks"] = json!({ "keys": [client_jwk()] });
            json_response(&doc, "no-store")
        }
        ["remote-keys.json"] => {
            let mut doc = document(&own);
            doc["token_endpoint_auth_method"] = json!("private_key_jwt");
            doc["jwks_uri"] = json!(docs.url("/jwks.json"));
            json_response(&doc, "no-store")
        }
        ["jwks.json"] => json_response(&json!({ "keys": [client_jwk()] }), "max-age=60"),
        ["keyless.json"] => {
            let mut doc = document(&own);
            doc["token_endpoint_auth_method"] = json!("private_key_jwt");
            json_response(&doc, "no-store")
        }
        ["wrong-types.json"] => {
            let mut doc = document(&own);
            doc["redirect_uris"] = json!(REDIRECT);
            json_response(&doc, "no-store")
        }
        _ => AxumStatus::NOT_FOUND.into_response(),
    }
}

/// The client's own key pair (not the server's): its public half as a JWK.
fn client_jwk() -> serde_json::Value {
    let key = auth_server::keys::SigningKey::from_pem(crate::helpers::foreign_key_pem(), "client")
        .expect("key");
    serde_json::to_value(key.public_jwk()).expect("jwk")
}

/// A client assertion (RFC 7523) signed with `pem`, the key id of the
/// client's JWK.
fn assertion(client_id: &str, aud: &str, pem: &str, exp_in: i64, jti: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = client_jwk()["kid"].as_str().map(str::to_owned);
    crate::helpers::sign_with(
        pem,
        header,
        &json!({
            "iss": client_id,
            "sub": client_id,
            "aud": aud,
            "iat": now,
            "exp": now + exp_in,
            "jti": jti,
        }),
    )
}

async fn document_server() -> Documents {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let docs = Documents {
        base: format!("http://localhost:{port}"),
        hits: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/{*path}", get(serve))
        .with_state(docs.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    docs
}

fn fetcher(vars: &[(&str, &str)]) -> ClientDocuments {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let config =
        auth_server::config::Config::from_lookup(|name| vars.get(name).cloned()).expect("config");
    ClientDocuments::new(&config).expect("fetcher")
}

fn dev_fetcher() -> ClientDocuments {
    fetcher(&[
        ("CLIENT_METADATA_ALLOW_LOCALHOST", "true"),
        ("USER_TOKEN_SCOPE", "openid profile email posts:write"),
    ])
}

#[tokio::test]
async fn a_document_becomes_a_public_third_party_client_with_only_offered_scopes() {
    let docs = document_server().await;
    let id = docs.url("/client.json");
    let client = dev_fetcher()
        .resolve(&id, chrono::Utc::now())
        .await
        .expect("resolved");
    assert_eq!(client.client_id, id);
    assert_eq!(client.name, "Agent <b>Smith</b>");
    assert!(client.public && !client.first_party && client.secret_hash.is_none());
    assert!(client.has_redirect_uri(REDIRECT));
    // `admin:everything` is not a scope this server offers: dropped.
    assert_eq!(client.scope_list(), ["openid", "email", "profile"]);
    assert_eq!(client.resource_list(), ["signet"]);
}

#[tokio::test]
async fn each_fetch_rule_refuses_what_it_names() {
    let docs = document_server().await;
    let port = docs.base.rsplit(':').next().expect("port").to_owned();
    let dev = dev_fetcher();
    for (path, expected) in [
        ("/chain/4/4", DocumentError::TooManyRedirects),
        ("/to-ip-literal", DocumentError::AddressRefused),
        ("/to-plain-http", DocumentError::BadUrl),
        ("/to-metadata-service", DocumentError::AddressRefused),
        ("/declared-big", DocumentError::TooLarge),
        ("/streamed-big", DocumentError::TooLarge),
        ("/broken", DocumentError::Status),
        ("/missing.json", DocumentError::Status),
        ("/not-json", DocumentError::Invalid("")),
        ("/mismatch.json", DocumentError::Invalid("")),
        ("/secret.json", DocumentError::Invalid("")),
        ("/basic.json", DocumentError::Invalid("")),
        ("/remote-redirect.json", DocumentError::Invalid("")),
        ("/wildcard.json", DocumentError::Invalid("")),
        ("/implicit.json", DocumentError::Invalid("")),
        ("/wrong-types.json", DocumentError::Invalid("")),
    ] {
        let error = dev
            .resolve(&docs.url(path), chrono::Utc::now())
            .await
            .expect_err(path);
        assert_eq!(error.reason(), expected.reason(), "{path}: {error}");
    }
    // Nothing listening: unreachable, not a 500 and not a hang.
    let closed = format!(
        "http://localhost:{}/client.json",
        signet_service::testing::free_port()
    );
    assert_eq!(
        dev.resolve(&closed, chrono::Utc::now()).await.err(),
        Some(DocumentError::Unreachable)
    );
    // Three redirects are followed, each checked.
    assert!(dev
        .resolve(&docs.url("/chain/3/3"), chrono::Utc::now())
        .await
        .is_ok());
    // Without the development opt-in, `localhost` is refused on the URL,
    // and a name that resolves to loopback is refused after resolution.
    let strict = fetcher(&[]);
    assert_eq!(
        strict
            .resolve(&docs.url("/client.json"), chrono::Utc::now())
            .await
            .err(),
        Some(DocumentError::BadUrl)
    );
    assert_eq!(
        strict
            .resolve(
                &format!("https://localhost:{port}/client.json"),
                chrono::Utc::now()
            )
            .await
            .err(),
        Some(DocumentError::AddressRefused)
    );
    // The host list admits only what it names (localhost aside, when allowed).
    let listed = fetcher(&[("CLIENT_METADATA_HOSTS", "apps.example.com")]);
    assert_eq!(
        listed
            .resolve("https://agent.example.com/client.json", chrono::Utc::now())
            .await
            .err(),
        Some(DocumentError::HostNotAllowed)
    );
    let off = fetcher(&[("CLIENT_METADATA_DOCUMENTS", "off")]);
    assert_eq!(
        off.resolve(&docs.url("/client.json"), chrono::Utc::now())
            .await
            .err(),
        Some(DocumentError::Disabled)
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_stalls_or_trickles_is_given_five_seconds_in_all() {
    let docs = document_server().await;
    let dev = dev_fetcher();
    for path in ["/stall", "/trickle"] {
        let started = tokio::time::Instant::now();
        let error = dev
            .resolve(&docs.url(path), chrono::Utc::now())
            .await
            .expect_err(path);
        assert_eq!(error, DocumentError::Timeout, "{path}");
        // Virtual time: the runtime's clock is paused and moves only to the
        // next timer, so this is the fetcher's budget, not the machine's speed.
        assert_eq!(started.elapsed(), Duration::from_secs(5), "{path}");
    }
}

#[tokio::test(start_paused = true)]
async fn documents_are_cached_as_their_headers_say_and_failures_briefly() {
    let docs = document_server().await;
    let dev = dev_fetcher();
    let now = chrono::Utc::now();
    for _ in 0..3 {
        dev.resolve(&docs.url("/client.json"), now)
            .await
            .expect("ok");
    }
    assert_eq!(docs.hits("/client.json"), 1, "max-age=60: fetched once");
    tokio::time::advance(Duration::from_secs(61)).await;
    dev.resolve(&docs.url("/client.json"), now)
        .await
        .expect("ok");
    assert_eq!(docs.hits("/client.json"), 2, "fetched again after max-age");

    for _ in 0..3 {
        dev.resolve(&docs.url("/no-store.json"), now)
            .await
            .expect("ok");
    }
    assert_eq!(docs.hits("/no-store.json"), 3, "no-store: never cached");

    for _ in 0..3 {
        assert!(dev.resolve(&docs.url("/broken"), now).await.is_err());
    }
    assert_eq!(docs.hits("/broken"), 1, "a failure is remembered");
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(dev.resolve(&docs.url("/broken"), now).await.is_err());
    assert_eq!(docs.hits("/broken"), 2, "and tried again a minute later");
}

async fn a_client_known_by_its_document_signs_a_user_in_with_consent_each_time(backend: Backend) {
    let docs = document_server().await;
    let app = TestApp::spawn_with(backend, &[("CLIENT_METADATA_ALLOW_LOCALHOST", "true")]).await;
    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(discovery["client_id_metadata_document_supported"], true);
    let user = app.user("agent-user@example.com").await;
    let rp = Rp {
        id: docs.url("/client.json"),
        secret: String::new(),
    };

    // Sign-in leads to the consent page: the document's name (escaped) and
    // the host that vouches for it.
    let page = sign_in(&app, &rp, &user.email, PASSWORD).await;
    assert_eq!(page.status(), StatusCode::OK);
    let session = value_of(&set_cookie(page.headers(), "signet_session").expect("session"));
    let allowed = consent(&app, page, &session, &rp, "allow").await;
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
    let back = query_of(allowed.headers()[LOCATION].to_str().expect("location"));
    let code = back.get("code").expect("a code");

    // The token endpoint: the client names itself, PKCE proves it.
    let verifier = crate::authorize::VERIFIER;
    let tokens = app
        .oauth_token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
                ("client_id", &rp.id),
            ],
            None,
        )
        .await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens = json_body(tokens).await;
    let claims = crate::helpers::claims_of(tokens["access_token"].as_str().expect("at"));
    assert_eq!(claims["client_id"], rp.id.as_str());
    let id_claims = crate::helpers::claims_of(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id_claims["aud"], rp.id.as_str());

    // Its refresh token is its own; a secret it cannot have is refused.
    let refreshed = app
        .oauth_token(
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    tokens["refresh_token"].as_str().expect("rt"),
                ),
                ("client_id", &rp.id),
            ],
            None,
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    // RFC 6749 §2.3.1: the Basic user name is form-urlencoded.
    let encoded: String = url::form_urlencoded::byte_serialize(rp.id.as_bytes()).collect();
    let with_secret = app
        .oauth_token(
            &[("grant_type", "authorization_code"), ("code", code)],
            Some((&encoded, "sgcs_guess")),
        )
        .await;
    assert_eq!(with_secret.status(), StatusCode::UNAUTHORIZED);

    // Consent is not remembered: the next request asks again, and with
    // prompt=none it is consent_required.
    let again = get_authorize(&app, &request_params(&rp), Some(&session)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let html = again.text().await.expect("html");
    assert!(
        html.contains("Smith") && !html.contains("<b>Smith"),
        "the name is escaped"
    );
    assert!(html.contains("describes itself at localhost"), "{html}");
    let mut silent = request_params(&rp);
    silent.push(("prompt", "none".into()));
    let silent = get_authorize(&app, &silent, Some(&session)).await;
    assert_eq!(silent.status(), StatusCode::SEE_OTHER);
    let silent = query_of(silent.headers()[LOCATION].to_str().expect("location"));
    assert_eq!(silent["error"], "consent_required");
}

async fn a_bad_or_unreachable_document_is_shown_to_the_user_and_redirects_nowhere(
    backend: Backend,
) {
    let docs = document_server().await;
    let app = TestApp::spawn_with(backend, &[("CLIENT_METADATA_ALLOW_LOCALHOST", "true")]).await;
    for (path, says) in [
        ("/mismatch.json", "is not valid"),
        ("/broken", "could not be fetched"),
        ("/declared-big", "could not be fetched"),
    ] {
        let rp = Rp {
            id: docs.url(path),
            secret: String::new(),
        };
        let page = get_authorize(&app, &request_params(&rp), None).await;
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(page.headers().get(LOCATION).is_none());
        assert!(page.text().await.expect("html").contains(says), "{path}");
    }
    // A redirect URI the document does not list is not trusted either.
    let rp = Rp {
        id: docs.url("/client.json"),
        secret: String::new(),
    };
    let mut params = request_params(&rp);
    params.retain(|(k, _)| *k != "redirect_uri");
    params.push(("redirect_uri", "http://127.0.0.1:9999/steal".into()));
    let page = get_authorize(&app, &params, None).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    // Turned off, a URL is an unknown client, and discovery says so.
    let off = TestApp::spawn_with(backend, &[("CLIENT_METADATA_DOCUMENTS", "off")]).await;
    let discovery = json_body(off.get("/.well-known/openid-configuration").await).await;
    assert_eq!(discovery["client_id_metadata_document_supported"], false);
    let page = get_authorize(&off, &request_params(&rp), None).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("not registered here"));
    let token = off
        .oauth_token(
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("code_verifier", crate::authorize::VERIFIER),
                ("client_id", &rp.id),
            ],
            None,
        )
        .await;
    assert_eq!(token.status(), StatusCode::UNAUTHORIZED);
}

/// A browser's whole authorization request with `extra` parameters: the
/// sign-in page and the consent page submitted with their own hidden fields.
/// Where the server sends it back, and its session cookie.
async fn authorize_with(
    app: &TestApp,
    rp: &Rp,
    extra: &[(&'static str, &str)],
    email: &str,
) -> (HashMap<String, String>, String) {
    use signet_service::testing::hidden_inputs;
    let mut params = request_params(rp);
    params.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let page = get_authorize(app, &params, None).await;
    if page.status() == StatusCode::SEE_OTHER {
        let back = query_of(page.headers()[LOCATION].to_str().expect("location"));
        return (back, String::new());
    }
    let csrf = value_of(&set_cookie(page.headers(), "signet_csrf").expect("csrf"));
    let mut form = hidden_inputs(&page.text().await.expect("html"));
    form.push(("email".into(), email.into()));
    form.push(("password".into(), PASSWORD.into()));
    let consent_page = app
        .client
        .post(app.url("/oauth/authorize"))
        .header("cookie", &csrf)
        .header("sec-fetch-site", "same-origin")
        .header("origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(consent_page.status(), StatusCode::OK);
    let session = value_of(&set_cookie(consent_page.headers(), "signet_session").expect("session"));
    let csrf = value_of(&set_cookie(consent_page.headers(), "signet_csrf").expect("csrf"));
    let html = consent_page.text().await.expect("html");
    let mut form = hidden_inputs(&html);
    form.push(("decision".into(), "allow".into()));
    let allowed = app
        .client
        .post(app.url("/oauth/consent"))
        .header("cookie", format!("{csrf}; {session}"))
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("consent");
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER, "{html}");
    let back = query_of(allowed.headers()[LOCATION].to_str().expect("location"));
    (back, session)
}

async fn exchange(app: &TestApp, rp: &Rp, code: &str, resource: Option<&str>) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", crate::authorize::VERIFIER),
        ("client_id", rp.id.as_str()),
    ];
    if let Some(resource) = resource {
        form.push(("resource", resource));
    }
    app.oauth_token(&form, None).await
}

/// RFC 8707 in the authorization request: the resource is checked before
/// anyone signs in, shown on the consent page, kept with the code, and the
/// token request may only repeat it.
async fn the_resource_the_user_allowed_is_the_one_the_token_is_for(backend: Backend) {
    const BLOG: &str = "https://blog.example.com";
    let docs = document_server().await;
    let app = TestApp::spawn_with(
        backend,
        &[
            ("CLIENT_METADATA_ALLOW_LOCALHOST", "true"),
            ("JWT_AUDIENCE", "signet,https://blog.example.com"),
        ],
    )
    .await;
    let user = app.user("resource-user@example.com").await;
    let rp = Rp {
        id: docs.url("/client.json"),
        secret: String::new(),
    };
    // This server's own API, or something it does not issue for: refused
    // back to the client before any page.
    for resource in ["signet-account", "https://elsewhere.example.com"] {
        let (back, _) = authorize_with(&app, &rp, &[("resource", resource)], &user.email).await;
        assert_eq!(back["error"], "invalid_target", "{resource}");
    }
    let (back, _) = authorize_with(&app, &rp, &[("resource", BLOG)], &user.email).await;
    let tokens = exchange(&app, &rp, &back["code"], None).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let claims = crate::helpers::claims_of(
        json_body(tokens).await["access_token"]
            .as_str()
            .expect("at"),
    );
    assert_eq!(claims["aud"], BLOG);
    // Another resource at the token endpoint: invalid_target, code unspent.
    let (back, _) = authorize_with(&app, &rp, &[("resource", BLOG)], &user.email).await;
    let swapped = exchange(&app, &rp, &back["code"], Some("signet")).await;
    assert_eq!(swapped.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(swapped).await["error"], "invalid_target");
    let repeated = exchange(&app, &rp, &back["code"], Some(BLOG)).await;
    assert_eq!(repeated.status(), StatusCode::OK);
}

async fn exchange_with(app: &TestApp, code: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", crate::authorize::VERIFIER),
    ];
    form.extend_from_slice(extra);
    app.oauth_token(&form, None).await
}

/// `private_key_jwt`: a document client with keys (inline or at its
/// `jwks_uri`) proves itself with a signed assertion, used once; a wrong
/// key, audience, lifetime or a missing assertion is `invalid_client`.
async fn a_document_client_with_keys_authenticates_with_a_client_assertion(backend: Backend) {
    const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let docs = document_server().await;
    let app = TestApp::spawn_with(backend, &[("CLIENT_METADATA_ALLOW_LOCALHOST", "true")]).await;
    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert!(discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("methods")
        .contains(&json!("private_key_jwt")));
    let user = app.user("keyed@example.com").await;
    let client_key = crate::helpers::foreign_key_pem();
    let token_url = app.url("/oauth/token");
    for path in ["/keyed.json", "/remote-keys.json"] {
        let rp = Rp {
            id: docs.url(path),
            secret: String::new(),
        };
        // Refused: no assertion, the wrong key, audience or lifetime.
        for (case, extra) in [
            ("no assertion", vec![("client_id", rp.id.clone())]),
            (
                "another key",
                vec![
                    ("client_assertion_type", JWT_BEARER.to_owned()),
                    (
                        "client_assertion",
                        assertion(
                            &rp.id,
                            &token_url,
                            crate::helpers::test_key_pem(),
                            60,
                            "j-1",
                        ),
                    ),
                ],
            ),
            (
                "another audience",
                vec![
                    ("client_assertion_type", JWT_BEARER.to_owned()),
                    (
                        "client_assertion",
                        assertion(&rp.id, "https://elsewhere.example", client_key, 60, "j-2"),
                    ),
                ],
            ),
            (
                "an hour long",
                vec![
                    ("client_assertion_type", JWT_BEARER.to_owned()),
                    (
                        "client_assertion",
                        assertion(&rp.id, &token_url, client_key, 3600, "j-3"),
                    ),
                ],
            ),
            (
                "expired",
                vec![
                    ("client_assertion_type", JWT_BEARER.to_owned()),
                    (
                        "client_assertion",
                        assertion(&rp.id, &token_url, client_key, -60, "j-4"),
                    ),
                ],
            ),
        ] {
            let (back, _) = authorize_with(&app, &rp, &[], &user.email).await;
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let refused = exchange_with(&app, &back["code"], &extra).await;
            assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}: {case}");
        }
        // Accepted: signed by its key, for this issuer; once.
        let good = assertion(&rp.id, &app.address, client_key, 60, &format!("ok-{path}"));
        let (back, _) = authorize_with(&app, &rp, &[], &user.email).await;
        let with = [
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", good.as_str()),
        ];
        let tokens = exchange_with(&app, &back["code"], &with).await;
        assert_eq!(tokens.status(), StatusCode::OK, "{path}");
        let (back, _) = authorize_with(&app, &rp, &[], &user.email).await;
        let replayed = exchange_with(&app, &back["code"], &with).await;
        assert_eq!(
            replayed.status(),
            StatusCode::UNAUTHORIZED,
            "{path}: replayed"
        );
    }
    // A keyed method without keys is no valid document.
    let keyless = dev_fetcher()
        .resolve(&docs.url("/keyless.json"), chrono::Utc::now())
        .await;
    assert!(matches!(keyless, Err(DocumentError::Invalid(_))));
}

backend_tests!(
    a_document_client_with_keys_authenticates_with_a_client_assertion,
    the_resource_the_user_allowed_is_the_one_the_token_is_for,
    a_client_known_by_its_document_signs_a_user_in_with_consent_each_time,
    a_bad_or_unreachable_document_is_shown_to_the_user_and_redirects_nowhere,
);
