//! The account back-off shared by every replica (PostgreSQL): a back-off
//! row of `rate_limit_states` counts failures and keeps the last one's
//! time; its `tat` is when they are forgiven, so the sweep and retention
//! purge it like a full bucket.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateLimitStates {
    Table,
    Failures,
    LastFailureAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RateLimitStates as R;
        // Two statements: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(R::Table)
                    .add_column(ColumnDef::new(R::Failures).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(R::Table)
                    .add_column(
                        ColumnDef::new(R::LastFailureAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RateLimitStates as R;
        manager
            .alter_table(
                Table::alter()
                    .table(R::Table)
                    .drop_column(R::LastFailureAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(R::Table)
                    .drop_column(R::Failures)
                    .to_owned(),
            )
            .await
    }
}
