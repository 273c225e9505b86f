//! Rate limits shared by every replica (PostgreSQL): one row per (bucket,
//! key) holding its GCRA state, the theoretical arrival time, updated in a
//! single statement. Purged by retention once the state is in the past
//! (a full bucket again).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateLimitStates {
    Table,
    Bucket,
    Key,
    Tat,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RateLimitStates as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(R::Bucket).string_len(32).not_null())
                    .col(ColumnDef::new(R::Key).string_len(32).not_null())
                    .col(ColumnDef::new(R::Tat).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(R::Bucket).col(R::Key))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rate_limit_states_tat")
                    .table(R::Table)
                    .col(R::Tat)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimitStates::Table).to_owned())
            .await
    }
}
