//! Posts: public reads, authenticated writes, idempotent imports keyed by
//! (`source`, `source_url`) for holders of the import scope.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jwt_verify::{AuthError, Claims, Requirement};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entity::{author, post};
use crate::error::{is_unique_violation, ApiError, ApiJson, ApiPath, ApiQuery, FieldError};
use crate::state::AppState;

pub const REALM: &str = "blog";
pub const WRITE_SCOPE: &str = "posts:write";
/// Needed to set `source`/`source_url` (importers such as scraper-svc):
/// without it anyone could squat a link before its feed is imported.
pub const IMPORT_SCOPE: &str = "posts:import";
const MAX_TITLE_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 100_000;
const MAX_SOURCE_URL_LEN: usize = 2048;
const DEFAULT_PAGE: u64 = 20;
const MAX_PAGE: u64 = 100;

/// The claims the blog reads from a token, beyond the standard ones.
#[derive(Debug, Deserialize)]
pub struct Writer {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A handler failure: a problem+json error, or an RFC 6750 rejection.
pub enum Rejection {
    Api(ApiError),
    Auth(AuthError),
}

impl From<ApiError> for Rejection {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<sea_orm::DbErr> for Rejection {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Api(error.into())
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => error.into_response(),
            Self::Auth(error) => error.to_response(REALM),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorView {
    pub id: String,
    pub display_name: String,
    pub kind: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostView {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub source: Option<String>,
    pub source_url: Option<String>,
    pub author: Option<AuthorView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn view(post: post::Model, author: Option<author::Model>) -> PostView {
    PostView {
        id: post.id,
        title: post.title,
        body: post.body,
        source: post.source,
        source_url: post.source_url,
        author: author.map(|a| AuthorView {
            id: a.id,
            display_name: a.display_name,
            kind: a.kind,
        }),
        created_at: post.created_at,
        updated_at: post.updated_at,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page size, 1–100 (default 20).
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<Uuid>,
    /// Only this author's posts (the author's `sub`).
    pub author: Option<String>,
    /// Case-insensitive text to find in the title or body.
    pub q: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostPage {
    pub items: Vec<PostView>,
    pub next_cursor: Option<Uuid>,
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    escaped
}

/// Newest first.
#[utoipa::path(get, path = "/api/v1/posts", tag = "posts", params(ListParams),
    responses((status = 200, body = PostPage),
              (status = 400, description = "Bad query", body = signet_service::error::Problem)))]
pub async fn list_posts(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<ApiJson<PostPage>, ApiError> {
    Ok(ApiJson(list(&state, params).await?))
}

/// A page of posts, newest first (the API's list and the web pages').
pub(crate) async fn list(state: &AppState, params: ListParams) -> Result<PostPage, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        )]));
    }
    let mut query = post::Entity::find().order_by_desc(post::Column::Id);
    if let Some(cursor) = params.cursor {
        query = query.filter(post::Column::Id.lt(cursor));
    }
    if let Some(author) = params.author {
        query = query.filter(post::Column::AuthorId.eq(author));
    }
    if let Some(q) = params.q.filter(|q| !q.trim().is_empty()) {
        if q.chars().count() > 200 {
            return Err(ApiError::Validation(vec![FieldError::new(
                "q",
                "must be at most 200 characters",
            )]));
        }
        let pattern = escape_like(q.trim());
        let like = |column: post::Column| {
            Expr::expr(Func::lower(Expr::col((post::Entity, column))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            Condition::any()
                .add(like(post::Column::Title))
                .add(like(post::Column::Body)),
        );
    }
    let mut rows = query
        .limit(limit + 1)
        .find_also_related(author::Entity)
        .all(&state.db)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(p, _)| p.id)
    } else {
        None
    };
    Ok(PostPage {
        items: rows.into_iter().map(|(p, a)| view(p, a)).collect(),
        next_cursor,
    })
}

pub(crate) async fn find_post(
    state: &AppState,
    id: Uuid,
) -> Result<(post::Model, Option<author::Model>), ApiError> {
    post::Entity::find_by_id(id)
        .find_also_related(author::Entity)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("post"))
}

#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "posts",
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 200, body = PostView),
              (status = 404, description = "No such post", body = signet_service::error::Problem)))]
pub async fn get_post(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<PostView>, ApiError> {
    let (post, author) = find_post(&state, id).await?;
    Ok(ApiJson(view(post, author)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    pub title: String,
    pub body: String,
    /// With `source_url`, for importers: the feed the item came from.
    #[serde(default)]
    pub source: Option<String>,
    /// The imported item's own link.
    #[serde(default)]
    pub source_url: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostChanges {
    pub title: Option<String>,
    pub body: Option<String>,
}

fn validate_title(title: &str, errors: &mut Vec<FieldError>) -> String {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        errors.push(FieldError::new(
            "title",
            format!("must be 1 to {MAX_TITLE_CHARS} characters"),
        ));
    } else if title.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "title",
            "must not contain control characters",
        ));
    }
    title.to_owned()
}

