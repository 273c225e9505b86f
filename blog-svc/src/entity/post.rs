use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    /// UUIDv7: newest-first pagination is ordering by id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: String,
    pub title: String,
    pub body: String,
    /// The feed (or page) an imported post came from.
    pub source: Option<String>,
    /// The item's own link; (source, source_url) is unique, so re-importing updates.
    pub source_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::author::Entity",
        from = "Column::AuthorId",
        to = "super::author::Column::Id",
        on_delete = "Cascade"
    )]
    Author,
}

impl Related<super::author::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Author.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
