//! `GET`/`POST /oauth/authorize`: the authorization endpoint and its sign-in
//! page (OpenID Connect Core §3.1.2, OAuth 2.1 §4.1).

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::accounts::password::Password;
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::clients;
use crate::i18n::{t, t2};
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError, Prompt};
use crate::oauth::codes::{self, NewCode};
use crate::oauth::consent;
use crate::sessions;
use crate::web::browser::{
    adopt_session, form_page, form_sign_in, query_params, see_other, server_error,
    signed_in_browser, trusted_form, FormRefusal,
};
use crate::web::second_factor::{
    purpose_of, recovery_codes_page, step_up, Given, SecondFactorForm,
};
use crate::web::{
    cookie_names, describe_scope, error_page, error_page_with, random_token, ConsentPage,
    SignInPage, SignUpPage,
};

/// The authorization-request parameters a sign-in form carries back: every
/// one `authorize::check` reads, so the request after the form is the
/// request before it (a `prompt=consent` still shows the consent page).
const CARRIED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "acr_values",
    "resource",
    "audience",
    "request_uri",
];

fn refuse(state: &AppState, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(key) => error_page_with(
            StatusCode::BAD_REQUEST,
            &t("error-bad-sign-in-request"),
            &t(key),
        ),
        AuthorizeError::Redirect {
            redirect_uri,
            error,
            description,
            state: client_state,
        } => see_other(&authorize::redirect_to(
            &redirect_uri,
            &[("error", error), ("error_description", description)],
            client_state.as_deref(),
            &state.config.issuer,
        )),
    }
}

/// Back to the client with `error` (and `state`, `iss`).
fn redirect_error(state: &AppState, request: &AuthorizationRequest, error: &str) -> Response {
    see_other(&authorize::redirect_to(
        &request.redirect_uri,
        &[("error", error)],
        request.state.as_deref(),
        &state.config.issuer,
    ))
}

pub(crate) async fn checked(
    state: &AppState,
    params: &HashMap<String, String>,
) -> Result<AuthorizationRequest, Response> {
    let client = match params.get("client_id") {
        None => None,
        Some(id) => {
            match clients::resolve(&state.db, &state.client_documents, id, state.clock.now()).await
            {
                Ok(client) => client,
                // Nobody can be sent back to a client whose document failed.
                Err(clients::ResolveError::Document(error)) => {
                    return Err(refuse(state, document_refusal(&error)))
                }
                Err(clients::ResolveError::Store(error)) => return Err(server_error(error)),
            }
        }
    };
    // RFC 9126 §4: a pushed request's parameters are the ones that count;
    // a client that requires pushing gets nothing from a plain request.
    let pushed = match (params.get("request_uri"), &client) {
        (Some(request_uri), Some(client)) => {
            match crate::oauth::par::open(
                &state.db,
                &client.client_id,
                request_uri,
                state.clock.now(),
            )
            .await
            {
                Ok(Some(pushed)) => Some(pushed),
                Ok(None) => {
                    return Err(refuse(state, AuthorizeError::Page("authorize-par-expired")))
                }
                Err(error) => return Err(server_error(error)),
            }
        }
        (None, Some(client)) if client.require_par => {
            return Err(refuse(
                state,
                AuthorizeError::Page("authorize-par-required"),
            ))
        }
        _ => None,
    };
    let mut request = authorize::check(pushed.as_ref().unwrap_or(params), client)
        .map_err(|e| refuse(state, e))?;
    request.request_uri = pushed.and(params.get("request_uri").cloned());
    // RFC 8707 §2: a resource this client may not have tokens for.
    if request.resource.as_deref().is_some_and(|resource| {
        !crate::oauth::client_may_request(&state.config, Some(&request.client), resource)
    }) {
        return Err(redirect_error(state, &request, "invalid_target"));
    }
    Ok(request)
}

