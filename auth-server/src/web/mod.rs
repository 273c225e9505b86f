//! Server-rendered pages (askama, auto-escaping): the sign-in page of the
//! authorization endpoint, and error pages.
//!
//! Every page carries a strict Content-Security-Policy (nothing but the page
//! itself: no script, no style, no third-party asset; forms post only to
//! this server and, after a sign-in, redirect only to the client), refuses
//! framing, and is never cached. Every form is protected against CSRF twice:
//! a token in a `SameSite=Strict` cookie that must equal the form's
//! (double submit), and the browser's `Sec-Fetch-Site`/`Origin` saying the
//! post comes from this site.

pub(crate) mod account;
pub(crate) mod account_pages;
pub(crate) mod account_security;
pub(crate) mod admin_clients;
pub(crate) mod admin_keys;
pub(crate) mod admin_pages;
pub mod brand;
pub(crate) mod browser;
pub(crate) mod device;
pub(crate) mod gateway;
pub(crate) mod locale;
pub(crate) mod passkeys;
pub(crate) mod routes;
pub(crate) mod second_factor;
pub(crate) mod upstream;

use askama::Template;

use crate::i18n::{t, t1};
use axum::http::StatusCode;
use axum::response::Response;
pub(crate) use signet_service::web::{cookie, page, random_token, same_site_post};

/// The answer to a form posted past its rate limit.
/// The device page (RFC 8628 `verification_uri`).
pub(crate) const DEVICE_PATH: &str = "/device";

pub(crate) fn too_many_attempts() -> String {
    t("too-many-attempts")
}

/// `GET /assets/{file}`: the stylesheet and the logo at their hashed
/// paths, cached for a year; anything else is a 404.
pub(crate) async fn asset(
    axum::extract::State(state): axum::extract::State<crate::app::state::AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse as _;
    let Some((body, kind)) = state.brand.asset(&format!("/assets/{file}")) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // An SVG opened on its own is a document: it may run nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    response
}

/// The look of the page being rendered (see [`brand`]).
pub(crate) fn brand() -> std::sync::Arc<brand::Brand> {
    brand::current()
}

#[derive(Template)]
#[template(path = "signin.html")]
pub(crate) struct SignInPage<'a> {
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    pub csrf_token: &'a str,
    /// The authorization request, carried through the form.
    pub request: Vec<(String, String)>,
    pub email: &'a str,
    /// Where the form posts.
    pub action: &'a str,
    /// The authorization request as a query string, for the sign-up link;
    /// `None`: no sign-up link (the gateway's sign-in).
    pub signup_query: Option<String>,
    /// "Sign in with …" buttons, one per upstream provider.
    pub upstreams: Vec<UpstreamButton>,
    /// "Sign in with a passkey" (passkeys on, and the issuer's own page).
    pub passkeys: bool,
}

/// One "Sign in with {label}" button.
pub(crate) struct UpstreamButton {
    pub label: String,
    pub href: String,
    /// Its discovery answered; otherwise shown as unavailable.
    pub available: bool,
}

