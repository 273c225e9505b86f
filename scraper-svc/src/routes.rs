//! scraper-svc's own API, protected with jwt-verify (role `admin`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use jwt_verify::{require_any_role, Claims, JwtAuthLayer};
use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower::ServiceBuilder;
use uuid::Uuid;

use crate::entity::scrape_run;
use crate::error::{ApiError, ApiJson, ApiQuery, FieldError};
use crate::scrape::{self, RunError, RunRefused};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: Uuid,
    pub trigger: String,
    pub status: String,
    pub sources_total: i32,
    pub sources_failed: i32,
    pub items_found: i32,
    pub items_pushed: i32,
    pub errors: Vec<RunError>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The user who asked for a manual run.
    pub requested_by: Option<String>,
    /// The service that asked for them (an exchanged token's `act.sub`).
    pub requested_via: Option<String>,
}

impl From<scrape_run::Model> for RunView {
    fn from(run: scrape_run::Model) -> Self {
        Self {
            errors: serde_json::from_str(&run.errors).unwrap_or_default(),
            id: run.id,
            trigger: run.trigger,
            status: run.status,
            sources_total: run.sources_total,
            sources_failed: run.sources_failed,
            items_found: run.items_found,
            items_pushed: run.items_pushed,
            started_at: run.started_at,
            finished_at: run.finished_at,
            requested_by: run.requested_by,
            requested_via: run.requested_via,
        }
    }
}

#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "The process runs")))]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses((status = 200, description = "Database and verification keys ready"), (status = 503, description = "Not ready")))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    signet_service::auth::readiness(&state.db, &state.verifier).await
}

/// Prometheus metrics: requests, runs by status, items pushed, verification failures.
pub async fn metrics_text(State(state): State<AppState>) -> axum::response::Response {
    signet_service::metrics::record_verifier(&state.metrics, &state.verifier);
    state.metrics.response()
}

/// Run a scrape now and answer with its record, which names the user who
/// asked and, for a token another service exchanged for theirs, that
/// service (RFC 8693 `act`).
#[utoipa::path(post, path = "/api/v1/scrape", tag = "scrape", security(("bearer" = [])),
    responses((status = 200, description = "The run record", body = RunView),
              (status = 401, description = "No or bad token (RFC 6750)", body = signet_service::error::Problem),
              (status = 403, description = "Not an admin", body = signet_service::error::Problem),
              (status = 409, description = "A run is under way", body = signet_service::error::Problem)))]
async fn scrape_now(
    State(state): State<AppState>,
    claims: Claims,
) -> Result<ApiJson<RunView>, ApiError> {
    let requester = scrape::Requester {
        user: claims.sub.as_deref(),
        via: claims.actor(),
    };
    match scrape::run(
        &state.scraper,
        &state.db,
        &state.metrics,
        "manual",
        requester,
    )
    .await
    {
        Ok(run) => Ok(ApiJson(run.into())),
        Err(RunRefused::Busy) => Err(ApiError::Conflict(
            "a scrape run is already in progress".into(),
        )),
        Err(RunRefused::Database(error)) => Err(error.into()),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RunsParams {
    /// How many runs, 1–200 (default 50).
    limit: Option<u64>,
}

/// The most recent runs, newest first.
#[utoipa::path(get, path = "/api/v1/scrape/runs", tag = "scrape", security(("bearer" = [])), params(RunsParams),
    responses((status = 200, body = [RunView]),
              (status = 403, description = "Not an admin", body = signet_service::error::Problem)))]
async fn list_runs(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<RunsParams>,
) -> Result<ApiJson<Vec<RunView>>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "limit",
            "must be between 1 and 200",
        )]));
    }
    let runs = scrape_run::Entity::find()
        .order_by_desc(scrape_run::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    Ok(ApiJson(runs.into_iter().map(RunView::from).collect()))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Signet scraper-svc",
        description = "Scrapes feeds and pages into blog-svc; its API is for admins."
    ),
    paths(healthz, readyz, scrape_now, list_runs, openapi_json, docs_page)
)]
struct ApiDoc;

/// The document, with the URL clients address the scraper by as its server.
fn document(state: &AppState) -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    signet_service::http::openapi_document(ApiDoc::openapi(), &state.public_url)
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "This document")))]
async fn openapi_json(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(document(&state))
}

/// The document as a web page (no script, local stylesheet, the pages' CSP).
#[utoipa::path(get, path = "/docs", tag = "meta", responses((status = 200, description = "This API as a web page", content_type = "text/html")))]
async fn docs_page(State(state): State<AppState>) -> axum::response::Response {
    signet_service::docs::page(&document(&state))
}

pub fn app(state: AppState) -> Router {
    // RFC 9728, when an `AUTH_AUDIENCE` value is a URL: the metadata
    // document, and every challenge of the API names it.
    let resource = signet_service::auth::protected_resource(
        &state.config.audiences,
        &state.config.auth_issuer,
    )
    .map(|resource| resource.name("Scraper"));
    let mut authenticated = JwtAuthLayer::new(state.verifier.clone()).realm("scraper");
    let mut admins = require_any_role(["admin"]).realm("scraper");
    if let Some(resource) = &resource {
        let url = resource.metadata_url();
        admins = admins.resource_metadata(&url);
        authenticated = authenticated.resource_metadata(url);
    }
    let admin = ServiceBuilder::new().layer(authenticated).layer(admins);
    let max_body_bytes = state.config.max_body_bytes;
    let access_log = state.config.access_log;
    let metrics = state.metrics.clone();
    // The JSON API, callable from browser applications on CORS_ALLOWED_ORIGINS.
    let api = Router::new()
        .route("/openapi.json", get(openapi_json))
        .route(
            "/api/v1/scrape",
            post(scrape_now).route_layer(admin.clone()),
        )
        .route("/api/v1/scrape/runs", get(list_runs).route_layer(admin));
    let api = match &resource {
        Some(resource) => api.merge(resource.router()),
        None => api,
    };
    let cors = signet_service::http::Cors {
        origins: state.config.cors.clone(),
        applies_to: |path| {
            path.starts_with("/api/")
                || path == "/openapi.json"
                || signet_service::auth::is_resource_metadata_path(path)
        },
    };
    let routes = signet_service::docs::routes(Router::new(), docs_page)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api)
        .with_state(state);
    signet_service::http::standard_layers(routes, max_body_bytes, access_log, &cors, &metrics)
}
