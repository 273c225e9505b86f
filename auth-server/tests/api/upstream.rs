//! Upstream OpenID providers: discovery against a real provider (a second
//! auth-server), and a provider that is down stopping nothing.

use std::time::Duration;

use auth_server::upstream::Discovery;
use reqwest::StatusCode;

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};

async fn discovery_of(app: &TestApp, name: &str) -> std::sync::Arc<Discovery> {
    for _ in 0..500 {
        let state = app
            .state
            .upstreams
            .get(name)
            .expect("configured")
            .discovery();
        if !matches!(*state, Discovery::Pending) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("discovery never finished");
}

async fn an_upstream_provider_is_discovered_and_one_that_is_down_stops_nothing(backend: Backend) {
    let upstream = TestApp::spawn(backend).await;
    let down = format!("http://127.0.0.1:{}", signet_service::testing::free_port());
    let app = TestApp::spawn_with(
        backend,
        &[
            ("UPSTREAM_PROVIDERS", "corp,gone"),
            ("UPSTREAM_CORP_ISSUER", upstream.address.as_str()),
            ("UPSTREAM_CORP_CLIENT_ID", "sgc_placeholder"),
            ("UPSTREAM_CORP_CLIENT_SECRET", "not used here"),
            ("UPSTREAM_CORP_DISPLAY_NAME", "Corp SSO"),
            ("UPSTREAM_GONE_ISSUER", down.as_str()),
            ("UPSTREAM_GONE_CLIENT_ID", "x"),
            ("UPSTREAM_GONE_CLIENT_SECRET", "y"),
        ],
    )
    .await;
    let Discovery::Ready(found) = &*discovery_of(&app, "corp").await else {
        panic!("corp is not ready");
    };
    assert_eq!(found.issuer, upstream.address);
    assert_eq!(
        found.token_endpoint,
        format!("{}/oauth/token", upstream.address)
    );
    assert_eq!(
        found.jwks_uri,
        format!("{}/.well-known/jwks.json", upstream.address)
    );
    assert!(found
        .code_challenge_methods_supported
        .iter()
        .any(|m| m == "S256"));
    let corp = app.state.upstreams.get("corp").expect("corp");
    assert_eq!(
        corp.redirect_uri(&app.state.config.issuer),
        format!("{}/oauth/upstream/corp/callback", app.address)
    );

    // The one that is down: unavailable, and password sign-in goes on.
    let gone = discovery_of(&app, "gone").await;
    assert!(matches!(*gone, Discovery::Failed(_)), "{gone:?}");
    assert!(gone.label().starts_with("unavailable"));
    app.user("still@example.com").await;
    assert_eq!(
        app.login("still@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn a_discovery_document_for_another_issuer_is_refused(backend: Backend) {
    // The upstream answers for its own issuer, not the one configured.
    let upstream = TestApp::spawn_with(backend, &[("JWT_ISSUER", "http://127.0.0.1:1")]).await;
    let http = auth_server::upstream::http_client().expect("client");
    let refused = auth_server::upstream::discover(&http, &upstream.address).await;
    assert_eq!(
        refused.err().as_deref(),
        Some("the discovery document names another issuer")
    );
}

backend_tests!(
    an_upstream_provider_is_discovered_and_one_that_is_down_stops_nothing,
    a_discovery_document_for_another_issuer_is_refused,
);
