use sea_orm::entity::prelude::*;

/// A signing key in the shared key store (database mode).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// RFC 7638 thumbprint of the public key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `next` (published, not signing), `active` (signing) or `retired`
    /// (published so its tokens verify, not signing). Removed keys are deleted.
    pub state: String,
    /// PKCS#8 PEM sealed with AES-256-GCM under `KEY_ENCRYPTION_KEY`:
    /// base64(nonce ‖ ciphertext ‖ tag), the kid as associated data.
    pub private_key: String,
    pub created_at: DateTimeUtc,
    pub activate_after: Option<DateTimeUtc>,
    pub activated_at: Option<DateTimeUtc>,
    pub retired_at: Option<DateTimeUtc>,
    pub remove_after: Option<DateTimeUtc>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
