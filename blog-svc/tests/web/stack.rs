//! A real auth-server and a blog registered with it as a confidential OIDC
//! client, both on loopback port 0, each with its own database.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;
use signet_service::testing::Backend;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Stack {
    /// The gateway (nginx, browser mode) in front of an echo application,
    /// for [`Stack::spawn_gateway`].
    pub gateway: Option<signet_service::testing::Nginx>,
    pub auth: String,
    pub blog: String,
    pub auth_state: auth_server::app::state::AppState,
    pub blog_db: sea_orm::DatabaseConnection,
    _dirs: (TempDir, TempDir),
}

impl Stack {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[], false).await
    }

    /// The stack with the blog following auth-server's security-event feed
    /// (`AUTH_EVENTS_API_KEY`, an API key with `events:read`).
    pub async fn spawn_following(backend: Backend) -> Self {
        Self::spawn_with(backend, &[], true).await
    }

    /// The stack, and nginx's browser gateway (deploy/nginx's
    /// browser-gateway template) protecting an application that echoes the
    /// identity headers it receives.
    pub async fn spawn_gateway() -> Self {
        let port = signet_service::testing::free_port();
        let site = format!("http://127.0.0.1:{port}");
        let mut stack = Self::spawn_with(
            Backend::Sqlite,
            &[("GATEWAY_PROTECTED_ORIGINS", site)],
            false,
        )
        .await;
        let app = signet_service::testing::echo_identity_upstream().await;
        stack.gateway = Some(
            signet_service::testing::Nginx::start_at(
                "browser-gateway.conf.template",
                &[
                    (
                        "AUTH_UPSTREAM",
                        stack.auth.trim_start_matches("http://").to_owned(),
                    ),
                    ("APP_UPSTREAM", app.trim_start_matches("http://").to_owned()),
                ],
                port,
            )
            .await,
        );
        stack
    }

    /// The stack with the blog as an RFC 9728 protected resource: its URL
    /// is one of its audiences (and of auth-server's `JWT_AUDIENCE`), and
    /// auth-server takes client metadata documents from `localhost`.
    pub async fn spawn_as_resource(backend: Backend) -> Self {
        let port = signet_service::testing::free_port();
        let blog = format!("http://127.0.0.1:{port}");
        Self::spawn_full(
            backend,
            &[
                ("JWT_AUDIENCE", format!("signet,{blog}")),
                ("CLIENT_METADATA_ALLOW_LOCALHOST", "true".to_owned()),
            ],
            &[("AUTH_AUDIENCE", format!("signet,{blog}"))],
            false,
            port,
        )
        .await
    }

    pub async fn spawn_with(
        backend: Backend,
        auth_extra: &[(&'static str, String)],
        follow_events: bool,
    ) -> Self {
        Self::spawn_full(backend, auth_extra, &[], follow_events, 0).await
    }

    async fn spawn_full(
        backend: Backend,
        auth_extra: &[(&'static str, String)],
        blog_extra: &[(&'static str, String)],
        follow_events: bool,
        blog_port: u16,
    ) -> Self {
        let auth_dir = tempfile::tempdir().expect("dir");
        let mut auth_vars: HashMap<&str, String> = HashMap::from([
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
            (
                "DATABASE_URL",
                signet_service::testing::fresh_database(backend, &auth_dir, "auth").await,
            ),
            (
                "KEYS_DIR",
                auth_dir.path().join("keys").display().to_string(),
            ),
            ("ARGON2_MEMORY_KIB", "4096".to_owned()),
            // Mail as .eml files in the test's own folder.
            (
                "MAIL_OUTBOX_DIR",
                auth_dir.path().join("outbox").display().to_string(),
            ),
            // User tokens may write blog posts (blog-svc requires posts:write).
            (
                "USER_TOKEN_SCOPE",
                "openid profile email posts:write".to_owned(),
            ),
            ("ARGON2_ITERATIONS", "1".to_owned()),
        ]);
        auth_vars.extend(auth_extra.iter().cloned());
        let config = auth_server::config::Config::from_lookup(|n| auth_vars.get(n).cloned())
            .expect("auth config");
        let app = auth_server::Application::build(config)
            .await
            .expect("auth-server starts");
        let auth = format!("http://{}", app.local_addr());
        let auth_state = app.state().clone();
        tokio::spawn(app.run_until(std::future::pending()));

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", blog_port))
            .await
            .expect("bind");
        let blog = format!("http://{}", listener.local_addr().expect("addr"));
        let client = auth_server::testing::oidc_client(
            &auth_state,
            "Blog",
            &[&format!("{blog}/auth/callback")],
            &[&format!("{blog}/")],
        )
        .await
        .expect("client registered");
        // The blog hears of its sessions' ends (Back-Channel Logout).
        auth_server::clients::update(
            &auth_state.db,
            &client.client_id,
            auth_server::clients::ClientChange {
                backchannel_logout_uri: Some(format!("{blog}/auth/backchannel-logout")),
                ..auth_server::clients::ClientChange::default()
            },
            &auth_server::clients::ResourceCatalog::of(&auth_state.config),
            auth_server::clients::Actor {
                id: "test",
                ip: None,
            },
            auth_state.clock.now(),
        )
        .await
        .expect("back-channel logout URI");
        let blog_dir = tempfile::tempdir().expect("dir");
        let mut blog_vars: HashMap<&str, String> = HashMap::from([
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
            (
                "DATABASE_URL",
                signet_service::testing::fresh_database(backend, &blog_dir, "blog").await,
            ),
            ("AUTH_ISSUER", auth.clone()),
            ("OIDC_CLIENT_ID", client.client_id),
            ("OIDC_CLIENT_SECRET", client.secret.expect("confidential")),
        ]);
        blog_vars.extend(blog_extra.iter().cloned());
        if follow_events {
            let key = auth_server::testing::api_key(&auth_state, "blog-events", &["events:read"])
                .await
                .expect("events key");
            blog_vars.insert("AUTH_EVENTS_API_KEY", key.secret);
        }
        let config =
            blog_svc::config::Config::from_lookup(|n| blog_vars.get(n).cloned()).expect("config");
        let app = blog_svc::Application::build_on(config, listener)
            .await
            .expect("blog starts");
        let blog_db = app.state().db.clone();
        tokio::spawn(app.run_until(std::future::pending()));
        Self {
            gateway: None,
            auth,
            blog,
            auth_state,
            blog_db,
            _dirs: (auth_dir, blog_dir),
        }
    }

    /// Sign a user up through the auth server's REST API.
    pub async fn user(&self, email: &str, name: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/users", self.auth))
            .json(&json!({ "email": email, "password": PASSWORD, "display_name": name }))
            .send()
            .await
            .expect("signup");
        assert_eq!(response.status(), StatusCode::ACCEPTED, "signup of {email}");
    }

    pub fn blog_url(&self, path: &str) -> String {
        format!("{}{path}", self.blog)
    }
}
