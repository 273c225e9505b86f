//! Security events (RFC 8417 SETs) that end tokens early, for verifiers that
//! follow the feed. `id` is the feed's cursor; rows are written in the
//! transaction of the change they announce.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SecurityEvents {
    Table,
    Id,
    Jti,
    EventType,
    SubjectKind,
    Subject,
    EffectiveAt,
    ExpiresAt,
    CreatedAt,
    SignedSet,
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
                    .table(SecurityEvents::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SecurityEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SecurityEvents::Jti)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(SecurityEvents::EventType)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SecurityEvents::SubjectKind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SecurityEvents::Subject)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(timestamp(SecurityEvents::EffectiveAt))
                    .col(timestamp(SecurityEvents::ExpiresAt))
                    .col(timestamp(SecurityEvents::CreatedAt))
                    // The SET, signed once by whichever replica serves it first.
                    .col(ColumnDef::new(SecurityEvents::SignedSet).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_security_events_expires_at")
                    .table(SecurityEvents::Table)
                    .col(SecurityEvents::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SecurityEvents::Table).to_owned())
            .await
    }
}
