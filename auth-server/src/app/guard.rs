//! Who may call auth-server's own account and admin routes.
//!
//! A signature proves a token was issued; it does not prove the account or
//! the session behind it is still live. On its own routes auth-server holds
//! the database, so it checks, on every request:
//!
//! 1. the token was issued for auth-server itself (`aud` holds
//!    `ACCOUNT_AUDIENCE`): a token meant for a service opens nothing here;
//!    and it came from the first-party login or a first-party client, the
//!    client its session was opened for (a token a service obtained by
//!    exchange, or a third-party client's, opens nothing here either).
//!    `POST /api/v1/auth/logout` alone takes any audience (`Door::OwnSession`);
//! 2. the account exists and is not disabled;
//! 3. the token's session (`sid`) is the account's and still active: logout,
//!    a password change, revocation or an admin ending it close every door;
//! 4. for admin routes, the account holds `admin` *now* (a demoted admin's
//!    token still says `roles: ["admin"]` until it expires).
//!
//! Two primary-key reads per request. The guards are layers on whole
//! sub-routers (see `routes::app`), so no route's protection depends on the
//! order it was added in.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jwt_verify::{AuthError, VerifiedToken};
use uuid::Uuid;

use crate::accounts::entity as user;
use crate::app::errors::invalid_token;
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::sessions;

/// The `realm` of this server's bearer challenges.
pub const REALM: &str = "signet";

/// The live account and session behind a request that passed [`require_account`].
#[derive(Debug, Clone)]
pub(crate) struct CurrentUser {
    pub user: user::Model,
    pub session_id: Uuid,
}

impl CurrentUser {
    pub(crate) fn id_text(&self) -> String {
        self.user.id.to_string()
    }
}

fn ended() -> ApiError {
    // One text for every case: it must not tell an attacker which check failed.
    invalid_token("the token's account or session is no longer active")
}

/// Which tokens a guarded router takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Door {
    /// The account and admin API: `aud` holds `ACCOUNT_AUDIENCE`, and the
    /// token came from the first-party login or a first-party client.
    Account,
    /// Ending one's own session (`POST /api/v1/auth/logout`): any audience
    /// this server issues, from the client the session was opened for.
    OwnSession,
}

/// The account and session a verified token stands for, if both are live,
/// the token came from the client its session was opened for, and it may
/// pass `door`.
pub(crate) async fn live_user(
    state: &AppState,
    token: &VerifiedToken,
    door: Door,
) -> Result<CurrentUser, ApiError> {
    let claims = token.claims();
    if door == Door::Account
        && !claims
            .aud
            .iter()
            .any(|aud| aud == &state.config.account_audience)
    {
        return Err(invalid_token("this token was not issued for this API"));
    }
    let (user, session) = sessions::live_account(&state.db, token, state.clock.now())
        .await?
        .ok_or_else(ended)?;
    // A token another client obtained for this session (token exchange: a
    // service acting for the user) is not the session holder's own.
    let session_client = session
        .client_id
        .as_deref()
        .unwrap_or(&state.config.first_party_client_id);
    if claims.client_id.as_deref() != Some(session_client) {
        return Err(invalid_token("this token was not issued for this API"));
    }
    if door == Door::Account {
        if let Some(client_id) = session.client_id.as_deref() {
            // Defence in depth: the token endpoint issues the account
            // audience to first-party clients only.
            let first_party = crate::clients::find_by_client_id(&state.db, client_id)
                .await?
                .is_some_and(|client| client.first_party);
            if !first_party {
                return Err(invalid_token("this token was not issued for this API"));
            }
        }
    }
    Ok(CurrentUser {
        user,
        session_id: session.id,
    })
}

/// Middleware for the account routes: needs `JwtAuthLayer` outside it.
pub(crate) async fn require_account(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    guarded(&state, Door::Account, request, next).await
}

/// Middleware for `POST /api/v1/auth/logout`: needs `JwtAuthLayer` outside it.
pub(crate) async fn require_own_session(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    guarded(&state, Door::OwnSession, request, next).await
}

async fn guarded(state: &AppState, door: Door, mut request: Request, next: Next) -> Response {
    let Some(token) = request.extensions().get::<VerifiedToken>() else {
        return invalid_token("a bearer token is required").into_response();
    };
    match live_user(state, token, door).await {
        Ok(current) => {
            request.extensions_mut().insert(current);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// Middleware for the admin routes: needs [`require_account`] outside it.
/// The role is read from the account as it is now, not from the token; the
/// refusal is RFC 6750's `insufficient_scope`, as jwt-verify's role guard answers.
pub(crate) async fn require_admin(request: Request, next: Next) -> Response {
    let is_admin = request
        .extensions()
        .get::<CurrentUser>()
        .is_some_and(|current| current.user.role_list().iter().any(|r| r == "admin"));
    if !is_admin {
        return AuthError::InsufficientRole(vec!["admin".to_owned()]).to_response(REALM);
    }
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| {
                // A route mounted outside the guarded routers: a bug, never a client error.
                ApiError::internal(anyhow::anyhow!(
                    "CurrentUser extracted on a route without require_account"
                ))
            })
    }
}
