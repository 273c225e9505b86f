use sea_orm::entity::prelude::*;

/// A DPoP proof the token endpoint accepted (or a client assertion's
/// `jti`, RFC 7523), by its replay key (hex
/// SHA-256 of the key thumbprint and `jti`), until it could no longer
/// pass the `iat` check anyway.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dpop_proofs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub replay_key: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
