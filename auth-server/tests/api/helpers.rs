//! One `TestApp` per test: the real app on 127.0.0.1:0 with its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database) and its own key.

use std::collections::HashMap;
use std::sync::OnceLock;

use auth_server::accounts::password::Password;
use auth_server::accounts::{create_admin, NewUser};
use auth_server::app::state::AppState;
use auth_server::config::Config;
use auth_server::Application;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Response, StatusCode};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{json, Value};
use tempfile::TempDir;

pub use signet_service::backend_tests;
pub use signet_service::testing::Backend;

pub const PASSWORD: &str = "correct horse battery staple";

/// One RSA key for the whole test process: generating one per test is slow.
pub fn test_key_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("generate RSA key");
        key.to_pkcs8_pem(LineEnding::LF)
            .expect("encode key")
            .to_string()
    })
}

/// Another key, for "signed by a stranger" tests.
pub fn foreign_key_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("generate RSA key");
        key.to_pkcs8_pem(LineEnding::LF)
            .expect("encode key")
            .to_string()
    })
}

pub async fn fresh_database(backend: Backend, dir: &TempDir) -> String {
    signet_service::testing::fresh_database(backend, dir, "auth").await
}

pub struct TestApp {
    pub address: String,
    /// The separate metrics listener (`METRICS_ADDR`).
    pub metrics_address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub database_url: String,
    _dir: TempDir,
}

pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Start with extra configuration variables layered over the test defaults.
    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database(backend, &dir).await;
        Self::spawn_in(dir, database_url, overrides).await
    }

    /// Start another server on an existing database (e.g. after changing parameters).
    pub async fn spawn_on(database_url: &str, overrides: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::spawn_in(dir, database_url.to_owned(), overrides).await
    }

    async fn spawn_in(dir: TempDir, database_url: String, overrides: &[(&str, &str)]) -> Self {
        let keys_dir = dir.path().join("keys");
        let outbox = dir.path().join("outbox");
        std::fs::create_dir_all(&keys_dir).expect("keys dir");
        std::fs::write(keys_dir.join("signet-test.pem"), test_key_pem()).expect("write key");
        let mut vars: HashMap<String, String> = [
            ("BIND_ADDR", "127.0.0.1:0"),
            ("METRICS_ADDR", "127.0.0.1:0"),
            ("KEYS_DIR", keys_dir.to_str().expect("utf-8 path")),
            ("DATABASE_URL", database_url.as_str()),
            ("MAIL_OUTBOX_DIR", outbox.to_str().expect("utf-8 path")),
            ("GENERATE_DEV_KEY", "false"),
            // Cheap Argon2 keeps the suite fast; the production parameters are unit-tested.
            ("ARGON2_MEMORY_KIB", "4096"),
            ("ARGON2_ITERATIONS", "1"),
            // Generous limits so ordinary tests never trip them; the rate-limit tests lower them.
            ("RATE_LIMIT_LOGIN_PER_IP", "10000/1m"),
            ("RATE_LIMIT_SIGNUP_PER_IP", "10000/1m"),
            ("RATE_LIMIT_TOKEN_PER_IP", "10000/1m"),
            ("RATE_LIMIT_REVOKE_PER_CLIENT", "10000/1m"),
            ("LOGIN_FAILURES_BEFORE_BACKOFF", "1000"),
            ("PASSWORD_HASH_QUEUE_PER_CLIENT", "1000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (name, value) in overrides {
            vars.insert((*name).to_owned(), (*value).to_owned());
        }
        let config =
            Config::from_lookup(|name| vars.get(name).cloned()).expect("test config is valid");
        let app = Application::build(config)
            .await
            .expect("application starts");
        let address = format!("http://{}", app.local_addr());
        let metrics_address = format!("http://{}", app.metrics_addr());
        let state = app.state().clone();
        tokio::spawn(app.run_until(std::future::pending()));
        Self {
            address,
            metrics_address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            state,
            database_url,

            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// How many rows `table` holds (for "nothing changed" assertions).
    pub async fn count_rows(&self, table: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        self.state
            .db
            .query_one_raw(Statement::from_string(
                self.state.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("query")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("count")
    }

    /// `GET /metrics` on the metrics listener.
    pub async fn metrics(&self) -> reqwest::Response {
        self.client
            .get(format!("{}/metrics", self.metrics_address))
            .send()
            .await
            .expect("metrics")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn signup(&self, body: &Value) -> Response {
        self.post_json("/api/v1/users", body).await
    }

    /// Log in for this server's own account API (`ACCOUNT_AUDIENCE`), which
    /// is what most tests here call.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        let audience = self.state.config.account_audience.clone();
        self.login_for(email, password, Some(&audience)).await
    }

    /// Log in for `audience` (`None`: the server's default, a service audience).
    pub async fn login_for(&self, email: &str, password: &str, audience: Option<&str>) -> Response {
        let mut body = json!({ "email": email, "password": password });
        if let Some(audience) = audience {
            body["audience"] = json!(audience);
        }
        self.post_json("/api/v1/auth/login", &body).await
    }

    /// An access token for the services (the default login audience), as a
    /// gateway or blog-svc would receive it.
    pub async fn service_audience_token(&self, email: &str) -> String {
        let response = self.login_for(email, PASSWORD, None).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        json_body(response).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    pub async fn login_basic(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .basic_auth(email, Some(password))
            .send()
            .await
            .expect("request")
    }

    pub async fn me(&self, token: &str) -> Response {
        self.get_with_token("/api/v1/users/me", token).await
    }

    pub async fn change_password(&self, token: &str, old: &str, new: &str) -> Response {
        self.client
            .patch(self.url("/api/v1/users/me/password"))
            .bearer_auth(token)
            .json(&json!({ "old_password": old, "new_password": new }))
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_me(&self, token: &str) -> Response {
        self.delete_me_with(token, PASSWORD).await
    }

    pub async fn delete_me_with(&self, token: &str, password: &str) -> Response {
        self.client
            .delete(self.url("/api/v1/users/me"))
            .bearer_auth(token)
            .json(&json!({ "password": password }))
            .send()
            .await
            .expect("request")
    }

    pub async fn list_users(&self, token: &str, query: &str) -> Response {
        self.get_with_token(&format!("/api/v1/users{query}"), token)
            .await
    }

    pub async fn patch_user(&self, token: &str, id: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_user(&self, token: &str, id: &str) -> Response {
        self.client
            .delete(self.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn create_api_key(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/api/v1/api-keys"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Create a key as `admin`; returns (row id, full key).
    pub async fn api_key(&self, admin: &TestUser, name: &str, scopes: &[&str]) -> (String, String) {
        let response = self
            .create_api_key(&admin.token, &json!({ "name": name, "scopes": scopes }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body = json_body(response).await;
        (
            body["id"].as_str().expect("id").to_owned(),
            body["api_key"].as_str().expect("api_key").to_owned(),
        )
    }

    /// `POST /oauth/token` with form parameters and optional HTTP Basic credentials.
    pub async fn oauth_token(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        let mut request = self.client.post(self.url("/oauth/token")).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.expect("request")
    }

    /// A service token (`client_credentials`) for the API key `key`.
    pub async fn service_token(&self, key: &str) -> String {
        let response = self
            .oauth_token(
                &[("grant_type", "client_credentials")],
                Some((&client_id_of(key), key)),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "client_credentials");
        json_body(response).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// `grant_type=refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.oauth_token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
            None,
        )
        .await
    }

    /// Log in and return the whole token response.
    pub async fn login_json(&self, email: &str) -> Value {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        json_body(response).await
    }

    pub async fn logout(&self, token: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/logout"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Audit events of one kind, newest first (as `admin`).
    pub async fn audit(&self, admin: &TestUser, event: &str) -> Vec<Value> {
        let page = json_body(
            self.get_with_token(&format!("/api/v1/audit?event={event}"), &admin.token)
                .await,
        )
        .await;
        page["items"].as_array().expect("items").clone()
    }

    /// Sign up and log in; returns the user's id and token.
    pub async fn user(&self, email: &str) -> TestUser {
        let response = self
            .signup(&json!({ "email": email, "password": PASSWORD }))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "signup of {email}");
        let token = self.token_for(email, PASSWORD).await;
        let id = claims_of(&token)["sub"].as_str().expect("sub").to_owned();
        TestUser {
            id,
            email: email.to_owned(),
            token,
        }
    }

    /// An admin, created the way the CLI does it (there is no API to become one).
    pub async fn admin(&self) -> TestUser {
        self.admin_named("root@example.com").await
    }

    pub async fn admin_named(&self, email: &str) -> TestUser {
        let user = create_admin(
            &self.state.db,
            &self.state.hasher,
            NewUser {
                email: email.into(),
                password: Password::new(PASSWORD),
                display_name: Some("Root".into()),
                roles: vec!["admin".into()],
            },
            self.state.clock.now(),
        )
        .await
        .expect("create admin");
        TestUser {
            id: user.id.to_string(),
            email: email.into(),
            token: self.token_for(email, PASSWORD).await,
        }
    }

    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        json_body(response).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Sign arbitrary claims with the server's own key (for crafted-token tests).
    pub fn sign(&self, header: Header, claims: &Value) -> String {
        sign_with(test_key_pem(), header, claims)
    }

    /// Claims exactly like the server's, for `sub`, valid now.
    pub fn valid_claims(&self, sub: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.state.config.issuer,
            "sub": sub,
            "aud": self.state.config.audiences[0],
            "exp": now + 600,
            "iat": now,
            "nbf": now,
            "jti": uuid::Uuid::new_v4().to_string(),
            "client_id": "signet",
            "scope": "openid",
        })
    }

    pub fn at_jwt_header(&self) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.state.keys.ring().active().kid.clone());
        header
    }
}

/// One JWS segment (0: header, 1: payload) as JSON, unverified.
pub fn decode_segment(token: &str, index: usize) -> Value {
    use base64::Engine as _;
    let segment = token.split('.').nth(index).expect("segment");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(segment)
            .expect("base64url"),
    )
    .expect("json")
}

/// A token's claims, unverified.
pub fn claims_of(token: &str) -> Value {
    decode_segment(token, 1)
}

/// The client id of an API key, as jwt-verify's client derives it.
pub fn client_id_of(key: &str) -> String {
    jwt_verify::api_key_client_id(key)
        .expect("well-formed API key")
        .to_owned()
}

pub fn sign_with(pem: &str, header: Header, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// An RFC 6749 §5.2 error answer: its status and `error` code.
pub async fn error_of(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body = json_body(response).await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

pub async fn json_body(response: Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON: {text}"))
}

/// Assert an RFC 9457 problem with this status; returns the body.
pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body = json_body(response).await;
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().is_some() && body["title"].as_str().is_some());
    body
}

/// `name=value` of the cookie `name` set by `headers`, and its attributes.
pub fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The `name=value` pair of a `Set-Cookie` value.
pub fn value_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().expect("pair").to_owned()
}

/// The CSRF token a page's form carries.
pub fn csrf_field(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("csrf field")
        + 25;
    html[at..].split('"').next().expect("value").to_owned()
}
