//! The CMDB: configuration items and their typed, directed relationships.
//!
//! Relationships are never deleted: removal stamps `removed_at`, so the graph can be read as it
//! was at any instant. Ids are text (UUIDv7) so that they compare with the event table's
//! `entity_id` on both backends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConfigurationItem {
    Table,
    Id,
    Number,
    Class,
    Name,
    NameKey,
    Status,
    Environment,
    Criticality,
    OwnerTeam,
    Description,
    Attributes,
    Version,
    CreatedAt,
    UpdatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum CiRelationship {
    Table,
    Id,
    SourceId,
    TargetId,
    Type,
    CreatedAt,
    CreatedBy,
    RemovedAt,
    RemovedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConfigurationItem::Table)
                    .col(
                        ColumnDef::new(ConfigurationItem::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::Number)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ConfigurationItem::Class).string().not_null())
                    .col(ColumnDef::new(ConfigurationItem::Name).string().not_null())
                    .col(
                        ColumnDef::new(ConfigurationItem::NameKey)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::Environment)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::Criticality)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ConfigurationItem::OwnerTeam).string().null())
                    .col(ColumnDef::new(ConfigurationItem::Description).text().null())
                    .col(
                        ColumnDef::new(ConfigurationItem::Attributes)
                            .json()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigurationItem::RetiredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Names are unique per class, ignoring case: `name_key` is the lower-cased name.
        manager
            .create_index(
                Index::create()
                    .name("configuration_item_class_name_key")
                    .table(ConfigurationItem::Table)
                    .col(ConfigurationItem::Class)
                    .col(ConfigurationItem::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("configuration_item_name_key_idx")
                    .table(ConfigurationItem::Table)
                    .col(ConfigurationItem::NameKey)
                    .col(ConfigurationItem::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CiRelationship::Table)
                    .col(
                        ColumnDef::new(CiRelationship::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CiRelationship::SourceId).string().not_null())
                    .col(ColumnDef::new(CiRelationship::TargetId).string().not_null())
                    .col(ColumnDef::new(CiRelationship::Type).string().not_null())
                    .col(
                        ColumnDef::new(CiRelationship::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CiRelationship::CreatedBy)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CiRelationship::RemovedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(CiRelationship::RemovedBy).string().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("ci_relationship_source_fk")
                            .from(CiRelationship::Table, CiRelationship::SourceId)
                            .to(ConfigurationItem::Table, ConfigurationItem::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("ci_relationship_target_fk")
                            .from(CiRelationship::Table, CiRelationship::TargetId)
                            .to(ConfigurationItem::Table, ConfigurationItem::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Impact walks go against the arrow (by target), dependency walks with it (by source).
        manager
            .create_index(
                Index::create()
                    .name("ci_relationship_target_idx")
                    .table(CiRelationship::Table)
                    .col(CiRelationship::TargetId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ci_relationship_source_idx")
                    .table(CiRelationship::Table)
                    .col(CiRelationship::SourceId)
                    .to_owned(),
            )
            .await?;
        // One live relationship per (source, type, target); removed ones stay as history. It
        // also serves walks with the arrow (by source). Walks against the arrow (impact, the
        // hot path) get their own covering index of live edges by target. Partial indexes
        // read the same on SQLite and PostgreSQL.
        let connection = manager.get_connection();
        connection
            .execute_unprepared(
                "CREATE UNIQUE INDEX ci_relationship_live_key \
                 ON ci_relationship (source_id, target_id, type) WHERE removed_at IS NULL",
            )
            .await?;
        connection
            .execute_unprepared(
                "CREATE INDEX ci_relationship_live_by_target \
                 ON ci_relationship (target_id, source_id, type) WHERE removed_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CiRelationship::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ConfigurationItem::Table).to_owned())
            .await
    }
}
