//! `GET /api/v1/security-events`: the security-event feed for verifiers.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api_keys;
use crate::app::state::AppState;
use crate::events::{self, MAX_BATCH};
use crate::oauth::{client_credentials, OAuthError, TokenEndpointError};

/// The scope an API key needs to read the feed.
pub(crate) const EVENTS_SCOPE: &str = "events:read";
/// The longest a read may wait for news.
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedQuery {
    /// The cursor of the previous answer; absent or 0: from the start (the
    /// whole current state).
    after: Option<i64>,
    /// At most this many events (1–1000, default 1000).
    limit: Option<u64>,
    /// Seconds to wait when nothing is new (0–30, default 0).
    wait: Option<u64>,
}

/// Security events after `after`, as RFC 8417 SETs, for verifiers following
/// revocations. The caller authenticates with an API key holding
/// `events:read` (HTTP Basic, as at the token endpoint). The answer has the
/// shape of RFC 8936's poll response, with a cursor instead of
/// acknowledgements, so every verifier replica keeps its own position:
/// `{"sets": {jti: SET}, "cursor": "…", "moreAvailable": bool}`. With
/// `wait`, an empty read waits (long-poll) until an event arrives.
#[utoipa::path(get, path = "/api/v1/security-events", tag = "gateway",
    params(("after" = Option<i64>, Query, description = "The previous answer's cursor; absent: from the start"),
           ("limit" = Option<u64>, Query, description = "1–1000, default 1000"),
           ("wait" = Option<u64>, Query, description = "Seconds to wait for news when there is none, 0–30")),
    responses((status = 200, description = "{sets: {jti: SET}, cursor, moreAvailable}"),
              (status = 401, description = "invalid_client"),
              (status = 403, description = "insufficient_scope: the key lacks events:read")))]
pub(crate) async fn feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, TokenEndpointError> {
    let (client_id, secret) = client_credentials(&headers, &[])?;
    let caller =
        match api_keys::authenticate(&state.db, &client_id, &secret, state.clock.now()).await {
            Ok(caller) => caller,
            Err(api_keys::ClientAuthError::Store(error)) => return Err(error.into()),
            Err(_) => return Err(OAuthError::invalid_client().into()),
        };
    if !caller.scope_list().iter().any(|s| s == EVENTS_SCOPE) {
        return Err(OAuthError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "this API key may not read security events (scope events:read)",
        )
        .into());
    }
    let Ok(Query(query)) = query else {
        return Err(OAuthError::invalid_request("after, limit and wait are numbers").into());
    };
    let cursor = query.after.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(MAX_BATCH);
    if !(1..=MAX_BATCH).contains(&limit) {
        return Err(OAuthError::invalid_request("limit is 1 to 1000").into());
    }
    let wait = Duration::from_secs(query.wait.unwrap_or(0)).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let mut newer = state.events.subscribe();
    loop {
        let page = events::page(
            &state.db,
            &state.keys.ring(),
            &state.config.issuer,
            cursor,
            limit,
            state.clock.now(),
        )
        .await
        .map_err(|error| match error {
            events::FeedError::Store(error) => TokenEndpointError::from(error),
            other => TokenEndpointError::from(crate::error::ApiError::internal(other)),
        })?;
        if !page.sets.is_empty()
            || tokio::time::Instant::now() >= deadline
            || state.events.is_closing()
        {
            return Ok(answer(page));
        }
        tokio::select! {
            changed = newer.changed() => {
                if changed.is_err() {
                    return Ok(answer(page));
                }
            }
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
}

fn answer(page: events::Page) -> Response {
    let sets: Map<String, Value> = page
        .sets
        .into_iter()
        .map(|(jti, set)| (jti, Value::String(set)))
        .collect();
    let mut response = Json(json!({
        "sets": sets,
        "cursor": page.cursor.to_string(),
        "moreAvailable": page.more,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
