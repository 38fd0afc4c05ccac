//! The event table (audit log, history, outbox) and the counters behind human numbers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Event {
    Table,
    Id,
    OccurredAt,
    Actor,
    EntityKind,
    EntityId,
    Action,
    Reason,
    Before,
    After,
}

#[derive(DeriveIden)]
enum NumberSequence {
    Table,
    Prefix,
    LastValue,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Event::Table)
                    .col(
                        ColumnDef::new(Event::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Event::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Event::Actor).string().not_null())
                    .col(ColumnDef::new(Event::EntityKind).string().not_null())
                    .col(ColumnDef::new(Event::EntityId).string().not_null())
                    .col(ColumnDef::new(Event::Action).string().not_null())
                    .col(ColumnDef::new(Event::Reason).text().null())
                    .col(ColumnDef::new(Event::Before).json().null())
                    .col(ColumnDef::new(Event::After).json().null())
                    .to_owned(),
            )
            .await?;
        // A record's history is read by (kind, id), newest first.
        manager
            .create_index(
                Index::create()
                    .name("event_entity_idx")
                    .table(Event::Table)
                    .col(Event::EntityKind)
                    .col(Event::EntityId)
                    .col(Event::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("event_actor_idx")
                    .table(Event::Table)
                    .col(Event::Actor)
                    .col(Event::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NumberSequence::Table)
                    .col(
                        ColumnDef::new(NumberSequence::Prefix)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(NumberSequence::LastValue)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NumberSequence::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Event::Table).to_owned())
            .await
    }
}
