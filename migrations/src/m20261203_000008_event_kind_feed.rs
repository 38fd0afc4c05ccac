//! An index that reads one kind of record's events in feed order: a subscription resuming
//! after an event reads only its own kind's events since then (`core::feed::Scope`), so a
//! resume costs what it delivers rather than the length of the log behind it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The feed's order is (tx_id, id) on PostgreSQL and id on SQLite (migration 7).
        let statement = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "CREATE INDEX event_kind_feed ON event (entity_kind, tx_id, id)"
            }
            _ => "CREATE INDEX event_kind_feed ON event (entity_kind, id)",
        };
        manager
            .get_connection()
            .execute_unprepared(statement)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS event_kind_feed")
            .await?;
        Ok(())
    }
}
