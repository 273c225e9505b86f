//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "The process runs")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the auth server's keys are loaded
/// (from a fetch, or still cached from an earlier one); the revocation
/// feed's health too (see [`signet_service::auth::readiness`]).
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses((status = 200, description = "Database and verification keys ready"), (status = 503, description = "Not ready")))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    signet_service::auth::readiness(&state.db, &state.verifier).await
}

/// Prometheus metrics: requests by route and status, verification failures by
/// reason, JWKS refreshes.
pub async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    signet_service::metrics::record_verifier(&state.metrics, &state.verifier);
    state.metrics.response()
}
