//! The SSF transmitter's HTTP surface: its configuration metadata
//! (`/.well-known/ssf-configuration`), stream management (§8.1.1), status
//! (§8.1.2), verification (§8.1.4) and RFC 8936 poll delivery. Every
//! endpoint but the metadata takes an API key with scope `ssf:stream`
//! (HTTP Basic, as at the token endpoint); a receiver sees its own streams
//! only (another's is `404`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::api_keys;
use crate::app::state::AppState;
use crate::error::{ApiError, ApiJson};
use crate::oauth::client_credentials;
use crate::ssf::{self, entity as stream, Status, StreamError, StreamRequest};

impl From<StreamError> for ApiError {
    fn from(error: StreamError) -> Self {
        match error {
            StreamError::Invalid(why) => ApiError::BadRequest(why.to_owned()),
            StreamError::NotFound => ApiError::NotFound("stream"),
            StreamError::TooMany => ApiError::Conflict(error.to_string()),
            StreamError::Store(error) => error.into(),
            StreamError::Sign(error) => ApiError::internal(error),
        }
    }
}

/// The receiver an API key with `ssf:stream` authenticates as.
async fn receiver(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let challenge = HeaderValue::from_static("Basic realm=\"signet\"");
    let Ok((client_id, secret)) = client_credentials(headers, &[]) else {
        return Err(ApiError::unauthorized(
            "invalid-client",
            "authenticate with an API key (HTTP Basic)",
            challenge,
        ));
    };
    let key = match api_keys::authenticate(&state.db, &client_id, &secret, state.clock.now()).await
    {
        Ok(key) => key,
        Err(api_keys::ClientAuthError::Store(error)) => return Err(error.into()),
        Err(_) => {
            return Err(ApiError::unauthorized(
                "invalid-client",
                "the API key is unknown, wrong, revoked or expired",
                challenge,
            ))
        }
    };
    if !key.scope_list().iter().any(|s| s == ssf::STREAM_SCOPE) {
        return Err(ApiError::Forbidden(
            "this API key may not manage streams (scope ssf:stream)".into(),
        ));
    }
    Ok(client_id)
}

/// SSF 1.0 §7.1: Transmitter Configuration Metadata.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TransmitterMetadata {
    spec_version: &'static str,
    issuer: String,
    jwks_uri: String,
    delivery_methods_supported: Vec<&'static str>,
    configuration_endpoint: String,
    status_endpoint: String,
    verification_endpoint: String,
    /// HTTP Basic with an API key holding `ssf:stream`.
    authorization_schemes: Vec<Value>,
    /// Every stream carries every subject's events.
    default_subjects: &'static str,
}

#[utoipa::path(get, path = "/.well-known/ssf-configuration", tag = "ssf", operation_id = "ssf_configuration",
    responses((status = 200, description = "Transmitter metadata (SSF 1.0 §7.1)", body = TransmitterMetadata)))]
pub(crate) async fn configuration(State(state): State<AppState>) -> Json<TransmitterMetadata> {
    let issuer = state.config.issuer.clone();
    Json(TransmitterMetadata {
        spec_version: "1_0",
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        delivery_methods_supported: vec![ssf::DELIVERY_POLL],
        configuration_endpoint: format!("{issuer}/ssf/streams"),
        status_endpoint: format!("{issuer}/ssf/status"),
        verification_endpoint: format!("{issuer}/ssf/verify"),
        authorization_schemes: vec![serde_json::json!({ "spec_urn": "urn:ietf:rfc:7617" })],
        default_subjects: "ALL",
        issuer,
    })
}

/// A stream's configuration (§8.1.1).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StreamConfiguration {
    stream_id: String,
    iss: String,
    aud: String,
    events_supported: Vec<&'static str>,
    events_requested: Vec<String>,
    events_delivered: Vec<&'static str>,
    delivery: Delivery,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct Delivery {
    method: String,
    /// Where the receiver polls (RFC 8936).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint_url: Option<String>,
}

fn configuration_of(state: &AppState, stream: &stream::Model) -> StreamConfiguration {
    StreamConfiguration {
        stream_id: stream.stream_id.to_string(),
        iss: state.config.issuer.clone(),
        aud: stream.audience.clone(),
        events_supported: ssf::EVENTS_SUPPORTED.to_vec(),
        events_requested: stream.requested(),
        events_delivered: ssf::delivered(stream),
        delivery: Delivery {
            method: ssf::DELIVERY_POLL.to_owned(),
            endpoint_url: Some(format!(
                "{}/ssf/poll/{}",
                state.config.issuer, stream.stream_id
            )),
        },
        description: stream.description.clone(),
    }
}

