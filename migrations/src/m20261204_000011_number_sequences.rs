//! PostgreSQL numbers records from sequences, so that no creation waits for another's commit
//! to be numbered; each starts where the `number_sequence` counter row stands. SQLite keeps
//! the counter rows (its writers take turns anyway).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The prefixes numbered when this migration was written.
const PREFIXES: [&str; 4] = ["CHG", "INC", "PRB", "CI"];

/// The sequence of `prefix`'s numbers (as `quorum_core::numbering` names it).
fn sequence(prefix: &str) -> String {
    format!("number_{}", prefix.to_ascii_lowercase())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for prefix in PREFIXES {
            let sequence = sequence(prefix);
            db.execute_unprepared(&format!(
                "CREATE SEQUENCE {sequence} AS bigint;
                 SELECT setval('{sequence}', COALESCE(
                     (SELECT last_value FROM number_sequence WHERE prefix = '{prefix}'), 0) + 1,
                     false);"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for prefix in PREFIXES {
            let sequence = sequence(prefix);
            // The counter row takes over where the sequence stands.
            db.execute_unprepared(&format!(
                "INSERT INTO number_sequence (prefix, last_value)
                 SELECT '{prefix}', last_value FROM {sequence} WHERE is_called
                 ON CONFLICT (prefix) DO UPDATE SET last_value = EXCLUDED.last_value;
                 DROP SEQUENCE {sequence};"
            ))
            .await?;
        }
        Ok(())
    }
}
