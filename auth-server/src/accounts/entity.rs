use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// UUIDv7: time-ordered, so cursor pagination by id is creation order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Normalised (trimmed, lower-cased); unique.
    #[sea_orm(unique)]
    pub email: String,
    /// Argon2id PHC string. Never serialized: `Model` has no `Serialize`.
    pub password_hash: String,
    pub display_name: Option<String>,
    /// Space-separated role names.
    pub roles: String,
    pub disabled: bool,
    /// The owner proved they receive mail at `email` (a verification link,
    /// an upstream provider that verified it, or the operator's CLI).
    pub email_verified: bool,
    /// An administrator requires a second factor for this account.
    pub mfa_required: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl Model {
    /// Whether the account has a password one can sign in with (accounts
    /// made by an upstream sign-in have none until a reset sets one).
    pub fn has_password(&self) -> bool {
        !self
            .password_hash
            .starts_with(crate::accounts::password::NO_PASSWORD_PREFIX)
    }

    pub fn role_list(&self) -> Vec<String> {
        self.roles
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
