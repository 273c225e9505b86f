//! Admin actions that reach another service for the admin: the blog
//! exchanges the admin's own token for one to scraper-svc (RFC 8693), so the
//! scraper sees the admin as the user and the blog as the acting service,
//! and nothing more than the admin's token allowed.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jwt_verify::{ClientError, ServiceTokenSource};

use crate::config::ScraperLink;
use crate::error::ApiError;
use crate::state::AppState;

/// The blog's way to the scraper: its API key (for exchanges) and an HTTP client.
pub struct Scraper {
    tokens: ServiceTokenSource,
    scrape_url: String,
    audience: String,
    http: reqwest::Client,
}

impl Scraper {
    pub fn new(link: &ScraperLink) -> anyhow::Result<Arc<Self>> {
        let tokens = ServiceTokenSource::from_api_key(
            &link.token_url,
            secrecy::ExposeSecret::expose_secret(&link.api_key),
        )
        .map_err(|e| anyhow::anyhow!("BLOG_API_KEY / AUTH_TOKEN_URL: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Arc::new(Self {
            tokens,
            scrape_url: format!("{}/api/v1/scrape", link.url),
            audience: link.audience.clone(),
            http,
        }))
    }
}

/// The token the request came with (the layer in front verified it).
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .map(|(_, token)| token.trim())
}

/// `POST /api/v1/admin/scrape` (role `admin`): run the scraper now, as the
/// admin, and answer with its run record.
#[utoipa::path(post, path = "/api/v1/admin/scrape", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "scraper-svc's run record"),
              (status = 403, description = "Not an admin", body = signet_service::error::Problem),
              (status = 502, description = "scraper-svc or the token exchange failed", body = signet_service::error::Problem)))]
pub async fn scrape_now(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(scraper) = &state.scraper else {
        return Err(ApiError::NotFound("scraper link (SCRAPER_URL)"));
    };
    let token = presented_token(&headers).ok_or_else(|| ApiError::BadRequest("no token".into()))?;
    let exchanged = match scraper
        .tokens
        .exchange(token, &scraper.audience, None)
        .await
    {
        Ok(exchanged) => exchanged,
        // The admin's session ended since the token was issued.
        Err(ClientError::Rejected { error, .. }) if error == "invalid_grant" => {
            return Err(ApiError::Forbidden(
                "the auth server will not act for this token any more".into(),
            ))
        }
        Err(error) => {
            tracing::warn!(%error, "token exchange for the scraper failed");
            return Err(ApiError::BadGateway(
                "the auth server did not issue a token for the scraper".into(),
            ));
        }
    };
    let response = scraper
        .http
        .post(&scraper.scrape_url)
        .headers(
            exchanged
                .request_headers(&reqwest::Method::POST, &scraper.scrape_url)
                .map_err(ApiError::internal)?,
        )
        .send()
        .await
        .map_err(|error| {
            tracing::warn!(%error, "scraper-svc unreachable");
            ApiError::BadGateway("the scraper could not be reached".into())
        })?;
    match response.status() {
        StatusCode::OK => {
            let run: serde_json::Value = response.json().await.map_err(|error| {
                tracing::warn!(%error, "scraper-svc answered something that is not JSON");
                ApiError::BadGateway("the scraper's answer was not understood".into())
            })?;
            Ok(axum::Json(run).into_response())
        }
        StatusCode::CONFLICT => Err(ApiError::Conflict(
            "a scrape run is already in progress".into(),
        )),
        status => {
            tracing::warn!(%status, "scraper-svc refused the exchanged token's request");
            Err(ApiError::BadGateway(format!(
                "the scraper answered {status}"
            )))
        }
    }
}
