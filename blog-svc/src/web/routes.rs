//! The pages and the sign-in flow. Handlers translate HTTP to the posts
//! domain (`routes::posts`) and the session store; they render pages, never
//! problem+json.

use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{CookieJar, SameSite};
use chrono::Utc;
use jwt_verify::{Claims, VerifyError};
use serde::Deserialize;
use signet_service::web::{cookie, random_token, removal, same_site_post};
use uuid::Uuid;

use super::oidc::{Oidc, OidcError};
use super::session::{self, Session, StoreError};
use super::{render, EditPage, IndexPage, MessagePage, Nav, PostItem, PostPage};
use crate::error::ApiError;
use crate::routes::posts::{self, ListParams, NewPost, PostChanges, PostView, Rejection, Writer};
use crate::state::AppState;

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;
type FormResult<T> = Result<Form<T>, axum::extract::rejection::FormRejection>;

/// Refresh the access token this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);
/// Signet's design system, then the blog's own rules.
static STYLESHEET: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}\n{}",
        signet_service::web::STYLESHEET,
        include_str!("../../static/blog.css")
    )
});

/// OpenID Connect Back-Channel Logout 1.0 §2.5: auth-server posts a logout
/// token when a session a sign-in here came from ends (the person signed
/// out there, ended the session, changed the password, was disabled). The
/// browser session it names ends. Server to server: no cookie, no CSRF
/// token; the signed token is the proof. Replaying one is harmless (the
/// session is gone already), so `jti`s are not kept.
async fn backchannel_logout(
    State(state): State<AppState>,
    form: FormResult<std::collections::HashMap<String, String>>,
) -> Response {
    let refuse = |description: &'static str| {
        (
            StatusCode::BAD_REQUEST,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(serde_json::json!({
                "error": "invalid_request",
                "error_description": description,
            })),
        )
            .into_response()
    };
    let Some(oidc) = state.web.oidc.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(Form(form)) = form else {
        return refuse("send logout_token as a form");
    };
    let Some(token) = form.get("logout_token") else {
        return refuse("logout_token is required");
    };
    let logout = match oidc.verify_logout_token(&state.verifier, token) {
        Ok(logout) => logout,
        Err(refused) => {
            tracing::info!(reason = %refused, "back-channel logout refused");
            return refuse("not a valid logout token for this client");
        }
    };
    match session::end_for_logout(&state.db, logout.sid.as_deref(), logout.sub.as_deref()).await {
        Ok(ended) => {
            tracing::info!(ended, "back-channel logout");
            (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response()
        }
        Err(error) => WebError::from(error).into_response(),
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/my", get(my_posts))
        .route("/admin", get(admin_page))
        .route("/posts/{id}", get(show))
        .route("/write", get(write_form).post(write))
        .route("/posts/{id}/edit", get(edit_form).post(edit))
        .route("/posts/{id}/delete", post(delete))
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/auth/backchannel-logout", post(backchannel_logout))
        .route("/static/blog.css", get(stylesheet))
}

/// A failure shown as a page. Internal causes travel like the API's (in
/// the response's extensions, logged once by the shared layers).
pub(crate) enum WebError {
    Page(StatusCode, &'static str, &'static str),
    Internal(anyhow::Error),
    /// Not signed in (or the session just ended): go and sign in.
    SignIn(String),
    /// Signed in, but the page needs a sign-in with two factors (`acr`
    /// `mfa`): sign in again, asking for it.
    StepUp(String),
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<ApiError> for WebError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(_) => not_found(),
            ApiError::Forbidden(_) => Self::Page(
                StatusCode::FORBIDDEN,
                "Not yours",
                "Only the author or an admin may change this post.",
            ),
            ApiError::Internal(cause) => Self::Internal(cause),
            other => Self::Internal(anyhow::anyhow!("unexpected API error on a page: {other}")),
        }
    }
}

