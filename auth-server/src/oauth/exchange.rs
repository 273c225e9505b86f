//! Token exchange (RFC 8693) for services acting for a user: a service
//! authenticated with its API key presents the access token a user sent it
//! (`subject_token`) and gets a token for another service, with a scope no
//! wider than the user's token and the key's allowance, an `act` claim
//! naming the service, the user's session (`sid`, so it is revoked with it)
//! and no later expiry than the user's token.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::{json, Value};

use crate::accounts::entity as user;
use crate::api_keys::entity as api_key;
use crate::oauth::OAuthError;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// What the exchanging service asked for.
pub struct ExchangeRequest<'a> {
    pub subject_token: Option<&'a str>,
    pub subject_token_type: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub scope: Option<&'a str>,
    /// RFC 8693 §2.1: an actor token is not supported (the API key is the actor).
    pub actor_token: Option<&'a str>,
    pub requested_token_type: Option<&'a str>,
}

/// What the new token says.
pub struct Exchanged {
    pub user: user::Model,
    pub audience: String,
    pub scope: String,
    pub session: Option<String>,
    /// `act` (RFC 8693 §4.1): the service, and whoever acted before it.
    pub act: Value,
    /// The new token may not outlive the user's.
    pub not_after: i64,
}

/// Why an exchange was refused, or the store failed.
pub enum ExchangeError {
    OAuth(OAuthError),
    Store(sea_orm::DbErr),
}

impl From<OAuthError> for ExchangeError {
    fn from(error: OAuthError) -> Self {
        Self::OAuth(error)
    }
}

impl From<sea_orm::DbErr> for ExchangeError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Store(error)
    }
}

impl From<ExchangeError> for crate::oauth::TokenEndpointError {
    fn from(error: ExchangeError) -> Self {
        match error {
            ExchangeError::OAuth(error) => error.into(),
            ExchangeError::Store(error) => error.into(),
        }
    }
}

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Decide an exchange for `key`: the rules, in order, each with its own
/// RFC 6749/8693 error.
pub async fn decide(
    db: &DatabaseConnection,
    verifier: &jwt_verify::Verifier,
    key: &api_key::Model,
    request: &ExchangeRequest<'_>,
    service_audiences: &[String],
    now: DateTime<Utc>,
) -> Result<Exchanged, ExchangeError> {
    let allowed_audiences = key.exchange_audience_list();
    if allowed_audiences.is_empty() {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "this API key may not exchange tokens",
        )
        .into());
    }
    let subject_token = request
        .subject_token
        .ok_or_else(|| OAuthError::invalid_request("subject_token is required"))?;
    if request.subject_token_type != Some(ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request(format!(
            "subject_token_type must be {ACCESS_TOKEN_TYPE}"
        ))
        .into());
    }
    if request.actor_token.is_some() {
        return Err(OAuthError::invalid_request(
            "actor_token is not supported: the authenticated API key is the actor",
        )
        .into());
    }
    if request
        .requested_token_type
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(
            OAuthError::invalid_request(format!("only {ACCESS_TOKEN_TYPE} can be issued")).into(),
        );
    }
    let audience = match request.audience {
        Some(audience) => audience.to_owned(),
        None => allowed_audiences[0].clone(),
    };
    if !allowed_audiences.contains(&audience) || !service_audiences.contains(&audience) {
        return Err(OAuthError::invalid_target().into());
    }
    // A token of this server, for one of its services (an account-API
    // token is never exchanged), verified like any other; bound tokens too:
    // the service verified the proof when the user presented it.
    let verified = verifier
        .inspect(subject_token)
        .map_err(|_| invalid_grant("the subject token is invalid or expired"))?;
    let claims = verified.claims();
    if !claims.aud.iter().any(|aud| service_audiences.contains(aud)) {
        return Err(invalid_grant("the subject token is not for a service").into());
    }
    if claims.is_service() {
        return Err(
            invalid_grant("a service token cannot be exchanged: it acts for no user").into(),
        );
    }
    // The user and the session behind it must still be live.
    let Some((user, _)) = crate::sessions::live_account(db, &verified, now).await? else {
        return Err(invalid_grant("the subject token's account or session has ended").into());
    };
    // Narrower, never wider: each scope must be in the user's token and in
    // the key's allowance; by default, every scope in both.
    let allowance = key.exchange_scope_list();
    let held: Vec<&str> = claims.scopes().collect();
    let grantable = |scope: &str| held.contains(&scope) && allowance.iter().any(|a| a == scope);
    let scope = match request.scope {
        None => held
            .iter()
            .copied()
            .filter(|scope| grantable(scope))
            .collect::<Vec<_>>()
            .join(" "),
        Some(requested) => {
            let requested: Vec<&str> = requested.split_ascii_whitespace().collect();
            if let Some(extra) = requested.iter().find(|scope| !grantable(scope)) {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    format!("scope {extra} is not in the subject token or not allowed to this key"),
                )
                .into());
            }
            requested.join(" ")
        }
    };
    let earlier: Option<Value> = verified
        .deserialize::<Value>()
        .ok()
        .and_then(|payload| payload.get("act").cloned());
    let mut act = json!({ "sub": key.client_id() });
    if let Some(earlier) = earlier {
        act["act"] = earlier;
    }
    Ok(Exchanged {
        user,
        audience,
        scope,
        session: claims.sid.clone(),
        act,
        not_after: claims.exp,
    })
}
