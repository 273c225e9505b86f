use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::scrape::Scraper;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: jwt_verify::Verifier,
    pub scraper: Arc<Scraper>,
    pub config: Arc<Config>,
    /// Where clients reach this service: the first of `DPOP_ORIGINS`, or the
    /// bound address (the OpenAPI document's server).
    pub public_url: String,
    pub metrics: signet_service::metrics::Metrics,
}
