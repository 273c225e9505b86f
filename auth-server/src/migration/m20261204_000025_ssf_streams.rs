//! The OpenID Shared Signals Framework transmitter: each receiver's stream
//! (its audience, the events it asked for, its status, how far into the
//! security events it has been filled) and the SETs waiting in it for the
//! receiver's acknowledgement (RFC 8936 poll delivery).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SsfStreams {
    Table,
    StreamId,
    ClientId,
    Audience,
    EventsRequested,
    Description,
    Status,
    StatusReason,
    Cursor,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SsfStreamSets {
    Table,
    Id,
    StreamId,
    Jti,
    SignedSet,
    CreatedAt,
    ExpiresAt,
}

fn at<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SsfStreamSets as P;
        use SsfStreams as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(S::StreamId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(S::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(S::Audience).text().not_null())
                    .col(ColumnDef::new(S::EventsRequested).text().not_null())
                    .col(ColumnDef::new(S::Description).text().null())
                    .col(ColumnDef::new(S::Status).string_len(16).not_null())
                    .col(ColumnDef::new(S::StatusReason).text().null())
                    .col(ColumnDef::new(S::Cursor).big_integer().not_null())
                    .col(at(S::CreatedAt))
                    .col(at(S::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ssf_streams_client_id")
                    .table(S::Table)
                    .col(S::ClientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(P::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(P::StreamId).uuid().not_null())
                    .col(ColumnDef::new(P::Jti).string_len(64).not_null())
                    .col(ColumnDef::new(P::SignedSet).text().not_null())
                    .col(at(P::CreatedAt))
                    .col(at(P::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ssf_stream_sets_stream_jti")
                    .table(P::Table)
                    .col(P::StreamId)
                    .col(P::Jti)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SsfStreamSets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SsfStreams::Table).to_owned())
            .await
    }
}
