//! One blog per test, trusting one test signing key as "the auth server".

use std::collections::HashMap;
use std::sync::OnceLock;

use blog_svc::config::Config;
use blog_svc::Application;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_verify::{KeySet, Validation, Verifier};
use reqwest::{Response, StatusCode};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};
use tempfile::TempDir;

pub use signet_service::backend_tests;
pub use signet_service::testing::Backend;

pub const ISSUER: &str = "http://auth.test";

struct TestKey {
    private_pem: String,
    public_pem: String,
}

fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("generate");
        TestKey {
            private_pem: private
                .to_pkcs8_pem(LineEnding::LF)
                .expect("pem")
                .to_string(),
            public_pem: private
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("pem"),
        }
    })
}

pub struct TestApp {
    pub address: String,
    /// The separate metrics listener (`METRICS_ADDR`).
    pub metrics_address: String,
    pub client: reqwest::Client,
    pub db: sea_orm::DatabaseConnection,
    kid: String,
    _dir: TempDir,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Start with extra configuration variables over the test defaults.
    pub async fn spawn_with(backend: Backend, overrides: &[(&'static str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = signet_service::testing::fresh_database(backend, &dir, "blog").await;
        let mut vars: HashMap<&str, String> = [
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
            ("DATABASE_URL", database_url),
            ("AUTH_ISSUER", ISSUER.to_owned()),
        ]
        .into_iter()
        .collect();
        for (name, value) in overrides {
            vars.insert(name, (*value).to_owned());
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("config");
        let keys = KeySet::from_pem(&test_key().public_pem).expect("public key");
        let kid = keys.kids()[0].to_owned();
        let verifier = Verifier::from_key_set(
            keys,
            Validation::new(ISSUER)
                .audience("signet")
                .require_type("at+jwt"),
        );
        let app = Application::build_with_verifier(config, verifier)
            .await
            .expect("blog starts");
        let address = format!("http://{}", app.local_addr());
        let metrics_address = format!("http://{}", app.metrics_addr());
        let db = app.state().db.clone();
        tokio::spawn(app.run_until(std::future::pending()));
        Self {
            address,
            metrics_address,
            client: reqwest::Client::new(),
            db,
            kid,
            _dir: dir,
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_typed(claims, "at+jwt")
    }

    /// Signed with the trusted key, with this `typ` header.
    pub fn sign_typed(&self, claims: &Value, typ: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(typ.into());
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_rsa_pem(test_key().private_pem.as_bytes()).expect("key");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    pub fn base_claims(&self, sub: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({ "iss": ISSUER, "aud": "signet", "sub": sub, "exp": now + 600, "iat": now, "nbf": now,
                "jti": uuid::Uuid::new_v4().to_string(), "client_id": "signet", "scope": "openid profile email posts:write" })
    }

    /// A signed-in user's token.
    pub fn user_token(&self, sub: &str, name: &str, roles: &[&str]) -> String {
        let mut claims = self.base_claims(sub);
        claims["name"] = json!(name);
        claims["email"] = json!(format!("{sub}@example.com"));
        claims["roles"] = json!(roles);
        self.sign(&claims)
    }

    /// A service token (`sub` = `client_id`), as `client_credentials` issues.
    pub fn service_token(&self, client_id: &str, scope: &str) -> String {
        let mut claims = self.base_claims(client_id);
        claims["client_id"] = json!(client_id);
        claims["scope"] = json!(scope);
        claims["name"] = json!("scraper");
        self.sign(&claims)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
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

    pub async fn create_post(&self, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.post(self.url("/api/v1/posts")).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn patch_post(&self, token: &str, id: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(&format!("/api/v1/posts/{id}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_post(&self, token: &str, id: &str) -> Response {
        self.client
            .delete(self.url(&format!("/api/v1/posts/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Create a post and return its id.
    pub async fn post(&self, token: &str, title: &str) -> String {
        let response = self
            .create_post(
                Some(token),
                &json!({ "title": title, "body": format!("{title} body") }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        json_body(response).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}

pub async fn json_body(response: Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    json_body(response).await
}
