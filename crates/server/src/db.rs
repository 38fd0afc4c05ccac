//! Opening the database named by `DATABASE_URL`.

use std::time::Duration;

use quorum_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// A pooled connection idle this long is pinged before it is handed out; one used more recently
/// is handed out as it is. HikariCP's default (`aliveBypassWindowMs`); PgBouncer waits 30 s.
/// Pinging every time cost a round trip per acquire, on both sides: without it, createIncident
/// went from 1 009 to 1 145 a second on 2 cores (`bench/README.md`, run Z). A write that draws
/// a connection the database dropped meanwhile is begun again on another
/// (`quorum_core::begin_write`); sqlx still pings every connection it takes back.
const PING_AFTER_IDLE: Duration = Duration::from_millis(500);

/// Opens a pool on `url`. Statements are logged at debug level (target `sqlx::query`), slow
/// ones at warn.
///
/// An SQLite file gets a pool of several connections in WAL mode, so readers never wait for
/// the writer, and a busy timeout, so writers (which take the lock at BEGIN, see
/// `quorum_core::begin_write`) queue instead of failing. An in-memory SQLite database keeps one
/// connection: each connection would see a database of its own.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url)).await
}

/// Opens a single connection on `url`, set up as [`connect`] sets up each of its own.
pub async fn connect_one(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(url);
    options.max_connections(1);
    Database::connect(options).await
}

/// Applies pending migrations to the database `db` was opened on (from `url`).
///
/// On an SQLite file they run on a connection of their own. sea-orm-migration runs SQLite
/// migrations outside a transaction and turns foreign keys off on the connection it is given;
/// on a pool, each statement may land on another connection, and a connection that last read
/// the schema before a table was dropped refuses to create that table's index again ("already
/// exists"). PostgreSQL migrations run in a transaction each, on one pooled connection.
pub async fn migrate(db: &DatabaseConnection, url: &str) -> Result<(), DbErr> {
    if !is_sqlite_file(url) {
        return Migrator::up(db, None).await;
    }
    let single = connect_one(url).await?;
    let applied = Migrator::up(&single, None).await;
    single.close().await?;
    applied
}

fn is_sqlite_file(url: &str) -> bool {
    url.starts_with("sqlite:") && !(url.contains(":memory:") || url.contains("mode=memory"))
}

fn options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug)
        .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE);
    if is_sqlite_file(url) {
        options.max_connections(8).map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
        });
    }
    options
}
