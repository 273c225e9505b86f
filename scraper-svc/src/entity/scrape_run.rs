use sea_orm::entity::prelude::*;

/// One pass over the configured sources.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scrape_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `manual` or `scheduled`.
    pub trigger: String,
    /// `running`, `succeeded`, `partial` (some sources or pushes failed) or `failed`.
    pub status: String,
    pub sources_total: i32,
    pub sources_failed: i32,
    pub items_found: i32,
    pub items_pushed: i32,
    /// JSON array of `{source, error}`.
    pub errors: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// A manual run: the user who asked (`sub` of the token).
    pub requested_by: Option<String>,
    /// …and the service that asked for them, with a token exchanged for
    /// theirs (`act.sub`), if any.
    pub requested_via: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
