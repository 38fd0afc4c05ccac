//! Opening the database named by `DATABASE_URL`.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Opens a pool on `url`. Statements are logged at debug level (target `sqlx::query`), slow
/// ones at warn.
///
/// An SQLite file gets a pool of several connections in WAL mode, so readers never wait for
/// the writer, and a busy timeout, so writers (which take the lock at BEGIN, see
/// `quorum_core::begin_write`) queue instead of failing. An in-memory SQLite database keeps one
/// connection: each connection would see a database of its own.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug)
        .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if url.starts_with("sqlite:") && !in_memory {
        options.max_connections(8).map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
        });
    }
    Database::connect(options).await
}
