//! DPoP (RFC 9449): per-client policy, the key a public client's session is
//! bound to, and the token endpoint's record of used proofs, shared by every
//! replica so a proof is accepted once across all of them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Dpop,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Dpop,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    DpopJkt,
}

#[derive(DeriveIden)]
enum DpopProofs {
    Table,
    ReplayKey,
    ExpiresAt,
}

/// `allowed` (a proof binds the tokens; none gives bearer tokens) or
/// `required`; existing rows keep today's behaviour.
fn policy<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .string_len(16)
        .not_null()
        .default("allowed")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(policy(ApiKeys::Dpop))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(policy(OauthClients::Dpop))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::DpopJkt).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DpopProofs::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(DpopProofs::ReplayKey)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DpopProofs::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dpop_proofs_expires_at")
                    .table(DpopProofs::Table)
                    .col(DpopProofs::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DpopProofs::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::DpopJkt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(OauthClients::Dpop)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(ApiKeys::Dpop)
                    .to_owned(),
            )
            .await
    }
}
