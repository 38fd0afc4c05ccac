//! The database's commit mark: a value that is the same at two instants only if no transaction
//! that wrote anything ended between them.
//!
//! A read that stored its answer with the mark taken before it ran may hand that answer out
//! again for as long as the mark has not moved: nothing it read can have changed. Every write
//! moves it, from any instance and any client of the database, so a caller that wrote and then
//! reads again, here or on another instance, never gets the answer from before its write.
//!
//! On PostgreSQL the mark is the text of `pg_current_snapshot()`: the lowest transaction still
//! running, the next one to be assigned and those running below it. A snapshot changes exactly
//! when a transaction that took an id (that is, wrote) commits or rolls back: an id leaves the
//! running set, or the horizon moves past it. Transactions that only read take no id and do
//! not move it; anything that writes does, the server's own statistics and tally upkeep
//! included, so the mark errs only on the side of moving. Transaction ids are the PostgreSQL
//! server's, not the database's: writes to other databases on the same server move it too.
//!
//! SQLite has no such value shared by every connection to the file (`PRAGMA data_version` is
//! per connection and blind to that connection's own commits), and another process may write
//! the file, so there is no mark: [`commit_mark`] answers `None` and nothing is reused there.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

/// A commit mark, compared for equality only.
pub type Mark = Arc<str>;

/// The database's commit mark now, or `None` on a store that has none (SQLite).
pub async fn commit_mark<C: ConnectionTrait>(db: &C) -> Result<Option<Mark>, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(None);
    }
    let statement = Statement::from_string(
        DatabaseBackend::Postgres,
        "SELECT pg_current_snapshot()::text AS mark",
    );
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("pg_current_snapshot() returned no row".into()))?;
    let mark: String = row.try_get("", "mark")?;
    Ok(Some(mark.into()))
}