impl From<OidcError> for WebError {
    fn from(error: OidcError) -> Self {
        match error {
            OidcError::Unavailable => unavailable(),
            OidcError::Refused | OidcError::InvalidIdToken => Self::Page(
                StatusCode::BAD_REQUEST,
                "Sign-in failed",
                "The sign-in could not be completed. Please try again.",
            ),
        }
    }
}

fn not_found() -> WebError {
    WebError::Page(StatusCode::NOT_FOUND, "Not found", "There is no such post.")
}

fn unavailable() -> WebError {
    WebError::Page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in unavailable",
        "The sign-in service cannot be reached right now. Reading the blog still works; please try again shortly.",
    )
}

fn anonymous_nav() -> Nav {
    Nav {
        viewer: None,
        sign_in_enabled: false,
        csrf_token: String::new(),
        here: "/".into(),
    }
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    render(
        status,
        &MessagePage {
            nav: anonymous_nav(),
            title,
            message: text,
        },
        None,
    )
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            Self::Page(status, title, text) => message(status, title, text),
            Self::SignIn(return_to) => see_other(&sign_in_path(&return_to)),
            Self::StepUp(return_to) => {
                see_other(&format!("{}&acr={STEP_UP_ACR}", sign_in_path(&return_to)))
            }
            Self::Internal(cause) => {
                let api = ApiError::internal(cause).into_response();
                let status = api.status();
                let (parts, _) = api.into_parts();
                let mut page = message(
                    status,
                    "Something went wrong",
                    "The blog could not complete this request. Please try again.",
                );
                page.extensions_mut().extend(parts.extensions);
                page
            }
        }
    }
}

/// The `acr` class the administration page needs: two factors.
const STEP_UP_ACR: &str = "mfa";

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

fn sign_in_path(return_to: &str) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    url.append_pair("return_to", return_to);
    format!("/auth/login?{}", url.finish())
}

/// A path on this blog, or `/`: never another origin (`//host`, `/\host`,
/// `https://…`), so the return after sign-in cannot be an open redirect.
fn local_path(candidate: Option<&str>) -> String {
    match candidate {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control() || c == '\\')
                && path.len() <= 2048 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Who is looking at a page: the session (if signed in) and the CSRF token
/// for the page's forms (the browser's, or a new one it is given).
pub(crate) struct Visitor {
    pub session: Option<Session>,
    jar: CookieJar,
    csrf: String,
    new_csrf: bool,
    here: String,
    headers: HeaderMap,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let names = &state.web.cookies;
        let session = match jar.get(names.session) {
            Some(cookie) => {
                session::load(&state.db, cookie.value(), state.web.idle, Utc::now()).await?
            }
            None => None,
        };
        let existing = jar
            .get(names.csrf)
            .map(|c| c.value().to_owned())
            .filter(|v| v.len() >= 32);
        let new_csrf = existing.is_none();
        Ok(Self {
            session,
            csrf: existing.unwrap_or_else(random_token),
            new_csrf,
            jar,
            here: local_path(parts.uri.path_and_query().map(|pq| pq.as_str())),
            headers: parts.headers.clone(),
        })
    }
}

impl Visitor {
    fn nav(&self, state: &AppState) -> Nav {
        Nav {
            viewer: self.session.as_ref().map(|s| s.row.display_name.clone()),
            sign_in_enabled: state.web.oidc.is_some(),
            csrf_token: self.csrf.clone(),
            here: self.here.clone(),
        }
    }

    /// A page for this visitor: its sign-out form may continue to the auth
    /// server, and the CSRF cookie is set if the browser had none.
    fn page(
        &self,
        state: &AppState,
        status: StatusCode,
        template: &impl askama::Template,
    ) -> Response {
        let response = render(status, template, Some(&state.config.auth_issuer));
        if !self.new_csrf {
            return response;
        }
        let names = &state.web.cookies;
        let jar = CookieJar::new().add(cookie(
            names.csrf,
            self.csrf.clone(),
            SameSite::Strict,
            names.secure,
        ));
        (jar, response).into_response()
    }

    /// The signed-in session, or a trip to the sign-in page and back here.
    fn signed_in(&mut self) -> Result<&mut Session, WebError> {
        let here = self.here.clone();
        self.session.as_mut().ok_or(WebError::SignIn(here))
    }

