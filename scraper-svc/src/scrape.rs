//! A scrape run: fetch every source, extract items, push them to blog-svc with
//! the service token, and record what happened. A source that is down or sends
//! garbage fails alone; blog-svc being down fails the pushes, which the next
//! run repeats (imports are idempotent by `source_url`, so nothing is lost or
//! duplicated).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jwt_verify::ServiceTokenSource;
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde::Serialize;
use tokio::sync::Mutex;
use url::Url;
use uuid::Uuid;

use signet_service::metrics::{CounterDef, Described, Metrics};

pub const SCRAPE_RUNS: CounterDef = CounterDef {
    name: "scrape_runs_total",
    help: "Scrape runs by trigger and status.",
};
pub const ITEMS_PUSHED: CounterDef = CounterDef {
    name: "scrape_items_pushed_total",
    help: "Items pushed to blog-svc.",
};
/// scraper-svc's own metrics, described at start.
pub const METRICS: &[Described] = &[
    Described::Counter(&SCRAPE_RUNS),
    Described::Counter(&ITEMS_PUSHED),
];

use crate::entity::scrape_run;
use crate::extract::{extract, Item};
use signet_service::address_policy::{refused_by_policy, AddressPolicy, PolicyRefused};

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RunError {
    pub source: String,
    pub error: String,
}

