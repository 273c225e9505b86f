//! The device authorization grant (RFC 8628): each request of a device
//! (its device code and user code, both stored as SHA-256 only), who
//! approved or denied it, and the session its tokens went to. Purged by
//! retention like authorization codes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeviceAuthorizations {
    Table,
    Id,
    DeviceCodeHash,
    UserCodeHash,
    ClientId,
    Scope,
    Resource,
    Status,
    UserId,
    AuthTime,
    Amr,
    Idp,
    IntervalSecs,
    CreatedAt,
    ExpiresAt,
    LastPolledAt,
    DecidedAt,
    IssuedSessionId,
}

fn timestamp<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DeviceAuthorizations as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(D::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(D::DeviceCodeHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(D::UserCodeHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(D::ClientId).string_len(255).not_null())
                    .col(ColumnDef::new(D::Scope).text().not_null())
                    .col(ColumnDef::new(D::Resource).text().null())
                    .col(ColumnDef::new(D::Status).string_len(16).not_null())
                    .col(ColumnDef::new(D::UserId).uuid().null())
                    .col(
                        ColumnDef::new(D::AuthTime)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(D::Amr).text().null())
                    .col(ColumnDef::new(D::Idp).text().null())
                    .col(ColumnDef::new(D::IntervalSecs).integer().not_null())
                    .col(timestamp(D::CreatedAt))
                    .col(timestamp(D::ExpiresAt))
                    .col(
                        ColumnDef::new(D::LastPolledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(D::DecidedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(D::IssuedSessionId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_device_authorizations_expires_at")
                    .table(D::Table)
                    .col(D::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeviceAuthorizations::Table).to_owned())
            .await
    }
}
