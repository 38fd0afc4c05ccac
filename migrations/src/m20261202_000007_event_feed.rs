//! The event table as the outbox of live updates.
//!
//! On PostgreSQL every event row records the transaction that wrote it (`tx_id`, the 64-bit
//! `pg_current_xact_id()`), and each insert statement NOTIFYs channel `quorum_events` with the
//! largest event id it wrote. Event ids come from a sequence, so they are handed out in insert
//! order, not commit order: a transaction can commit event 11 while event 10 is still in flight.
//! Readers therefore order the feed by `(tx_id, id)` and read only rows whose key is below
//! every transaction still running (`pg_snapshot_xmin`): a running transaction's events get a
//! key at least its own id, so below that mark no row can still appear, and a reader that
//! remembers its last `(tx_id, id)` never skips a committed event and never sees one twice.
//! SQLite serializes writers, so its ids are already in commit order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE event ADD COLUMN tx_id bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)",
    "CREATE INDEX event_feed ON event (tx_id, id)",
    // A transaction that took its id early (it locked one record) and writes an event after
    // another, younger transaction committed one (it waited for that record's lock) would sort
    // before it, so a subscriber would see that record's later version first. Raising the key
    // to the highest committed one keeps every record's events in the order of their writes;
    // the key still never falls below the writer's own id, which is all the mark relies on.
    r#"CREATE OR REPLACE FUNCTION quorum_event_key() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.tx_id := greatest(
        pg_current_xact_id()::text::bigint,
        coalesce((SELECT max(tx_id) FROM event), 0)
    );
    RETURN NEW;
END
$fn$"#,
    "CREATE TRIGGER event_key BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION quorum_event_key()",
    r#"CREATE OR REPLACE FUNCTION quorum_event_notify() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    newest bigint;
BEGIN
    SELECT max(id) INTO newest FROM inserted;
    IF newest IS NOT NULL THEN
        PERFORM pg_notify('quorum_events', newest::text);
    END IF;
    RETURN NULL;
END
$fn$"#,
    "CREATE TRIGGER event_notify AFTER INSERT ON event REFERENCING NEW TABLE AS inserted \
     FOR EACH STATEMENT EXECUTE FUNCTION quorum_event_notify()",
];

const DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS event_key ON event",
    "DROP FUNCTION IF EXISTS quorum_event_key()",
    "DROP TRIGGER IF EXISTS event_notify ON event",
    "DROP FUNCTION IF EXISTS quorum_event_notify()",
    "DROP INDEX IF EXISTS event_feed",
    "ALTER TABLE event DROP COLUMN IF EXISTS tx_id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            for statement in UP {
                manager
                    .get_connection()
                    .execute_unprepared(statement)
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            for statement in DOWN {
                manager
                    .get_connection()
                    .execute_unprepared(statement)
                    .await?;
            }
        }
        Ok(())
    }
}
