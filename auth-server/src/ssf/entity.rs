use sea_orm::entity::prelude::*;

/// A receiver's stream (OpenID Shared Signals Framework 1.0 §8).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ssf_streams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub stream_id: Uuid,
    /// The API key (its client id) that manages and polls it.
    pub client_id: String,
    /// The SETs' `aud`.
    pub audience: String,
    /// Space-separated event types the receiver asked for.
    pub events_requested: String,
    pub description: Option<String>,
    /// `enabled`, `paused` or `disabled` (§8.1.2).
    pub status: String,
    pub status_reason: Option<String>,
    /// The last security event (`security_events.id`) this stream was filled with.
    pub cursor: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl Model {
    pub fn requested(&self) -> Vec<String> {
        self.events_requested
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
