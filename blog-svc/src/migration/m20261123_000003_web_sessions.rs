//! The web front end's server-side state: a session per signed-in browser
//! (its tokens sealed under a key only the browser's cookie can derive) and
//! the short-lived record of each sign-in in progress (`state`, `nonce`,
//! PKCE verifier).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebSessions {
    Table,
    Id,
    Sub,
    DisplayName,
    Tokens,
    AccessExpiresAt,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum WebLogins {
    Table,
    Id,
    Pending,
    CreatedAt,
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
                    .table(WebSessions::Table)
                    .if_not_exists()
                    // SHA-256 of the cookie value, base64url: the cookie
                    // itself is never stored.
                    .col(
                        ColumnDef::new(WebSessions::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WebSessions::Sub).string_len(128).not_null())
                    .col(
                        ColumnDef::new(WebSessions::DisplayName)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebSessions::Tokens).text().not_null())
                    .col(timestamp(WebSessions::AccessExpiresAt))
                    .col(timestamp(WebSessions::CreatedAt))
                    .col(timestamp(WebSessions::LastSeenAt))
                    .col(timestamp(WebSessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_web_sessions_expires_at")
                    .table(WebSessions::Table)
                    .col(WebSessions::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebLogins::Table)
                    .if_not_exists()
                    // SHA-256 of the OAuth `state`.
                    .col(
                        ColumnDef::new(WebLogins::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WebLogins::Pending).text().not_null())
                    .col(timestamp(WebLogins::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_web_logins_created_at")
                    .table(WebLogins::Table)
                    .col(WebLogins::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebLogins::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebSessions::Table).to_owned())
            .await
    }
}