/// What a run needs; one per process.
pub struct Scraper {
    /// For blog-svc.
    pub http: reqwest::Client,
    /// For the configured sources themselves (trusted as written), no redirects.
    pub sources_http: reqwest::Client,
    /// For anything a source redirects to on another origin: resolves only
    /// to addresses `policy` permits, no redirects.
    pub redirected_http: reqwest::Client,
    pub policy: Arc<AddressPolicy>,
    pub tokens: ServiceTokenSource,
    pub blog_url: Url,
    pub sources: Vec<Url>,
    pub max_source_bytes: usize,
    pub max_items_per_source: usize,
    /// Runs never overlap: a scheduled and a manual run would push the same items twice.
    pub running: Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunRefused {
    #[error("a scrape run is already in progress")]
    Busy,
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// Redirects followed per source at most.
const MAX_REDIRECTS: usize = 5;

/// One request, with errors that say what an admin needs and nothing more:
/// which ports answer, or how, is not theirs to learn from a run's errors.
async fn get(client: &reqwest::Client, url: &Url) -> Result<reqwest::Response, String> {
    client.get(url.clone()).send().await.map_err(|e| {
        if refused_by_policy(&e) {
            PolicyRefused.to_string()
        } else {
            "unreachable".to_owned()
        }
    })
}

/// GET `source`, following redirects by hand: a hop that stays on the
/// source's origin is trusted like the source; one that leaves it may only
/// reach addresses the policy permits (checked on the resolved addresses).
async fn fetch(scraper: &Scraper, source: &Url) -> Result<(String, Vec<u8>), String> {
    let mut url = source.clone();
    let mut response = get(&scraper.sources_http, &url).await?;
    for _ in 0..MAX_REDIRECTS {
        if !response.status().is_redirection() {
            break;
        }
        let next = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|location| url.join(location).ok())
            .filter(|next| matches!(next.scheme(), "http" | "https"))
            .ok_or_else(|| "redirect without a usable Location".to_owned())?;
        url = next;
        response = if url.origin() == source.origin() {
            get(&scraper.sources_http, &url).await?
        } else {
            // An IP literal is connected to without resolution: check it here.
            if url
                .host()
                .is_some_and(|host| !scraper.policy.permits_host(&host))
            {
                return Err(PolicyRefused.to_string());
            }
            get(&scraper.redirected_http, &url).await?
        };
    }
    if response.status().is_redirection() {
        return Err(format!("more than {MAX_REDIRECTS} redirects"));
    }
    if !response.status().is_success() {
        return Err(format!("HTTP status {}", response.status()));
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("read failed: {e}"))?
    {
        if body.len() + chunk.len() > scraper.max_source_bytes {
            return Err(format!("larger than {} bytes", scraper.max_source_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((content_type, body))
}

#[derive(Debug)]
enum PushError {
    /// blog-svc (or auth-server) is unavailable: retry on the next run.
    Unavailable(String),
    /// blog-svc refused the item: retrying will not help.
    Refused(String),
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(e) => write!(f, "will retry next run: {e}"),
            Self::Refused(e) => write!(f, "refused by blog-svc: {e}"),
        }
    }
}

async fn push(scraper: &Scraper, source: &Url, item: &Item) -> Result<(), PushError> {
    let url = scraper
        .blog_url
        .join("/api/v1/posts")
        .map_err(|e| PushError::Refused(e.to_string()))?;
    let body = serde_json::json!({ "title": item.title, "body": item.body, "source": source.as_str(), "source_url": item.source_url });
    // One retry with a fresh token if blog-svc says ours is no good (e.g. keys rotated).
    for attempt in 0..2 {
        // Bearer, or DPoP with a proof for this request (AUTH_DPOP).
        let headers = scraper
            .tokens
            .request_headers(&reqwest::Method::POST, url.as_str())
            .await
            .map_err(|e| PushError::Unavailable(format!("no service token: {e}")))?;
        let response = scraper
            .http
            .post(url.clone())
            .headers(headers)
            .json(&body)
            .send()
            .await
            .map_err(|e| PushError::Unavailable(format!("blog-svc unreachable: {e}")))?;
        match response.status() {
            StatusCode::CREATED | StatusCode::OK => return Ok(()),
            StatusCode::UNAUTHORIZED if attempt == 0 => scraper.tokens.invalidate(),
            status if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
                return Err(PushError::Unavailable(format!(
                    "blog-svc answered {status}"
                )))
            }
            status => {
                let detail = response.text().await.unwrap_or_default();
                return Err(PushError::Refused(format!(
                    "{status}: {}",
                    detail.chars().take(300).collect::<String>()
                )));
            }
        }
    }
    Err(PushError::Refused("401 with a fresh token".into()))
}

/// The longest a document may take to parse. Parsing runs on the blocking
/// pool, never on a request-serving worker; with the nesting limit in
/// [`extract`] its cost is bounded, and this budget bounds what is left.
pub const PARSE_BUDGET: Duration = Duration::from_secs(5);

async fn parse_off_the_runtime(
    source: &Url,
    content_type: String,
    body: Vec<u8>,
    max_items: usize,
) -> Result<Vec<Item>, String> {
    let source = source.clone();
    let parsing = tokio::task::spawn_blocking(move || {
        extract(&source, &content_type, &body, max_items).map_err(|e| e.to_string())
    });
    match tokio::time::timeout(PARSE_BUDGET, parsing).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err("the parser failed".to_owned()),
        Err(_) => Err("took too long to parse".to_owned()),
    }
}

fn shutting_down() -> bool {
    signet_service::http::shutdown_requested()
}

/// Delete finished runs that started before `now - keep` (in batches).
pub async fn purge_old_runs(
    db: &DatabaseConnection,
    keep: Duration,
    now: chrono::DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, Condition};
    let cutoff = now - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    signet_service::retention::purge_in_batches::<scrape_run::Entity>(
        db,
        "scraper-svc:retention:scrape_runs",
        scrape_run::Column::Id,
        Condition::all()
            .add(scrape_run::Column::StartedAt.lt(cutoff))
            .add(scrape_run::Column::Status.ne("running")),
        1000,
    )
    .await
}

