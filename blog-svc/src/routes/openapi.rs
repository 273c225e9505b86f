//! blog-svc's OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::extract::State;
use axum::Json;
use utoipa::OpenApi;

use super::{admin, health, posts};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Signet blog-svc",
        description = "Posts, written with tokens verified locally (jwt-verify)."
    ),
    paths(
        health::healthz,
        health::readyz,
        posts::list_posts,
        posts::get_post,
        posts::create_post,
        posts::update_post,
        posts::delete_post,
        admin::scrape_now,
        openapi_json,
        docs_page,
    )
)]
pub(crate) struct ApiDoc;

/// The document, with the blog's public URL as its server.
fn document(state: &AppState) -> utoipa::openapi::OpenApi {
    signet_service::http::openapi_document(ApiDoc::openapi(), &state.web.public_url)
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "This document")))]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(document(&state))
}

/// The document as a web page (no script, local stylesheet, the pages' CSP).
#[utoipa::path(get, path = "/docs", tag = "meta", responses((status = 200, description = "This API as a web page", content_type = "text/html")))]
pub(crate) async fn docs_page(State(state): State<AppState>) -> axum::response::Response {
    signet_service::docs::page(&document(&state))
}
