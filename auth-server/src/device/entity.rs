use sea_orm::entity::prelude::*;

/// One device's authorization request (RFC 8628).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "device_authorizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the device code (`sgdc_…`), which only the device holds.
    #[sea_orm(unique)]
    pub device_code_hash: String,
    /// SHA-256 of the normalised user code (eight letters, no dash).
    #[sea_orm(unique)]
    pub user_code_hash: String,
    pub client_id: String,
    pub scope: String,
    /// The one resource (RFC 8707) asked for, if any.
    pub resource: Option<String>,
    /// `pending`, `approved`, `denied` or `redeemed`.
    pub status: String,
    /// Who approved or denied it.
    pub user_id: Option<Uuid>,
    /// When that person signed in (the ID token's `auth_time`).
    pub auth_time: Option<DateTimeUtc>,
    /// How they signed in (RFC 8176 values).
    pub amr: Option<String>,
    /// The upstream issuer they signed in through, if any.
    pub idp: Option<String>,
    /// Seconds the device must wait between polls; raised by `slow_down`.
    pub interval_secs: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub last_polled_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    /// The session its tokens belong to.
    pub issued_session_id: Option<Uuid>,
}

impl Model {
    pub fn methods(&self) -> crate::sessions::methods::Methods {
        crate::sessions::methods::Methods::stored(self.amr.as_deref(), self.idp.as_deref())
    }

    pub fn scope_list(&self) -> Vec<String> {
        self.scope.split_whitespace().map(str::to_owned).collect()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
