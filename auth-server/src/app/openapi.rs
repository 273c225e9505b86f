//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::health;
use crate::accounts::{admin_routes as admin, routes as users};
use crate::api_keys::routes as api_keys;
use crate::audit::routes as audit;
use crate::clients::routes as clients;
use crate::device::routes as device;
use crate::keys::routes as well_known;
use crate::oauth::{gateway, routes as oauth};
use crate::sessions::routes as sessions;
use crate::ssf::routes as ssf;
use crate::upstream::routes as upstream_identities;

/// The authentication methods: `bearer` (an access token) and `basic`
/// (email and password at login; an API key's client id and secret, or a
/// client's, at the token and introspection endpoints).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An RS256 access token (RFC 9068) from this server"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "Login: email and password. Token and introspection endpoints: an API key (its client id and secret, or the key alone as the password) or a registered client's id and secret",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Signet auth-server", description = "RS256 token authority: users, tokens, public keys."),
    paths(
        health::healthz,
        health::readyz,
        well_known::jwks,
        well_known::openid_configuration,
        sessions::login,
        sessions::login_mfa,
        users::signup,
        users::verify_email,
        users::request_password_reset,
        users::confirm_password_reset,
        users::change_email,
        users::resend_verification,
        upstream_identities::list_identities,
        upstream_identities::unlink_identity,
        users::me,
        users::update_me,
        users::change_password,
        users::delete_me,
        admin::list_users,
        admin::get_user,
        admin::update_user,
        admin::delete_user,
        admin::end_user_sessions,
        api_keys::create_api_key,
        api_keys::list_api_keys,
        api_keys::revoke_api_key,
        clients::register_client,
        clients::list_clients,
        clients::delete_client,
        clients::update_client,
        clients::rotate_client_secret,
        clients::dynamic_registration,
        oauth::token,
        device::device_authorization,
        oauth::par,
        oauth::revoke,
        oauth::userinfo,
        oauth::end_session,
        oauth::list_consents,
        oauth::revoke_consent,
        gateway::introspect,
        gateway::verify,
        sessions::logout,
        sessions::list_sessions,
        sessions::revoke_session,
        audit::list_audit,
        ssf::configuration,
        ssf::create_stream,
        ssf::read_stream,
        ssf::update_stream,
        ssf::delete_stream,
        ssf::read_status,
        ssf::update_status,
        ssf::verify,
        ssf::poll,
    ),
    modifiers(&SecuritySchemes),
)]
pub(crate) struct ApiDoc;

/// The document, with this server's issuer URL as its `servers` entry.
fn document(state: &crate::app::state::AppState) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    document.servers = Some(vec![utoipa::openapi::Server::new(
        state.config.issuer.clone(),
    )]);
    document
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "This document")))]
pub(crate) async fn openapi_json(
    axum::extract::State(state): axum::extract::State<crate::app::state::AppState>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(document(&state))
}

/// The document as a web page (no script, local stylesheet, the pages' CSP).
#[utoipa::path(get, path = "/docs", tag = "meta", responses((status = 200, description = "This API as a web page", content_type = "text/html")))]
pub(crate) async fn docs_page(
    axum::extract::State(state): axum::extract::State<crate::app::state::AppState>,
) -> axum::response::Response {
    signet_service::docs::page(&document(&state))
}
