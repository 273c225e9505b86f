//! The HTTP surface: `app(state)` builds the same router for `main` and the tests.

pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod health;
pub mod oauth;
pub mod openapi;
pub mod users;
pub mod well_known;

use std::any::Any;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, patch, post};
use axum::Router;
use jwt_verify::{require_any_role, JwtAuthLayer};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::{log_server_errors, problem_response, InternalCause};
use crate::state::AppState;

pub const REALM: &str = "signet";

async fn not_found() -> Response {
    problem_response(
        StatusCode::NOT_FOUND,
        "not-found",
        Some("no route for this path".into()),
        Vec::new(),
    )
}

async fn method_not_allowed() -> Response {
    problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        Some("this method is not allowed on this path".into()),
        Vec::new(),
    )
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    let mut response = problem_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        Some("internal error".into()),
        Vec::new(),
    );
    response
        .extensions_mut()
        .insert(InternalCause(Arc::new(format!("panic: {message}"))));
    response
}

pub fn app(state: AppState) -> Router {
    let authenticated = JwtAuthLayer::new(state.verifier.clone()).realm(REALM);
    let admin = ServiceBuilder::new()
        .layer(authenticated.clone())
        .layer(require_any_role(["admin"]).realm(REALM));
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(well_known::openid_configuration),
        )
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/oauth/token", post(oauth::token))
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
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(middleware::from_fn(log_server_errors))
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(state)
}
