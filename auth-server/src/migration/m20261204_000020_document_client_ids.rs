//! Clients known by the URL of their metadata document have a `client_id`
//! of up to 255 characters (`clients::documents::MAX_CLIENT_ID_LEN`); the
//! columns that hold a client id were 64. PostgreSQL widens a varchar
//! without rewriting the table; SQLite does not enforce the length, so there
//! is nothing to change there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    ClientId,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ClientId,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    ClientId,
}

async fn widen(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
    null: bool,
    len: u32,
) -> Result<(), DbErr> {
    let mut column = ColumnDef::new(column);
    column.string_len(len);
    if null {
        column.null();
    } else {
        column.not_null();
    }
    manager
        .alter_table(Table::alter().table(table).modify_column(column).to_owned())
        .await
}

async fn set_length(manager: &SchemaManager<'_>, len: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    widen(
        manager,
        AuthorizationCodes::Table,
        AuthorizationCodes::ClientId,
        false,
        len,
    )
    .await?;
    widen(manager, Sessions::Table, Sessions::ClientId, true, len).await?;
    widen(manager, Consents::Table, Consents::ClientId, false, len).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_length(manager, 255).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_length(manager, 64).await
    }
}
