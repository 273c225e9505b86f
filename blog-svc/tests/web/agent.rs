//! An MCP-style client, the way the MCP authorization specification has it
//! arrive: it knows the blog's URL and nothing else, no registration, no
//! configuration. From the blog's 401 it follows only public
//! specifications: the challenge's `resource_metadata` (RFC 9728), the
//! authorization server's metadata (RFC 8414), a client ID metadata document
//! it serves itself, the code flow with PKCE and `resource` (RFC 8707), and
//! then the call that was refused, now with a token.

use reqwest::header::{LOCATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_service::backend_tests;
use signet_service::testing::{hidden_inputs, Backend};

use crate::stack::{Stack, PASSWORD};

const CALLBACK: &str = "http://127.0.0.1:33418/callback";

/// The agent's client ID metadata document, on its own loopback server
/// (`http://localhost:<port>`, which auth-server admits in development).
async fn serve_client_document() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let client_id = format!("http://localhost:{port}/oauth/client.json");
    let document = json!({
        "client_id": client_id,
        "client_name": "Example Agent",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "scope": "openid posts:write",
    });
    let app = axum::Router::new().route(
        "/oauth/client.json",
        axum::routing::get(move || {
            let document = document.clone();
            async move { axum::Json(document) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    client_id
}

/// The one quoted parameter `name` of a challenge.
fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    Some(challenge[start..].split('"').next()?.to_owned())
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK, "{}", response.url());
    response.json().await.expect("json")
}

async fn an_agent_with_no_registration_goes_from_a_401_to_a_post(backend: Backend) {
    let stack = Stack::spawn_as_resource(backend).await;
    stack.user("owner@example.com", "Owner").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let post = json!({ "title": "Written by an agent", "body": "Through Signet." });

    // 1. The call, refused: the challenge names the resource metadata.
    let refused = http
        .post(stack.blog_url("/api/v1/posts"))
        .json(&post)
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()[WWW_AUTHENTICATE]
        .to_str()
        .expect("ascii")
        .to_owned();
    let metadata_url = challenge_param(&challenge, "resource_metadata").expect("named");

    // 2. The resource metadata: which server issues its tokens, what scopes.
    let resource = json_of(http.get(&metadata_url).send().await.expect("get")).await;
    assert_eq!(resource["resource"], stack.blog.as_str());
    let issuer = resource["authorization_servers"][0]
        .as_str()
        .expect("an authorization server")
        .to_owned();
    let scopes: Vec<String> = resource["scopes_supported"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();

    // 3. The authorization server's metadata (RFC 8414's path).
    let server = json_of(
        http.get(format!("{issuer}/.well-known/oauth-authorization-server"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(server["issuer"], issuer.as_str());
    assert_eq!(server["client_id_metadata_document_supported"], true);
    assert!(server["code_challenge_methods_supported"]
        .as_array()
        .expect("methods")
        .contains(&json!("S256")));
    let authorization_endpoint = server["authorization_endpoint"].as_str().expect("endpoint");
    let token_endpoint = server["token_endpoint"].as_str().expect("endpoint");

    // 4. No registration: the client_id is its metadata document's URL.
    let client_id = serve_client_document().await;
    let verifier = "agent-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let challenge = auth_server::oauth::codes::s256(verifier);
    let scope = format!("openid {}", scopes.join(" "));
    let mut authorize = url::Url::parse(authorization_endpoint).expect("url");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", &scope)
        .append_pair("state", "agent-state")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", resource["resource"].as_str().expect("resource"));

    // 5. The person at the browser signs in and allows the agent, whose
    //    page names it and the host its document came from.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let page = browser.get(authorize).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let mut form = hidden_inputs(&page.text().await.expect("html"));
    form.push(("email".into(), "owner@example.com".into()));
    form.push(("password".into(), PASSWORD.into()));
    let consent = browser
        .post(format!("{issuer}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(consent.status(), StatusCode::OK);
    let html = consent.text().await.expect("html");
    assert!(
        html.contains("Example Agent") && html.contains("localhost"),
        "{html}"
    );
    assert!(
        html.contains(&stack.blog),
        "the consent names the blog: {html}"
    );
    let mut form = hidden_inputs(&html);
    form.push(("decision".into(), "allow".into()));
    let back = browser
        .post(format!("{issuer}/oauth/consent"))
        .form(&form)
        .send()
        .await
        .expect("consent");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let back = url::Url::parse(back.headers()[LOCATION].to_str().expect("location")).expect("url");
    assert!(back.as_str().starts_with(CALLBACK), "{back}");
    let query: std::collections::HashMap<String, String> =
        back.query_pairs().into_owned().collect();
    assert_eq!(query["state"], "agent-state");
    assert_eq!(query["iss"], issuer.as_str());

    // 6. The code for a token, PKCE alone proving the client.
    let tokens = json_of(
        http.post(token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", query["code"].as_str()),
                ("redirect_uri", CALLBACK),
                ("code_verifier", verifier),
                ("client_id", client_id.as_str()),
                ("resource", stack.blog.as_str()),
            ])
            .send()
            .await
            .expect("token"),
    )
    .await;
    let access_token = tokens["access_token"].as_str().expect("access token");

    // 7. The call again, with the token: the blog verifies it locally.
    let created = http
        .post(stack.blog_url("/api/v1/posts"))
        .bearer_auth(access_token)
        .json(&post)
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), StatusCode::CREATED);
}

backend_tests!(an_agent_with_no_registration_goes_from_a_401_to_a_post);