    /// A form post this visitor's own page sent (CSRF token and origin).
    fn check_form(&self, state: &AppState, form_token: &str) -> Result<(), WebError> {
        let cookie_token = self.jar.get(state.web.cookies.csrf).map(|c| c.value());
        if same_site_post(
            &self.headers,
            &state.web.public_url,
            cookie_token,
            Some(form_token),
        ) {
            Ok(())
        } else {
            Err(WebError::Page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form could not be accepted (it came from another site, or the page was too old). Go back, reload the page and try again.",
            ))
        }
    }
}

fn item(view: PostView) -> PostItem {
    PostItem {
        id: view.id.to_string(),
        title: view.title,
        author: view
            .author
            .map(|a| a.display_name)
            .unwrap_or_else(|| "a former writer".to_owned()),
        date: view.created_at.format("%Y-%m-%d").to_string(),
        body: view.body,
        // Only web links become links (the API accepts no other, but a page
        // never trusts a stored value).
        source_url: view
            .source_url
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    cursor: Option<Uuid>,
}

async fn listing(
    state: &AppState,
    visitor: &Visitor,
    query: QueryResult<ListQuery>,
    author: Option<String>,
    heading: String,
    action: &'static str,
) -> Result<Response, WebError> {
    let Ok(Query(query)) = query else {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Bad link",
            "This page's address is not valid.",
        ));
    };
    let q = query.q.unwrap_or_default();
    let page = match posts::list(
        state,
        ListParams {
            limit: Some(20),
            cursor: query.cursor,
            author,
            q: Some(q.clone()),
        },
    )
    .await
    {
        Ok(page) => page,
        Err(ApiError::Validation(_)) => {
            return Ok(message(
                StatusCode::BAD_REQUEST,
                "Search too long",
                "Searches are at most 200 characters.",
            ))
        }
        Err(other) => return Err(other.into()),
    };
    let next = page.next_cursor.map(|cursor| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        if !q.is_empty() {
            url.append_pair("q", &q);
        }
        url.append_pair("cursor", &cursor.to_string());
        format!("{action}?{}", url.finish())
    });
    let html = IndexPage {
        nav: visitor.nav(state),
        heading,
        action,
        q,
        posts: page.items.into_iter().map(item).collect(),
        next,
    };
    Ok(visitor.page(state, StatusCode::OK, &html))
}

async fn index(
    State(state): State<AppState>,
    visitor: Visitor,
    query: QueryResult<ListQuery>,
) -> Result<Response, WebError> {
    listing(&state, &visitor, query, None, "Posts".into(), "/").await
}

async fn my_posts(
    State(state): State<AppState>,
    mut visitor: Visitor,
    query: QueryResult<ListQuery>,
) -> Result<Response, WebError> {
    let sub = visitor.signed_in()?.sub().to_owned();
    listing(&state, &visitor, query, Some(sub), "My posts".into(), "/my").await
}

/// `GET /admin`: every post, for an admin who signed in with two factors
/// (`acr` `mfa`, RFC 9470's step-up): a weaker session is sent to sign in
/// again asking for it, the way a service protects one route with
/// jwt-verify's `require_acr`.
async fn admin_page(
    State(state): State<AppState>,
    mut visitor: Visitor,
    query: QueryResult<ListQuery>,
) -> Result<Response, WebError> {
    visitor.here = "/admin".to_owned();
    let claims = writer(&state, &mut visitor).await?;
    let standard = claims.standard();
    if !standard.has_role("admin") {
        return Err(WebError::Page(
            StatusCode::FORBIDDEN,
            "For administrators",
            "This page is for the blog's administrators.",
        ));
    }
    if !standard.has_acr(&[STEP_UP_ACR.to_owned()]) {
        return Err(WebError::StepUp(visitor.here.clone()));
    }
    listing(
        &state,
        &visitor,
        query,
        None,
        "Administration: every post".into(),
        "/admin",
    )
    .await
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let (post, author) = posts::find_post(&state, id).await?;
    // Whether to offer the buttons; the write itself checks the token's roles.
    let may_edit = visitor
        .session
        .as_ref()
        .is_some_and(|s| s.sub() == post.author_id);
    let html = PostPage {
        nav: visitor.nav(&state),
        post: item(posts::view(post, author)),
        may_edit,
    };
    Ok(visitor.page(&state, StatusCode::OK, &html))
}

