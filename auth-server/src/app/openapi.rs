//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::health;
use crate::accounts::{admin_routes as admin, routes as users};
use crate::api_keys::routes as api_keys;
use crate::audit::routes as audit;
use crate::clients::routes as clients;
use crate::keys::routes as well_known;
use crate::oauth::{gateway, routes as oauth};
use crate::sessions::routes as sessions;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
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
        users::signup,
        users::me,
        users::change_password,
        users::delete_me,
        admin::list_users,
        admin::get_user,
        admin::update_user,
        admin::delete_user,
        api_keys::create_api_key,
        api_keys::list_api_keys,
        api_keys::revoke_api_key,
        clients::register_client,
        clients::list_clients,
        clients::delete_client,
        oauth::token,
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
    ),
    modifiers(&BearerAuth),
)]
pub(crate) struct ApiDoc;

#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "This document")))]
pub(crate) async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
