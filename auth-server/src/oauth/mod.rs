//! OAuth 2.0 protocol pieces shared by the token, revocation and
//! introspection endpoints: RFC 6749 §5.2 errors, parameters (each at most
//! once, form or JSON), RFC 8707 targets, client authentication, HTTP Basic.

pub mod authorize;
pub mod code_entity;
pub mod codes;
pub mod consent;
pub mod consent_entity;
pub mod dpop;
pub mod dpop_entity;
pub mod exchange;
pub mod forward;
pub(crate) mod gateway;
pub mod par;
pub mod par_entity;
pub(crate) mod routes;
pub mod tokens;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::headers::authorization::Basic;
use axum_extra::headers::{Authorization, Header as _};
use serde_json::json;

use crate::error::ApiError;

/// The grants the token endpoint dispatches. Discovery lists exactly these
/// (`Grant::ALL`), so the metadata cannot drift from the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    TokenExchange,
    /// RFC 8628: a device polling for its person's approval.
    DeviceCode,
}

impl Grant {
    pub const ALL: [Grant; 5] = [
        Grant::AuthorizationCode,
        Grant::ClientCredentials,
        Grant::RefreshToken,
        Grant::TokenExchange,
        Grant::DeviceCode,
    ];

    /// The `grant_type` value (RFC 6749 §4, RFC 8693 §2.1).
    pub const fn name(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken => "refresh_token",
            Grant::TokenExchange => exchange::GRANT_TYPE,
            Grant::DeviceCode => crate::device::GRANT_TYPE,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant| grant.name() == name)
    }
}