/// Mark runs a dead process left `running` as failed (at start: only one
/// scraper process runs the schedule, and it holds no run yet).
pub async fn fail_interrupted_runs(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let interrupted = serde_json::to_string(&[RunError {
        source: String::new(),
        error: "interrupted: the scraper stopped during the run".to_owned(),
    }])
    .unwrap_or_else(|_| "[]".into());
    let result = scrape_run::Entity::update_many()
        .col_expr(
            scrape_run::Column::Status,
            sea_orm::sea_query::Expr::value("failed"),
        )
        .col_expr(
            scrape_run::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .col_expr(
            scrape_run::Column::Errors,
            sea_orm::sea_query::Expr::value(interrupted),
        )
        .filter(scrape_run::Column::Status.eq("running"))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Run over every source now, recording the run. `Busy` if one is under way.
/// Who asked for a manual run (none for a scheduled one).
#[derive(Debug, Default, Clone, Copy)]
pub struct Requester<'a> {
    /// The user (`sub`).
    pub user: Option<&'a str>,
    /// The service acting for them (`act.sub` of an exchanged token).
    pub via: Option<&'a str>,
}

pub async fn run(
    scraper: &Arc<Scraper>,
    db: &DatabaseConnection,
    metrics: &Metrics,
    trigger: &str,
    requester: Requester<'_>,
) -> Result<scrape_run::Model, RunRefused> {
    let Ok(_guard) = scraper.running.try_lock() else {
        return Err(RunRefused::Busy);
    };
    let started_at = Utc::now();
    let record = scrape_run::ActiveModel {
        id: Set(Uuid::now_v7()),
        trigger: Set(trigger.to_owned()),
        status: Set("running".to_owned()),
        sources_total: Set(scraper.sources.len() as i32),
        sources_failed: Set(0),
        items_found: Set(0),
        items_pushed: Set(0),
        errors: Set("[]".to_owned()),
        started_at: Set(started_at),
        finished_at: Set(None),
        requested_by: Set(requester.user.map(|u| u.chars().take(128).collect())),
        requested_via: Set(requester.via.map(|v| v.chars().take(128).collect())),
    }
    .insert(db)
    .await?;
    tracing::info!(
        run = %record.id, trigger, sources = scraper.sources.len(),
        requested_by = requester.user, requested_via = requester.via,
        "scrape run started"
    );

    let mut errors: Vec<RunError> = Vec::new();
    let (mut sources_failed, mut found, mut pushed) = (0, 0, 0);
    for source in &scraper.sources {
        if shutting_down() {
            errors.push(RunError {
                source: source.to_string(),
                error: "not fetched: the service is shutting down".to_owned(),
            });
            sources_failed += 1;
            continue;
        }
        let items = match fetch(scraper, source).await {
            Ok((content_type, body)) => {
                parse_off_the_runtime(source, content_type, body, scraper.max_items_per_source)
                    .await
            }
            Err(error) => Err(error),
        };
        let items = match items {
            Ok(items) => items,
            Err(error) => {
                tracing::warn!(source = %source, %error, "source failed");
                sources_failed += 1;
                errors.push(RunError {
                    source: source.to_string(),
                    error,
                });
                continue;
            }
        };
        found += items.len() as i32;
        for item in &items {
            match push(scraper, source, item).await {
                Ok(()) => pushed += 1,
                Err(error) => {
                    tracing::warn!(item = %item.source_url, %error, "push failed");
                    errors.push(RunError {
                        source: item.source_url.clone(),
                        error: error.to_string(),
                    });
                    if matches!(error, PushError::Unavailable(_)) {
                        // The blog or auth server is down: stop hammering it; the next run retries.
                        break;
                    }
                }
            }
        }
    }
    let status = if errors.is_empty() {
        "succeeded"
    } else if pushed == 0 && (found > 0 || sources_failed == scraper.sources.len() as i32) {
        "failed"
    } else {
        "partial"
    };
    let mut finished: scrape_run::ActiveModel = record.into();
    finished.status = Set(status.to_owned());
    finished.sources_failed = Set(sources_failed);
    finished.items_found = Set(found);
    finished.items_pushed = Set(pushed);
    finished.errors = Set(serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into()));
    finished.finished_at = Set(Some(Utc::now()));
    let finished = finished.update(db).await?;
    metrics
        .counter(&SCRAPE_RUNS, &[("trigger", trigger), ("status", status)])
        .increment(1);
    metrics
        .counter(&ITEMS_PUSHED, &[])
        .increment(u64::try_from(pushed).unwrap_or(0));
    tracing::info!(run = %finished.id, status, found, pushed, failed_sources = sources_failed, "scrape run finished");
    Ok(finished)
}

