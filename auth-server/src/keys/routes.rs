//! Public key publication: JWKS and OIDC discovery.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::app::state::AppState;
use crate::keys::Jwks;

/// The public keys tokens are signed with, cacheable for `JWKS_MAX_AGE`.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "JSON Web Key Set", body = Jwks)))]
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.keys.ring().jwks()).into_response();
    let cache = format!("public, max-age={}", state.config.jwks_max_age.as_secs());
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

/// Authorization-server metadata (RFC 8414; OIDC Discovery 1.0 §3). It
/// lists only what works.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DiscoveryDocument {
    pub issuer: String,
    pub jwks_uri: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    /// OIDC Core §5.3: works with any access token of ours that has `openid`.
    pub userinfo_endpoint: String,
    /// OIDC RP-Initiated Logout 1.0 (with `id_token_hint`).
    pub end_session_endpoint: String,
    /// RFC 8628 §4: where a device asks for its code pair.
    pub device_authorization_endpoint: String,
    /// RFC 9126 §5.
    pub pushed_authorization_request_endpoint: String,
    /// RFC 9126 §5: not for every client; per client
    /// (`require_pushed_authorization_requests` in its registration).
    pub require_pushed_authorization_requests: bool,
    /// Back-Channel Logout 1.0 §2.1: clients may register a
    /// `backchannel_logout_uri`; the logout token carries `sid`.
    pub backchannel_logout_supported: bool,
    /// RFC 7591, with an initial access token; absent while it is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    pub backchannel_logout_session_supported: bool,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    /// PKCE is required, and only S256.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 9207: `iss` in every authorization response.
    pub authorization_response_iss_parameter_supported: bool,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    /// `client_secret_basic`/`client_secret_post` for API keys; `none` for
    /// the first-party client's refresh grant.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `private_key_jwt` (clients known by their metadata document).
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// The client a token was issued to may revoke it (RFC 7009 §2.1):
    /// public clients name themselves, confidential ones authenticate.
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// An API key with scope `introspect`.
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<String>,
    pub claims_supported: Vec<&'static str>,
    /// The `acr` values tokens carry: `pwd` (a password), `fed` (an
    /// upstream provider), `mfa` (two factors; `acr_values=mfa` asks for it).
    pub acr_values_supported: Vec<&'static str>,
    /// RFC 9449 §5.1: proof algorithms the token endpoint accepts.
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    /// draft-ietf-oauth-client-id-metadata-document: a `client_id` may be
    /// the `https` URL of the client's metadata document
    /// (`CLIENT_METADATA_DOCUMENTS`).
    pub client_id_metadata_document_supported: bool,
}

#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "keys",
    responses((status = 200, description = "Discovery metadata", body = DiscoveryDocument)))]
pub(crate) async fn openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = state.config.issuer.clone();
    let document = DiscoveryDocument {
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        authorization_endpoint: format!("{issuer}/oauth/authorize"),
        token_endpoint: format!("{issuer}/oauth/token"),
        revocation_endpoint: format!("{issuer}/oauth/revoke"),
        introspection_endpoint: format!("{issuer}/oauth/introspect"),
        userinfo_endpoint: format!("{issuer}/oauth/userinfo"),
        end_session_endpoint: format!("{issuer}/oauth/logout"),
        device_authorization_endpoint: format!("{issuer}/oauth/device_authorization"),
        pushed_authorization_request_endpoint: format!("{issuer}/oauth/par"),
        require_pushed_authorization_requests: false,
        backchannel_logout_supported: true,
        registration_endpoint: state
            .config
            .registration_token
            .as_ref()
            .map(|_| format!("{issuer}/oauth/register")),
        backchannel_logout_session_supported: true,
        grant_types_supported: crate::oauth::Grant::ALL
            .iter()
            .map(|grant| grant.name())
            .collect(),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query"],
        code_challenge_methods_supported: vec!["S256"],
        dpop_signing_alg_values_supported: jwt_verify::dpop::DPOP_ALGORITHMS.to_vec(),
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: state.config.client_documents.enabled,
        id_token_signing_alg_values_supported: vec!["RS256"],
        subject_types_supported: vec!["public"],
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        token_endpoint_auth_signing_alg_values_supported: vec!["RS256", "PS256", "ES256", "EdDSA"],
        revocation_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
        ],
        scopes_supported: state
            .config
            .user_scope
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        acr_values_supported: crate::sessions::methods::ACR_VALUES.to_vec(),
        claims_supported: vec![
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "nbf",
            "jti",
            "client_id",
            "scope",
            "roles",
            "email",
            "email_verified",
            "name",
            "sid",
            "auth_time",
            "nonce",
            "at_hash",
            "amr",
            "acr",
        ],
        issuer,
    };
    let mut response = Json(document).into_response();
    let cache = format!("public, max-age={}", state.config.jwks_max_age.as_secs());
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}