/// What a receiver sends to create or change a stream. Members it may not
/// set (`iss`, `aud`, `events_supported`, …) are ignored, as §8.1.1 says.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct StreamBody {
    /// For an update: the stream.
    stream_id: Option<String>,
    delivery: Option<Delivery>,
    events_requested: Option<Vec<String>>,
    description: Option<String>,
}

impl StreamBody {
    /// The stream and what it asks for, once its delivery is one this
    /// transmitter offers (poll).
    fn checked(self) -> Result<(Option<String>, StreamRequest), ApiError> {
        if let Some(d) = &self.delivery {
            if d.method != ssf::DELIVERY_POLL {
                return Err(ApiError::BadRequest(
                    "delivery.method: only urn:ietf:rfc:8936 (poll) is supported".into(),
                ));
            }
        }
        Ok((
            self.stream_id,
            StreamRequest {
                events_requested: self.events_requested,
                description: self.description,
            },
        ))
    }
}

/// `stream` as a configuration answer (not to be cached).
fn stream_answer(state: &AppState, status: StatusCode, stream: &stream::Model) -> Response {
    no_store(status, Json(configuration_of(state, stream)))
}

fn stream_id(raw: Option<&str>) -> Result<Uuid, ApiError> {
    raw.and_then(|id| Uuid::parse_str(id).ok()).ok_or_else(|| {
        ApiError::BadRequest("stream_id is required (a stream id this server gave)".into())
    })
}

/// The receiver's own stream named by `raw` (`400` malformed, `404` not theirs).
async fn own_stream(
    state: &AppState,
    headers: &HeaderMap,
    raw: Option<&str>,
) -> Result<stream::Model, ApiError> {
    let client_id = receiver(state, headers).await?;
    Ok(ssf::find(&state.db, &client_id, stream_id(raw)?).await?)
}

fn no_store<T: IntoResponse>(status: StatusCode, body: T) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(post, path = "/ssf/streams", tag = "ssf", security(("basic" = [])),
    request_body = StreamBody,
    responses((status = 201, description = "Created", body = StreamConfiguration),
              (status = 400, description = "Invalid", body = crate::error::Problem),
              (status = 401, description = "No or a bad API key"),
              (status = 403, description = "The key lacks ssf:stream"),
              (status = 409, description = "Ten streams already")))]
pub(crate) async fn create_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StreamBody>,
) -> Result<Response, ApiError> {
    let client_id = receiver(&state, &headers).await?;
    let (_, request) = body.checked()?;
    let created = ssf::create(&state.db, &client_id, request, state.clock.now()).await?;
    Ok(stream_answer(&state, StatusCode::CREATED, &created))
}

#[derive(Deserialize)]
pub(crate) struct StreamQuery {
    stream_id: Option<String>,
}

/// One stream (`stream_id`), or all of the receiver's.
#[utoipa::path(get, path = "/ssf/streams", tag = "ssf", security(("basic" = [])),
    params(("stream_id" = Option<String>, Query, description = "Absent: every stream of the receiver")),
    responses((status = 200, description = "The stream, or an array of them", body = StreamConfiguration),
              (status = 404, description = "No such stream of this receiver")))]
pub(crate) async fn read_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    let client_id = receiver(&state, &headers).await?;
    match query.stream_id.as_deref() {
        None => {
            let all: Vec<StreamConfiguration> = ssf::list(&state.db, &client_id)
                .await?
                .iter()
                .map(|s| configuration_of(&state, s))
                .collect();
            Ok(no_store(StatusCode::OK, Json(all)))
        }
        Some(raw) => {
            let found = ssf::find(&state.db, &client_id, stream_id(Some(raw))?).await?;
            Ok(stream_answer(&state, StatusCode::OK, &found))
        }
    }
}

/// PATCH and PUT alike: the members given change.
#[utoipa::path(patch, path = "/ssf/streams", tag = "ssf", security(("basic" = [])),
    request_body = StreamBody,
    responses((status = 200, description = "Changed", body = StreamConfiguration),
              (status = 404, description = "No such stream of this receiver")))]
pub(crate) async fn update_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StreamBody>,
) -> Result<Response, ApiError> {
    let client_id = receiver(&state, &headers).await?;
    let (id, request) = body.checked()?;
    let id = stream_id(id.as_deref())?;
    let updated = ssf::update(&state.db, &client_id, id, request, state.clock.now()).await?;
    Ok(stream_answer(&state, StatusCode::OK, &updated))
}

#[utoipa::path(delete, path = "/ssf/streams", tag = "ssf", security(("basic" = [])),
    params(("stream_id" = String, Query, description = "The stream")),
    responses((status = 204, description = "Deleted, with what waited in it"),
              (status = 404, description = "No such stream of this receiver")))]
