//! The application: state, start-up, the cross-cutting pieces (client IP,
//! the account guard, rate limits, retention, database), and `app(state)`,
//! which assembles every feature's routes into the same router for `main`
//! and the tests.

pub(crate) mod client_ip;
pub mod clock;
pub mod db;
pub(crate) mod errors;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub mod rate_limit;
pub mod retention;
pub mod startup;
pub mod state;

use crate::accounts::{admin_routes as admin, routes as users};
use crate::api_keys::routes as api_keys;
use crate::audit::routes as audit;
use crate::clients::routes as clients;
use crate::device::routes as device;
use crate::events::routes as security_events;
use crate::keys::routes as well_known;
use crate::oauth::{gateway, routes as oauth};
use crate::sessions::routes as sessions;
use crate::ssf::routes as ssf;
use crate::upstream::routes as upstream_identities;
use crate::web::account as web_account;
use crate::web::account_pages as web_account_pages;
use crate::web::admin_clients as web_clients;
use crate::web::admin_keys as web_keys;
use crate::web::admin_pages as web_admin;
use crate::web::gateway as web_gateway;
use crate::web::routes as web;
use crate::web::upstream as web_upstream;

use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::routing::{get, patch, post};
use axum::Router;
use jwt_verify::JwtAuthLayer;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::state::AppState;

pub use guard::REALM;

/// The paths browsers on `CORS_ALLOWED_ORIGINS` may call.
const CROSS_ORIGIN_PATHS: [&str; 9] = [
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/openapi.json",
    "/oauth/token",
    "/oauth/device_authorization",
    "/oauth/par",
    "/oauth/revoke",
    "/oauth/userinfo",
];