/// The page shown when a client's metadata document is unusable.
fn document_refusal(error: &clients::documents::DocumentError) -> AuthorizeError {
    use clients::documents::DocumentError;
    match error {
        DocumentError::Disabled => AuthorizeError::Page("authorize-unknown-client"),
        DocumentError::Invalid(_) => AuthorizeError::Page("authorize-document-invalid"),
        _ => AuthorizeError::Page("authorize-document-unavailable"),
    }
}

/// How the browser's user signed in: when, through which upstream
/// provider (`None`: none) and with which methods; the code and its tokens
/// say so.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authenticated<'a> {
    /// The browser session, whose end ends the client's session too.
    pub session: Option<uuid::Uuid>,
    pub at: chrono::DateTime<chrono::Utc>,
    pub idp: Option<&'a str>,
    pub methods: &'a crate::sessions::methods::Methods,
}

impl<'a> Authenticated<'a> {
    /// The sign-in of a live browser session.
    pub(crate) fn of(
        session: &'a sessions::entity::Model,
        methods: &'a crate::sessions::methods::Methods,
    ) -> Self {
        Self {
            session: Some(session.id),
            at: session.created_at,
            idp: session.idp.as_deref(),
            methods,
        }
    }
}

/// A signed-in user's request: a first-party client, or a registered
/// third-party one the user already allowed these scopes (and `prompt` is
/// not `consent`), gets its code; otherwise the consent page (or, with
/// `prompt=none`, `consent_required`). A client known only by its metadata
/// document is asked about every time: nothing vouches that the document
/// at that URL today is the one the user allowed.
pub(crate) async fn grant_or_ask(
    state: &AppState,
    jar: CookieJar,
    request: &AuthorizationRequest,
    params: &HashMap<String, String>,
    user: &crate::accounts::entity::Model,
    auth: Authenticated<'_>,
) -> Response {
    if request.client.first_party {
        return (jar, grant(state, request, user.id, auth).await).into_response();
    }
    let document = clients::documents::is_document_url(&request.client.client_id);
    let allowed = match consent::covers(
        &state.db,
        user.id,
        &request.client.client_id,
        &request.scope,
    )
    .await
    {
        Ok(allowed) => allowed && !document,
        Err(error) => return server_error(error),
    };
    if allowed && request.prompt != Prompt::Consent {
        return (jar, grant(state, request, user.id, auth).await).into_response();
    }
    if request.prompt == Prompt::None {
        return redirect_error(state, request, "consent_required");
    }
    let csrf = random_token();
    let html = ConsentPage {
        action: "/oauth/consent",
        device_code: None,
        described_at: document
            .then(|| url::Url::parse(&request.client.client_id).ok())
            .flatten()
            .and_then(|url| url.host_str().map(str::to_owned)),
        client_name: &request.client.name,
        email: &user.email,
        scopes: request
            .scope
            .split_ascii_whitespace()
            .map(|s| (s.to_owned(), describe_scope(s)))
            .collect(),
        // The one resource asked for, else the ones listed for the client
        // (third-party clients reach only those).
        resources: match &request.resource {
            Some(resource) => vec![resource.clone()],
            None => request
                .client
                .resource_list()
                .into_iter()
                .filter(|r| state.config.audiences.contains(r))
                .collect(),
        },
        csrf_token: &csrf,
        request: carried(params),
    }
    .render();
    form_page(
        &state.config.issuer,
        jar,
        StatusCode::OK,
        html,
        csrf,
        Some(&request.redirect_uri),
    )
}

/// The carried parameters as a query string (links between the pages).
fn query_of(params: &HashMap<String, String>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(carried(params))
        .finish()
}

pub(crate) fn carried(params: &HashMap<String, String>) -> Vec<(String, String)> {
    CARRIED
        .iter()
        .filter_map(|name| params.get(*name).map(|v| ((*name).to_owned(), v.clone())))
        .collect()
}

