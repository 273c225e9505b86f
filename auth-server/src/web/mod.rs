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

pub(crate) mod routes;

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

#[derive(Template)]
#[template(path = "signin.html")]
pub(crate) struct SignInPage<'a> {
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    pub csrf_token: &'a str,
    /// The authorization request, carried through the form.
    pub request: Vec<(String, String)>,
    pub email: &'a str,
    /// The authorization request as a query string, for the sign-up link.
    pub query: String,
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
    pub email: &'a str,
    /// Each requested scope and what it lets the client do.
    pub scopes: Vec<(String, &'static str)>,
    pub csrf_token: &'a str,
    pub request: Vec<(String, String)>,
}

/// What a scope lets a client do, in words for the consent page.
pub(crate) fn describe_scope(scope: &str) -> &'static str {
    match scope {
        "openid" => "know who you are (your account id)",
        "profile" => "see your display name",
        "email" => "see your email address",
        "offline_access" => "keep access while you are away",
        _ => "use this permission on your behalf",
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
    pub secure: bool,
}

pub(crate) fn cookie_names(issuer: &str) -> CookieNames {
    if issuer.starts_with("https://") {
        CookieNames {
            session: "__Host-signet_session",
            csrf: "__Host-signet_csrf",
            secure: true,
        }
    } else {
        CookieNames {
            session: "signet_session",
            csrf: "signet_csrf",
            secure: false,
        }
    }
}

/// An `HttpOnly`, `Path=/` cookie (no `Domain`), `Secure` over https.
pub(crate) fn cookie(
    name: &'static str,
    value: String,
    same_site: SameSite,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .path("/")
        .build()
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a form post may be trusted: the CSRF cookie equals the form's
/// token, and the browser does not say the request is cross-site.
pub(crate) fn same_site_post(
    headers: &HeaderMap,
    issuer: &str,
    cookie_token: Option<&str>,
    form_token: Option<&str>,
) -> bool {
    let tokens_match = match (cookie_token, form_token) {
        (Some(a), Some(b)) if !a.is_empty() => bool::from(a.as_bytes().ct_eq(b.as_bytes())),
        _ => false,
    };
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| matches!(site, "same-origin" | "none"));
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|origin| origin == issuer_origin(issuer));
    tokens_match && fetch_site_ok && origin_ok
}

fn issuer_origin(issuer: &str) -> String {
    url::Url::parse(issuer)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// A page response: the HTML, a strict CSP (forms may go to this server and,
/// when given, the client's origin), no framing, no caching.
pub(crate) fn page(status: StatusCode, html: String, form_target: Option<&str>) -> Response {
    let form_action = match form_target
        .and_then(|uri| url::Url::parse(uri).ok())
        .map(|u| u.origin())
        .filter(|origin| origin.is_tuple())
    {
        Some(origin) => format!("'self' {}", origin.ascii_serialization()),
        None => "'self'".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, axum::response::Html(html)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// An error page (never a redirect).
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
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
            query: "state=%22%3E%3Cscript%3E&x=\"><b>".into(),
        }
        .render()
        .expect("render");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("\"onfocus"), "{html}");
        assert!(html.contains("name=\"email\"") && html.contains("name=\"password\""));
    }

    #[test]
    fn a_cross_site_or_tokenless_post_is_refused() {
        let issuer = "http://127.0.0.1:8080";
        let mut same = HeaderMap::new();
        same.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        same.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_site_post(&same, issuer, Some("tok"), Some("tok")));
        assert!(!same_site_post(&same, issuer, Some("tok"), Some("other")));
        assert!(!same_site_post(&same, issuer, None, Some("tok")));
        assert!(!same_site_post(&same, issuer, Some(""), Some("")));
        let mut cross = HeaderMap::new();
        cross.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_site_post(&cross, issuer, Some("tok"), Some("tok")));
        let mut foreign = HeaderMap::new();
        foreign.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_site_post(&foreign, issuer, Some("tok"), Some("tok")));
    }
}
