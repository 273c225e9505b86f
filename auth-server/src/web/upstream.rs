//! "Sign in with {provider}" on the sign-in page of `/oauth/authorize`: the
//! start (a redirect to the provider, the flow bound to this browser by a
//! cookie), the callback (the provider's answer, verified), and the page
//! that links a provider's identity to an existing account with that
//! account's password. At the end the authorization request goes on where
//! it left off: consent for a third-party client, the code for a first-party
//! one. Every failure is an error page, and no code is issued.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{CookieJar, SameSite};
use serde_json::json;

use crate::accounts::password::Password;
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::audit::AuditEvent;
use crate::i18n::{t, t1};
use crate::sessions::sign_in::{password_sign_in, Credentials, SignInError};
use crate::upstream::flow::{self, FlowError, Resolution, UpstreamPerson};
use crate::upstream::{Discovery, Upstream};
use crate::web::account_pages::{after_sign_in, SIGN_IN_PATH};
use crate::web::browser::{
    adopt_session, form_page, parse, query_params, see_other, server_error, trusted_form,
};
use crate::web::routes::{checked, grant_or_ask, Authenticated};
use crate::web::{cookie, cookie_names, error_page, error_page_with, random_token};

#[derive(Template)]
#[template(path = "upstream_link.html")]
struct LinkPage<'a> {
    provider: &'a str,
    email: &'a str,
    csrf_token: &'a str,
    action: &'a str,
    error: Option<&'a str>,
}

/// The cookie holding this browser's flow (its `state`, then its parked link).
fn flow_cookie(issuer: &str) -> &'static str {
    if cookie_names(issuer).secure {
        "__Host-signet_upstream"
    } else {
        "signet_upstream"
    }
}

fn refused(error: &FlowError) -> Response {
    let (status, reason) = match error {
        FlowError::Store(_) => return server_error(error),
        FlowError::InvalidState => (StatusCode::BAD_REQUEST, t("upstream-invalid-state")),
        FlowError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, t("upstream-unavailable")),
        FlowError::Refused => (StatusCode::BAD_REQUEST, t("upstream-refused")),
        FlowError::InvalidIdToken => (StatusCode::BAD_REQUEST, t("upstream-invalid-id-token")),
        FlowError::EmailNotVerified => (StatusCode::FORBIDDEN, t("upstream-email-not-verified")),
        FlowError::DomainNotAllowed => (StatusCode::FORBIDDEN, t("upstream-domain-not-allowed")),
        FlowError::Disabled => (StatusCode::FORBIDDEN, t("upstream-disabled")),
    };
    error_page_with(
        status,
        &t("upstream-failed"),
        &t1("upstream-failed.text", "reason", reason),
    )
}

#[allow(clippy::result_large_err)] // the error is the finished response
fn provider<'a>(state: &'a AppState, name: &str) -> Result<&'a Upstream, Response> {
    state
        .upstreams
        .get(name)
        .ok_or_else(|| error_page(StatusCode::NOT_FOUND, "upstream-unknown"))
}

/// `GET /oauth/upstream/{name}/start?{the authorization request}`.
pub(crate) async fn start(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let upstream = match provider(&state, &name) {
        Ok(upstream) => upstream,
        Err(response) => return response,
    };
    let params = match query_params(query.clone()) {
        Ok(params) => params,
        Err(response) => return response,
    };
    // The gateway's sign-in page sends `rd` (a page on a protected origin),
    // the account sign-in `next` (a page of this site's account or console);
    // the authorization endpoint's sends its request.
    if params.contains_key("rd") || params.contains_key("next") {
        if continuation(&state, query.as_deref().unwrap_or_default()).is_none() {
            return error_page(StatusCode::BAD_REQUEST, "error-gateway-link");
        }
    } else if let Err(response) = checked(&state, &params).await {
        return response;
    }
    // Each start writes a row: as limited as password sign-ins.
    if state
        .limiters
        .admit_sign_in(ip.0, &state.metrics, state.clock.now())
        .await
        .is_err()
    {
        return error_page(StatusCode::TOO_MANY_REQUESTS, "upstream-too-many");
    }
    let Discovery::Ready(discovered) = &*upstream.discovery() else {
        return refused(&FlowError::Unavailable);
    };
    let redirect_uri = upstream.redirect_uri(&state.config.issuer);
    match flow::begin(
        &state.db,
        upstream,
        discovered,
        &redirect_uri,
        &query.unwrap_or_default(),
        state.clock.now(),
    )
    .await
    {
        Ok(started) => {
            let secure = cookie_names(&state.config.issuer).secure;
            let jar = jar.add(cookie(
                flow_cookie(&state.config.issuer),
                started.state,
                // Lax: the callback is a top-level navigation from the provider.
                SameSite::Lax,
                secure,
            ));
            (jar, see_other(&started.location)).into_response()
        }
        Err(error) => server_error(error),
    }
}