/// Issue the code and send the browser back to the client.
async fn grant(
    state: &AppState,
    request: &AuthorizationRequest,
    user_id: uuid::Uuid,
    auth: Authenticated<'_>,
) -> Response {
    // A pushed request gives one code (RFC 9126 §4).
    if let Some(request_uri) = &request.request_uri {
        match crate::oauth::par::spend(&state.db, request_uri, state.clock.now()).await {
            Ok(true) => {}
            Ok(false) => return refuse(state, AuthorizeError::Page("authorize-par-expired")),
            Err(error) => return server_error(error),
        }
    }
    let issued = codes::issue(
        &state.db,
        NewCode {
            client_id: &request.client.client_id,
            user_id,
            redirect_uri: &request.redirect_uri,
            scope: &request.scope,
            nonce: request.nonce.as_deref(),
            code_challenge: &request.code_challenge,
            auth_time: auth.at,
            idp: auth.idp,
            resource: request.resource.as_deref(),
            browser_session: auth.session,
            methods: auth.methods,
        },
        state.clock.now(),
    )
    .await;
    match issued {
        Ok(code) => see_other(&authorize::redirect_to(
            &request.redirect_uri,
            &[("code", &code)],
            request.state.as_deref(),
            &state.config.issuer,
        )),
        Err(error) => server_error(error),
    }
}

fn sign_in_page(
    state: &AppState,
    jar: CookieJar,
    request: &AuthorizationRequest,
    params: &HashMap<String, String>,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
) -> Response {
    let csrf = random_token();
    let html = SignInPage {
        client_name: &request.client.name,
        error,
        csrf_token: &csrf,
        request: carried(params),
        email,
        action: "/oauth/authorize",
        signup_query: Some(query_of(params)),
        upstreams: crate::web::upstream_buttons(&state.upstreams, "", &query_of(params)),
        passkeys: state.webauthn.is_some(),
    }
    .render();
    form_page(
        &state.config.issuer,
        jar,
        status,
        html,
        csrf,
        Some(&request.redirect_uri),
    )
}

/// `GET /oauth/authorize`: check the request; a browser signed in here (and
/// not asked to sign in again by `prompt=login` or `max_age`) goes straight
/// back with a code; otherwise the sign-in page.
pub(crate) async fn authorize_get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match query_params(query) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let request = match checked(&state, &params).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let now = state.clock.now();
    let signed_in = match signed_in_browser(&state, &state.config.issuer, &jar).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let fresh_enough = |session: &sessions::entity::Model| {
        request
            .max_age
            .is_none_or(|max_age| (now - session.created_at).num_seconds() <= max_age as i64)
    };
    match signed_in {
        Some((user, session)) if request.prompt != Prompt::Login && fresh_enough(&session) => {
            let methods = session.methods();
            if request.wants_mfa && !methods.is_multi_factor() {
                if let Some(response) = step_up(
                    &state,
                    jar.clone(),
                    &user,
                    &session,
                    &second_factor_form(&state, &request, &params),
                )
                .await
                {
                    return response;
                }
            }
            grant_or_ask(
                &state,
                jar,
                &request,
                &params,
                &user,
                Authenticated::of(&session, &methods),
            )
            .await
        }
        _ if request.prompt == Prompt::None => redirect_error(&state, &request, "login_required"),
        _ => {
            let hint = request.login_hint.clone().unwrap_or_default();
            sign_in_page(&state, jar, &request, &params, StatusCode::OK, None, &hint)
        }
    }
}

