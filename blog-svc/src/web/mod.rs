//! The blog's web front end: server-rendered pages (askama, auto-escaping)
//! for reading posts and, once signed in, writing, editing and deleting
//! one's own.
//!
//! The blog is a backend-for-frontend: it signs people in through the auth
//! server's page as a confidential OpenID Connect client ([`oidc`]), keeps
//! their tokens on the server ([`session`]), and gives the browser only its
//! own session cookie. Writes from a page go through the same access-token
//! check as the JSON API (jwt-verify, the user's roles), then the same
//! domain functions.
//!
//! Every page has a strict CSP (no script at all; the stylesheet is the
//! blog's own), every form a CSRF token checked against a `SameSite=Strict`
//! cookie together with `Sec-Fetch-Site`/`Origin`, and every cookie is
//! `HttpOnly` and, over https, `__Host-` and `Secure`.

pub mod oidc;
pub(crate) mod routes;
pub mod session;

mod session_entity;

use std::time::Duration;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The web front end's settings and OIDC client.
pub struct Web {
    /// Where browsers reach the blog (`PUBLIC_URL`), without a trailing slash.
    pub public_url: String,
    /// `None`: `OIDC_CLIENT_ID` is not set; pages are read-only.
    pub oidc: Option<oidc::Oidc>,
    pub cookies: CookieNames,
    pub lifetime: Duration,
    pub idle: Duration,
}

/// The blog's cookies: distinct from the auth server's (browsers share
/// cookies across ports of one host), `__Host-` over https.
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    pub login: &'static str,
    pub secure: bool,
}

impl CookieNames {
    pub fn for_url(public_url: &str) -> Self {
        if signet_service::web::is_secure_origin(public_url) {
            Self {
                session: "__Host-blog_session",
                csrf: "__Host-blog_csrf",
                login: "__Host-blog_login",
                secure: true,
            }
        } else {
            Self {
                session: "blog_session",
                csrf: "blog_csrf",
                login: "blog_login",
                secure: false,
            }
        }
    }
}

/// What the navigation bar of every page needs.
pub(crate) struct Nav {
    /// The signed-in user's display name.
    pub viewer: Option<String>,
    pub sign_in_enabled: bool,
    /// For the sign-out form and the page's own forms.
    pub csrf_token: String,
    /// This page's path, to come back to after signing in.
    pub here: String,
}

pub(crate) struct PostItem {
    pub id: String,
    pub title: String,
    pub author: String,
    pub date: String,
    pub body: String,
    pub source_url: Option<String>,
}

#[derive(Template)]
#[template(path = "index.html")]
pub(crate) struct IndexPage {
    pub nav: Nav,
    pub heading: String,
    pub action: &'static str,
    pub q: String,
    pub posts: Vec<PostItem>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "post.html")]
pub(crate) struct PostPage {
    pub nav: Nav,
    pub post: PostItem,
    pub may_edit: bool,
}

#[derive(Template)]
#[template(path = "edit.html")]
pub(crate) struct EditPage {
    pub nav: Nav,
    pub heading: &'static str,
    pub action: String,
    pub submit: &'static str,
    pub title: String,
    pub body: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub nav: Nav,
    pub title: &'a str,
    pub message: &'a str,
}

/// Render a template as a page with the house headers. `form_target`: the
/// one other origin its forms may lead to (the auth server, where signing
/// out continues).
pub(crate) fn render(
    status: StatusCode,
    template: &impl Template,
    form_target: Option<&str>,
) -> Response {
    match template.render() {
        Ok(html) => signet_service::web::page(status, html, form_target),
        Err(error) => {
            tracing::error!(error = %error, "template failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nav() -> Nav {
        Nav {
            viewer: Some("<b>me</b>".into()),
            sign_in_enabled: true,
            csrf_token: "\"><script>".into(),
            here: "/".into(),
        }
    }

    #[test]
    fn stored_markup_is_shown_never_executed() {
        let html = PostPage {
            nav: nav(),
            post: PostItem {
                id: "1".into(),
                title: "<img src=x onerror=alert(1)>".into(),
                author: "<script>alert(2)</script>".into(),
                date: "today".into(),
                body: "<script>alert(3)</script>\n<iframe src=//evil>".into(),
                source_url: Some("javascript:alert(4)\"".into()),
            },
            may_edit: true,
        }
        .render()
        .expect("render");
        for raw in ["<img", "<script", "<iframe", "<b>me", "alert(4)\""] {
            assert!(!html.contains(raw), "{raw} in {html}");
        }
        assert!(
            html.contains("&#60;script&#62;alert(3)&#60;/script&#62;"),
            "{html}"
        );
    }
}