/// `GET /oauth/upstream/{name}/callback?code=…&state=…`.
pub(crate) async fn callback(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let upstream = match provider(&state, &name) {
        Ok(upstream) => upstream,
        Err(response) => return response,
    };
    let Some(params) = parse(query.unwrap_or_default().as_bytes()) else {
        return refused(&FlowError::InvalidState);
    };
    let cookie_name = flow_cookie(&state.config.issuer);
    let bound = jar.get(cookie_name).map(|c| c.value().to_owned());
    let jar = jar.add(signet_service::web::removal(cookie_name));
    let now = state.clock.now();
    let flow_row = match flow::take(
        &state.db,
        &name,
        bound.as_deref(),
        params.get("state").map(String::as_str).unwrap_or_default(),
        now,
    )
    .await
    {
        Ok(row) => row,
        Err(error) => return (jar, refused(&error)).into_response(),
    };
    if params.contains_key("error") {
        // The person declined at the provider: back to the sign-in page.
        let back = match continuation(&state, &flow_row.request) {
            Some(Continuation::Gateway(back)) => gateway_page(&back, None),
            Some(Continuation::Account(next)) => account_sign_in(&next),
            _ => format!("/oauth/authorize?{}", flow_row.request),
        };
        return (jar, see_other(&back)).into_response();
    }
    let Some(code) = params.get("code") else {
        return (jar, refused(&FlowError::Refused)).into_response();
    };
    let Discovery::Ready(discovered) = &*upstream.discovery() else {
        return (jar, refused(&FlowError::Unavailable)).into_response();
    };
    let http = match crate::upstream::http_client() {
        Ok(http) => http,
        Err(error) => return server_error(error),
    };
    let redirect_uri = upstream.redirect_uri(&state.config.issuer);
    let person =
        match flow::finish(&http, upstream, discovered, &flow_row, code, &redirect_uri).await {
            Ok(person) => person,
            Err(error) => return (jar, refused(&error)).into_response(),
        };
    match flow::resolve(&state.db, upstream, &person, now).await {
        Ok(Resolution::User(user, how)) => {
            signed_in(
                &state,
                ip,
                &headers,
                jar,
                upstream,
                &user,
                &flow_row.request,
                how,
            )
            .await
        }
        Ok(Resolution::NeedsLink { email }) => {
            let parked =
                match flow::park_link(&state.db, upstream, &person, &email, &flow_row.request, now)
                    .await
                {
                    Ok(value) => value,
                    Err(error) => return server_error(error),
                };
            let secure = cookie_names(&state.config.issuer).secure;
            let jar = jar.add(cookie(cookie_name, parked, SameSite::Strict, secure));
            link_page(&state, jar, upstream, &email, StatusCode::OK, None)
        }
        Err(error) => (jar, refused(&error)).into_response(),
    }
}

