//! Who asked for a manual run: the user (`sub`) and, when a service asked
//! on the user's behalf with an exchanged token, that service (`act.sub`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScrapeRuns {
    Table,
    RequestedBy,
    RequestedVia,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ScrapeRuns::RequestedBy, ScrapeRuns::RequestedVia] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ScrapeRuns::Table)
                        .add_column(ColumnDef::new(column).string_len(128).null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ScrapeRuns::RequestedVia, ScrapeRuns::RequestedBy] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ScrapeRuns::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