fn validate_body(body: &str, errors: &mut Vec<FieldError>) -> String {
    if body.trim().is_empty() || body.chars().count() > MAX_BODY_CHARS {
        errors.push(FieldError::new(
            "body",
            format!("must be 1 to {MAX_BODY_CHARS} characters"),
        ));
    }
    body.to_owned()
}

fn validate_url(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = raw?.trim();
    let valid = raw.len() <= MAX_SOURCE_URL_LEN
        && url::Url::parse(raw)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !valid {
        errors.push(FieldError::new(
            field,
            "must be an absolute http(s) URL of at most 2048 characters",
        ));
        return None;
    }
    Some(raw.to_owned())
}

/// The import key of a new post: both `source` and `source_url`, or neither.
fn validate_import(new: &NewPost, errors: &mut Vec<FieldError>) -> Option<(String, String)> {
    let source = validate_url("source", new.source.as_deref(), errors);
    let link = validate_url("source_url", new.source_url.as_deref(), errors);
    match (source, link) {
        (Some(source), Some(link)) => Some((source, link)),
        (None, None) => None,
        (source, _) => {
            let missing = if source.is_some() {
                "source_url"
            } else {
                "source"
            };
            if new.source.is_some() && new.source_url.is_some() {
                return None; // already reported as invalid
            }
            errors.push(FieldError::new(
                missing,
                "source and source_url are given together (an import) or not at all",
            ));
            None
        }
    }
}

async fn find_import(
    state: &AppState,
    (source, link): &(String, String),
) -> Result<Option<post::Model>, ApiError> {
    Ok(post::Entity::find()
        .filter(post::Column::Source.eq(source.as_str()))
        .filter(post::Column::SourceUrl.eq(link.as_str()))
        .one(&state.db)
        .await?)
}

/// Record the author on their first write (and follow display-name changes);
/// the blog keeps nothing else about them.
async fn ensure_author(
    state: &AppState,
    claims: &Claims<Writer>,
) -> Result<author::Model, ApiError> {
    let is_service = claims.standard().is_service();
    let fallback = claims
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .unwrap_or(&claims.sub);
    let display_name: String = claims
        .name
        .as_deref()
        .unwrap_or(fallback)
        .chars()
        .take(100)
        .collect();
    let now = Utc::now();
    let find = || author::Entity::find_by_id(claims.sub.clone()).one(&state.db);
    let existing = match find().await? {
        Some(existing) => existing,
        None => {
            let row = author::ActiveModel {
                id: Set(claims.sub.clone()),
                display_name: Set(display_name.clone()),
                kind: Set(if is_service { "service" } else { "user" }.to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            };
            // Two first writes may race: the second insert does nothing.
            author::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(author::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&state.db)
                .await?;
            find().await?.ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("author row vanished after insert"))
            })?
        }
    };
    if existing.display_name != display_name {
        let mut active = existing.into_active_model();
        active.display_name = Set(display_name);
        active.updated_at = Set(now);
        return Ok(active.update(&state.db).await?);
    }
    Ok(existing)
}

fn created(view: PostView) -> Response {
    let location = format!("/api/v1/posts/{}", view.id);
    let mut response = (StatusCode::CREATED, ApiJson(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Update an imported post in place (the same author re-importing the same URL).
async fn reimport(
    state: &AppState,
    existing: post::Model,
    author: author::Model,
    title: String,
    body: String,
) -> Result<Written, Rejection> {
    if existing.author_id != author.id {
        return Err(
            ApiError::Conflict("this source_url was imported by another author".into()).into(),
        );
    }
    let mut active = existing.into_active_model();
    active.title = Set(title);
    active.body = Set(body);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&state.db).await?;
    Ok(Written::Reimported(view(updated, Some(author))))
}

/// Create a post: any signed-in user, or a service whose token grants `posts:write`.
/// With a (`source`, `source_url`) already imported by the same author, the
/// post is updated instead (200), so imports are idempotent. Setting them
/// needs the `posts:import` scope.
#[utoipa::path(post, path = "/api/v1/posts", tag = "posts", security(("bearer" = [])),
    request_body = NewPost,
    responses((status = 201, description = "Created", body = PostView),
              (status = 200, description = "An import of a link already imported: updated", body = PostView),
              (status = 401, description = "No or bad token (RFC 6750)", body = signet_service::error::Problem),
              (status = 403, description = "Missing scope posts:write (posts:import for source fields)", body = signet_service::error::Problem),
              (status = 422, description = "Invalid fields", body = signet_service::error::Problem)))]
