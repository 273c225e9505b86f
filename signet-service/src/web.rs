//! What every server-rendered page of a Signet service shares: a strict
//! Content-Security-Policy and no framing or caching, `HttpOnly` cookies
//! that are `Secure` over https, random tokens, and the CSRF check for form
//! posts (a double-submit token in a `SameSite=Strict` cookie, plus the
//! browser's own `Sec-Fetch-Site`/`Origin` saying the post is same-origin).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

/// The design system every Signet service's pages use: colours (light and
/// dark), type, the card and header layouts, forms, buttons and focus. One
/// source, built into auth-server (which adds the brand's accent) and into
/// each service (which adds its own few rules after it).
pub const STYLESHEET: &str = include_str!("../assets/signet.css");

/// Whether cookies for pages served at `public_url` are `__Host-` and
/// `Secure` (https), or plain (http on a development machine, where browsers
/// refuse both).
pub fn is_secure_origin(public_url: &str) -> bool {
    public_url.starts_with("https://")
}

/// An `HttpOnly`, `Path=/` cookie (no `Domain`), `Secure` when `secure`.
pub fn cookie(
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

/// A `Set-Cookie` that removes `name` (empty, `Max-Age=0`, expired, same
/// path so the browser matches it, and `Secure` for a `__Host-` or
/// `__Secure-` name, which browsers ignore otherwise): add it to a jar.
pub fn removal(name: &'static str) -> Cookie<'static> {
    let secure = name.starts_with("__Host-") || name.starts_with("__Secure-");
    let mut cookie = Cookie::build(name).path("/").secure(secure).build();
    cookie.make_removal();
    cookie
}

/// 256 random bits, base64url: session ids, CSRF tokens, OAuth `state`.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a form post may be trusted: the CSRF cookie equals the form's
/// token (compared in constant time), and the browser does not say the
/// request is cross-site or from another origin than `public_url`'s.
pub fn same_site_post(
    headers: &HeaderMap,
    public_url: &str,
    cookie_token: Option<&str>,
    form_token: Option<&str>,
) -> bool {
    let tokens_match = match (cookie_token, form_token) {
        (Some(a), Some(b)) if !a.is_empty() => same_secret(a, b),
        _ => false,
    };
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| matches!(site, "same-origin" | "none"));
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|origin| origin == origin_of(public_url));
    tokens_match && fetch_site_ok && origin_ok
}

/// Whether two secrets (tokens, `state` values) are equal, compared in
/// constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `scheme://host[:port]` of `url`, or empty when it has none.
pub fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin())
        .ok()
        .filter(|origin| origin.is_tuple())
        .map(|origin| origin.ascii_serialization())
        .unwrap_or_default()
}

/// A page response: the HTML with a strict CSP (nothing loads but the page
/// itself, `style-src 'self'` for a stylesheet served by the same server;
/// forms may post to this server and, when given, `form_target`'s origin),
/// no framing, no caching, no referrer.
pub fn page(status: StatusCode, html: String, form_target: Option<&str>) -> Response {
    let form_action = match form_target.map(origin_of).filter(|o| !o.is_empty()) {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Not `no-referrer`: under it browsers send `Origin: null` with every
    // form post (Fetch §3.1), and the CSRF check could not tell this site's
    // own forms. `same-origin` still tells other sites nothing.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cross_site_or_tokenless_post_is_refused() {
        let public = "http://127.0.0.1:8080";
        let mut same = HeaderMap::new();
        same.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        same.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_site_post(&same, public, Some("tok"), Some("tok")));
        assert!(!same_site_post(&same, public, Some("tok"), Some("other")));
        assert!(!same_site_post(&same, public, None, Some("tok")));
        assert!(!same_site_post(&same, public, Some(""), Some("")));
        let mut cross = HeaderMap::new();
        cross.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_site_post(&cross, public, Some("tok"), Some("tok")));
        let mut same_site_other_port = HeaderMap::new();
        same_site_other_port.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
        assert!(
            !same_site_post(&same_site_other_port, public, Some("tok"), Some("tok")),
            "another port on the same host is same-site, not same-origin"
        );
        let mut foreign = HeaderMap::new();
        foreign.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_site_post(&foreign, public, Some("tok"), Some("tok")));
    }

    #[test]
    fn pages_forbid_everything_but_themselves() {
        let response = page(
            StatusCode::OK,
            "<p>hi</p>".into(),
            Some("https://app.example:8443/cb?x=1"),
        );
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(
            csp.contains("form-action 'self' https://app.example:8443;"),
            "{csp}"
        );
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::REFERRER_POLICY], "same-origin");
        assert_eq!(origin_of("not a url"), "");
    }
}
