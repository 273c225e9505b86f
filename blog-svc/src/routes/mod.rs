//! The blog's HTTP surface.

pub mod admin;
pub mod health;
pub mod openapi;
pub mod posts;

use axum::routing::get;
use axum::Router;
use jwt_verify::{require_any_role, require_scope, JwtAuthLayer, ProtectedResource};

use crate::state::AppState;

/// RFC 9728: the blog as a protected resource, when one of its audiences
/// (`AUTH_AUDIENCE`) is a URL.
fn protected_resource(state: &AppState) -> Option<ProtectedResource> {
    signet_service::auth::protected_resource(&state.config.audiences, &state.config.auth_issuer)
        .map(|resource| resource.scopes([posts::WRITE_SCOPE]).name("Blog"))
}

pub fn app(state: AppState) -> Router {
    let resource = protected_resource(&state);
    let metadata = resource.as_ref().map(ProtectedResource::metadata_url);
    let mut authenticated = JwtAuthLayer::new(state.verifier.clone()).realm(posts::REALM);
    // Every write needs `posts:write`, a user's token as much as a service's:
    // a token a user gave an application for "who you are" writes nothing.
    let mut may_write = require_scope(posts::WRITE_SCOPE).realm(posts::REALM);
    let mut admins = require_any_role(["admin"]).realm(posts::REALM);
    if let Some(url) = &metadata {
        authenticated = authenticated.resource_metadata(url.clone());
        may_write = may_write.resource_metadata(url);
        admins = admins.resource_metadata(url);
    }
    let max_body_bytes = state.config.max_body_bytes;
    let access_log = state.config.access_log;
    let metrics = state.metrics.clone();
    // The JSON API, callable from browser applications on CORS_ALLOWED_ORIGINS.
    let api = Router::new()
        .route("/openapi.json", get(openapi::openapi_json))
        .route(
            "/api/v1/posts",
            get(posts::list_posts).merge(
                axum::routing::post(posts::create_post)
                    .route_layer(may_write.clone())
                    .route_layer(authenticated.clone()),
            ),
        )
        .route(
            "/api/v1/posts/{id}",
            get(posts::get_post).merge(
                axum::routing::patch(posts::update_post)
                    .delete(posts::delete_post)
                    .route_layer(may_write)
                    .route_layer(authenticated.clone()),
            ),
        )
        .route(
            "/api/v1/admin/scrape",
            // The role check inside, the token check outside.
            axum::routing::post(admin::scrape_now)
                .route_layer(admins)
                .route_layer(authenticated.clone()),
        );
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
    let routes = signet_service::docs::routes(Router::new(), openapi::docs_page)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(api)
        .merge(crate::web::routes::router())
        .with_state(state);
    signet_service::http::standard_layers(routes, max_body_bytes, access_log, &cors, &metrics)
}
