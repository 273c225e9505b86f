use sea_orm::entity::prelude::*;

/// A pushed authorization request (RFC 9126), named by its `request_uri`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pushed_requests")]
pub struct Model {
    /// SHA-256 of the random part of the `request_uri`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub uri_hash: String,
    pub client_id: String,
    /// The authorization parameters, a JSON object of strings.
    pub parameters: String,
    pub created_at: DateTimeUtc,
    /// Until the browser first opens it: 60 s after the push; then the
    /// sign-in's own span.
    pub expires_at: DateTimeUtc,
    /// When a browser first opened it.
    pub started_at: Option<DateTimeUtc>,
    /// When its authorization response (a code) was issued: used once.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
