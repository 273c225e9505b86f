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
    pub metrics: signet_service::metrics::Metrics,
}