fn link_page(
    state: &AppState,
    jar: CookieJar,
    upstream: &Upstream,
    email: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let csrf = random_token();
    let action = format!("/oauth/upstream/{}/link", upstream.provider.name);
    let html = LinkPage {
        provider: &upstream.provider.display_name,
        email,
        csrf_token: &csrf,
        action: &action,
        error,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `POST /oauth/upstream/{name}/link`: the existing account's password links
/// the provider's identity to it (and signs in); a wrong one counts toward
/// the account's back-off like any failed sign-in.
pub(crate) async fn link(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let upstream = match provider(&state, &name) {
        Ok(upstream) => upstream,
        Err(response) => return response,
    };
    let mut params = match trusted_form(&state.config.issuer, &jar, &headers, &body) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let now = state.clock.now();
    let cookie_name = flow_cookie(&state.config.issuer);
    let bound = jar.get(cookie_name).map(|c| c.value().to_owned());
    let parked = match flow::parked(&state.db, &name, bound.as_deref(), now).await {
        Ok(row) => row,
        Err(error) => return refused(&error),
    };
    let email = parked.email.clone().unwrap_or_default();
    let password = Password::new(params.remove("password").unwrap_or_default());
    let signed_in_result = password_sign_in(
        &state.db,
        state.password_gate(),
        &state.config.sessions,
        Credentials {
            email: &email,
            password: &password,
            ip: ip.0,
            user_agent: crate::app::client_ip::user_agent(&headers),
            audience: &state.config.account_audience,
            require_verified_email: false,
            mfa_required_roles: &state.config.mfa_required_roles,
            site: None,
        },
        now,
    )
    .await;
    let signed = match signed_in_result {
        Ok(signed) => signed,
        Err(SignInError::InvalidCredentials | SignInError::Refused(_)) => {
            return link_page(
                &state,
                jar,
                upstream,
                &email,
                StatusCode::UNAUTHORIZED,
                Some(&t("upstream-link-wrong")),
            )
        }
        // Linking is one proof; an account with a second factor links
        // from its security page, signed in with both.
        Err(SignInError::SecondFactor(_)) => {
            return error_page(StatusCode::FORBIDDEN, "error-upstream-link-mfa")
        }
        Err(error) => return server_error(error),
    };
    match flow::spend_parked(&state.db, &parked).await {
        Ok(true) => {}
        Ok(false) => return refused(&FlowError::InvalidState),
        Err(error) => return server_error(error),
    }
    let person = UpstreamPerson {
        issuer: upstream.provider.issuer.clone(),
        subject: parked.subject.clone().unwrap_or_default(),
        email: Some(email.clone()),
        email_verified: true,
        name: None,
        hd: None,
    };
    if let Err(error) = flow::link_identity(&state.db, upstream, &person, signed.user.id, now).await
    {
        return server_error(error);
    }
    let user_text = signed.user.id.to_string();
    crate::audit::record(
        &state.db,
        AuditEvent::new("upstream.linked")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip.to_string_opt().as_deref())
            .detail(json!({ "provider": upstream.provider.name })),
    )
    .await;
    let jar = jar.add(signet_service::web::removal(cookie_name));
    continue_to(
        &state,
        jar,
        upstream,
        &signed.user,
        signed.started.session.id,
        &parked.request,
        // This sign-in proved the account's password (the link's condition).
        Authenticated {
            session: Some(signed.started.session.id),
            at: now,
            idp: None,
            methods: &crate::sessions::methods::Methods::password(),
        },
    )
    .await
}

/// A session for `user` signed in through `upstream`, then the
/// authorization request `request` goes on.
#[allow(clippy::too_many_arguments)]
async fn signed_in(
    state: &AppState,
    ip: ClientIp,
    headers: &HeaderMap,
    jar: CookieJar,
    upstream: &Upstream,
    user: &crate::accounts::entity::Model,
    request: &str,
    how: &'static str,
) -> Response {
    let now = state.clock.now();
    let started = match crate::sessions::start(
        &state.db,
        user.id,
        &state.config.sessions,
        crate::sessions::Client {
            user_agent: crate::app::client_ip::user_agent(headers),
            ip: ip.to_string_opt(),
            audience: Some(state.config.account_audience.clone()),
            idp: Some(upstream.provider.issuer.clone()),
            ..crate::sessions::Client::default()
        },
        now,
    )
    .await
    {
        Ok(started) => started,
        Err(error) => return server_error(error),
    };
    let user_text = user.id.to_string();
    crate::audit::record(
        &state.db,
        AuditEvent::new("login.success")
            .actor(&user_text)
            .subject(&user_text)
            .ip(ip.to_string_opt().as_deref())
            .detail(json!({
                "session": started.session.id,
                "via": upstream.provider.name,
                "idp": upstream.provider.issuer,
                "account": how,
            })),
    )
    .await;
    // The account's own second factor still counts: an account with one
    // steps this session up before it is the browser's (the step-up
    // replaces it with one of `fed otp mfa`, the provider kept).
    match crate::mfa::factors(&state.db, user.id).await {
        Ok(factors) if factors.any() => {
            return second_factor_after(state, jar, user, &started.session, request).await
        }
        Ok(_) => {}
        Err(error) => return server_error(error),
    }
    let methods = crate::sessions::methods::Methods::federated(false);
    let auth = Authenticated {
        session: Some(started.session.id),
        at: now,
        idp: Some(&upstream.provider.issuer),
        methods: &methods,
    };
    continue_to(
        state,
        jar,
        upstream,
        user,
        started.session.id,
        request,
        auth,
    )
    .await
}

/// The second-factor page for the session of an upstream sign-in, posting
/// to the page the sign-in continues with. The gateway's continuation has
/// no such page on the issuer's site: there, such an account signs in with
/// its password and second factor instead.
async fn second_factor_after(
    state: &AppState,
    jar: CookieJar,
    user: &crate::accounts::entity::Model,
    session: &crate::sessions::entity::Model,
    request: &str,
) -> Response {
    let (next, params, redirect_uri) = match continuation(state, request) {
        None => return refused(&FlowError::InvalidState),
        Some(Continuation::Gateway(_)) => {
            return error_page(
                StatusCode::FORBIDDEN,
                "error-upstream-second-factor-gateway",
            )
        }
        Some(Continuation::Account(next)) => (Some(next), None, None),
        Some(Continuation::Authorize(query)) => {
            let params = match query_params(Some(query)) {
                Ok(params) => params,
                Err(response) => return response,
            };
            let redirect_uri = match checked(state, &params).await {
                Ok(request) => request.redirect_uri,
                Err(response) => return response,
            };
            (None, Some(params), Some(redirect_uri))
        }
    };
    let form = match (&next, &params) {
        (Some(next), _) => crate::web::account_pages::second_factor_form(state, next),
        (None, params) => crate::web::second_factor::SecondFactorForm {
            site: &state.config.issuer,
            action: "/oauth/authorize",
            request: params
                .as_ref()
                .map(crate::web::routes::carried)
                .unwrap_or_default(),
            form_target: redirect_uri.as_deref(),
        },
    };
    match crate::web::second_factor::step_up(state, jar, user, session, &form).await {
        Some(page) => page,
        None => server_error("a second factor went away during the sign-in"),
    }
}

/// Where a finished upstream sign-in goes on.
enum Continuation {
    /// The authorization request (its query string).
    Authorize(String),
    /// The gateway's sign-in: back to this page on a protected origin.
    Gateway(url::Url),
    /// The account sign-in: on to this page of the account or the console.
    Account(String),
}

/// What `request` (a flow's stored query) continues, if it is usable.
fn continuation(state: &AppState, request: &str) -> Option<Continuation> {
    let params = parse(request.as_bytes())?;
    if let Some(next) = params.get("next") {
        if params.contains_key("client_id") || params.contains_key("rd") {
            return None;
        }
        // Only the account pages and the console; anything else is /account.
        return Some(Continuation::Account(after_sign_in(Some(next)).to_owned()));
    }
    match params.get("rd") {
        Some(rd) if !params.contains_key("client_id") => {
            crate::oauth::forward::allowed_return(&state.config.gateway_origins, rd)
                .map(Continuation::Gateway)
        }
        Some(_) => None,
        None => Some(Continuation::Authorize(request.to_owned())),
    }
}

/// The account sign-in page, leading to `next` afterwards.
fn account_sign_in(next: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    format!("{SIGN_IN_PATH}?{query}")
}

/// The gateway sign-in page of `back`'s origin, with `extra` in its query.
fn gateway_page(back: &url::Url, extra: Option<(&str, &str)>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some((name, value)) = extra {
        query.append_pair(name, value);
    }
    query.append_pair("rd", back.as_str());
    format!(
        "{}{}?{}",
        back.origin().ascii_serialization(),
        crate::oauth::forward::SIGN_IN_PATH,
        query.finish()
    )
}

/// The signed-in `session` of `user` goes on: the authorization request
/// (this browser's session cookie here, then consent or a code), or, for
/// the gateway, a one-time hand-off that the protected site's sign-in page
/// redeems to set that site's own cookie.
#[allow(clippy::too_many_arguments)]
async fn continue_to(
    state: &AppState,
    jar: CookieJar,
    upstream: &Upstream,
    user: &crate::accounts::entity::Model,
    session: uuid::Uuid,
    request: &str,
    auth: Authenticated<'_>,
) -> Response {
    match continuation(state, request) {
        None => refused(&FlowError::InvalidState),
        Some(Continuation::Gateway(back)) => {
            match flow::handoff(
                &state.db,
                &upstream.provider.name,
                session,
                back.as_str(),
                state.clock.now(),
            )
            .await
            {
                Ok(handoff) => {
                    let location = gateway_page(&back, Some(("handoff", &handoff)));
                    (jar, see_other(&location)).into_response()
                }
                Err(error) => server_error(error),
            }
        }
        Some(Continuation::Account(next)) => {
            match adopt_session(state, &state.config.issuer, jar, session).await {
                Ok(jar) => (jar, see_other(&next)).into_response(),
                Err(response) => response,
            }
        }
        Some(Continuation::Authorize(request)) => {
            let jar = match adopt_session(state, &state.config.issuer, jar, session).await {
                Ok(jar) => jar,
                Err(response) => return response,
            };
            go_on(state, jar, user, &request, auth).await
        }
    }
}

async fn go_on(
    state: &AppState,
    jar: CookieJar,
    user: &crate::accounts::entity::Model,
    request: &str,
    auth: Authenticated<'_>,
) -> Response {
    let params = match query_params(Some(request.to_owned())) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let checked_request = match checked(state, &params).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    grant_or_ask(state, jar, &checked_request, &params, user, auth).await
}
