//! Back-Channel Logout: each browser session keeps the `sid` of the
//! auth-server session its sign-in opened, so a logout token naming that
//! session ends this one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebSessions {
    Table,
    Sid,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebSessions::Table)
                    .add_column(ColumnDef::new(WebSessions::Sid).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_web_sessions_sid")
                    .table(WebSessions::Table)
                    .col(WebSessions::Sid)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_web_sessions_sid")
                    .table(WebSessions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WebSessions::Table)
                    .drop_column(WebSessions::Sid)
                    .to_owned(),
            )
            .await
    }
}
