use sea_orm::entity::prelude::*;

/// A sign-in waiting for its second factor: the password was right (or,
/// for a step-up, the browser is signed in). Named by a random token held
/// by the browser's cookie (`site`) or returned as `mfa_token` (REST, no
/// site); stored as SHA-256 only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_challenges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub user_id: Uuid,
    /// `sign_in`, `enrol` (the account must set up a factor first) or
    /// `step_up` (of `session_id`).
    pub purpose: String,
    pub session_id: Option<Uuid>,
    /// The origin whose cookie holds the token (`None`: the REST login).
    pub site: Option<String>,
    /// The resource the session's tokens are for.
    pub audience: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Wrong codes so far; at [`super::MAX_ATTEMPTS`] the challenge is spent.
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set by the one completion that wins.
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