/// An RFC 6749 §5.2 error.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the body for the OpenAPI document.
pub(crate) struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_target`, `invalid_dpop_proof`;
    /// the device grant's `authorization_pending`, `slow_down`, `access_denied`, `expired_token`.
    error: String,
    error_description: Option<String>,
}

/// What an `Authorization` header holds, as far as HTTP Basic is concerned.
pub enum BasicPair {
    /// `Basic base64(user:password)`, decoded (RFC 7617).
    Credentials(String, String),
    /// Another scheme (or none).
    OtherScheme,
    /// `Basic`, but not valid base64 of UTF-8 `user:password`.
    Malformed,
}

/// Decode `Authorization: Basic …` for the login and token endpoints alike
/// (the `headers` crate decodes; only the scheme is looked at here, so that
/// another scheme is told apart from a broken Basic value).
pub fn basic_pair(value: &HeaderValue) -> BasicPair {
    let is_basic = value
        .as_bytes()
        .get(..6)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"basic "));
    if !is_basic {
        return BasicPair::OtherScheme;
    }
    match Authorization::<Basic>::decode(&mut std::iter::once(value)) {
        Ok(Authorization(basic)) => {
            BasicPair::Credentials(basic.username().to_owned(), basic.password().to_owned())
        }
        Err(_) => BasicPair::Malformed,
    }
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// RFC 8707 §2: the requested resource is unknown or not allowed to the client.
    pub fn invalid_target() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            "the requested audience is not available to this client",
        )
    }

    pub fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.code, "error_description": self.description })),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(crate::app::errors::BASIC_CHALLENGE),
            );
        }
        response
    }
}

/// Server-side failures (database down, signing error) keep their problem+json
/// answer and their single log line.
pub enum TokenEndpointError {
    OAuth(OAuthError),
    Api(ApiError),
}

impl From<OAuthError> for TokenEndpointError {
    fn from(error: OAuthError) -> Self {
        Self::OAuth(error)
    }
}

impl From<crate::app::rate_limit::Refused> for TokenEndpointError {
    fn from(refused: crate::app::rate_limit::Refused) -> Self {
        Self::Api(refused.into())
    }
}

impl From<sea_orm::DbErr> for TokenEndpointError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Api(error.into())
    }
}

impl From<ApiError> for TokenEndpointError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl IntoResponse for TokenEndpointError {
    fn into_response(self) -> Response {
        match self {
            Self::OAuth(error) => error.into_response(),
            Self::Api(error) => error.into_response(),
        }
    }
}

/// A back-channel request's parameters once its address has a token of
/// `bucket` (the token, PAR and device endpoints share `token_per_ip`).
pub async fn admitted_parameters(
    state: &crate::app::state::AppState,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, String)>, TokenEndpointError> {
    state
        .limiters
        .token_per_ip
        .admit_ip(ip, &state.metrics, state.clock.now())
        .await?;
    Ok(parameters(headers, body)?)
}

/// Parameters, each at most once (RFC 6749 §3.2), from a form or a JSON object.
pub fn parameters(headers: &HeaderMap, body: &Bytes) -> Result<Vec<(String, String)>, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let pairs: Vec<(String, String)> = match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            url::form_urlencoded::parse(body).into_owned().collect()
        }
        "application/json" => {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(body)
                    .map_err(|_| OAuthError::invalid_request("body is not a JSON object"))?;
            object
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => Ok((k, s)),
                    _ => Err(OAuthError::invalid_request(format!(
                        "parameter {k} must be a string"
                    ))),
                })
                .collect::<Result<_, _>>()?
        }
        _ => {
            return Err(OAuthError::invalid_request(
                "use Content-Type: application/x-www-form-urlencoded (or application/json)",
            ))
        }
    };
    // Linear: a 64 KiB form of distinct names is one pass, not n² compares.
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    if let Some((name, _)) = pairs.iter().find(|(name, _)| !seen.insert(name.as_str())) {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} is repeated"
        )));
    }
    Ok(pairs)
}

/// The one resource a token is asked for: RFC 8707 `resource`, or `audience`
/// (the name many clients use); both at once must agree. Matched exactly
/// against configured audience names.
pub fn requested_audience(pairs: &[(String, String)]) -> Result<Option<&str>, OAuthError> {
    match (param(pairs, "resource"), param(pairs, "audience")) {
        (Some(a), Some(b)) if a != b => Err(OAuthError::invalid_request(
            "resource and audience name different targets",
        )),
        (resource, audience) => Ok(resource.or(audience)),
    }
}

/// Whether a user token for `audience` may go to `client` (`None`: the
/// first-party login). auth-server's own account and admin API
/// (`ACCOUNT_AUDIENCE`) is for the first-party login and first-party
/// clients only: a third-party client the user consented to for "who you
/// are" must never hold a token that lists users or creates API keys.
///
/// A registered client may ask only for the resources it was registered
/// with (`clients create --resource`); with none listed, a first-party
/// client may ask for every configured audience and a third-party one for
/// none: its access tokens are for userinfo alone, so consenting to "who
/// you are" never lets an application write in the user's name elsewhere.
pub fn client_may_request(
    config: &crate::config::Config,
    client: Option<&crate::clients::entity::Model>,
    audience: &str,
) -> bool {
    let Some(client) = client else {
        return config.user_may_request(audience);
    };
    if audience == config.account_audience {
        return client.first_party;
    }
    if audience == config.userinfo_audience() {
        return true;
    }
    let listed = client.resource_list();
    config.audiences.iter().any(|a| a == audience)
        && (listed.iter().any(|r| r == audience) || (listed.is_empty() && client.first_party))
}

/// The audience of a registered client's user tokens when it names none:
/// its first listed resource, else (first-party) `LOGIN_DEFAULT_AUDIENCE`,
/// else (third-party) the userinfo audience.
pub fn client_default_audience(
    config: &crate::config::Config,
    client: &crate::clients::entity::Model,
) -> String {
    client
        .resource_list()
        .into_iter()
        .find(|resource| client_may_request(config, Some(client), resource))
        .unwrap_or_else(|| {
            if client.first_party {
                config.login_audience.clone()
            } else {
                config.userinfo_audience()
            }
        })
}

pub use crate::clients::credential::Credential;

/// RFC 7523 §2.2's `client_assertion_type`.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `sub` of a JWT, unverified: which client an assertion says it is
/// (verified afterwards with that client's keys).
fn unverified_subject(jwt: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&json).ok()?;
    claims["sub"]
        .as_str()
        .filter(|sub| sub.len() <= 255)
        .map(str::to_owned)
}

/// A registered client's credentials (RFC 6749 §2.3.1, OIDC Core §9):
/// HTTP Basic, or `client_id` and `client_secret` in the body, or a
/// client assertion (`private_key_jwt`), or a public client's `client_id`
/// alone. Using two methods at once is an error.
pub fn registered_client_credentials(
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<(String, Credential), OAuthError> {
    let assertion_type = param(pairs, "client_assertion_type");
    let assertion = param(pairs, "client_assertion");
    if assertion_type.is_some() || assertion.is_some() {
        if headers.contains_key(header::AUTHORIZATION) || param(pairs, "client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one way of client authentication, not two",
            ));
        }
        if assertion_type != Some(JWT_BEARER_ASSERTION) {
            return Err(OAuthError::invalid_request(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        let assertion =
            assertion.ok_or_else(|| OAuthError::invalid_request("client_assertion is required"))?;
        // RFC 7523 §3: the client is the assertion's subject.
        let subject = unverified_subject(assertion).ok_or_else(OAuthError::invalid_client)?;
        if param(pairs, "client_id").is_some_and(|id| id != subject) {
            return Err(OAuthError::invalid_request(
                "client_id differs from the client assertion's subject",
            ));
        }
        return Ok((subject, Credential::Assertion(assertion.to_owned())));
    }
    if headers.contains_key(header::AUTHORIZATION) {
        // A body client_id that repeats the Basic one is tolerated (several
        // libraries send both); a second secret or another id is not.
        let body_id = param(pairs, "client_id").map(str::to_owned);
        let body_only: Vec<(String, String)> = pairs
            .iter()
            .filter(|(name, _)| name != "client_id")
            .cloned()
            .collect();
        let (id, secret) = client_credentials(headers, &body_only)?;
        if body_id.is_some_and(|body_id| body_id != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the authenticated client",
            ));
        }
        return Ok((id, Credential::Secret(secret)));
    }
    let id = param(pairs, "client_id").ok_or_else(OAuthError::invalid_client)?;
    Ok((
        id.to_owned(),
        match param(pairs, "client_secret") {
            Some(secret) => Credential::Secret(secret.to_owned()),
            None => Credential::None,
        },
    ))
}

/// A back-channel request as [`calling_client`] checks it.
pub struct Caller<'a> {
    pub headers: &'a HeaderMap,
    pub pairs: &'a [(String, String)],
    /// The endpoint's path (`/oauth/token`): a client assertion's `aud` may
    /// name it, and the log line does.
    pub endpoint: &'static str,
    /// The grant the client must be allowed, if any (`unauthorized_client`).
    pub grant: Option<&'a str>,
}

/// Who a back-channel request is from: its client, authenticated by the
/// method its registration or document allows, or `invalid_client` (the
/// reason logged, never answered).
pub async fn calling_client(
    state: &crate::app::state::AppState,
    caller: Caller<'_>,
) -> Result<crate::clients::entity::Model, TokenEndpointError> {
    let (client_id, credential) = registered_client_credentials(caller.headers, caller.pairs)?;
    let issuer = state.config.issuer.as_str();
    let endpoint_url = format!("{issuer}{}", caller.endpoint);
    let audiences = [issuer, endpoint_url.as_str()];
    let client = match crate::clients::authenticate_any(
        &state.db,
        &state.client_documents,
        &client_id,
        &credential,
        &audiences,
        state.clock.now(),
    )
    .await
    {
        Ok(client) => client,
        Err(crate::clients::ClientAuthError::Store(error)) => return Err(error.into()),
        Err(failure) => {
            tracing::info!(outcome = "failure", reason = %failure, endpoint = caller.endpoint, "client authentication");
            return Err(OAuthError::invalid_client().into());
        }
    };
    if let Some(grant) = caller.grant {
        if !client.grant_type_list().iter().any(|g| g == grant) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "this client may not use this grant",
            )
            .into());
        }
    }
    Ok(client)
}

pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// What an API key is granted (RFC 6749 §3.3, RFC 8707): the requested
/// scopes if the key holds every one (default: all it holds), and the one
/// requested audience if the key may ask for it and this server issues for
/// it (default: the key's first).
pub fn client_grant(
    key: &crate::api_keys::entity::Model,
    requested_scope: Option<&str>,
    requested_audience: Option<&str>,
    server_audiences: &[String],
) -> Result<(String, String), OAuthError> {
    let granted = key.scope_list();
    let scope = match requested_scope {
        None => granted.join(" "),
        Some(requested) => {
            let requested: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
            if let Some(extra) = requested.iter().find(|s| !granted.iter().any(|g| g == *s)) {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    format!("scope {extra} is not granted to this client"),
                ));
            }
            requested.join(" ")
        }
    };
    let default = server_audiences
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let allowed = key.audience_list(default);
    let audience = match requested_audience {
        None => allowed.first().cloned().unwrap_or_default(),
        Some(requested) => requested.to_owned(),
    };
    // What the key may ask for, and still a resource this server issues for.
    if !allowed.contains(&audience) || !server_audiences.contains(&audience) {
        return Err(OAuthError::invalid_target());
    }
    Ok((scope, audience))
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1, form-urlencoded inside)
/// or from the body; using both is an error.
pub fn client_credentials(
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<(String, String), OAuthError> {
    let from_body = (param(pairs, "client_id"), param(pairs, "client_secret"));
    let basic = match headers.get(header::AUTHORIZATION).map(basic_pair) {
        None => None,
        // RFC 6749 §2.3.1: client id and secret are form-urlencoded inside Basic.
        Some(BasicPair::Credentials(id, secret)) => {
            let unescape = |s: &str| -> String {
                url::form_urlencoded::parse(format!("v={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((unescape(&id), unescape(&secret)))
        }
        Some(BasicPair::OtherScheme | BasicPair::Malformed) => {
            return Err(OAuthError::invalid_client())
        }
    };
    match (basic, from_body) {
        (Some(_), (Some(_), _) | (_, Some(_))) => Err(OAuthError::invalid_request(
            "authenticate the client with one method only (Basic or body)",
        )),
        (Some(credentials), _) => Ok(credentials),
        (None, (Some(id), Some(secret))) => Ok((id.to_owned(), secret.to_owned())),
        (None, _) => Err(OAuthError::invalid_client()),
    }
}

#[cfg(test)]
mod basic_tests {
    use super::*;

    fn pair(raw: &str) -> BasicPair {
        basic_pair(&HeaderValue::from_str(raw).expect("header value"))
    }

    #[test]
    fn basic_credentials_are_decoded_and_every_broken_form_is_told_apart() {
        // "ann@example.com:pa:ss" — the password keeps its colon.
        match pair("basic YW5uQGV4YW1wbGUuY29tOnBhOnNz") {
            BasicPair::Credentials(user, password) => {
                assert_eq!(
                    (user.as_str(), password.as_str()),
                    ("ann@example.com", "pa:ss")
                );
            }
            _ => panic!("expected credentials"),
        }
        for other in ["Bearer abc", "Digest x", "Basi", ""] {
            assert!(matches!(pair(other), BasicPair::OtherScheme), "{other}");
        }
        // Not base64; base64 without a colon; base64 of invalid UTF-8.
        for broken in ["Basic !!!", "Basic bm9jb2xvbg==", "Basic //79"] {
            assert!(matches!(pair(broken), BasicPair::Malformed), "{broken}");
        }
    }
}
