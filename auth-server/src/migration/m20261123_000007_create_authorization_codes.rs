//! Authorization codes (RFC 6749 §4.1, OAuth 2.1): single use, bound to the
//! client, the redirect URI and the PKCE challenge, 60 s of life.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    CodeHash,
    ClientId,
    UserId,
    RedirectUri,
    Scope,
    Nonce,
    CodeChallenge,
    AuthTime,
    CreatedAt,
    ExpiresAt,
    RedeemedAt,
    IssuedSessionId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthorizationCodes::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuthorizationCodes::CodeHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::ClientId)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuthorizationCodes::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(AuthorizationCodes::RedirectUri)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::Scope)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::Nonce)
                            .string_len(512)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::CodeChallenge)
                            .string_len(43)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::AuthTime)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::RedeemedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AuthorizationCodes::IssuedSessionId)
                            .uuid()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_authorization_codes_expires_at")
                    .table(AuthorizationCodes::Table)
                    .col(AuthorizationCodes::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthorizationCodes::Table).to_owned())
            .await
    }
}
