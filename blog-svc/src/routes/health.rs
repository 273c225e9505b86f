//! Liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the auth server's keys are loaded
/// (from a fetch, or still cached from an earlier one).
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await,
        Ok(Ok(()))
    );
    let keys = state.verifier.status();
    let ready = database && keys.key_count > 0;
    (
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(json!({
            "status": if ready { "ready" } else { "unready" },
            "checks": {
                "database": database,
                "verification_keys": keys.key_count,
                "keys_last_error": keys.last_error,
            },
        })),
    )
}

/// Prometheus metrics: requests by route and status, verification failures by
/// reason, JWKS refreshes.
pub async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    signet_service::metrics::record_verifier(&state.metrics, &state.verifier);
    state.metrics.response()
}