pub async fn create_post(
    State(state): State<AppState>,
    claims: Claims<Writer>,
    ApiJson(new): ApiJson<NewPost>,
) -> Result<Response, Rejection> {
    Ok(match create(&state, &claims, new).await? {
        Written::Created(view) => created(view),
        Written::Reimported(view) => (StatusCode::OK, ApiJson(view)).into_response(),
    })
}

/// What [`create`] did.
pub(crate) enum Written {
    Created(PostView),
    /// An import of a link the same author had imported: updated in place.
    Reimported(PostView),
}

/// Create a post for the holder of `claims` (the API's and the web pages').
pub(crate) async fn create(
    state: &AppState,
    claims: &Claims<Writer>,
    new: NewPost,
) -> Result<Written, Rejection> {
    // Users and services alike (the web pages come this way too).
    Requirement::Scope(WRITE_SCOPE.to_owned())
        .check(claims.standard())
        .map_err(Rejection::Auth)?;
    if (new.source.is_some() || new.source_url.is_some())
        && !claims.standard().has_scope(IMPORT_SCOPE)
    {
        return Err(Rejection::Auth(jwt_verify::AuthError::InsufficientScope(
            IMPORT_SCOPE.to_owned(),
        )));
    }
    let mut errors = Vec::new();
    let title = validate_title(&new.title, &mut errors);
    let body = validate_body(&new.body, &mut errors);
    let import = validate_import(&new, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors).into());
    }
    let author = ensure_author(state, claims).await?;
    if let Some(key) = &import {
        if let Some(existing) = find_import(state, key).await? {
            return reimport(state, existing, author, title, body).await;
        }
    }
    let now = Utc::now();
    let inserted = post::ActiveModel {
        id: Set(Uuid::now_v7()),
        author_id: Set(author.id.clone()),
        title: Set(title.clone()),
        body: Set(body.clone()),
        source: Set(import.as_ref().map(|(source, _)| source.clone())),
        source_url: Set(import.as_ref().map(|(_, link)| link.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(post) => {
            tracing::info!(post_id = %post.id, author = %author.id, "post created");
            Ok(Written::Created(view(post, Some(author))))
        }
        // Two imports of one URL raced: the loser updates what the winner wrote.
        Err(error) => match &import {
            Some(key) if is_unique_violation(&error) => {
                let existing = find_import(state, key)
                    .await?
                    .ok_or(ApiError::Conflict("concurrent import; retry".into()))?;
                reimport(state, existing, author, title, body).await
            }
            _ => Err(ApiError::from(error).into()),
        },
    }
}

pub(crate) fn may_modify(claims: &Claims<Writer>, post: &post::Model) -> Result<(), ApiError> {
    if !claims.standard().has_scope(WRITE_SCOPE) {
        return Err(ApiError::Forbidden(format!(
            "the token lacks the {WRITE_SCOPE} scope"
        )));
    }
    if post.author_id == claims.sub || claims.standard().has_role("admin") {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the author or an admin may change this post".into(),
        ))
    }
}

#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Post id")),
    request_body = PostChanges,
    responses((status = 200, body = PostView),
              (status = 403, description = "Not the author or an admin", body = signet_service::error::Problem),
              (status = 404, description = "No such post", body = signet_service::error::Problem)))]
pub async fn update_post(
    State(state): State<AppState>,
    claims: Claims<Writer>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(changes): ApiJson<PostChanges>,
) -> Result<ApiJson<PostView>, ApiError> {
    Ok(ApiJson(update(&state, &claims, id, changes).await?))
}

/// Change a post's title or body: its author or an admin.
pub(crate) async fn update(
    state: &AppState,
    claims: &Claims<Writer>,
    id: Uuid,
    changes: PostChanges,
) -> Result<PostView, ApiError> {
    let (post, author) = find_post(state, id).await?;
    may_modify(claims, &post)?;
    let mut errors = Vec::new();
    let mut active = post.into_active_model();
    if let Some(title) = &changes.title {
        active.title = Set(validate_title(title, &mut errors));
    }
    if let Some(body) = &changes.body {
        active.body = Set(validate_body(body, &mut errors));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&state.db).await?;
    Ok(view(updated, author))
}

#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "Not the author or an admin", body = signet_service::error::Problem),
              (status = 404, description = "No such post", body = signet_service::error::Problem)))]
pub async fn delete_post(
    State(state): State<AppState>,
    claims: Claims<Writer>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    delete(&state, &claims, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a post: its author or an admin.
pub(crate) async fn delete(
    state: &AppState,
    claims: &Claims<Writer>,
    id: Uuid,
) -> Result<(), ApiError> {
    let (post, _) = find_post(state, id).await?;
    may_modify(claims, &post)?;
    post.delete(&state.db).await?;
    tracing::info!(post_id = %id, by = %claims.sub, "post deleted");
    Ok(())
}