/// `POST /oauth/authorize`: the sign-in form. CSRF-checked, then the same
/// password check, limits and audit as the REST login; on success the
/// browser gets its session cookie and goes back with a code.
pub(crate) async fn authorize_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = match trusted_form(&state.config.issuer, &jar, &headers, &body) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let code = params.remove("code");
    let factor_passkey = params.remove("factor_passkey");
    let passkey = params.remove("passkey");
    let email = params.remove("email").unwrap_or_default();
    let password = Password::new(params.remove("password").unwrap_or_default());
    let request = match checked(&state, &params).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let now = state.clock.now();
    let form = second_factor_form(&state, &request, &params);
    let (jar, signed_in) = match (passkey, code) {
        (Some(answer), _) => {
            match crate::web::passkeys::complete(&state, ip, &headers, jar.clone(), &answer).await {
                Ok(done) => done,
                Err(FormRefusal::Again(status, message)) => {
                    return sign_in_page(&state, jar, &request, &params, status, Some(&message), "")
                }
                Err(FormRefusal::SecondFactor(_)) => {
                    return server_error("a passkey is two factors")
                }
                Err(FormRefusal::Failed(response)) => return response,
            }
        }
        (None, code) => match Given::from_form(code.as_ref(), factor_passkey.as_ref()) {
            // The second-factor page's post.
            Some(given) => match form.complete(&state, ip, jar, given).await {
                Ok(done) => done,
                Err(response) => return response,
            },
            None => match form_sign_in(
                &state,
                ip,
                &headers,
                &state.config.issuer,
                &email,
                &password,
            )
            .await
            {
                Ok(signed_in) => (jar, signed_in),
                Err(FormRefusal::SecondFactor(pending)) => {
                    return form
                        .show(
                            &state,
                            jar,
                            Some(&pending.token),
                            &pending.user,
                            purpose_of(&pending),
                            StatusCode::OK,
                            None,
                        )
                        .await
                }
                Err(FormRefusal::Again(status, message)) => {
                    return sign_in_page(
                        &state,
                        jar,
                        &request,
                        &params,
                        status,
                        Some(&message),
                        &email,
                    )
                }
                Err(FormRefusal::Failed(response)) => return response,
            },
        },
    };
    let jar = match adopt_session(
        &state,
        &state.config.issuer,
        jar,
        signed_in.started.session.id,
    )
    .await
    {
        Ok(jar) => jar,
        Err(response) => return response,
    };
    if !signed_in.recovery_codes.is_empty() {
        // An enrolment this sign-in required: its codes, shown once, then
        // the request goes on (signed in now, so without `prompt=login`).
        let next = format!("/oauth/authorize?{}", query_of(&signed_in_again(&params)));
        return recovery_codes_page(jar, &signed_in.recovery_codes, &next);
    }
    let methods = signed_in.started.session.methods();
    let auth = Authenticated {
        session: Some(signed_in.started.session.id),
        at: now,
        idp: signed_in.started.session.idp.as_deref(),
        methods: &methods,
    };
    grant_or_ask(&state, jar, &request, &params, &signed_in.user, auth).await
}

/// The second-factor page of the authorization endpoint's sign-in.
fn second_factor_form<'a>(
    state: &'a AppState,
    request: &'a AuthorizationRequest,
    params: &HashMap<String, String>,
) -> SecondFactorForm<'a> {
    SecondFactorForm {
        site: &state.config.issuer,
        action: "/oauth/authorize",
        request: carried(params),
        form_target: Some(&request.redirect_uri),
    }
}

/// The request's parameters once the browser has signed in: `prompt=login`
/// is satisfied and dropped, so going on does not ask again.
fn signed_in_again(params: &HashMap<String, String>) -> HashMap<String, String> {
    let mut params = params.clone();
    if params.get("prompt").map(String::as_str) == Some("login") {
        params.remove("prompt");
    }
    params
}

