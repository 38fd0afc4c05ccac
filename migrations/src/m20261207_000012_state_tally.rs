//! `state_tally`: how many changes stand in each state, appended to by triggers in the
//! transaction of every write that moves one (`quorum_core::tally`). Starts from the rows
//! there are.
//!
//! PostgreSQL counts inserted and deleted rows once per statement (transition tables), so a
//! bulk insert appends one row per state, not one per change; a move of state is one row
//! update at a time anyway. SQLite has only row triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables tallied when this migration was written.
const TABLES: [&str; 1] = ["change_request"];

const POSTGRES_FUNCTIONS: &str = "
CREATE FUNCTION quorum_tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO state_tally (record, state, n)
    SELECT TG_TABLE_NAME, state, count(*) FROM inserted GROUP BY state;
  RETURN NULL;
END $$;
CREATE FUNCTION quorum_tally_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO state_tally (record, state, n)
    SELECT TG_TABLE_NAME, state, -count(*) FROM deleted GROUP BY state;
  RETURN NULL;
END $$;
CREATE FUNCTION quorum_tally_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO state_tally (record, state, n)
    VALUES (TG_TABLE_NAME, OLD.state, -1), (TG_TABLE_NAME, NEW.state, 1);
  RETURN NULL;
END $$;";

fn postgres_triggers(table: &str) -> String {
    format!(
        "CREATE TRIGGER {table}_tally_inserted AFTER INSERT ON {table}
           REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
           EXECUTE FUNCTION quorum_tally_inserted();
         CREATE TRIGGER {table}_tally_deleted AFTER DELETE ON {table}
           REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT
           EXECUTE FUNCTION quorum_tally_deleted();
         CREATE TRIGGER {table}_tally_moved AFTER UPDATE OF state ON {table}
           FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
           EXECUTE FUNCTION quorum_tally_moved();"
    )
}

fn sqlite_triggers(table: &str) -> [String; 3] {
    [
        format!(
            "CREATE TRIGGER {table}_tally_inserted AFTER INSERT ON {table} BEGIN
               INSERT INTO state_tally (record, state, n) VALUES ('{table}', NEW.state, 1);
             END"
        ),
        format!(
            "CREATE TRIGGER {table}_tally_deleted AFTER DELETE ON {table} BEGIN
               INSERT INTO state_tally (record, state, n) VALUES ('{table}', OLD.state, -1);
             END"
        ),
        format!(
            "CREATE TRIGGER {table}_tally_moved AFTER UPDATE OF state ON {table}
             WHEN OLD.state IS NOT NEW.state BEGIN
               INSERT INTO state_tally (record, state, n)
                 VALUES ('{table}', OLD.state, -1), ('{table}', NEW.state, 1);
             END"
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StateTally::Table)
                    .col(ColumnDef::new(StateTally::Record).text().not_null())
                    .col(ColumnDef::new(StateTally::State).text().not_null())
                    .col(ColumnDef::new(StateTally::N).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("state_tally_record_state")
                    .table(StateTally::Table)
                    .col(StateTally::Record)
                    .col(StateTally::State)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        if postgres {
            db.execute_unprepared(POSTGRES_FUNCTIONS).await?;
        }
        for table in TABLES {
            db.execute_unprepared(&format!(
                "INSERT INTO state_tally (record, state, n)
                 SELECT '{table}', state, count(*) FROM {table} GROUP BY state"
            ))
            .await?;
            if postgres {
                db.execute_unprepared(&postgres_triggers(table)).await?;
            } else {
                for trigger in sqlite_triggers(table) {
                    db.execute_unprepared(&trigger).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            for trigger in ["inserted", "deleted", "moved"] {
                let on = if manager.get_database_backend() == DbBackend::Postgres {
                    format!(" ON {table}")
                } else {
                    String::new()
                };
                db.execute_unprepared(&format!("DROP TRIGGER {table}_tally_{trigger}{on}"))
                    .await?;
            }
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "DROP FUNCTION quorum_tally_inserted(); DROP FUNCTION quorum_tally_deleted();
                 DROP FUNCTION quorum_tally_moved();",
            )
            .await?;
        }
        manager
            .drop_table(Table::drop().table(StateTally::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum StateTally {
    Table,
    Record,
    State,
    N,
}
