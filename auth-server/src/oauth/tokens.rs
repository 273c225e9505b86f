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
    /// Whether the user confirmed `email` (user tokens only).
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    /// The session (refresh-token family) a user token belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    /// OIDC `name`: the user's display name, or the API key's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    /// RFC 9449 §6: the DPoP key the token is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
    /// RFC 8693 §4.1: the service acting for `sub` (exchanged tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<&'a serde_json::Value>,
    /// RFC 8176: how the user signed in (a user's token only), e.g.
    /// `["pwd"]`, `["pwd", "otp", "mfa"]`, `["fed"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<&'a [&'a str]>,
    /// The class those methods add up to (a user's token only): `pwd`,
    /// `fed` or `mfa`.
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'static str>,
    /// The upstream provider's issuer (a sign-in through it).
    #[serde(skip_serializing_if = "Option::is_none")]
    idp: Option<&'a str>,
}

#[derive(Serialize)]
struct Confirmation<'a> {
    jkt: &'a str,
}

pub use crate::sessions::methods::Methods;

/// `token_type` of a token bound to `jkt` (or a bearer token).
pub fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
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
    /// Whether the user confirmed `email` (`None` for service tokens).
    pub email_verified: Option<bool>,
    pub name: Option<&'a str>,
    pub sid: Option<&'a str>,
    /// The DPoP key thumbprint to bind the token to.
    pub jkt: Option<&'a str>,
    /// The acting party (token exchange).
    pub act: Option<&'a serde_json::Value>,
    /// The upstream issuer the user's sign-in came through.
    pub idp: Option<&'a str>,
    /// How the user signed in (`None`: not a user's token).
    pub methods: Option<&'a Methods>,
}

pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
}

pub use crate::keys::signer::SignError;

/// The `events` member of a logout token (Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

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
    /// current refresh token (password login and the first-party client).
    pub fn issue_user_tokens(
        &self,
        keys: &KeyRing,
        user: &user::Model,
        session: &crate::sessions::entity::Model,
        audience: &str,
        refresh_token: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<TokenResponse, SignError> {
        let methods = &session.methods();
        self.issue_for_client(
            keys,
            &UserGrant {
                user,
                session: session.id,
                audience,
                client_id: &self.first_party_client_id,
                scope: &self.user_scope,
                jkt: None,
                idp: None,
                methods,
            },
            Some(refresh_token),
            now,
        )
    }

    /// An access token for `grant`, issued to its client.
    pub fn issue_for_client(
        &self,
        keys: &KeyRing,
        grant: &UserGrant<'_>,
        refresh_token: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<TokenResponse, SignError> {
        let roles = grant.user.role_list();
        let sub = grant.user.id.to_string();
        let sid = grant.session.to_string();
        let issued = self.issue(
            keys,
            &Subject {
                sub: &sub,
                audience: grant.audience,
                client_id: grant.client_id,
                scope: grant.scope,
                roles: &roles,
                email: Some(&grant.user.email),
                email_verified: Some(grant.user.email_verified),
                name: grant.user.display_name.as_deref(),
                sid: Some(&sid),
                jkt: grant.jkt,
                act: None,
                idp: grant.idp,
                methods: Some(grant.methods),
            },
            self.access_ttl,
            now,
        )?;
        Ok(TokenResponse {
            access_token: issued.access_token,
            token_type: token_type(grant.jkt),
            expires_in: issued.expires_in,
            scope: grant.scope.to_owned(),
            refresh_token,
            id_token: None,
            issued_token_type: None,
        })
    }

    /// An OpenID Connect ID token (Core §2, §3.1.3.6) for `user`, issued to
    /// `client_id` alongside `access_token` (whose `at_hash` it carries).
    /// `typ` is `JWT`, not `at+jwt`: no resource server accepts it as an
    /// access token.
    pub fn issue_id_token(
        &self,
        keys: &KeyRing,
        id: &IdTokenFor<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, SignError> {
        let iat = now.timestamp();
        let claims = IdClaims {
            iss: &self.issuer,
            sub: &id.user.id.to_string(),
            aud: id.client_id,
            exp: iat + self.access_ttl.as_secs() as i64,
            iat,
            auth_time: id.auth_time.timestamp(),
            nonce: id.nonce,
            at_hash: at_hash(id.access_token),
            sid: &id.session.to_string(),
            amr: id.methods.values(),
            acr: id.methods.acr(),
            idp: id.idp,
            email: id.scope_has("email").then_some(id.user.email.as_str()),
            email_verified: id.scope_has("email").then_some(id.user.email_verified),
            name: id
                .scope_has("profile")
                .then_some(id.user.display_name.as_deref())
                .flatten(),
        };
        let key = keys.active();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(key.kid.clone());
        key.signer.sign_jws(&header, &claims)
    }

    /// OpenID Connect Back-Channel Logout 1.0 §2.4: the logout token of
    /// session `sid` of `sub` for client `client_id`: `typ` `logout+jwt`,
    /// the back-channel logout event, a `jti`, two minutes of life, and
    /// never a `nonce`.
    pub fn issue_logout_token(
        &self,
        keys: &KeyRing,
        client_id: &str,
        sub: &str,
        sid: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, SignError> {
        let iat = now.timestamp();
        let claims = serde_json::json!({
            "iss": self.issuer,
            "sub": sub,
            "aud": client_id,
            "iat": iat,
            "exp": iat + 120,
            "jti": Uuid::new_v4().to_string(),
            "sid": sid,
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        });
        let key = keys.active();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("logout+jwt".to_owned());
        header.kid = Some(key.kid.clone());
        key.signer.sign_jws(&header, &claims)
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
            email_verified: subject.email_verified,
            name: subject.name,
            sid: subject.sid,
            cnf: subject.jkt.map(|jkt| Confirmation { jkt }),
            act: subject.act,
            amr: subject.methods.map(Methods::values),
            acr: subject.methods.map(Methods::acr),
            idp: subject.idp,
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

/// A user's access token for one client.
pub struct UserGrant<'a> {
    pub user: &'a user::Model,
    pub session: Uuid,
    /// The one resource the token is for.
    pub audience: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    /// The DPoP key thumbprint to bind the access token to.
    pub jkt: Option<&'a str>,
    /// The upstream issuer the session's sign-in came through.
    pub idp: Option<&'a str>,
    /// How the session's sign-in was authenticated.
    pub methods: &'a Methods,
}

/// What an ID token is about.
pub struct IdTokenFor<'a> {
    pub user: &'a user::Model,
    pub client_id: &'a str,
    pub session: Uuid,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: chrono::DateTime<chrono::Utc>,
    /// The access token issued with it.
    pub access_token: &'a str,
    /// The upstream issuer the sign-in came through (`idp`).
    pub idp: Option<&'a str>,
    /// How the sign-in was authenticated (`amr`, `acr`).
    pub methods: &'a Methods,
}

impl IdTokenFor<'_> {
    fn scope_has(&self, wanted: &str) -> bool {
        self.scope.split_ascii_whitespace().any(|s| s == wanted)
    }
}

#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    sid: &'a str,
    amr: &'a [&'a str],
    acr: &'static str,
    /// The upstream provider's issuer, for a sign-in through it.
    #[serde(skip_serializing_if = "Option::is_none")]
    idp: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// OpenID Connect Core §3.1.3.6: base64url of the left half of SHA-256 of
/// the access token (RS256 hashes with SHA-256).
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
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
    /// OpenID Connect: present when the `openid` scope was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693 §2.2.1: what a token exchange issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

/// RFC 6749 §5.1: token responses must not be cached.
pub fn token_response(body: TokenResponse) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
