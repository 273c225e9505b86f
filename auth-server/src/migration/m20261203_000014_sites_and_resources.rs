//! Security round 3: a browser session records the site (origin) its
//! cookie was issued on, and a registered client the resources (audiences)
//! it may ask tokens for.
//!
//! Browser sessions made before this migration have no site and are
//! accepted nowhere: their browsers sign in once more. Existing clients get
//! no resources listed: a first-party client may still ask for every
//! configured audience, a third-party client for none (its tokens are for
//! userinfo alone) until an operator lists some.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    BrowserSite,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Resources,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::BrowserSite).string_len(300).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(
                        ColumnDef::new(OauthClients::Resources)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(OauthClients::Resources)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::BrowserSite)
                    .to_owned(),
            )
            .await
    }
}
