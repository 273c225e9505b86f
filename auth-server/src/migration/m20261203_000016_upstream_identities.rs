//! Sign-in through upstream OpenID providers: the flows in progress (each
//! bound to one browser by the `state` it holds in a cookie; stored as
//! SHA-256 of that value), and the upstream identities linked to Signet
//! users by (issuer, `sub`), never by email alone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UpstreamLogins {
    Table,
    StateHash,
    Kind,
    Provider,
    Nonce,
    Verifier,
    Request,
    Subject,
    Email,
    CreatedAt,
    ExpiresAt,
}

/// The upstream issuer a sign-in came through (`None`: a password), so that
/// tokens can say so (`amr: ["fed"]`, `idp`).
#[derive(DeriveIden)]
enum Sessions {
    Table,
    Idp,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    Idp,
}

#[derive(DeriveIden)]
enum UpstreamIdentities {
    Table,
    Issuer,
    Subject,
    UserId,
    Provider,
    Email,
    CreatedAt,
    LastUsedAt,
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
                    .table(UpstreamLogins::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(UpstreamLogins::StateHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UpstreamLogins::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UpstreamLogins::Provider)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UpstreamLogins::Nonce).string_len(64).null())
                    .col(
                        ColumnDef::new(UpstreamLogins::Verifier)
                            .string_len(128)
                            .null(),
                    )
                    .col(ColumnDef::new(UpstreamLogins::Request).text().not_null())
                    .col(
                        ColumnDef::new(UpstreamLogins::Subject)
                            .string_len(255)
                            .null(),
                    )
                    .col(ColumnDef::new(UpstreamLogins::Email).string_len(320).null())
                    .col(timestamp(UpstreamLogins::CreatedAt))
                    .col(timestamp(UpstreamLogins::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_upstream_logins_expires_at")
                    .table(UpstreamLogins::Table)
                    .col(UpstreamLogins::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UpstreamIdentities::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(UpstreamIdentities::Issuer)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UpstreamIdentities::Subject)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UpstreamIdentities::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(UpstreamIdentities::Provider)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UpstreamIdentities::Email)
                            .string_len(320)
                            .null(),
                    )
                    .col(timestamp(UpstreamIdentities::CreatedAt))
                    .col(timestamp(UpstreamIdentities::LastUsedAt))
                    .primary_key(
                        Index::create()
                            .col(UpstreamIdentities::Issuer)
                            .col(UpstreamIdentities::Subject),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_upstream_identities_user_id")
                    .table(UpstreamIdentities::Table)
                    .col(UpstreamIdentities::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::Idp).string_len(300).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .add_column(
                        ColumnDef::new(AuthorizationCodes::Idp)
                            .string_len(300)
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
                    .drop_column(AuthorizationCodes::Idp)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::Idp)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(UpstreamIdentities::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UpstreamLogins::Table).to_owned())
            .await
    }
}