/// Run every `interval` until `stop` fires.
pub fn spawn_schedule(
    scraper: Arc<Scraper>,
    db: DatabaseConnection,
    metrics: Metrics,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    if interval.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(error) = run(&scraper, &db, &metrics, "scheduled", Requester::default()).await {
                        tracing::warn!(%error, "scheduled scrape run not started");
                    }
                }
                _ = stop.changed() => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::Migrator;

    #[tokio::test]
    async fn a_run_keeps_who_asked_for_it_through_its_update() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        let mut db = signet_service::db::connect(&url, 5, Duration::from_secs(5))
            .await
            .expect("db");
        signet_service::db::migrate::<Migrator>(&mut db, "scraper-svc")
            .await
            .expect("migrate");
        for _ in 0..50 {
            let record = scrape_run::ActiveModel {
                id: Set(Uuid::now_v7()),
                trigger: Set("manual".into()),
                status: Set("running".into()),
                sources_total: Set(1),
                sources_failed: Set(0),
                items_found: Set(0),
                items_pushed: Set(0),
                errors: Set("[]".into()),
                started_at: Set(Utc::now()),
                finished_at: Set(None),
                requested_by: Set(Some("user".into())),
                requested_via: Set(Some("sgn_blog".into())),
            }
            .insert(&db)
            .await
            .expect("insert");
            assert_eq!(record.requested_via.as_deref(), Some("sgn_blog"));
            let mut finished: scrape_run::ActiveModel = record.into();
            finished.status = Set("succeeded".into());
            let finished = finished.update(&db).await.expect("update");
            let stored = <scrape_run::Entity as sea_orm::EntityTrait>::find_by_id(finished.id)
                .one(&db)
                .await
                .expect("select")
                .expect("row");
            assert_eq!(stored.requested_via.as_deref(), Some("sgn_blog"));
            assert_eq!(finished.requested_via.as_deref(), Some("sgn_blog"));
        }
    }

    #[tokio::test]
    async fn finished_runs_past_their_retention_are_purged_and_running_ones_never() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
        let mut db = signet_service::db::connect(&url, 2, Duration::from_secs(5))
            .await
            .expect("db");
        signet_service::db::migrate::<Migrator>(&mut db, "scraper-svc")
            .await
            .expect("migrate");
        let now = Utc::now();
        for (status, days_ago) in [
            ("succeeded", 40),
            ("failed", 31),
            ("running", 45),
            ("partial", 2),
        ] {
            scrape_run::ActiveModel {
                id: Set(Uuid::now_v7()),
                trigger: Set("scheduled".into()),
                status: Set(status.into()),
                sources_total: Set(1),
                sources_failed: Set(0),
                items_found: Set(0),
                items_pushed: Set(0),
                errors: Set("[]".into()),
                started_at: Set(now - chrono::Duration::days(days_ago)),
                finished_at: Set(None),
                requested_by: Set(None),
                requested_via: Set(None),
            }
            .insert(&db)
            .await
            .expect("insert");
        }
        let keep = Duration::from_secs(30 * 24 * 3600);
        assert_eq!(purge_old_runs(&db, keep, now).await.expect("purge"), 2);
        assert_eq!(purge_old_runs(&db, keep, now).await.expect("purge"), 0);
        // Sixty days later, the recent one goes too; the stuck one stays for
        // the start-up sweep to close.
        let later = now + chrono::Duration::days(60);
        assert_eq!(purge_old_runs(&db, keep, later).await.expect("purge"), 1);
    }
}
