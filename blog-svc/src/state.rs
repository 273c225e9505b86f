use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The auth server's public keys, cached and refreshed by jwt-verify.
    pub verifier: jwt_verify::Verifier,
    pub config: Arc<Config>,
    pub metrics: signet_service::metrics::Metrics,
    /// Acting for admins at scraper-svc (`SCRAPER_URL`), if configured.
    pub scraper: Option<Arc<crate::routes::admin::Scraper>>,
    /// The web front end (pages, sign-in, browser sessions).
    pub web: Arc<crate::web::Web>,
}
