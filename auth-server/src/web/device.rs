//! The `/device` page (RFC 8628 §3.3): a person signed in here types the
//! code their device shows, sees which application asks for what (the
//! consent page, with the code to compare), and allows or denies it. The
//! device, polling the token endpoint, then gets its tokens or
//! `access_denied`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::accounts::ip_text;
use crate::app::client_ip::ClientIp;
use crate::app::state::AppState;
use crate::audit::{self, AuditEvent};
use crate::clients;
use crate::device::{self, Decision};
use crate::i18n::t;
use crate::web::account_pages::{account_form, signed_in, SignedIn, SIGN_IN_PATH};
use crate::web::browser::{form_page, query_params, see_other, server_error};
use crate::web::{describe_scope, notice_page, random_token, too_many_attempts, ConsentPage};

use crate::web::DEVICE_PATH;

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    code: &'a str,
    error: Option<String>,
    csrf_token: &'a str,
}

fn code_page(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    code: &str,
    error: Option<String>,
) -> Response {
    let csrf = random_token();
    let html = DevicePage {
        code,
        error,
        csrf_token: &csrf,
    }
    .render();
    form_page(&state.config.issuer, jar, status, html, csrf, None)
}

/// `GET /device[?user_code=…]`: the code form (filled in from a
/// `verification_uri_complete` link); signed out, the sign-in page first.
pub(crate) async fn device_get(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match query_params(query) {
        Ok(params) => params,
        Err(response) => return response,
    };
    // Only a well-formed code is carried, so the link says nothing else.
    let code = params
        .get("user_code")
        .and_then(|typed| device::normalise_user_code(typed))
        .map(|code| device::display_user_code(&code))
        .unwrap_or_default();
    match signed_in(&state, &jar).await {
        Ok(Some(_)) => code_page(&state, jar, StatusCode::OK, &code, None),
        Ok(None) => {
            let back = if code.is_empty() {
                DEVICE_PATH.to_owned()
            } else {
                format!("{DEVICE_PATH}?user_code={}", code.replace('-', ""))
            };
            let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
            see_other(&format!("{SIGN_IN_PATH}?next={next}"))
        }
        Err(response) => response,
    }
}

/// The pending request a posted code names, and its client; else the page
/// to answer (the form again with why, or a limit reached).
async fn pending_request(
    state: &AppState,
    ip: ClientIp,
    jar: &CookieJar,
    typed: &str,
) -> Result<(device::entity::Model, clients::entity::Model), Response> {
    // Each guess comes out of the client's sign-in bucket: with 2^34 codes
    // and ten minutes each, guessing one is hopeless at that rate.
    if !crate::web::browser::admit_password_check(state, ip).await {
        return Err(code_page(
            state,
            jar.clone(),
            StatusCode::TOO_MANY_REQUESTS,
            typed,
            Some(too_many_attempts()),
        ));
    }
    let now = state.clock.now();
    let wrong = || {
        code_page(
            state,
            jar.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            Some(t("device-unknown-code")),
        )
    };
    let request = match device::find_pending(&state.db, typed, now).await {
        Ok(Some(request)) => request,
        Ok(None) => return Err(wrong()),
        Err(error) => return Err(server_error(error)),
    };
    match clients::resolve(&state.db, &state.client_documents, &request.client_id, now).await {
        Ok(Some(client)) => Ok((request, client)),
        // The client is gone since (deleted, or its document broke).
        Ok(None) | Err(clients::ResolveError::Document(_)) => Err(wrong()),
        Err(clients::ResolveError::Store(error)) => Err(server_error(error)),
    }
}

/// `POST /device`: the typed code → the consent page for that device.
pub(crate) async fn device_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, (user, _)) = match account_form(&state, &jar, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let typed = params
        .get("user_code")
        .map(String::as_str)
        .unwrap_or_default();
    let (request, client) = match pending_request(&state, ip, &jar, typed).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let code = device::normalise_user_code(typed).unwrap_or_default();
    let csrf = random_token();
    let html = ConsentPage {
        action: "/device/decision",
        device_code: Some(device::display_user_code(&code)),
        described_at: clients::documents::is_document_url(&client.client_id)
            .then(|| url::Url::parse(&client.client_id).ok())
            .flatten()
            .and_then(|url| url.host_str().map(str::to_owned)),
        client_name: &client.name,
        email: &user.email,
        scopes: request
            .scope
            .split_ascii_whitespace()
            .map(|s| (s.to_owned(), describe_scope(s)))
            .collect(),
        resources: request.resource.iter().cloned().collect(),
        csrf_token: &csrf,
        request: vec![("user_code".to_owned(), code)],
    }
    .render();
    form_page(&state.config.issuer, jar, StatusCode::OK, html, csrf, None)
}

/// `POST /device/decision`: Allow or Deny, recorded once, audited.
pub(crate) async fn decision_post(
    State(state): State<AppState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, (user, session)): (_, SignedIn) =
        match account_form(&state, &jar, &headers, &body).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let typed = params
        .get("user_code")
        .map(String::as_str)
        .unwrap_or_default();
    let (request, client) = match pending_request(&state, ip, &jar, typed).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let now = state.clock.now();
    let allow = params.get("decision").map(String::as_str) == Some("allow");
    let methods = session.methods();
    let decision = if allow {
        Decision::Allow {
            user_id: user.id,
            auth_time: session.created_at,
            methods: &methods,
            idp: session.idp.as_deref(),
        }
    } else {
        Decision::Deny { user_id: user.id }
    };
    let recorded = async {
        if !device::decide(&state.db, request.id, decision, now).await? {
            return Ok(false);
        }
        if allow {
            crate::oauth::consent::grant(
                &state.db,
                user.id,
                &client.client_id,
                &request.scope,
                now,
            )
            .await?;
        }
        audit::write(
            &state.db,
            AuditEvent::new(if allow {
                "device.approved"
            } else {
                "device.denied"
            })
            .actor(&user.id.to_string())
            .subject(&client.client_id)
            .ip(ip_text(ip.0).as_deref())
            .detail(serde_json::json!({ "scope": request.scope })),
        )
        .await?;
        Ok::<_, sea_orm::DbErr>(true)
    }
    .await;
    let names = crate::web::cookie_names(&state.config.issuer);
    let jar = jar.add(signet_service::web::removal(names.csrf));
    match recorded {
        Ok(true) if allow => {
            (jar, notice_page(StatusCode::OK, "device-approved", None)).into_response()
        }
        Ok(true) => (jar, notice_page(StatusCode::OK, "device-denied", None)).into_response(),
        // Decided in another tab meanwhile, or expired.
        Ok(false) => (
            jar,
            notice_page(
                StatusCode::CONFLICT,
                "device-decided",
                Some((DEVICE_PATH, &t("device-again"))),
            ),
        )
            .into_response(),
        Err(error) => server_error(error),
    }
}
