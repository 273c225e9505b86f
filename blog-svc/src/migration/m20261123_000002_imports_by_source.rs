//! Imports are keyed by (source, link), not by link alone: one feed reusing
//! another feed's link must not overwrite that feed's post.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    AuthorId,
    Title,
    Body,
    Source,
    SourceUrl,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PostsNew {
    Table,
}

#[derive(DeriveIden)]
enum Authors {
    Table,
    Id,
}

/// The posts table as it is from now on, under `name`.
fn posts_table(name: impl IntoIden) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(ColumnDef::new(Posts::Id).uuid().not_null().primary_key())
        .col(ColumnDef::new(Posts::AuthorId).string_len(128).not_null())
        .col(ColumnDef::new(Posts::Title).string_len(200).not_null())
        .col(ColumnDef::new(Posts::Body).text().not_null())
        .col(ColumnDef::new(Posts::Source).string_len(2048).null())
        .col(ColumnDef::new(Posts::SourceUrl).string_len(2048).null())
        .col(
            ColumnDef::new(Posts::CreatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Posts::UpdatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .foreign_key(
            ForeignKey::create()
                .from(Posts::Table, Posts::AuthorId)
                .to(Authors::Table, Authors::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE posts DROP CONSTRAINT IF EXISTS posts_source_url_key",
                )
                .await?;
                manager
                    .alter_table(
                        Table::alter()
                            .table(Posts::Table)
                            .add_column(ColumnDef::new(Posts::Source).string_len(2048).null())
                            .to_owned(),
                    )
                    .await?;
            }
            backend => {
                // SQLite cannot drop a column's UNIQUE constraint: rebuild the
                // table. One script on one connection (a pooled connection of
                // its own would not see the others' schema changes in time),
                // inside a savepoint, so it happens whole or not at all.
                let create = backend.build(&posts_table(PostsNew::Table)).to_string();
                let index = backend
                    .build(
                        &Index::create()
                            .name("idx_posts_author_id")
                            .table(Posts::Table)
                            .col(Posts::AuthorId)
                            .to_owned(),
                    )
                    .to_string();
                db.execute_unprepared(&format!(
                    "SAVEPOINT rebuild_posts; \
                     {create}; \
                     INSERT INTO posts_new (id, author_id, title, body, source, source_url, created_at, updated_at) \
                     SELECT id, author_id, title, body, NULL, source_url, created_at, updated_at FROM posts; \
                     DROP TABLE posts; \
                     ALTER TABLE posts_new RENAME TO posts; \
                     {index}; \
                     RELEASE rebuild_posts;"
                ))
                .await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_source_link")
                    .table(Posts::Table)
                    .col(Posts::Source)
                    .col(Posts::SourceUrl)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_posts_source_link")
                    .table(Posts::Table)
                    .to_owned(),
            )
            .await
    }
}
