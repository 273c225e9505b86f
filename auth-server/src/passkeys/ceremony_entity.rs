use sea_orm::entity::prelude::*;

/// One WebAuthn ceremony in progress: webauthn-rs's state for it, kept on
/// the server between the options and the answer, finished once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// `register` or `sign_in`.
    pub kind: String,
    /// The account registering (`None`: a sign-in, whose account the
    /// passkey names).
    pub user_id: Option<Uuid>,
    /// The origin whose cookie holds the token.
    pub site: String,
    pub state: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