pub(crate) async fn delete_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<StatusCode, ApiError> {
    let client_id = receiver(&state, &headers).await?;
    ssf::delete(
        &state.db,
        &client_id,
        stream_id(query.stream_id.as_deref())?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct StreamStatus {
    stream_id: String,
    /// `enabled`, `paused` or `disabled`.
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn status_of(stream: &stream::Model) -> StreamStatus {
    StreamStatus {
        stream_id: stream.stream_id.to_string(),
        status: stream.status.clone(),
        reason: stream.status_reason.clone(),
    }
}

#[utoipa::path(get, path = "/ssf/status", tag = "ssf", security(("basic" = [])),
    params(("stream_id" = String, Query, description = "The stream")),
    responses((status = 200, description = "Its status", body = StreamStatus)))]
pub(crate) async fn read_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    let found = own_stream(&state, &headers, query.stream_id.as_deref()).await?;
    Ok(no_store(StatusCode::OK, Json(status_of(&found))))
}

#[utoipa::path(post, path = "/ssf/status", tag = "ssf", security(("basic" = [])),
    request_body = StreamStatus,
    responses((status = 200, description = "The new status", body = StreamStatus),
              (status = 400, description = "Not enabled, paused or disabled")))]
pub(crate) async fn update_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StreamStatus>,
) -> Result<Response, ApiError> {
    let client_id = receiver(&state, &headers).await?;
    let status = Status::parse(&body.status)
        .ok_or_else(|| ApiError::BadRequest("status: enabled, paused or disabled".into()))?;
    let updated = ssf::set_status(
        &state.db,
        &client_id,
        stream_id(Some(&body.stream_id))?,
        status,
        body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(no_store(StatusCode::OK, Json(status_of(&updated))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct VerificationRequest {
    stream_id: String,
    /// Echoed in the verification event.
    state: Option<String>,
}

#[utoipa::path(post, path = "/ssf/verify", tag = "ssf", operation_id = "ssf_verify", security(("basic" = [])),
    request_body = VerificationRequest,
    responses((status = 204, description = "A verification event is in the stream"),
              (status = 400, description = "The stream is disabled")))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VerificationRequest>,
) -> Result<StatusCode, ApiError> {
    let found = own_stream(&state, &headers, Some(&body.stream_id)).await?;
    ssf::verify(
        &state.db,
        &state.keys.ring(),
        &state.config.issuer,
        &found,
        body.state,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// RFC 8936 §2.2: the poll request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PollRequest {
    /// `jti`s processed: they are not sent again.
    #[serde(default)]
    ack: Vec<String>,
    /// `jti`s the receiver could not process, with why (logged; not sent again).
    #[serde(default)]
    set_errs: HashMap<String, Value>,
    /// At most this many SETs (1–100, default 100).
    max_events: Option<u64>,
    /// Accepted; the answer always comes at once.
    #[allow(dead_code)]
    return_immediately: Option<bool>,
}

#[utoipa::path(post, path = "/ssf/poll/{stream_id}", tag = "ssf", operation_id = "ssf_poll", security(("basic" = [])),
    params(("stream_id" = String, Path, description = "The stream")),
    request_body = PollRequest,
    responses((status = 200, description = "{sets: {jti: SET}, moreAvailable}"),
              (status = 404, description = "No such stream of this receiver")))]
pub(crate) async fn poll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<PollRequest>,
) -> Result<Response, ApiError> {
    let found = own_stream(&state, &headers, Some(&raw)).await?;
    if body.ack.len() + body.set_errs.len() > 1000 {
        return Err(ApiError::BadRequest("at most 1000 ack and setErrs".into()));
    }
    for (jti, error) in &body.set_errs {
        let err = error
            .get("err")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        tracing::warn!(stream = %found.stream_id, %jti, err = %err.chars().take(64).collect::<String>(), "an SSF receiver could not process a SET");
    }
    let done: Vec<String> = body
        .ack
        .into_iter()
        .chain(body.set_errs.into_keys())
        .collect();
    let (sets, more) = ssf::poll(
        &state.db,
        &state.keys.ring(),
        &state.config.issuer,
        &found,
        &done,
        body.max_events.unwrap_or(ssf::MAX_EVENTS),
        state.clock.now(),
    )
    .await?;
    let sets: Map<String, Value> = sets
        .into_iter()
        .map(|(jti, set)| (jti, Value::String(set)))
        .collect();
    Ok(no_store(
        StatusCode::OK,
        Json(serde_json::json!({ "sets": sets, "moreAvailable": more })),
    ))
}
