//! Which language a request is answered in: the OIDC `ui_locales` parameter
//! of the request's query, then the language a previous `ui_locales` chose
//! for this browser (a cookie), then `Accept-Language`, then
//! `DEFAULT_LOCALE`. The first that names a language with a catalogue wins.
//!
//! `ui_locales` is remembered because a sign-in is several requests: the
//! form posts, the consent page and the pages after it carry no query, yet
//! should speak the language the application asked for. The cookie holds
//! nothing but a language tag; it is `__Host-` and `Secure` over https like
//! the others.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::i18n::{self, LanguageIdentifier};

/// How long a browser keeps the language `ui_locales` chose.
const REMEMBER_SECONDS: u32 = 365 * 24 * 3600;

/// What the middleware needs, made once at start-up.
#[derive(Debug, Clone)]
pub(crate) struct LocaleSettings {
    default: LanguageIdentifier,
    cookie: &'static str,
    secure: bool,
}

impl LocaleSettings {
    /// `default_locale` has a catalogue (the configuration checked it).
    pub(crate) fn new(issuer: &str, default_locale: &str) -> Arc<Self> {
        let secure = issuer.starts_with("https://");
        Arc::new(Self {
            default: default_locale.parse().unwrap_or_else(|_| i18n::english()),
            cookie: if secure {
                "__Host-signet_locale"
            } else {
                "signet_locale"
            },
            secure,
        })
    }
}

/// The language of `request`, and whether it came from `ui_locales` (so the
/// response should remember it).
fn choose(settings: &LocaleSettings, request: &Request) -> (LanguageIdentifier, bool) {
    let ui_locales = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "ui_locales")
            .map(|(_, value)| value.into_owned())
    });
    if let Some(found) = ui_locales.and_then(|v| i18n::negotiate(&i18n::parse_ui_locales(&v))) {
        return (found, true);
    }
    let headers = request.headers();
    let remembered = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == settings.cookie)
        .and_then(|(_, tag)| i18n::negotiate(&i18n::parse_ui_locales(tag)));
    if let Some(found) = remembered {
        return (found, false);
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| i18n::negotiate(&i18n::parse_accept_language(value)));
    (accepted.unwrap_or_else(|| settings.default.clone()), false)
}

/// Middleware: the rest of the request sees its language as
/// [`i18n::current`]; a language `ui_locales` chose is remembered.
pub(crate) async fn scope(
    State(settings): State<Arc<LocaleSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let (language, remember) = choose(&settings, &request);
    let tag = language.to_string();
    let mut response = i18n::scope(language, next.run(request)).await;
    if remember {
        let secure = if settings.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{}={tag}; Path=/; Max-Age={REMEMBER_SECONDS}; HttpOnly; SameSite=Lax{secure}",
            settings.cookie
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"text/html"));
    if page {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Accept-Language"));
    }
    response
}
