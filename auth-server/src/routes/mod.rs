//! The HTTP surface: `app(state)` builds the same router for `main` and the tests.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod gateway;
pub mod health;
pub mod oauth;
pub mod openapi;
pub mod sessions;
pub mod users;
pub mod well_known;

use axum::routing::{get, patch, post};
use axum::Router;
use jwt_verify::{require_any_role, JwtAuthLayer};
use tower::ServiceBuilder;

use crate::state::AppState;

pub const REALM: &str = "signet";

pub fn app(state: AppState) -> Router {
    let authenticated = JwtAuthLayer::new(state.verifier.clone()).realm(REALM);
    let admin = ServiceBuilder::new()
        .layer(authenticated.clone())
        .layer(require_any_role(["admin"]).realm(REALM));
    let max_body_bytes = state.config.max_body_bytes;
    let metrics = state.metrics.clone();
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(well_known::openid_configuration),
        )
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/oauth/introspect", post(gateway::introspect))
        .route(
            "/api/v1/auth/verify",
            // `any` is a fallback for every method: `layer`, not `route_layer`, covers it.
            axum::routing::any(gateway::verify).layer(authenticated.clone()),
        )
        .route(
            "/api/v1/auth/logout",
            post(auth::logout).route_layer(authenticated.clone()),
        )
        .route(
            "/api/v1/users/me/sessions",
            get(sessions::list_sessions).route_layer(authenticated.clone()),
        )
        .route(
            "/api/v1/users/me/sessions/{id}",
            axum::routing::delete(sessions::revoke_session).route_layer(authenticated.clone()),
        )
        .route(
            "/api/v1/audit",
            get(audit::list_audit).route_layer(admin.clone()),
        )
        .route(
            "/api/v1/api-keys",
            get(api_keys::list_api_keys)
                .post(api_keys::create_api_key)
                .route_layer(admin.clone()),
        )
        .route(
            "/api/v1/api-keys/{id}",
            axum::routing::delete(api_keys::revoke_api_key).route_layer(admin.clone()),
        )
        .route(
            "/api/v1/users",
            get(admin::list_users)
                .route_layer(admin.clone())
                .post(users::signup),
        )
        .route(
            "/api/v1/users/me",
            get(users::me)
                .delete(users::delete_me)
                .route_layer(authenticated.clone()),
        )
        .route(
            "/api/v1/users/me/password",
            patch(users::change_password).route_layer(authenticated),
        )
        .route(
            "/api/v1/users/{id}",
            get(admin::get_user)
                .patch(admin::update_user)
                .delete(admin::delete_user)
                .route_layer(admin),
        )
        .with_state(state);
    signet_service::http::standard_layers(routes, max_body_bytes, &metrics)
}
