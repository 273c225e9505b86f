//! Access tokens: RFC 9068 JWTs signed RS256 with the active key.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;
use uuid::Uuid;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::accounts::entity as user;
use crate::keys::KeyRing;

#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    /// One resource per token (RFC 8707): a token for one service opens no other.
    aud: &'a str,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    client_id: &'a str,
    scope: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    roles: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    /// The session (refresh-token family) a user token belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    /// OIDC `name`: the user's display name, or the API key's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// Who a token is for.
pub struct Subject<'a> {
    pub sub: &'a str,
    /// The one resource the token is for.
    pub audience: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub roles: &'a [String],
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub sid: Option<&'a str>,
}

pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
}

pub use crate::keys::signer::SignError;

#[derive(Clone)]
pub struct TokenIssuer {
    pub issuer: String,
    pub access_ttl: Duration,
    /// `client_id` of tokens from password sign-in (`FIRST_PARTY_CLIENT_ID`).
    pub first_party_client_id: String,
    /// `scope` of user tokens (`USER_TOKEN_SCOPE`).
    pub user_scope: String,
}

impl TokenIssuer {
    /// An access token for `user` in `session`, answered with the session's
    /// current refresh token.
    pub fn issue_user_tokens(
        &self,
        keys: &KeyRing,
        user: &user::Model,
        session: Uuid,
        audience: &str,
        refresh_token: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<TokenResponse, SignError> {
        let roles = user.role_list();
        let sub = user.id.to_string();
        let sid = session.to_string();
        let issued = self.issue(
            keys,
            &Subject {
                sub: &sub,
                audience,
                client_id: &self.first_party_client_id,
                scope: &self.user_scope,
                roles: &roles,
                email: Some(&user.email),
                name: user.display_name.as_deref(),
                sid: Some(&sid),
            },
            self.access_ttl,
            now,
        )?;
        Ok(TokenResponse {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: self.user_scope.clone(),
            refresh_token: Some(refresh_token),
        })
    }

    pub fn issue(
        &self,
        keys: &KeyRing,
        subject: &Subject<'_>,
        ttl: Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<IssuedToken, SignError> {
        let now = now.timestamp();
        let ttl_secs = ttl.as_secs();
        let claims = AccessClaims {
            iss: &self.issuer,
            sub: subject.sub,
            aud: subject.audience,
            exp: now + ttl_secs as i64,
            iat: now,
            nbf: now,
            jti: Uuid::new_v4().to_string(),
            client_id: subject.client_id,
            scope: subject.scope,
            roles: subject.roles,
            email: subject.email,
            name: subject.name,
            sid: subject.sid,
        };
        let key = keys.active();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some(key.kid.clone());
        let access_token = key.signer.sign_jws(&header, &claims)?;
        Ok(IssuedToken {
            access_token,
            expires_in: ttl_secs,
        })
    }
}

/// RFC 6749 §5.1 token response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    /// Present for user sessions; rotates at every use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// RFC 6749 §5.1: token responses must not be cached.
pub fn token_response(body: TokenResponse) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
