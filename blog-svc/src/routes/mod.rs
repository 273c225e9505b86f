//! The blog's HTTP surface.

pub mod health;
pub mod posts;

use axum::routing::get;
use axum::Router;
use jwt_verify::JwtAuthLayer;

use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    let authenticated = JwtAuthLayer::new(state.verifier.clone()).realm(posts::REALM);
    let max_body_bytes = state.config.max_body_bytes;
    let metrics = state.metrics.clone();
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/api/v1/posts",
            get(posts::list_posts)
                .merge(axum::routing::post(posts::create_post).route_layer(authenticated.clone())),
        )
        .route(
            "/api/v1/posts/{id}",
            get(posts::get_post).merge(
                axum::routing::patch(posts::update_post)
                    .delete(posts::delete_post)
                    .route_layer(authenticated),
            ),
        )
        .merge(crate::web::routes::router())
        .with_state(state);
    signet_service::http::standard_layers(routes, max_body_bytes, &metrics)
}
