//! `POST /oauth/token` (RFC 6749): the `client_credentials` grant for API keys.
//!
//! Errors use the RFC 6749 §5.2 JSON shape (`{"error","error_description"}`),
//! not problem+json, because OAuth clients parse exactly that.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts;
use crate::api_keys;
use crate::app::client_ip::ClientIp;
use crate::app::metrics::{REFRESH_REUSE, TOKENS_ISSUED};
use crate::app::state::AppState;
use crate::audit::AuditEvent;
use crate::clients;
use crate::error::ApiError;
use crate::oauth::codes::{self, CodeError, Redemption};
use crate::oauth::dpop;
use crate::oauth::exchange::{self, ExchangeRequest};
use crate::oauth::tokens::Subject;
use crate::oauth::tokens::{token_response, IdTokenFor, TokenResponse, UserGrant};
use crate::oauth::{
    client_credentials, client_grant, param, parameters, requested_audience, Grant, OAuthError,
    OAuthErrorBody, TokenEndpointError,
};
use crate::sessions::{self, RefreshError};
use sea_orm::EntityTrait;

/// The token endpoint's form (RFC 6749 §4.1.3, §4.4, §6; RFC 8693): which
/// fields apply depends on `grant_type`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the form for the OpenAPI document; parsed as pairs.
pub(crate) struct TokenRequest {
    /// `client_credentials`, `refresh_token`, `authorization_code`, or
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    grant_type: String,
    /// Space-separated scopes (client_credentials, token exchange).
    scope: Option<String>,
    /// The audience (resource) the token is for (RFC 8707).
    resource: Option<String>,
    /// Same as `resource`.
    audience: Option<String>,
    /// refresh_token grant.
    refresh_token: Option<String>,
    /// authorization_code grant.
    code: Option<String>,
    /// authorization_code grant: exactly as in the authorization request.
    redirect_uri: Option<String>,
    /// authorization_code grant: the PKCE verifier (S256).
    code_verifier: Option<String>,
    /// Client authentication in the body (`client_secret_post`), or a public client's id.
    client_id: Option<String>,
    /// Client authentication in the body (`client_secret_post`).
    client_secret: Option<String>,
    /// Token exchange: the user's access token.
    subject_token: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token`.
    subject_token_type: Option<String>,
}

/// The token endpoint: client credentials, refresh, authorization code, token exchange.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = TokenRequest),
    security((), ("basic" = [])),
    responses(
        (status = 200, description = "Token issued (refresh_token grant: with a rotated refresh token)", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type, invalid_scope, invalid_target", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
    ))]
pub(crate) async fn token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = crate::oauth::admitted_parameters(&state, ip.0, &headers, &body).await?;
    let grant_type = param(&pairs, "grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    match Grant::from_name(grant_type) {
        Some(Grant::ClientCredentials) => {}
        Some(Grant::RefreshToken) => return refresh_grant(&state, &headers, &pairs, ip).await,
        Some(Grant::AuthorizationCode) => return code_grant(&state, &headers, &pairs, ip).await,
        Some(Grant::TokenExchange) => return exchange_grant(&state, &headers, &pairs).await,
        Some(Grant::DeviceCode) => return device_grant(&state, &headers, &pairs, ip).await,
        None => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "supported: client_credentials, refresh_token, authorization_code, token-exchange",
            )
            .into())
        }
    }
    let key = authenticated_key(&state, &headers, &pairs, "client_credentials").await?;
    let (scope, audience) = client_grant(
        &key,
        param(&pairs, "scope"),
        requested_audience(&pairs)?,
        &state.config.audiences,
    )?;
    // After authentication: only a known client can write a proof's jti.
    let jkt =
        dpop::token_request_key(&state.db, &headers, &token_url(&state), state.clock.now()).await?;
    dpop::enforce(key.dpop_policy(), jkt.as_deref())?;
    let client_id = key.client_id();
    let issued = state
        .tokens
        .issue(
            &state.keys.ring(),
            &Subject {
                sub: &client_id,
                audience: &audience,
                client_id: &client_id,
                scope: &scope,
                roles: &[],
                email: None,
                email_verified: None,
                name: Some(&key.name),
                sid: None,
                jkt: jkt.as_deref(),
                act: None,
                idp: None,
                methods: None,
            },
            state.config.service_token_ttl,
            state.clock.now(),
        )
        .map_err(ApiError::internal)?;
    state.last_used.record(&state.db, key.id);
    state
        .metrics
        .counter(&TOKENS_ISSUED, &[("grant", "client_credentials")])
        .increment(1);
    tracing::info!(outcome = "success", %client_id, "client_credentials");
    Ok(token_response(TokenResponse {
        access_token: issued.access_token,
        token_type: crate::oauth::tokens::token_type(jkt.as_deref()),
        expires_in: issued.expires_in,
        scope,
        refresh_token: None,
        id_token: None,
        issued_token_type: None,
    }))
}

/// The API key a token request authenticates as (HTTP Basic or body).
async fn authenticated_key(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    grant: &'static str,
) -> Result<api_keys::entity::Model, TokenEndpointError> {
    let (client_id, secret) = client_credentials(headers, pairs)?;
    match api_keys::authenticate(&state.db, &client_id, &secret, state.clock.now()).await {
        Ok(key) => Ok(key),
        Err(api_keys::ClientAuthError::Store(error)) => Err(error.into()),
        Err(failure) => {
            tracing::info!(outcome = "failure", reason = %failure, grant, "token request");
            Err(OAuthError::invalid_client().into())
        }
    }
}

/// RFC 8693 token exchange: a service acts for the user whose access token
/// it presents, at another service (see [`exchange`]).
async fn exchange_grant(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<Response, TokenEndpointError> {
    let key = authenticated_key(state, headers, pairs, "token_exchange").await?;
    let now = state.clock.now();
    let exchanged = exchange::decide(
        &state.db,
        state.keys.verifier(),
        &key,
        &ExchangeRequest {
            subject_token: param(pairs, "subject_token"),
            subject_token_type: param(pairs, "subject_token_type"),
            audience: requested_audience(pairs)?,
            scope: param(pairs, "scope"),
            actor_token: param(pairs, "actor_token"),
            requested_token_type: param(pairs, "requested_token_type"),
        },
        &state.config.audiences,
        now,
    )
    .await?;
    let jkt = dpop::token_request_key(&state.db, headers, &token_url(state), now).await?;
    dpop::enforce(key.dpop_policy(), jkt.as_deref())?;
    // Never past the user's token (which verified, so at most the leeway ago).
    let left = exchanged.not_after - now.timestamp();
    let Ok(left) = u64::try_from(left) else {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the subject token is invalid or expired",
        )
        .into());
    };
    let ttl = state
        .tokens
        .access_ttl
        .min(std::time::Duration::from_secs(left));
    let (client_id, sub, roles) = (
        key.client_id(),
        exchanged.user.id.to_string(),
        exchanged.user.role_list(),
    );
    let issued = state
        .tokens
        .issue(
            &state.keys.ring(),
            &Subject {
                sub: &sub,
                audience: &exchanged.audience,
                client_id: &client_id,
                scope: &exchanged.scope,
                roles: &roles,
                email: Some(&exchanged.user.email),
                email_verified: Some(exchanged.user.email_verified),
                name: exchanged.user.display_name.as_deref(),
                sid: exchanged.session.as_deref(),
                jkt: jkt.as_deref(),
                act: Some(&exchanged.act),
                idp: None,
                methods: None,
            },
            ttl,
            now,
        )
        .map_err(ApiError::internal)?;
    state.last_used.record(&state.db, key.id);
    state
        .metrics
        .counter(&TOKENS_ISSUED, &[("grant", "token_exchange")])
        .increment(1);
    tracing::info!(outcome = "success", %client_id, user = %sub, audience = %exchanged.audience, "token_exchange");
    Ok(token_response(TokenResponse {
        access_token: issued.access_token,
        token_type: crate::oauth::tokens::token_type(jkt.as_deref()),
        expires_in: issued.expires_in,
        scope: exchanged.scope,
        refresh_token: None,
        id_token: None,
        issued_token_type: Some(exchange::ACCESS_TOKEN_TYPE),
    }))
}

/// The token endpoint's URL as clients address it: what a DPoP proof's
/// `htu` must name.
fn token_url(state: &AppState) -> String {
    format!("{}/oauth/token", state.config.issuer)
}

/// RFC 6749 §4.1.3 with PKCE (RFC 7636) and OpenID Connect Core §3.1.3: a
/// registered client exchanges its code for an access token and, with
/// `openid`, an ID token, and (if the client may use the refresh grant) a
/// refresh token that only this client can use. Confidential clients
/// authenticate with `client_secret_basic` or `client_secret_post`; public
/// ones send only `client_id` (PKCE is the proof).
async fn code_grant(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    ip: ClientIp,
) -> Result<Response, TokenEndpointError> {
    let client = crate::oauth::calling_client(
        state,
        crate::oauth::Caller {
            headers,
            pairs,
            endpoint: "/oauth/token",
            grant: Some("authorization_code"),
        },
    )
    .await?;
    let code =
        param(pairs, "code").ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let UserGrantRequest {
        jkt,
        requested,
        audience,
        session: session_client,
    } = user_grant_request(state, headers, pairs, &client, ip).await?;
    let invalid_grant = || {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the authorization code is invalid, expired, used, or was issued to another client or redirect URI",
        )
    };
    let now = state.clock.now();
    let redeemed = match codes::redeem(
        &state.db,
        Redemption {
            code,
            client_id: &client.client_id,
            redirect_uri: param(pairs, "redirect_uri"),
            code_verifier: param(pairs, "code_verifier"),
            resource: requested,
        },
        &state.config.sessions,
        // The client and scope are the code's own (codes::redeem sets them).
        session_client,
        now,
    )
    .await
    {
        Ok(redeemed) => redeemed,
        Err(CodeError::Store(error)) => return Err(error.into()),
        Err(CodeError::WrongResource) => return Err(OAuthError::invalid_target().into()),
        Err(error) => {
            tracing::info!(outcome = "failure", reason = %error, client = %client.client_id, "authorization_code");
            return Err(invalid_grant().into());
        }
    };
    // The resource the authorization request named, when it named one.
    let audience = redeemed
        .started
        .session
        .audience
        .clone()
        .unwrap_or(audience);
    let methods = redeemed.code.methods();
    issue_user_tokens(
        state,
        UserIssue {
            client: &client,
            user_id: redeemed.code.user_id,
            started: redeemed.started,
            audience: &audience,
            scope: &redeemed.code.scope,
            jkt: jkt.as_deref(),
            idp: redeemed.code.idp.as_deref(),
            methods: &methods,
            nonce: redeemed.code.nonce.as_deref(),
            auth_time: redeemed.code.auth_time,
            grant: "authorization_code",
        },
    )
    .await
}

/// What a user grant's token request (a code, a device's) asks beyond
/// the grant itself.
struct UserGrantRequest<'p> {
    /// The DPoP key its tokens are bound to, if it sent a proof.
    jkt: Option<String>,
    /// The `resource` it named (the grant may have its own).
    requested: Option<&'p str>,
    /// That resource, or the client's default.
    audience: String,
    /// The session to start, but for what the grant itself says.
    session: sessions::Client,
}

/// The DPoP proof (the client's policy applied) and the audience (one the
/// client may have: `invalid_target` else) of a user grant's token request.
async fn user_grant_request<'p>(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &'p [(String, String)],
    client: &clients::entity::Model,
    ip: ClientIp,
) -> Result<UserGrantRequest<'p>, TokenEndpointError> {
    let jkt =
        dpop::token_request_key(&state.db, headers, &token_url(state), state.clock.now()).await?;
    dpop::enforce(client.dpop_policy(), jkt.as_deref())?;
    let requested = requested_audience(pairs)?;
    let audience = match requested {
        None => crate::oauth::client_default_audience(&state.config, client),
        Some(requested)
            if crate::oauth::client_may_request(&state.config, Some(client), requested) =>
        {
            requested.to_owned()
        }
        Some(_) => return Err(OAuthError::invalid_target().into()),
    };
    let session = sessions::Client {
        user_agent: crate::app::client_ip::user_agent(headers),
        ip: ip.to_string_opt(),
        audience: Some(audience.clone()),
        // RFC 9449 §5: a public client's refresh token is bound to the
        // key; a confidential client's is bound by its authentication.
        dpop_jkt: jkt.clone().filter(|_| client.public),
        ..sessions::Client::default()
    };
    Ok(UserGrantRequest {
        jkt,
        requested,
        audience,
        session,
    })
}

/// RFC 8628 §3.4: a device polls with its device code; while its person
/// has not decided it is told to wait (`authorization_pending`, or
/// `slow_down` when it polls too fast), then gets the tokens once.
async fn device_grant(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    ip: ClientIp,
) -> Result<Response, TokenEndpointError> {
    let now = state.clock.now();
    let client = crate::oauth::calling_client(
        state,
        crate::oauth::Caller {
            headers,
            pairs,
            endpoint: "/oauth/token",
            grant: Some(crate::device::GRANT_TYPE),
        },
    )
    .await?;
    let device_code = param(pairs, "device_code")
        .ok_or_else(|| OAuthError::invalid_request("device_code is required"))?;
    let UserGrantRequest {
        jkt,
        requested,
        audience,
        session: session_client,
    } = user_grant_request(state, headers, pairs, &client, ip).await?;
    let redeemed = match crate::device::redeem(
        &state.db,
        crate::device::Poll {
            device_code,
            client_id: &client.client_id,
            resource: requested,
        },
        &state.config.sessions,
        session_client,
        now,
    )
    .await
    {
        Ok(redeemed) => redeemed,
        Err(crate::device::PollError::Store(error)) => return Err(error.into()),
        Err(waiting) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                waiting.code(),
                waiting.to_string(),
            )
            .into())
        }
    };
    let audience = redeemed
        .started
        .session
        .audience
        .clone()
        .unwrap_or(audience);
    let methods = redeemed.request.methods();
    let Some(user_id) = redeemed.request.user_id else {
        return Err(OAuthError::invalid_request("the device request has no user").into());
    };
    issue_user_tokens(
        state,
        UserIssue {
            client: &client,
            user_id,
            started: redeemed.started,
            audience: &audience,
            scope: &redeemed.request.scope,
            jkt: jkt.as_deref(),
            idp: redeemed.request.idp.as_deref(),
            methods: &methods,
            nonce: None,
            auth_time: redeemed.request.auth_time.unwrap_or(now),
            grant: "device_code",
        },
    )
    .await
}

/// What a user's approval (a code, or a device's request) issues tokens for.
struct UserIssue<'a> {
    client: &'a clients::entity::Model,
    user_id: uuid::Uuid,
    started: sessions::Started,
    audience: &'a str,
    scope: &'a str,
    jkt: Option<&'a str>,
    idp: Option<&'a str>,
    methods: &'a crate::sessions::methods::Methods,
    nonce: Option<&'a str>,
    auth_time: chrono::DateTime<chrono::Utc>,
    /// For the metrics and the log line.
    grant: &'static str,
}

/// The tokens of a session just started for a registered client: the
/// access token, the refresh token if the client may refresh, and an ID
/// token with `openid`. An account disabled or deleted since it approved
/// gets nothing, and the session ends.
async fn issue_user_tokens(
    state: &AppState,
    issue: UserIssue<'_>,
) -> Result<Response, TokenEndpointError> {
    let now = state.clock.now();
    let client = issue.client;
    let session = issue.started.session.id;
    let invalid_grant = || {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the grant is invalid, expired, used, or was issued to another client",
        )
    };
    let refresh_token = client
        .grant_type_list()
        .iter()
        .any(|g| g == "refresh_token")
        .then(|| issue.started.refresh_token.clone());
    let Some(user) = accounts::entity::Entity::find_by_id(issue.user_id)
        .one(&state.db)
        .await?
        .filter(|u| !u.disabled)
    else {
        sessions::revoke(&state.db, session, "user inactive", now).await?;
        return Err(invalid_grant().into());
    };
    let keys = state.keys.ring();
    let mut tokens = state
        .tokens
        .issue_for_client(
            &keys,
            &UserGrant {
                user: &user,
                session,
                audience: issue.audience,
                client_id: &client.client_id,
                scope: issue.scope,
                jkt: issue.jkt,
                idp: issue.idp,
                methods: issue.methods,
            },
            refresh_token,
            now,
        )
        .map_err(ApiError::internal)?;
    if issue.scope.split_ascii_whitespace().any(|s| s == "openid") {
        tokens.id_token = Some(
            state
                .tokens
                .issue_id_token(
                    &keys,
                    &IdTokenFor {
                        user: &user,
                        client_id: &client.client_id,
                        session,
                        scope: issue.scope,
                        nonce: issue.nonce,
                        auth_time: issue.auth_time,
                        access_token: &tokens.access_token,
                        idp: issue.idp,
                        methods: issue.methods,
                    },
                    now,
                )
                .map_err(ApiError::internal)?,
        );
    }
    state
        .metrics
        .counter(&TOKENS_ISSUED, &[("grant", issue.grant)])
        .increment(1);
    tracing::info!(outcome = "success", client = %client.client_id, %session, grant = issue.grant, "user tokens issued");
    Ok(token_response(tokens))
}

/// The client a refresh or revocation request comes from: `None` for the
/// first-party client (password login: public, sends no credentials or its
/// own `client_id`), else a registered client that authenticates as at the
/// code exchange (a public one by its `client_id` alone).
async fn requesting_client(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<Option<clients::entity::Model>, TokenEndpointError> {
    let registered = headers.contains_key(header::AUTHORIZATION)
        || param(pairs, "client_assertion").is_some()
        || param(pairs, "client_id").is_some_and(|id| {
            id.starts_with(clients::CLIENT_ID_PREFIX) || clients::documents::is_document_url(id)
        });
    if !registered {
        return match param(pairs, "client_id") {
            Some(client_id) if client_id != state.config.first_party_client_id => {
                Err(OAuthError::invalid_client().into())
            }
            _ => Ok(None),
        };
    }
    crate::oauth::calling_client(
        state,
        crate::oauth::Caller {
            headers,
            pairs,
            endpoint: "/oauth/token",
            grant: None,
        },
    )
    .await
    .map(Some)
}

/// RFC 6749 §6: exchange a refresh token (the first-party client is public,
/// so no client authentication). Each use rotates it; see [`sessions`].
async fn refresh_grant(
    state: &AppState,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    ip: ClientIp,
) -> Result<Response, TokenEndpointError> {
    let presented = param(pairs, "refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    // A registered client may refresh only the sessions opened for it.
    let client = requesting_client(state, headers, pairs).await?;
    if client.as_ref().is_some_and(|client| {
        !client
            .grant_type_list()
            .iter()
            .any(|g| g == "refresh_token")
    }) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "this client may not use the refresh_token grant",
        )
        .into());
    }
    let invalid_grant = || {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is invalid, expired or revoked",
        )
    };
    let requested = requested_audience(pairs)?;
    if requested
        .is_some_and(|aud| !crate::oauth::client_may_request(&state.config, client.as_ref(), aud))
    {
        return Err(OAuthError::invalid_target().into());
    }
    // The token first: a proof's jti is recorded (a write shared by every
    // replica) only for a refresh token of a live session, so guessing
    // tokens cannot fill the replay table.
    let Some(session) = sessions::session_of(&state.db, presented)
        .await?
        .filter(|session| session.is_active_at(state.clock.now()))
    else {
        return Err(invalid_grant().into());
    };
    let jkt =
        dpop::token_request_key(&state.db, headers, &token_url(state), state.clock.now()).await?;
    if let Some(client) = &client {
        dpop::enforce(client.dpop_policy(), jkt.as_deref())?;
    }
    // A bound refresh token needs a proof by its key, checked before the
    // rotation so a thief's attempt does not spend the holder's token.
    if let Some(bound) = &session.dpop_jkt {
        if jkt.as_deref() != Some(bound.as_str()) {
            let error = match jkt {
                None => jwt_verify::DpopError::Missing,
                Some(_) => jwt_verify::DpopError::KeyMismatch,
            };
            return Err(dpop::invalid_proof(&error).into());
        }
    }
    match sessions::rotate(
        &state.db,
        presented,
        Some(session),
        &state.config.sessions,
        client.as_ref().map(|c| c.client_id.as_str()),
        ip.0,
        state.clock.now(),
    )
    .await
    {
        Ok(rotated) => {
            // RFC 8707 §2.2: a refresh token may be used for any resource the
            // session may reach; by default, the one it was opened for.
            let audience = requested
                .map(str::to_owned)
                .or_else(|| rotated.session.audience.clone())
                .filter(|aud| crate::oauth::client_may_request(&state.config, client.as_ref(), aud))
                .unwrap_or_else(|| match &client {
                    None => state.config.login_audience.clone(),
                    Some(client) => crate::oauth::client_default_audience(&state.config, client),
                });
            if !rotated.replayed {
                tracing::info!(session = %rotated.session.id, "refresh token rotated");
            }
            state
                .metrics
                .counter(&TOKENS_ISSUED, &[("grant", "refresh_token")])
                .increment(1);
            // A registered client's tokens keep the scope the user granted
            // it; the first-party client's have USER_TOKEN_SCOPE.
            let (client_id, scope) = match &client {
                None => (
                    state.tokens.first_party_client_id.as_str(),
                    state.tokens.user_scope.as_str(),
                ),
                Some(client) => (
                    client.client_id.as_str(),
                    rotated.session.scope.as_deref().unwrap_or_default(),
                ),
            };
            let tokens = state
                .tokens
                .issue_for_client(
                    &state.keys.ring(),
                    &UserGrant {
                        user: &rotated.user,
                        session: rotated.session.id,
                        audience: &audience,
                        client_id,
                        scope,
                        jkt: jkt.as_deref(),
                        idp: rotated.session.idp.as_deref(),
                        methods: &rotated.session.methods(),
                    },
                    Some(rotated.refresh_token),
                    state.clock.now(),
                )
                .map_err(ApiError::internal)?;
            Ok(token_response(tokens))
        }
        Err(RefreshError::Reused {
            session_id,
            user_id,
        }) => {
            // The session's end and its audit row were committed together.
            tracing::warn!(session = %session_id, user = %user_id, "refresh token reuse detected; session revoked");
            state.metrics.counter(&REFRESH_REUSE, &[]).increment(1);
            Err(invalid_grant().into())
        }
        Err(RefreshError::Store(error)) => Err(error.into()),
        Err(_) => Err(invalid_grant().into()),
    }
}

/// RFC 9126 §2.2.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PushedRequestResponse {
    /// `urn:ietf:params:oauth:request_uri:…`, for `/oauth/authorize?client_id=…&request_uri=…`.
    request_uri: String,
    /// Seconds the browser has to open it.
    expires_in: u64,
}

/// RFC 9126: push the authorization parameters, authenticated, and send the
/// browser with `client_id` and the `request_uri` alone. The parameters are
/// checked as the authorization endpoint checks them, and refused here as
/// JSON (§2.3) rather than in the browser.
#[utoipa::path(post, path = "/oauth/par", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "The authorization request's parameters (response_type, redirect_uri, scope, state, code_challenge, …) and the client's authentication"),
    security((), ("basic" = [])),
    responses(
        (status = 201, description = "Stored (Cache-Control: no-store)", body = PushedRequestResponse),
        (status = 400, description = "invalid_request, unauthorized_client, unsupported_response_type, invalid_scope, invalid_target", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 429, description = "Too many requests from this address"),
    ))]
pub(crate) async fn par(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = crate::oauth::admitted_parameters(&state, ip.0, &headers, &body).await?;
    let now = state.clock.now();
    let client = crate::oauth::calling_client(
        &state,
        crate::oauth::Caller {
            headers: &headers,
            pairs: &pairs,
            endpoint: "/oauth/par",
            grant: None,
        },
    )
    .await?;
    let parameters = crate::oauth::par::parameters_of(&pairs)
        .map_err(|error| OAuthError::invalid_request(error.to_string()))?;
    let request =
        crate::oauth::authorize::check(&parameters, Some(client.clone())).map_err(|error| {
            match error {
                crate::oauth::authorize::AuthorizeError::Page(_) => OAuthError::invalid_request(
                    "redirect_uri is missing or not registered for this client",
                ),
                crate::oauth::authorize::AuthorizeError::Redirect {
                    error, description, ..
                } => OAuthError::new(StatusCode::BAD_REQUEST, error, description),
            }
        })?;
    if request
        .resource
        .as_deref()
        .is_some_and(|r| !crate::oauth::client_may_request(&state.config, Some(&client), r))
    {
        return Err(OAuthError::invalid_target().into());
    }
    let request_uri =
        crate::oauth::par::push(&state.db, &client.client_id, &parameters, now).await?;
    tracing::info!(outcome = "success", client = %client.client_id, "par");
    let mut response = (
        StatusCode::CREATED,
        axum::Json(PushedRequestResponse {
            request_uri,
            expires_in: crate::oauth::par::PUSHED_TTL.as_secs(),
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// RFC 7009 token revocation.
///
/// A refresh token ends its whole session. So does a user's access token
/// (its `sid`): the refresh token dies with it, introspection answers
/// inactive, and auth-server's own routes refuse the access token at once.
/// A service token cannot be revoked here (`unsupported_token_type`): revoke
/// its API key. Anything else — unknown, expired, forged — is 200 with no
/// effect, so the answer reveals nothing about tokens.
///
/// RFC 7009 §2.1: only the client a token was issued to may revoke it. The
/// client is identified as at the refresh grant (the first-party client
/// sends nothing or its own `client_id`; a registered client authenticates,
/// a public one names itself). A token issued to another client is left
/// alone and the answer is the same 200, so revocation cannot be used to
/// learn whether another client's token is valid.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token=…[&token_type_hint=refresh_token|access_token]"),
    responses((status = 200, description = "Revoked, or nothing to revoke"),
              (status = 400, description = "invalid_request; unsupported_token_type for a service token")))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TokenEndpointError> {
    let pairs = parameters(&headers, &body)?;
    let requester = requesting_client(&state, &headers, &pairs).await?;
    state
        .limiters
        .revoke_per_client
        .admit(
            crate::app::rate_limit::client_key(
                requester.as_ref().map(|c| c.client_id.as_str()),
                ip.0,
            ),
            &state.metrics,
            state.clock.now(),
        )
        .await?;
    let requester_id = requester
        .as_ref()
        .map_or(state.config.first_party_client_id.as_str(), |c| {
            c.client_id.as_str()
        });
    let token =
        param(&pairs, "token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // The session's client: `None` is the first-party client.
    let issued_to_requester = |session: &sessions::entity::Model| {
        session.client_id.as_deref() == requester.as_ref().map(|c| c.client_id.as_str())
    };
    let session = if token.starts_with(sessions::REFRESH_PREFIX) {
        sessions::session_of(&state.db, token).await?
    } else {
        // A bound token is revoked by whoever holds it, like any other.
        match state.keys.verifier().inspect(token) {
            Err(_) => None,
            Ok(verified) if verified.claims().is_service() => {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "unsupported_token_type",
                    "service tokens are revoked with their API key",
                )
                .into())
            }
            // An exchanged token names the service that asked for it: its
            // user's session is not that service's to end.
            Ok(verified) if verified.claims().client_id.as_deref() != Some(requester_id) => None,
            Ok(verified) => sessions::session_of_access_token(&state.db, &verified).await?,
        }
    };
    let session = match session {
        Some(session) if !issued_to_requester(&session) => {
            tracing::info!(outcome = "ignored", client = %requester_id, "revocation of another client's token");
            None
        }
        session => session,
    };
    if let Some(session) = session {
        let (session_text, user_text) = (session.id.to_string(), session.user_id.to_string());
        sessions::end_and_audit(
            &state.db,
            session.id,
            "revoked by client",
            AuditEvent::new("session.revoked")
                .actor(&user_text)
                .subject(&session_text)
                .ip(ip.to_string_opt().as_deref())
                .detail(json!({ "via": "oauth/revoke" })),
            state.clock.now(),
        )
        .await?;
    }
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// OpenID Connect Core §5.3 UserInfo: the claims the access token's scopes
/// grant (`sub` always; `name` with `profile`; `email` and `email_verified`
/// with `email`). The token must carry `openid` (else 403
/// `insufficient_scope`), and its account and session must still be live
/// (else 401 `invalid_token`), so a signed-out session reveals nothing more.
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oauth", security(("bearer" = [])),
    responses((status = 200, description = "{sub, name?, email?, email_verified?}"),
              (status = 401, description = "invalid_token (with WWW-Authenticate)"),
              (status = 403, description = "insufficient_scope: the token lacks openid")))]
pub(crate) async fn userinfo(
    State(state): State<AppState>,
    axum::Extension(token): axum::Extension<jwt_verify::VerifiedToken>,
) -> Result<Response, ApiError> {
    let claims = token.claims();
    if !claims.has_scope("openid") {
        return Ok(jwt_verify::AuthError::InsufficientScope("openid".into())
            .to_response::<axum::body::Body>(crate::app::guard::REALM));
    }
    let Some((user, _)) = sessions::live_account(&state.db, &token, state.clock.now()).await?
    else {
        return Err(crate::app::errors::invalid_token(
            "the token's account or session is no longer active",
        ));
    };
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), json!(user.id.to_string()));
    if claims.has_scope("profile") {
        if let Some(name) = &user.display_name {
            body.insert("name".into(), json!(name));
        }
    }
    if claims.has_scope("email") {
        body.insert("email".into(), json!(user.email));
        body.insert("email_verified".into(), json!(user.email_verified));
    }
    let mut response = axum::Json(serde_json::Value::Object(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The parameters of an RP-initiated logout request (query or form).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct EndSessionParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
}

/// OpenID Connect RP-Initiated Logout 1.0: a relying party sends the user
/// here with the ID token it holds (`id_token_hint`, which may have
/// expired) to end that sign-in. The session named by the token's `sid`
/// ends (its refresh token dies; account routes and userinfo refuse its
/// access tokens), audited. The user goes back only to a
/// `post_logout_redirect_uri` registered exactly for the token's client,
/// with `state`; anything else is refused, never redirected (no open
/// redirect). Without browser sessions yet, the hint is required.
#[utoipa::path(get, path = "/oauth/logout", tag = "oauth",
    params(("id_token_hint" = String, Query, description = "An ID token this server issued"),
           ("post_logout_redirect_uri" = Option<String>, Query, description = "Registered for the token's client"),
           ("client_id" = Option<String>, Query, description = "Must be the token's audience"),
           ("state" = Option<String>, Query, description = "Passed back")),
    responses((status = 303, description = "Signed out; back to the relying party"),
              (status = 200, description = "Signed out"),
              (status = 400, description = "Bad hint, client or redirect URI: nothing ended, no redirect")))]
pub(crate) async fn end_session(
    State(state): State<AppState>,
    ip: ClientIp,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let jar = axum_extra::extract::CookieJar::from_headers(request.headers());
    let params: EndSessionParams = if request.method() == axum::http::Method::POST {
        <axum::Form<EndSessionParams> as axum::extract::FromRequest<AppState>>::from_request(
            request, &state,
        )
        .await
        .map_err(|_| ApiError::BadRequest("expected a form body".into()))?
        .0
    } else {
        axum::extract::Query::<EndSessionParams>::try_from_uri(request.uri())
            .map_err(|_| ApiError::BadRequest("invalid query".into()))?
            .0
    };
    let bad = |detail: &str| ApiError::BadRequest(detail.to_owned());
    let hint = params
        .id_token_hint
        .as_deref()
        .ok_or_else(|| bad("id_token_hint is required"))?;
    // Our ID tokens only (typ JWT, our issuer and keys); expired ones too.
    let validation = jwt_verify::Validation::new(state.config.issuer.clone())
        .require_type("JWT")
        .insecure_disable_exp_check();
    let verified =
        jwt_verify::Verifier::from_key_set((*state.keys.verifier().keys()).clone(), validation)
            .verify_with_current_keys(hint)
            .map_err(|_| bad("id_token_hint is not an ID token issued here"))?;
    #[derive(serde::Deserialize)]
    struct Hint {
        aud: String,
        sid: Option<String>,
    }
    let claims: Hint = verified
        .deserialize()
        .map_err(|_| bad("id_token_hint is not an ID token issued here"))?;
    if params
        .client_id
        .as_deref()
        .is_some_and(|id| id != claims.aud)
    {
        return Err(bad("client_id is not the ID token's audience"));
    }
    let client = match clients::resolve(
        &state.db,
        &state.client_documents,
        &claims.aud,
        state.clock.now(),
    )
    .await
    {
        Ok(Some(client)) => client,
        Ok(None) | Err(clients::ResolveError::Document(_)) => {
            return Err(bad("the ID token's client is not registered"))
        }
        Err(clients::ResolveError::Store(error)) => return Err(error.into()),
    };
    let back = match params.post_logout_redirect_uri.as_deref() {
        None => None,
        Some(uri)
            if client
                .post_logout_redirect_uri_list()
                .iter()
                .any(|r| r == uri) =>
        {
            Some(uri)
        }
        Some(_) => {
            return Err(bad(
                "post_logout_redirect_uri is not registered for this client",
            ))
        }
    };
    if let Some(sid) = claims
        .sid
        .as_deref()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
    {
        let sub = verified.claims().sub.clone().unwrap_or_default();
        sessions::end_and_audit(
            &state.db,
            sid,
            "logout",
            AuditEvent::new("session.logout")
                .actor(&sub)
                .subject(&sid.to_string())
                .ip(ip.to_string_opt().as_deref())
                .detail(json!({ "via": "end_session", "client_id": client.client_id })),
            state.clock.now(),
        )
        .await?;
    }
    // The browser's own session here (the sign-in page's cookie), if it is
    // the same user's: signing out of the application signs out of Signet.
    let names = crate::web::cookie_names(&state.config.issuer);
    let mut jar_out = jar.clone();
    if let Some(cookie) = jar.get(names.session) {
        let sub = verified.claims().sub.clone().unwrap_or_default();
        let now = state.clock.now();
        if let Some((user, browser)) = sessions::browser_session(
            &state.db,
            cookie.value(),
            &state.config.issuer,
            &state.config.sessions,
            now,
        )
        .await?
        {
            if user.id.to_string() == sub {
                sessions::end_and_audit(
                    &state.db,
                    browser.id,
                    "logout",
                    AuditEvent::new("session.logout")
                        .actor(&sub)
                        .subject(&browser.id.to_string())
                        .ip(ip.to_string_opt().as_deref())
                        .detail(json!({ "via": "end_session", "browser": true })),
                    now,
                )
                .await?;
            }
        }
        jar_out = jar_out.add(signet_service::web::removal(names.session));
    }
    let mut response = match back {
        Some(uri) => {
            let mut target = url::Url::parse(uri).map_err(|_| bad("unusable redirect URI"))?;
            if let Some(value) = params.state.as_deref() {
                target.query_pairs_mut().append_pair("state", value);
            }
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(location) = HeaderValue::from_str(target.as_str()) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        None => (StatusCode::OK, "You are signed out.\n").into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((jar_out, response).into_response())
}

/// A consent as the user sees it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ConsentView {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: chrono::DateTime<chrono::Utc>,
}

#[utoipa::path(get, path = "/api/v1/users/me/consents", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The third-party clients you allowed, newest first", body = [ConsentView])))]
pub(crate) async fn list_consents(
    State(state): State<AppState>,
    current: crate::app::guard::CurrentUser,
) -> Result<crate::error::ApiJson<Vec<ConsentView>>, ApiError> {
    let consents = crate::oauth::consent::list_for_user(&state.db, current.user.id).await?;
    Ok(crate::error::ApiJson(
        consents
            .into_iter()
            .map(|c| ConsentView {
                scopes: c
                    .scope
                    .split_ascii_whitespace()
                    .map(str::to_owned)
                    .collect(),
                client_id: c.client_id,
                granted_at: c.granted_at,
            })
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/users/me/consents/{client_id}", tag = "users", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The client's client_id")),
    responses((status = 204, description = "Withdrawn; the client's sessions for you ended"),
              (status = 404, description = "No consent to that client")))]
pub(crate) async fn revoke_consent(
    State(state): State<AppState>,
    current: crate::app::guard::CurrentUser,
    crate::error::ApiPath(client_id): crate::error::ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if crate::oauth::consent::revoke(&state.db, current.user.id, &client_id, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("consent"))
    }
}