/// The session's access token, refreshed when it is about to expire, and
/// verified like any bearer token the API receives: writes from pages get
/// exactly the API's checks (audience, expiry, roles).
async fn writer(state: &AppState, visitor: &mut Visitor) -> Result<Claims<Writer>, WebError> {
    let here = visitor.here.clone();
    let oidc = state.web.oidc.as_ref().ok_or_else(unavailable)?;
    let session = visitor.signed_in()?;
    let now = Utc::now();
    if session.access_expiring(now, REFRESH_MARGIN) {
        match oidc.refresh(&session.tokens).await {
            Ok(tokens) => session::store_tokens(&state.db, session, tokens, now).await?,
            // Signed out elsewhere, disabled, or the session expired at the auth server.
            Err(OidcError::Refused) => {
                session::end(&state.db, session).await?;
                return Err(WebError::SignIn(here));
            }
            Err(other) => return Err(other.into()),
        }
    }
    match state.verifier.verify(&session.tokens.access_token).await {
        Ok(token) => Claims::from_token(&token).map_err(|_| {
            WebError::Internal(anyhow::anyhow!("access token claims do not fit Writer"))
        }),
        Err(VerifyError::KeysUnavailable) => Err(unavailable()),
        Err(error) => {
            tracing::info!(
                reason = error.reason(),
                "session's access token refused; signing in again"
            );
            session::end(&state.db, session).await?;
            Err(WebError::SignIn(here))
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct PostForm {
    csrf_token: String,
    title: String,
    body: String,
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    csrf_token: String,
}

fn bad_form() -> WebError {
    WebError::Page(
        StatusCode::BAD_REQUEST,
        "Bad form",
        "The form was incomplete. Go back, reload the page and try again.",
    )
}

fn edit_page(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    target: Option<Uuid>,
    title: String,
    body: String,
    errors: Vec<String>,
) -> Response {
    let (heading, action, submit) = match target {
        None => ("Write a post", "/write".to_owned(), "Publish"),
        Some(id) => ("Edit post", format!("/posts/{id}/edit"), "Save"),
    };
    let html = EditPage {
        nav: visitor.nav(state),
        heading,
        action,
        submit,
        title,
        body,
        errors,
    };
    visitor.page(state, status, &html)
}

fn field_messages(errors: &[crate::error::FieldError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| format!("{} {}", capitalised(&e.field), e.message))
        .collect()
}

fn capitalised(field: &str) -> String {
    let mut chars = field.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn write_form(
    State(state): State<AppState>,
    mut visitor: Visitor,
) -> Result<Response, WebError> {
    visitor.signed_in()?;
    Ok(edit_page(
        &state,
        &visitor,
        StatusCode::OK,
        None,
        String::new(),
        String::new(),
        Vec::new(),
    ))
}

async fn write(
    State(state): State<AppState>,
    mut visitor: Visitor,
    form: FormResult<PostForm>,
) -> Result<Response, WebError> {
    visitor.here = "/write".into();
    visitor.signed_in()?;
    let Form(form) = form.map_err(|_| bad_form())?;
    visitor.check_form(&state, &form.csrf_token)?;
    let claims = writer(&state, &mut visitor).await?;
    let new = NewPost {
        title: form.title.clone(),
        body: form.body.clone(),
        source: None,
        source_url: None,
    };
    match posts::create(&state, &claims, new).await {
        Ok(posts::Written::Created(view) | posts::Written::Reimported(view)) => {
            Ok(see_other(&format!("/posts/{}", view.id)))
        }
        Err(Rejection::Api(ApiError::Validation(errors))) => Ok(edit_page(
            &state,
            &visitor,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            form.title,
            form.body,
            field_messages(&errors),
        )),
        Err(Rejection::Api(other)) => Err(other.into()),
        Err(Rejection::Auth(_)) => Err(WebError::Page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Your account may not write posts here.",
        )),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    mut visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let sub = visitor.signed_in()?.sub().to_owned();
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let (post, _) = posts::find_post(&state, id).await?;
    if post.author_id != sub {
        return Err(ApiError::Forbidden(String::new()).into());
    }
    Ok(edit_page(
        &state,
        &visitor,
        StatusCode::OK,
        Some(id),
        post.title,
        post.body,
        Vec::new(),
    ))
}

async fn edit(
    State(state): State<AppState>,
    mut visitor: Visitor,
    Path(id): Path<String>,
    form: FormResult<PostForm>,
) -> Result<Response, WebError> {
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    visitor.here = format!("/posts/{id}/edit");
    visitor.signed_in()?;
    let Form(form) = form.map_err(|_| bad_form())?;
    visitor.check_form(&state, &form.csrf_token)?;
    let claims = writer(&state, &mut visitor).await?;
    let changes = PostChanges {
        title: Some(form.title.clone()),
        body: Some(form.body.clone()),
    };
    match posts::update(&state, &claims, id, changes).await {
        Ok(view) => Ok(see_other(&format!("/posts/{}", view.id))),
        Err(ApiError::Validation(errors)) => Ok(edit_page(
            &state,
            &visitor,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
            form.title,
            form.body,
            field_messages(&errors),
        )),
        Err(other) => Err(other.into()),
    }
}

async fn delete(
    State(state): State<AppState>,
    mut visitor: Visitor,
    Path(id): Path<String>,
    form: FormResult<TokenForm>,
) -> Result<Response, WebError> {
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    visitor.here = format!("/posts/{id}");
    visitor.signed_in()?;
    let Form(form) = form.map_err(|_| bad_form())?;
    visitor.check_form(&state, &form.csrf_token)?;
    let claims = writer(&state, &mut visitor).await?;
    posts::delete(&state, &claims, id).await?;
    Ok(see_other("/my"))
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    return_to: Option<String>,
    /// `mfa`: the page that sent the browser here needs two factors.
    acr: Option<String>,
}

fn oidc(state: &AppState) -> Result<&Oidc, WebError> {
    state.web.oidc.as_ref().ok_or(WebError::Page(
        StatusCode::NOT_FOUND,
        "Sign-in is not set up",
        "This blog has no sign-in configured (OIDC_CLIENT_ID); it is read-only.",
    ))
}

/// Start signing in: remember `state`, `nonce` and the PKCE verifier, bind
/// the `state` to this browser (a cookie), and send it to the auth server.
async fn login(
    State(state): State<AppState>,
    query: QueryResult<LoginQuery>,
) -> Result<Response, WebError> {
    let oidc = oidc(&state)?;
    let query = query.ok().map(|q| q.0);
    let return_to = local_path(query.as_ref().and_then(|q| q.return_to.as_deref()));
    // Only the class this blog knows is passed on.
    let acr = query
        .as_ref()
        .and_then(|q| q.acr.as_deref())
        .filter(|acr| *acr == STEP_UP_ACR);
    let (url, oauth_state, pending) = oidc.begin(return_to, acr).await?;
    // No row: the sign-in in progress is sealed into the cookie itself, so
    // anonymous requests here store nothing.
    let sealed = session::login_cookie(&oidc.login_key(), &oauth_state, &pending, Utc::now())?;
    let names = &state.web.cookies;
    // Lax: the callback is a top-level navigation back from the auth server.
    // Sealed with its start time: worthless after LOGIN_TTL.
    let binding = cookie(names.login, sealed, SameSite::Lax, names.secure);
    Ok((CookieJar::new().add(binding), see_other(url.as_str())).into_response())
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The auth server sends the browser back here with a code (or an error).
/// The `state` must be the one this browser started with (its cookie) and
/// is usable once; then the code is redeemed and the ID token verified.
async fn callback(
    State(state): State<AppState>,
    jar: CookieJar,
    query: QueryResult<CallbackQuery>,
) -> Result<Response, WebError> {
    let oidc = oidc(&state)?;
    let Ok(Query(query)) = query else {
        return Err(bad_callback());
    };
    let names = &state.web.cookies;
    let bound = jar.get(names.login).map(|c| c.value().to_owned());
    let jar = jar.add(removal(names.login));
    let oauth_state = query.state.ok_or_else(bad_callback)?;
    // This browser's own sign-in (the cookie it was given), unexpired.
    let Some(pending) = bound.and_then(|cookie| {
        session::open_login_cookie(&oidc.login_key(), &cookie, &oauth_state, Utc::now())
    }) else {
        return Ok((jar, bad_callback()).into_response());
    };
    if query.error.is_some() {
        // access_denied and the like: the user did not sign in.
        return Ok((jar, see_other(&pending.return_to)).into_response());
    }
    let code = query.code.ok_or_else(bad_callback)?;
    let signed_in = oidc.finish(code, &pending).await?;
    let secret = session::create(&state.db, &signed_in, state.web.lifetime, Utc::now()).await?;
    tracing::info!(sub = %signed_in.sub, acr = ?signed_in.acr, "signed in to the blog");
    let jar = jar.add(cookie(names.session, secret, SameSite::Lax, names.secure));
    if pending.acr.is_some() && signed_in.acr != pending.acr {
        // Asked for two factors and got fewer (no second factor set up):
        // going back would only ask again.
        let page = message(
            StatusCode::FORBIDDEN,
            "A second factor is needed",
            "This page needs a sign-in with two factors. Set up a passkey or an authenticator app on your account's security page at the sign-in service, then try again.",
        );
        return Ok((jar, page).into_response());
    }
    Ok((jar, see_other(&pending.return_to)).into_response())
}

fn bad_callback() -> WebError {
    WebError::Page(
        StatusCode::BAD_REQUEST,
        "Sign-in expired",
        "This sign-in link is not valid here (it expired, was used already, or was started in another browser). Please sign in again.",
    )
}

/// Sign out of the blog, then of the auth server (RP-initiated logout),
/// which sends the browser back to the front page.
async fn logout(
    State(state): State<AppState>,
    visitor: Visitor,
    form: FormResult<TokenForm>,
) -> Result<Response, WebError> {
    let Form(form) = form.map_err(|_| bad_form())?;
    visitor.check_form(&state, &form.csrf_token)?;
    let names = &state.web.cookies;
    let jar = CookieJar::new().add(removal(names.session));
    let Some(session) = visitor.session else {
        return Ok((jar, see_other("/")).into_response());
    };
    session::end(&state.db, &session).await?;
    let next = match state.web.oidc.as_ref() {
        Some(oidc) => oidc.logout_url(&session.tokens.id_token).await,
        None => None,
    };
    let location = next.map_or_else(|| "/".to_owned(), |url| url.to_string());
    Ok((jar, see_other(&location)).into_response())
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        for (given, expected) in [
            (Some("/posts/1?x=2"), "/posts/1?x=2"),
            (Some("/"), "/"),
            (None, "/"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("evil"), "/"),
            (Some("/a\nb"), "/"),
            (Some("/a\\b"), "/"),
        ] {
            assert_eq!(local_path(given), expected, "{given:?}");
        }
    }

    #[test]
    fn sign_in_links_carry_the_return_path_encoded() {
        assert_eq!(
            sign_in_path("/posts/1?x=2&y"),
            "/auth/login?return_to=%2Fposts%2F1%3Fx%3D2%26y"
        );
    }

    #[test]
    fn field_errors_read_as_sentences() {
        let errors = [crate::error::FieldError::new(
            "title",
            "must be 1 to 200 characters",
        )];
        assert_eq!(
            field_messages(&errors),
            vec!["Title must be 1 to 200 characters"]
        );
    }
}
