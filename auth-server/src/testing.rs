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
