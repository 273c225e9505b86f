//! Forward-auth for browsers (what users of Authelia and oauth2-proxy
//! expect): which page the gateway was asked about, whether that page's
//! origin is one Signet protects (`GATEWAY_PROTECTED_ORIGINS`), and whether
//! the request is a browser navigation that should be sent to sign in
//! rather than answered 401.
//!
//! Gateways say which request they are asking about in one of two ways:
//! nginx (`auth_request`) by convention sends `X-Original-URL` and
//! `X-Original-Method`; Traefik's ForwardAuth sends `X-Forwarded-Proto`,
//! `-Host`, `-Uri` and `-Method`. nginx cannot pass a redirect through
//! `auth_request` (only 2xx, 401 and 403), so for it the answer is a 401
//! carrying `Location`, which its `error_page` turns into the redirect;
//! Traefik passes the answer to the browser as it is: 302 for GET and HEAD,
//! 303 otherwise.

use axum::http::{header, HeaderMap};
use url::Url;

/// The path of the gateway's sign-in page, served by auth-server on each
/// protected origin (the gateway proxies it), so the session cookie is
/// host-only (`__Host-`) on the very origin it protects.
pub const SIGN_IN_PATH: &str = "/oauth/gateway/sign-in";

/// How the gateway asking speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// `X-Original-URL`: answer 401 with `Location`.
    Nginx,
    /// `X-Forwarded-*`: answer the redirect itself.
    Traefik,
}

/// The request a gateway asks forward-auth about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub url: Url,
    /// `scheme://host[:port]`.
    pub origin: String,
    pub method: String,
    pub convention: Convention,
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The original request, if the gateway described it in either convention
/// and it is an absolute http(s) URL.
pub fn original(headers: &HeaderMap) -> Option<Original> {
    let (raw, method, convention) = if let Some(url) = header_text(headers, "x-original-url") {
        (
            url.to_owned(),
            header_text(headers, "x-original-method"),
            Convention::Nginx,
        )
    } else {
        let proto = header_text(headers, "x-forwarded-proto")?;
        let host = header_text(headers, "x-forwarded-host")?;
        let uri = header_text(headers, "x-forwarded-uri").unwrap_or("/");
        if !uri.starts_with('/') {
            return None;
        }
        (
            format!("{proto}://{host}{uri}"),
            header_text(headers, "x-forwarded-method"),
            Convention::Traefik,
        )
    };
    let url = Url::parse(&raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    Some(Original {
        origin: url.origin().ascii_serialization(),
        url,
        method: method.unwrap_or("GET").to_ascii_uppercase(),
        convention,
    })
}

/// `raw` as a URL to send a browser back to after signing in: absolute,
/// and on one of the protected `origins` exactly (scheme, host and port),
/// so it cannot be an open redirect.
pub fn allowed_return(origins: &[String], raw: &str) -> Option<Url> {
    let url = Url::parse(raw).ok()?;
    let origin = url.origin();
    if !origin.is_tuple() || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let origin = origin.ascii_serialization();
    origins.contains(&origin).then_some(url)
}

/// Whether the request is a browser loading a page (not a script's fetch or
/// an API client): it accepts HTML and says it is neither XHR nor a
/// non-navigating fetch.
pub fn is_navigation(headers: &HeaderMap) -> bool {
    let accepts_html = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    let xhr = header_text(headers, "x-requested-with")
        .is_some_and(|v| v.eq_ignore_ascii_case("xmlhttprequest"));
    let navigating = header_text(headers, "sec-fetch-mode").is_none_or(|m| m == "navigate");
    accepts_html && !xhr && navigating
}

/// Where a browser goes to sign in for `original`, on its own origin.
pub fn sign_in_url(original: &Original) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("rd", original.url.as_str());
    format!("{}{SIGN_IN_PATH}?{}", original.origin, query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn both_conventions_name_the_original_request() {
        let nginx = original(&headers(&[
            ("x-original-url", "https://app.example.com/a?b=1"),
            ("x-original-method", "post"),
        ]))
        .expect("nginx");
        assert_eq!(nginx.origin, "https://app.example.com");
        assert_eq!(nginx.method, "POST");
        assert_eq!(nginx.convention, Convention::Nginx);
        let traefik = original(&headers(&[
            ("x-forwarded-proto", "http"),
            ("x-forwarded-host", "127.0.0.1:8088"),
            ("x-forwarded-uri", "/x/y?z"),
        ]))
        .expect("traefik");
        assert_eq!(traefik.url.as_str(), "http://127.0.0.1:8088/x/y?z");
        assert_eq!(traefik.method, "GET");
        assert_eq!(traefik.convention, Convention::Traefik);
        for bad in [
            headers(&[("x-original-url", "javascript:alert(1)")]),
            headers(&[("x-original-url", "https://user:pw@app.example.com/")]),
            headers(&[
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "app.example.com"),
                ("x-forwarded-uri", "@evil.example/"),
            ]),
            headers(&[("x-forwarded-host", "app.example.com")]),
        ] {
            assert_eq!(original(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_protected_origins_are_returned_to() {
        let origins = vec!["https://app.example.com".to_owned()];
        assert!(allowed_return(&origins, "https://app.example.com/deep/page?x=1").is_some());
        for evil in [
            "https://evil.example/",
            "https://app.example.com.evil.example/",
            "http://app.example.com/",
            "https://app.example.com:8443/",
            "https://user@app.example.com/",
            "//app.example.com/",
            "/relative",
            "javascript:alert(1)",
        ] {
            assert!(allowed_return(&origins, evil).is_none(), "{evil}");
        }
    }

    #[test]
    fn only_page_loads_are_navigation() {
        assert!(is_navigation(&headers(&[(
            "accept",
            "text/html,application/xhtml+xml"
        )])));
        assert!(!is_navigation(&headers(&[("accept", "application/json")])));
        assert!(!is_navigation(&headers(&[
            ("accept", "text/html"),
            ("x-requested-with", "XMLHttpRequest"),
        ])));
        assert!(!is_navigation(&headers(&[
            ("accept", "text/html"),
            ("sec-fetch-mode", "cors"),
        ])));
    }
}
