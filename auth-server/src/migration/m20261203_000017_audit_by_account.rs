//! Account pages: a person's recent security events are the audit rows
//! they did (`actor`) or that were done to them (`subject`), newest first.
//! Two indexes make that a range read instead of a scan of the whole trail.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    Actor,
    Subject,
}

const BY_ACTOR: &str = "idx_audit_events_actor_id";
const BY_SUBJECT: &str = "idx_audit_events_subject_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in [
            (BY_ACTOR, AuditEvents::Actor),
            (BY_SUBJECT, AuditEvents::Subject),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(column)
                        .col(AuditEvents::Id)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [BY_ACTOR, BY_SUBJECT] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(AuditEvents::Table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