pub fn app(state: AppState) -> Router {
    let verified = JwtAuthLayer::new(state.keys.verifier().clone()).realm(REALM);
    let max_body_bytes = state.config.max_body_bytes;
    let access_log = state.config.access_log;
    let metrics = state.metrics.clone();

    // What a browser application on another origin calls (CORS_ALLOWED_ORIGINS,
    // `CROSS_ORIGIN_PATHS`): discovery, keys, the API description, and the
    // OAuth endpoints a public client uses (token, revocation, userinfo).
    let cross_origin = Router::new()
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(well_known::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(well_known::openid_configuration),
        )
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/oauth/token", post(oauth::token))
        .route(
            "/oauth/device_authorization",
            post(device::device_authorization),
        )
        .route("/oauth/par", post(oauth::par))
        .route("/oauth/register", post(clients::dynamic_registration))
        .route("/oauth/revoke", post(oauth::revoke))
        // OIDC Core §5.3: any access token of ours with `openid`, whatever
        // its audience; the handler checks the scope and that the session lives.
        .route(
            "/oauth/userinfo",
            get(oauth::userinfo)
                .post(oauth::userinfo)
                .layer(verified.clone()),
        );
    let cors = signet_service::http::Cors {
        origins: state.config.cors.clone(),
        applies_to: |path| CROSS_ORIGIN_PATHS.contains(&path),
    };

    // Anyone: discovery, health, sign-up, login and the OAuth endpoints (which
    // authenticate their clients themselves).
    let public = signet_service::docs::routes(Router::new(), openapi::docs_page)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(cross_origin)
        .route("/api/v1/auth/login", post(sessions::login))
        .route("/api/v1/auth/login/mfa", post(sessions::login_mfa))
        .route("/api/v1/users", post(users::signup))
        .route("/api/v1/auth/verify-email", post(users::verify_email))
        .route(
            "/api/v1/auth/password-reset",
            post(users::request_password_reset),
        )
        .route(
            "/api/v1/auth/password-reset/confirm",
            post(users::confirm_password_reset),
        )
        .route("/oauth/introspect", post(gateway::introspect))
        .route("/api/v1/security-events", get(security_events::feed))
        .route("/.well-known/ssf-configuration", get(ssf::configuration))
        .route(
            "/ssf/streams",
            post(ssf::create_stream)
                .get(ssf::read_stream)
                .patch(ssf::update_stream)
                .put(ssf::update_stream)
                .delete(ssf::delete_stream),
        )
        .route(
            "/ssf/status",
            get(ssf::read_status).post(ssf::update_status),
        )
        .route("/ssf/verify", post(ssf::verify))
        .route("/ssf/poll/{stream_id}", post(ssf::poll))
        .route(
            "/api/v1/auth/verify",
            // `any` is a fallback for every method: `layer`, not `route_layer`, covers it.
            // A bearer token is verified locally (no database): gateways call
            // it on every request. Without one, a browser's session cookie
            // may answer (GATEWAY_PROTECTED_ORIGINS).
            axum::routing::any(gateway::verify)
                .layer(JwtAuthLayer::optional(state.keys.verifier().clone()).realm(REALM)),
        )
        .route(
            "/oauth/authorize",
            get(web::authorize_get).post(web::authorize_post),
        )
        .route("/oauth/consent", post(web::consent_post))
        .route(
            crate::oauth::forward::SIGN_IN_PATH,
            get(web_gateway::sign_in_get).post(web_gateway::sign_in_post),
        )
        .route("/assets/{file}", get(crate::web::asset))
        .route("/oauth/signup", get(web::signup_get).post(web::signup_post))
        .route("/oauth/upstream/{name}/start", get(web_upstream::start))
        .route(
            "/oauth/upstream/{name}/callback",
            get(web_upstream::callback),
        )
        .route("/oauth/upstream/{name}/link", post(web_upstream::link))
        .route("/account", get(web_account_pages::home))
        .route(
            crate::web::account_pages::SIGN_IN_PATH,
            get(web_account_pages::sign_in_get).post(web_account_pages::sign_in_post),
        )
        .route(
            crate::web::DEVICE_PATH,
            get(crate::web::device::device_get).post(crate::web::device::device_post),
        )
        .route("/device/decision", post(crate::web::device::decision_post))
        .route("/account/sign-out", post(web_account_pages::sign_out))
        .route("/account/profile", post(web_account_pages::profile))
        .route(
            crate::web::account_security::SECURITY_PATH,
            get(crate::web::account_security::page),
        )
        .route(
            "/account/security/totp",
            post(crate::web::account_security::confirm_totp),
        )
        .route(
            "/account/security/totp/remove",
            post(crate::web::account_security::remove_totp),
        )
        .route(
            "/account/security/passkeys/options",
            post(crate::web::account_security::passkey_options),
        )
        .route(
            "/account/security/passkeys",
            post(crate::web::account_security::add_passkey),
        )
        .route(
            "/account/security/passkeys/remove",
            post(crate::web::account_security::remove_passkey),
        )
        .route(
            "/sign-in/passkey/second-factor/options",
            post(crate::web::second_factor::passkey_options),
        )
        .route(
            crate::web::passkeys::SIGN_IN_OPTIONS_PATH,
            post(crate::web::passkeys::sign_in_options),
        )
        .route(
            "/account/security/recovery-codes",
            post(crate::web::account_security::replace_recovery_codes),
        )
        .route("/account/password", post(web_account_pages::password))
        .route("/account/email", post(web_account_pages::change_email))
        .route(
            "/account/sessions/end",
            post(web_account_pages::end_session),
        )
        .route(
            "/account/sessions/end-others",
            post(web_account_pages::end_other_sessions),
        )
        .route("/account/apps/remove", post(web_account_pages::remove_app))
        .route("/admin", get(web_admin::home))
        .route("/admin/users", get(web_admin::users))
        .route("/admin/users/{id}", get(web_admin::user))
        .route("/admin/users/{id}/{action}", post(web_admin::user_action))
        .route("/admin/audit", get(web_admin::audit))
        .route("/admin/api-keys", get(web_keys::api_keys))
        .route("/admin/api-keys/create", post(web_keys::api_key_create))
        .route("/admin/api-keys/revoke", post(web_keys::api_key_revoke))
        .route("/admin/clients", get(web_clients::clients_list))
        .route(
            "/admin/clients/register",
            post(web_clients::client_register),
        )
        .route("/admin/clients/{client_id}", get(web_clients::client_view))
        .route(
            "/admin/clients/{client_id}/{action}",
            post(web_clients::client_action),
        )
        .route("/admin/keys", get(web_keys::signing_keys))
        .route("/admin/keys/rotate", post(web_keys::signing_key_rotate))
        .route(
            "/admin/keys/compromise",
            post(web_keys::signing_key_compromise),
        )
        .route(
            "/account/verify-email",
            get(web_account::verify_email_get).post(web_account::verify_email_post),
        )
        .route(
            "/account/password-reset",
            get(web_account::password_reset_get).post(web_account::password_reset_post),
        )
        .route(
            "/account/password-reset/confirm",
            get(web_account::password_reset_confirm_get)
                .post(web_account::password_reset_confirm_post),
        )
        .route(
            "/oauth/logout",
            get(oauth::end_session).post(oauth::end_session),
        );

    // A signed-in user of a live account and session, with a token for this API.
    let account = Router::new()
        .route("/api/v1/users/me/consents", get(oauth::list_consents))
        .route(
            "/api/v1/users/me/consents/{client_id}",
            axum::routing::delete(oauth::revoke_consent),
        )
        .route("/api/v1/users/me/sessions", get(sessions::list_sessions))
        .route(
            "/api/v1/users/me/sessions/{id}",
            axum::routing::delete(sessions::revoke_session),
        )
        .route(
            "/api/v1/users/me",
            get(users::me)
                .patch(users::update_me)
                .delete(users::delete_me),
        )
        .route("/api/v1/users/me/password", patch(users::change_password))
        .route("/api/v1/account/email", post(users::change_email))
        .route(
            "/api/v1/account/identities",
            get(upstream_identities::list_identities),
        )
        .route(
            "/api/v1/account/identities/{provider}",
            axum::routing::delete(upstream_identities::unlink_identity),
        )
        .route(
            "/api/v1/account/email/verification",
            post(users::resend_verification),
        );

    // The same, and the account holds `admin` now (the token's `roles` alone is not enough).
    let admin = Router::new()
        .route("/api/v1/audit", get(audit::list_audit))
        .route(
            "/api/v1/api-keys",
            get(api_keys::list_api_keys).post(api_keys::create_api_key),
        )
        .route(
            "/api/v1/api-keys/{id}",
            axum::routing::delete(api_keys::revoke_api_key),
        )
        .route(
            "/api/v1/clients",
            get(clients::list_clients).post(clients::register_client),
        )
        .route(
            "/api/v1/clients/{client_id}",
            axum::routing::delete(clients::delete_client).patch(clients::update_client),
        )
        .route(
            "/api/v1/clients/{client_id}/secret",
            post(clients::rotate_client_secret),
        )
        .route("/api/v1/users", get(admin::list_users))
        .route(
            "/api/v1/users/{id}",
            get(admin::get_user)
                .patch(admin::update_user)
                .delete(admin::delete_user),
        )
        .route(
            "/api/v1/users/{id}/sessions",
            axum::routing::delete(admin::end_user_sessions),
        )
        .route_layer(middleware::from_fn(guard::require_admin));

    let protected = account.merge(admin).route_layer(
        ServiceBuilder::new()
            // Personal data: never kept by a browser or a shared cache.
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            ))
            .layer(verified.clone())
            .layer(middleware::from_fn_with_state(
                state.clone(),
                guard::require_account,
            )),
    );

    // Ending one's own session: any of the user's own access tokens, whatever
    // its audience (the default login's service token too).
    let own_session = Router::new()
        .route("/api/v1/auth/logout", post(sessions::logout))
        .route_layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                .layer(verified)
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    guard::require_own_session,
                )),
        );

    let brand = state.brand.clone();
    let locale = crate::web::locale::LocaleSettings::new(
        &state.config.issuer,
        &state.config.brand.default_locale,
    );
    let routes = public
        .merge(protected)
        .merge(own_session)
        .with_state(state)
        // Every page rendered for a request wears this server's brand.
        .layer(middleware::from_fn_with_state(
            brand,
            crate::web::brand::scope,
        ))
        // … and speaks the language chosen for it.
        .layer(middleware::from_fn_with_state(
            locale,
            crate::web::locale::scope,
        ));
    signet_service::http::standard_layers(routes, max_body_bytes, access_log, &cors, &metrics)
}
