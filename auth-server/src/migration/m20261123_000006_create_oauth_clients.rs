//! The OpenID Connect client registry: relying parties that use the
//! authorization-code flow (API keys stay in `api_keys`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    ClientId,
    Name,
    Public,
    SecretHash,
    RedirectUris,
    PostLogoutRedirectUris,
    Scopes,
    GrantTypes,
    FirstParty,
    CreatedAt,
    CreatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthClients::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(OauthClients::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OauthClients::ClientId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(OauthClients::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OauthClients::Public).boolean().not_null())
                    .col(
                        ColumnDef::new(OauthClients::SecretHash)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(OauthClients::RedirectUris).text().not_null())
                    .col(
                        ColumnDef::new(OauthClients::PostLogoutRedirectUris)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(ColumnDef::new(OauthClients::Scopes).string().not_null())
                    .col(ColumnDef::new(OauthClients::GrantTypes).string().not_null())
                    .col(
                        ColumnDef::new(OauthClients::FirstParty)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(OauthClients::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OauthClients::CreatedBy).uuid().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthClients::Table).to_owned())
            .await
    }
}