/// One button per configured provider, in `UPSTREAM_PROVIDERS` order, each
/// starting at `{origin}/oauth/upstream/{name}/start?{query}` (`origin` is
/// empty on the issuer's own pages, the issuer on a gateway's).
pub(crate) fn upstream_buttons(
    upstreams: &crate::upstream::Upstreams,
    origin: &str,
    query: &str,
) -> Vec<UpstreamButton> {
    upstreams
        .all()
        .iter()
        .map(|upstream| UpstreamButton {
            label: upstream.provider.display_name.clone(),
            href: format!(
                "{origin}/oauth/upstream/{}/start?{query}",
                upstream.provider.name
            ),
            available: matches!(*upstream.discovery(), crate::upstream::Discovery::Ready(_)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "signup.html")]
pub(crate) struct SignUpPage<'a> {
    pub client_name: &'a str,
    pub errors: Vec<String>,
    pub csrf_token: &'a str,
    pub request: Vec<(String, String)>,
    pub email: &'a str,
    pub display_name: &'a str,
    /// The authorization request as a query string, for the sign-in link.
    pub query: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub(crate) struct ConsentPage<'a> {
    pub client_name: &'a str,
    /// For a client known by its metadata document: the host of its URL,
    /// the only thing that vouches for its name.
    pub described_at: Option<String>,
    /// Where the decision goes: `/oauth/consent`, or `/device/decision`.
    pub action: &'a str,
    /// For a device's request: the user code it shows, to compare.
    pub device_code: Option<String>,
    pub email: &'a str,
    /// Each requested scope and what it lets the client do.
    pub scopes: Vec<(String, String)>,
    /// The services the client may then call in the user's name (its
    /// registered resources); empty: none, it only learns who they are.
    pub resources: Vec<String>,
    pub csrf_token: &'a str,
    pub request: Vec<(String, String)>,
}

/// A refused field's reason in the page's language: the catalogue's words
/// for a problem with a known code, else the domain's (English) message.
pub(crate) fn field_reason(field: &signet_service::error::FieldError) -> String {
    use crate::accounts::password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
    use crate::accounts::{MAX_DISPLAY_NAME_CHARS, MAX_EMAIL_LEN};
    match field.code {
        Some("required") => t("reason-required"),
        Some("email_too_long") => t1("reason-too-long", "max", MAX_EMAIL_LEN),
        Some("email_invalid") => t("reason-email-invalid"),
        Some("name_too_long") => t1("reason-too-long", "max", MAX_DISPLAY_NAME_CHARS),
        Some("name_control_characters") => t("reason-control-characters"),
        Some("password_too_short") => t1("reason-too-short", "min", MIN_PASSWORD_CHARS),
        Some("password_too_long") => t1("reason-too-long", "max", MAX_PASSWORD_CHARS),
        Some("password_is_email") => t("reason-password-is-email"),
        _ => field.message.clone(),
    }
}

/// A form field's name in the page's language.
pub(crate) fn field_label(field: &str) -> String {
    match field {
        "email" => t("field-email"),
        "password" => t("field-password"),
        "display_name" => t("field-display-name"),
        "new_password" => t("field-new-password"),
        "new_email" => t("field-new-email"),
        other => other.replace('_', " "),
    }
}

/// What a scope lets a client do, in words for the consent page.
pub(crate) fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => t("scope-openid"),
        "profile" => t("scope-profile"),
        "email" => t("scope-email"),
        "offline_access" => t("scope-offline-access"),
        _ => t("scope-other"),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// The browser cookies, named per the issuer's scheme: `__Host-` and
/// `Secure` over https; over plain http (local development) the same without
/// the prefix, which browsers would refuse there. Distinct names, so
/// blog-svc on the same host never collides with them (cookies ignore ports).
pub(crate) struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    /// A sign-in waiting for its second factor.
    pub second_factor: &'static str,
    /// A passkey ceremony in progress.
    pub webauthn: &'static str,
    pub secure: bool,
}

pub(crate) fn cookie_names(issuer: &str) -> CookieNames {
    if issuer.starts_with("https://") {
        CookieNames {
            session: "__Host-signet_session",
            csrf: "__Host-signet_csrf",
            second_factor: "__Host-signet_mfa",
            webauthn: "__Host-signet_webauthn",
            secure: true,
        }
    } else {
        CookieNames {
            session: "signet_session",
            csrf: "signet_csrf",
            second_factor: "signet_mfa",
            webauthn: "signet_webauthn",
            secure: false,
        }
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
pub(crate) struct NoticePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    /// A link onwards: (href, text).
    pub link: Option<(&'a str, &'a str)>,
}

/// A page that says what happened, with an optional link onwards: the
/// catalogue's message `key` is its title, the message's `.text` under it.
pub(crate) fn notice_page(status: StatusCode, key: &str, link: Option<(&str, &str)>) -> Response {
    notice_page_with(status, &t(key), &t(&format!("{key}.text")), link)
}

/// [`notice_page`] with a text of its own (translated already).
pub(crate) fn notice_page_with(
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Response {
    match (NoticePage {
        title,
        message,
        link,
    })
    .render()
    {
        Ok(html) => page(status, html, None),
        Err(_) => error_page_with(status, title, message),
    }
}

/// An error page (never a redirect): the catalogue's message `key` is its
/// title, the message's `.text` under it.
pub(crate) fn error_page(status: StatusCode, key: &str) -> Response {
    error_page_with(status, &t(key), &t(&format!("{key}.text")))
}

/// [`error_page`] with a title and text of its own (translated already).
pub(crate) fn error_page_with(status: StatusCode, title: &str, message: &str) -> Response {
    let html = ErrorPage { title, message }
        .render()
        .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".to_owned());
    page(status, html, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show() {
        let html = SignInPage {
            client_name: "<script>alert(1)</script>",
            error: Some("\"><img src=x onerror=alert(1)>"),
            csrf_token: "t",
            request: vec![("state".into(), "\"><script>x</script>".into())],
            email: "a@b.c\"onfocus=\"x",
            action: "/oauth/authorize",
            signup_query: Some("state=%22%3E%3Cscript%3E&x=\"><b>".into()),
            upstreams: vec![UpstreamButton {
                label: "<script>evil</script>".into(),
                href: "/oauth/upstream/x/start?a=\"><script>".into(),
                available: true,
            }],
            passkeys: true,
        }
        .render()
        .expect("render");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("\"onfocus"), "{html}");
        assert!(html.contains("name=\"email\"") && html.contains("name=\"password\""));
    }
}
