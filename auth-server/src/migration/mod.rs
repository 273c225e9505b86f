//! Schema migrations, shared by SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

mod m20261122_000001_create_users;
mod m20261122_000002_create_api_keys;
mod m20261122_000003_create_sessions_and_audit;
mod m20261122_000004_create_signing_keys;
mod m20261123_000005_token_audiences;
mod m20261123_000006_create_oauth_clients;
mod m20261123_000007_create_authorization_codes;
mod m20261123_000008_session_clients;
mod m20261123_000009_browser_sessions;
mod m20261123_000010_create_consents;
mod m20261123_000011_create_security_events;
mod m20261123_000012_dpop;
mod m20261123_000013_token_exchange;
mod m20261203_000014_sites_and_resources;
mod m20261203_000015_mail_and_email_tokens;
mod m20261203_000016_upstream_identities;
mod m20261203_000017_audit_by_account;
mod m20261203_000018_second_factors;
mod m20261203_000019_passkeys;
mod m20261204_000020_document_client_ids;
mod m20261204_000021_code_resources;
mod m20261204_000022_device_authorizations;
mod m20261204_000023_pushed_requests;
mod m20261204_000024_backchannel_logout;
mod m20261204_000025_ssf_streams;
mod m20261204_000026_rate_limit_states;
mod m20261205_000027_shared_backoff;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_api_keys::Migration),
            Box::new(m20261122_000003_create_sessions_and_audit::Migration),
            Box::new(m20261122_000004_create_signing_keys::Migration),
            Box::new(m20261123_000005_token_audiences::Migration),
            Box::new(m20261123_000006_create_oauth_clients::Migration),
            Box::new(m20261123_000007_create_authorization_codes::Migration),
            Box::new(m20261123_000008_session_clients::Migration),
            Box::new(m20261123_000009_browser_sessions::Migration),
            Box::new(m20261123_000010_create_consents::Migration),
            Box::new(m20261123_000011_create_security_events::Migration),
            Box::new(m20261123_000012_dpop::Migration),
            Box::new(m20261123_000013_token_exchange::Migration),
            Box::new(m20261203_000014_sites_and_resources::Migration),
            Box::new(m20261203_000015_mail_and_email_tokens::Migration),
            Box::new(m20261203_000016_upstream_identities::Migration),
            Box::new(m20261203_000017_audit_by_account::Migration),
            Box::new(m20261203_000018_second_factors::Migration),
            Box::new(m20261203_000019_passkeys::Migration),
            Box::new(m20261204_000020_document_client_ids::Migration),
            Box::new(m20261204_000021_code_resources::Migration),
            Box::new(m20261204_000022_device_authorizations::Migration),
            Box::new(m20261204_000023_pushed_requests::Migration),
            Box::new(m20261204_000024_backchannel_logout::Migration),
            Box::new(m20261204_000025_ssf_streams::Migration),
            Box::new(m20261204_000026_rate_limit_states::Migration),
            Box::new(m20261205_000027_shared_backoff::Migration),
        ]
    }
}
