//! Passkeys (WebAuthn): each registered credential (its id, the public key,
//! signature counter and backup flags as webauthn-rs stores them, a name
//! and when it was last used), and the ceremonies in progress (the
//! server-side state of one registration or sign-in, named by SHA-256 of
//! the token in the browser's cookie, finished once).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialId,
    Name,
    Credential,
    BackupEligible,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebauthnCeremonies {
    Table,
    TokenHash,
    Kind,
    UserId,
    Site,
    State,
    CreatedAt,
    ExpiresAt,
    FinishedAt,
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
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Passkeys::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Passkeys::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(Passkeys::CredentialId)
                            .string_len(1400)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Passkeys::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Passkeys::Credential).text().not_null())
                    .col(
                        ColumnDef::new(Passkeys::BackupEligible)
                            .boolean()
                            .not_null(),
                    )
                    .col(timestamp(Passkeys::CreatedAt))
                    .col(
                        ColumnDef::new(Passkeys::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkeys_user_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnCeremonies::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(WebauthnCeremonies::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WebauthnCeremonies::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebauthnCeremonies::UserId).uuid().null())
                    .col(
                        ColumnDef::new(WebauthnCeremonies::Site)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebauthnCeremonies::State).text().not_null())
                    .col(timestamp(WebauthnCeremonies::CreatedAt))
                    .col(timestamp(WebauthnCeremonies::ExpiresAt))
                    .col(
                        ColumnDef::new(WebauthnCeremonies::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webauthn_ceremonies_expires_at")
                    .table(WebauthnCeremonies::Table)
                    .col(WebauthnCeremonies::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebauthnCeremonies::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}
