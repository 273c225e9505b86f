//! Second factors: an authenticator app's TOTP secret (sealed at rest), the
//! single-use recovery codes (SHA-256 only), the half-finished sign-ins
//! waiting for a second factor (SHA-256 of the token that names them), the
//! per-user "require MFA" flag, and how each session and authorization code
//! was authenticated (RFC 8176 `amr` values, space-separated).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    UserId,
    SecretSealed,
    CreatedAt,
    ConfirmedAt,
    LastStep,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    CodeHash,
    UserId,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    TokenHash,
    UserId,
    Purpose,
    SessionId,
    Site,
    Audience,
    UserAgent,
    Ip,
    Attempts,
    CreatedAt,
    ExpiresAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    MfaRequired,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Amr,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    Amr,
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
                    .table(TotpFactors::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(TotpFactors::UserId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TotpFactors::SecretSealed).text().not_null())
                    .col(timestamp(TotpFactors::CreatedAt))
                    .col(
                        ColumnDef::new(TotpFactors::ConfirmedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(TotpFactors::LastStep).big_integer().null())
                    .col(
                        ColumnDef::new(TotpFactors::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RecoveryCodes::CodeHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RecoveryCodes::UserId).uuid().not_null())
                    .col(timestamp(RecoveryCodes::CreatedAt))
                    .col(
                        ColumnDef::new(RecoveryCodes::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recovery_codes_user_id")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MfaChallenges::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MfaChallenges::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MfaChallenges::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(MfaChallenges::Purpose)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MfaChallenges::SessionId).uuid().null())
                    .col(ColumnDef::new(MfaChallenges::Site).string_len(300).null())
                    .col(
                        ColumnDef::new(MfaChallenges::Audience)
                            .string_len(300)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MfaChallenges::UserAgent)
                            .string_len(256)
                            .null(),
                    )
                    .col(ColumnDef::new(MfaChallenges::Ip).string_len(64).null())
                    .col(
                        ColumnDef::new(MfaChallenges::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(MfaChallenges::CreatedAt))
                    .col(timestamp(MfaChallenges::ExpiresAt))
                    .col(
                        ColumnDef::new(MfaChallenges::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mfa_challenges_expires_at")
                    .table(MfaChallenges::Table)
                    .col(MfaChallenges::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::MfaRequired)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::Amr).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .add_column(
                        ColumnDef::new(AuthorizationCodes::Amr)
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .drop_column(AuthorizationCodes::Amr)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::Amr)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::MfaRequired)
                    .to_owned(),
            )
            .await?;
        for table in [
            MfaChallenges::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            TotpFactors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
