//! Mail and the links it carries: whether a user's email address is
//! verified, the single-use tokens of verification, password-reset and
//! email-change links (stored as SHA-256 only), and the outgoing-mail queue
//! (written in the transaction of the change that sends it, delivered off
//! the request path, retried with back-off).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    EmailVerified,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    TokenHash,
    UserId,
    Purpose,
    NewEmail,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Recipient,
    Subject,
    Body,
    Kind,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    LastError,
    FailedAt,
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
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::EmailVerified)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(EmailTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(EmailTokens::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(EmailTokens::Purpose)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(EmailTokens::NewEmail).string_len(320).null())
                    .col(timestamp(EmailTokens::CreatedAt))
                    .col(timestamp(EmailTokens::ExpiresAt))
                    .col(
                        ColumnDef::new(EmailTokens::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_tokens_user_purpose")
                    .table(EmailTokens::Table)
                    .col(EmailTokens::UserId)
                    .col(EmailTokens::Purpose)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_tokens_expires_at")
                    .table(EmailTokens::Table)
                    .col(EmailTokens::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MailOutbox::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MailOutbox::Recipient)
                            .string_len(320)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MailOutbox::Subject)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MailOutbox::Body).text().not_null())
                    .col(ColumnDef::new(MailOutbox::Kind).string_len(32).not_null())
                    .col(timestamp(MailOutbox::CreatedAt))
                    .col(
                        ColumnDef::new(MailOutbox::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(MailOutbox::NextAttemptAt))
                    .col(ColumnDef::new(MailOutbox::LastError).string_len(300).null())
                    .col(
                        ColumnDef::new(MailOutbox::FailedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_next_attempt_at")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::NextAttemptAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EmailTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::EmailVerified)
                    .to_owned(),
            )
            .await
    }
}
