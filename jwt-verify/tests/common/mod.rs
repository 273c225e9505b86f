//! Test keys, token crafting, and a local JWKS server that counts its requests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_verify::{KeySet, Validation, Verifier};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

pub const ISSUER: &str = "https://auth.test";
pub const AUDIENCE: &str = "blog";

pub struct TestKey {
    pub private_pem: String,
    pub public_pem: String,
    pub kid: String,
    pub n: String,
    pub e: String,
}

impl TestKey {
    fn generate() -> Self {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("generate");
        let public = private.to_public_key();
        let n = public.n().to_bytes_be();
        let e = public.e().to_bytes_be();
        Self {
            private_pem: private
                .to_pkcs8_pem(LineEnding::LF)
                .expect("pem")
                .to_string(),
            public_pem: public.to_public_key_pem(LineEnding::LF).expect("pem"),
            kid: jwt_verify::rsa_thumbprint(&n, &e),
            n: URL_SAFE_NO_PAD.encode(n),
            e: URL_SAFE_NO_PAD.encode(e),
        }
    }

    pub fn jwk(&self) -> Value {
        json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e })
    }

    pub fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("at+jwt".into());
        header
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(self.header(), claims)
    }

    pub fn sign_with_header(&self, header: Header, claims: &Value) -> String {
        let key = EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).expect("key");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    /// Sign exactly these header and payload JSON texts (for headers jsonwebtoken cannot express).
    pub fn sign_raw(&self, header_json: &str, payload_json: &str) -> String {
        let key = EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).expect("key");
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header_json),
            URL_SAFE_NO_PAD.encode(payload_json)
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).expect("sign");
        format!("{input}.{signature}")
    }
}

/// Three RSA keys shared by every test in the process.
pub fn key(index: usize) -> &'static TestKey {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    &KEYS.get_or_init(|| (0..3).map(|_| TestKey::generate()).collect())[index]
}

pub fn jwks(keys: &[&TestKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() }).to_string()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Claims a Signet user token carries, valid for ten minutes.
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "0190a5f1-0000-7000-8000-000000000001",
        "aud": AUDIENCE,
        "exp": now() + 600,
        "iat": now(),
        "nbf": now(),
        "jti": "a4b1c2d3",
        "client_id": "signet",
        "scope": "openid posts:read",
        "roles": ["editor"],
        "email": "ada@example.com",
    })
}

pub fn validation() -> Validation {
    Validation::new(ISSUER).audience(AUDIENCE)
}

pub fn static_verifier(keys: &[&TestKey]) -> Verifier {
    Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks(keys)).expect("jwks"),
        validation(),
    )
}

struct ServerState {
    body: String,
    status: StatusCode,
    cache_control: Option<String>,
    delay: Duration,
    /// The `issuer` the discovery document claims (default: the server's base URL).
    discovery_issuer: Option<String>,
}

/// A JWKS endpoint on 127.0.0.1:0 whose answer the test controls, counting hits.
#[derive(Clone)]
pub struct JwksServer {
    pub url: String,
    pub base: String,
    hits: Arc<AtomicUsize>,
    state: Arc<Mutex<ServerState>>,
    shutdown: Arc<Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
}

async fn serve_jwks(State(server): State<JwksServer>) -> Response {
    server.hits.fetch_add(1, Ordering::SeqCst);
    let (body, status, cache_control, delay) = {
        let state = server.state.lock().expect("state");
        (
            state.body.clone(),
            state.status,
            state.cache_control.clone(),
            state.delay,
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(value) = cache_control {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, value.parse().expect("header"));
    }
    response
}

async fn serve_discovery(State(server): State<JwksServer>) -> Response {
    let issuer = server.state.lock().expect("state").discovery_issuer.clone();
    axum::Json(
        json!({ "issuer": issuer.unwrap_or_else(|| server.base.clone()), "jwks_uri": server.url }),
    )
    .into_response()
}

impl JwksServer {
    pub async fn start(keys: &[&TestKey]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = Self {
            url: format!("{base}/.well-known/jwks.json"),
            base,
            hits: Arc::new(AtomicUsize::new(0)),
            state: Arc::new(Mutex::new(ServerState {
                body: jwks(keys),
                status: StatusCode::OK,
                cache_control: Some("public, max-age=300".into()),
                delay: Duration::ZERO,
                discovery_issuer: None,
            })),
            shutdown: Arc::new(Mutex::new(Some(tx))),
        };
        let app = Router::new()
            .route("/.well-known/jwks.json", get(serve_jwks))
            .route("/.well-known/openid-configuration", get(serve_discovery))
            .with_state(server.clone());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
        });
        server
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn set_keys(&self, keys: &[&TestKey]) {
        self.set_body(jwks(keys));
    }

    pub fn set_body(&self, body: String) {
        let mut state = self.state.lock().expect("state");
        state.body = body;
        state.status = StatusCode::OK;
    }

    pub fn fail_with(&self, status: StatusCode) {
        self.state.lock().expect("state").status = status;
    }

    pub fn set_cache_control(&self, value: &str) {
        self.state.lock().expect("state").cache_control = Some(value.to_owned());
    }

    pub fn set_discovery_issuer(&self, issuer: &str) {
        self.state.lock().expect("state").discovery_issuer = Some(issuer.to_owned());
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().expect("state").delay = delay;
    }

    /// Stop accepting connections, as a crashed auth server would.
    pub async fn stop(&self) {
        if let Some(tx) = self.shutdown.lock().expect("shutdown").take() {
            let _ = tx.send(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