/// `POST /oauth/consent`: the consent form. CSRF-checked; the browser must
/// still be signed in. Allow remembers the consent and sends back a code;
/// deny sends back `access_denied`.
pub(crate) async fn consent_post(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match trusted_form(&state.config.issuer, &jar, &headers, &body) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let request = match checked(&state, &params).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let now = state.clock.now();
    let signed_in = match signed_in_browser(&state, &state.config.issuer, &jar).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some((user, session)) = signed_in else {
        return error_page(StatusCode::FORBIDDEN, "error-signed-out");
    };
    let names = cookie_names(&state.config.issuer);
    let jar = jar.add(signet_service::web::removal(names.csrf));
    if params.get("decision").map(String::as_str) != Some("allow") {
        return (jar, redirect_error(&state, &request, "access_denied")).into_response();
    }
    if let Err(error) = consent::grant(
        &state.db,
        user.id,
        &request.client.client_id,
        &request.scope,
        now,
    )
    .await
    {
        return server_error(error);
    }
    let methods = session.methods();
    (
        jar,
        grant(
            &state,
            &request,
            user.id,
            Authenticated::of(&session, &methods),
        )
        .await,
    )
        .into_response()
}

fn sign_up_page(
    state: &AppState,
    jar: CookieJar,
    request: &AuthorizationRequest,
    params: &HashMap<String, String>,
    status: StatusCode,
    errors: Vec<String>,
) -> Response {
    let csrf = random_token();
    let html = SignUpPage {
        client_name: &request.client.name,
        errors,
        csrf_token: &csrf,
        request: carried(params),
        email: params.get("email").map(String::as_str).unwrap_or_default(),
        display_name: params
            .get("display_name")
            .map(String::as_str)
            .unwrap_or_default(),
        query: query_of(params),
    }
    .render();
    form_page(
        &state.config.issuer,
        jar,
        status,
        html,
        csrf,
        Some(&request.redirect_uri),
    )
}

/// `GET /oauth/signup`: the sign-up page, for the same authorization request.
pub(crate) async fn signup_get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match query_params(query) {
        Ok(params) => params,
        Err(response) => return response,
    };
    match checked(&state, &params).await {
        Ok(request) => sign_up_page(&state, jar, &request, &params, StatusCode::OK, Vec::new()),
        Err(response) => response,
    }
}

/// `POST /oauth/signup`: CSRF-checked, the same rules and per-IP limit as
/// the REST sign-up, and the same outcome whether or not the address is
/// registered: a page that says to check the mailbox, with a link back to
/// sign in and continue the authorization request. (Signing a new account
/// straight in would tell a stranger that the address was free.)
pub(crate) async fn signup_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = match trusted_form(&state.config.issuer, &jar, &headers, &body) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let password = Password::new(params.remove("password").unwrap_or_default());
    let request = match checked(&state, &params).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    if state
        .limiters
        .signup_per_ip
        .admit_ip(ip.0, &state.metrics, state.clock.now())
        .await
        .is_err()
    {
        let errors = vec![super::too_many_attempts()];
        return sign_up_page(
            &state,
            jar,
            &request,
            &params,
            StatusCode::TOO_MANY_REQUESTS,
            errors,
        );
    }
    let email = params.get("email").cloned().unwrap_or_default();
    let signed_up = crate::accounts::email::sign_up(
        &state.db,
        &state.hasher,
        state.outgoing(),
        crate::accounts::NewUser {
            email,
            password,
            display_name: params.get("display_name").cloned(),
            roles: Vec::new(),
        },
        ip.0,
        state.clock.now(),
    )
    .await;
    match signed_up {
        Ok(()) => {}
        Err(crate::accounts::email::EmailError::Account(
            crate::accounts::AccountError::Invalid(fields),
        )) => {
            let errors = fields
                .iter()
                .map(|f| {
                    t2(
                        "sign-up-field-error",
                        ("field", crate::web::field_label(&f.field)),
                        ("message", crate::web::field_reason(f)),
                    )
                })
                .collect();
            return sign_up_page(
                &state,
                jar,
                &request,
                &params,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            );
        }
        Err(error) => return server_error(error),
    }
    let sign_in = format!("/oauth/authorize?{}", query_of(&params));
    crate::web::notice_page_with(
        StatusCode::OK,
        &t("check-inbox"),
        &t("sign-up-sent"),
        Some((&sign_in, &t("sign-in-submit"))),
    )
}
