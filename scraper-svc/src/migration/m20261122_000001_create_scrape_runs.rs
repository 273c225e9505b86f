use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScrapeRuns {
    Table,
    Id,
    Trigger,
    Status,
    SourcesTotal,
    SourcesFailed,
    ItemsFound,
    ItemsPushed,
    Errors,
    StartedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScrapeRuns::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ScrapeRuns::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ScrapeRuns::Trigger)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ScrapeRuns::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(ScrapeRuns::SourcesTotal)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ScrapeRuns::SourcesFailed)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ScrapeRuns::ItemsFound).integer().not_null())
                    .col(ColumnDef::new(ScrapeRuns::ItemsPushed).integer().not_null())
                    .col(ColumnDef::new(ScrapeRuns::Errors).text().not_null())
                    .col(
                        ColumnDef::new(ScrapeRuns::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ScrapeRuns::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScrapeRuns::Table).to_owned())
            .await
    }
}
