//! What a user allowed a third-party client, remembered per (user, client).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
    UserId,
    ClientId,
    Scope,
    GrantedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Consents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Consents::UserId).uuid().not_null())
                    .col(ColumnDef::new(Consents::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(Consents::Scope).string().not_null())
                    .col(
                        ColumnDef::new(Consents::GrantedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consents_user_client")
                    .table(Consents::Table)
                    .col(Consents::UserId)
                    .col(Consents::ClientId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Consents::Table).to_owned())
            .await
    }
}
