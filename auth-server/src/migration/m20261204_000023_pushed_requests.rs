//! Pushed authorization requests (RFC 9126): the parameters a client sent
//! over the back channel, named by a `request_uri` stored as SHA-256 only,
//! and the per-client rule that its authorization requests must come so.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PushedRequests {
    Table,
    UriHash,
    ClientId,
    Parameters,
    CreatedAt,
    ExpiresAt,
    StartedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    RequirePar,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PushedRequests as P;
        let at = |name: P| {
            ColumnDef::new(name)
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(P::UriHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(P::ClientId).string_len(255).not_null())
                    .col(ColumnDef::new(P::Parameters).text().not_null())
                    .col(at(P::CreatedAt))
                    .col(at(P::ExpiresAt))
                    .col(
                        ColumnDef::new(P::StartedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(P::UsedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pushed_requests_expires_at")
                    .table(P::Table)
                    .col(P::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(
                        ColumnDef::new(OauthClients::RequirePar)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(OauthClients::RequirePar)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PushedRequests::Table).to_owned())
            .await
    }
}
