//! What other crates' tests need to bootstrap a running auth-server the way
//! an operator would (the CLI's `users create-admin` and `api-keys create`),
//! without reaching into its modules.

use crate::accounts::password::Password;
use crate::accounts::{create_admin, NewUser};
use crate::api_keys::{create_audited, Actor, NewApiKey};
use crate::app::state::AppState;

/// Create an administrator; its id.
pub async fn admin(state: &AppState, email: &str, password: &str) -> anyhow::Result<uuid::Uuid> {
    let user = create_admin(
        &state.db,
        &state.hasher,
        NewUser {
            email: email.to_owned(),
            password: Password::new(password),
            display_name: None,
            roles: vec!["admin".to_owned()],
        },
        state.clock.now(),
    )
    .await?;
    Ok(user.id)
}

/// A minted API key: its row id (for the admin API) and the whole key.
pub struct TestApiKey {
    pub id: uuid::Uuid,
    pub secret: String,
}

/// Mint an API key with `scopes` for the default audience.
pub async fn api_key(state: &AppState, name: &str, scopes: &[&str]) -> anyhow::Result<TestApiKey> {
    let minted = create_audited(
        &state.db,
        NewApiKey {
            name: name.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            audiences: Vec::new(),
            expires_at: None,
            created_by: None,
            dpop: Default::default(),
            exchange_audiences: Vec::new(),
            exchange_scopes: Vec::new(),
        },
        &state.config.audiences,
        Actor {
            id: "test",
            ip: None,
        },
        state.clock.now(),
    )
    .await?;
    Ok(TestApiKey {
        id: minted.model.id,
        secret: minted.secret,
    })
}

/// A registered OpenID Connect client: its id and, if confidential, its secret.
pub struct TestClient {
    pub client_id: String,
    pub secret: Option<String>,
}

/// Register a confidential first-party client (no consent page) as the CLI's
/// `clients create --first-party` does.
pub async fn oidc_client(
    state: &AppState,
    name: &str,
    redirect_uris: &[&str],
    post_logout_redirect_uris: &[&str],
) -> anyhow::Result<TestClient> {
    let registered = crate::clients::register(
        &state.db,
        crate::clients::NewClient {
            name: name.to_owned(),
            redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
            post_logout_redirect_uris: post_logout_redirect_uris
                .iter()
                .map(|u| (*u).to_owned())
                .collect(),
            scopes: [
                "openid",
                "profile",
                "email",
                "offline_access",
                "posts:write",
            ]
            .map(str::to_owned)
            .to_vec(),
            first_party: true,
            ..crate::clients::NewClient::default()
        },
        crate::clients::Actor {
            id: "test",
            ip: None,
        },
        state.clock.now(),
    )
    .await?;
    Ok(TestClient {
        client_id: registered.client.client_id,
        secret: registered.secret,
    })
}

/// The code an authenticator app holding `secret` (base32, as the security
/// page shows it) displays at `at`: what a person types.
///
/// # Panics
/// When `secret` is not base32.
pub fn totp_code(secret: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("a base32 secret");
    totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        String::new(),
    )
    .generate(at.timestamp().max(0) as u64)
}
