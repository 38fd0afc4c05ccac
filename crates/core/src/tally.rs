//! How many records of a table stand in each state, kept by the database itself.
//!
//! A list's `totalCount` narrowed by states alone (every dashboard's "n changes", "n open")
//! would otherwise count every matching row on every page: `count(*)` over 100 000 changes is
//! most of what a page with its total costs. Triggers on the table (migration 12) append one
//! row `(record, state, n)` to `state_tally` for each change of state: `+1` for a row that
//! appears in a state, `-1` for one that leaves it, in the transaction that makes the change.
//! So the tally is always exactly as committed as the rows it counts (a write that rolls back
//! leaves none), and no write waits for another: rows are only ever appended. The sum of a
//! state's rows is its count; [`fold`] replaces the rows by one sum per state now and then, so
//! that the sums stay short to read.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};

use crate::{DomainResult, begin_write};

const TABLE: &str = "state_tally";

/// Which states of `record` to count: those `within` (all when `None`), except those in
/// `except`.
#[derive(Debug, Clone, Copy)]
pub struct States<'a> {
    pub record: &'a str,
    pub within: Option<&'a [String]>,
    pub except: &'a [String],
}

/// How many rows of `states.record` stand in the states asked for, as committed.
pub async fn count<C: ConnectionTrait>(db: &C, states: States<'_>) -> DomainResult<u64> {
    let mut query = Query::select();
    query
        .expr(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"))
        .from(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("record")).eq(states.record));
    if let Some(within) = states.within {
        query.and_where(Expr::col(Alias::new("state")).is_in(within.iter().map(String::as_str)));
    }
    if !states.except.is_empty() {
        query.and_where(
            Expr::col(Alias::new("state")).is_not_in(states.except.iter().map(String::as_str)),
        );
    }
    let total: i64 = db
        .query_one(&query)
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    // A negative sum would mean rows left without their trigger (a trigger dropped, rows
    // restored around it): said in the log, and no count is below zero.
    u64::try_from(total).or_else(|_| {
        tracing::warn!(record = states.record, total, "tally.negative");
        Ok(0)
    })
}

/// Replaces the tally's rows by one sum per record and state (states that sum to zero go).
/// The sums do not change, so a count read during the fold is right whichever side of it it
/// sees; writers keep appending meanwhile. A tally already folded is left as it is, so a
/// quiet database is not rewritten (and on PostgreSQL, left no dead rows) at every fold.
pub async fn fold(db: &DatabaseConnection) -> Result<(), DbErr> {
    let crowded: i64 = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(CASE WHEN COUNT(*) > COUNT(DISTINCT record || '/' || state) THEN 1 ELSE 0 END AS BIGINT)
             FROM state_tally",
        ))
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    if crowded == 0 {
        return Ok(());
    }
    match db.get_database_backend() {
        // One statement, one snapshot: exactly the rows it deletes are summed. A second
        // instance folding at once waits for the rows, then finds them gone and skips them.
        DatabaseBackend::Postgres => {
            db.execute_unprepared(
                "WITH gone AS (DELETE FROM state_tally RETURNING record, state, n)
                 INSERT INTO state_tally (record, state, n)
                 SELECT record, state, SUM(n) FROM gone GROUP BY record, state HAVING SUM(n) <> 0",
            )
            .await?;
        }
        // SQLite's writers take turns: the three statements see the same rows.
        _ => {
            let txn = begin_write(db).await?;
            let last: Option<i64> = txn
                .query_one_raw(Statement::from_string(
                    txn.get_database_backend(),
                    "SELECT MAX(rowid) FROM state_tally",
                ))
                .await?
                .map(|row| row.try_get_by_index::<Option<i64>>(0))
                .transpose()?
                .flatten();
            if let Some(last) = last {
                txn.execute_unprepared(&format!(
                    "INSERT INTO state_tally (record, state, n)
                     SELECT record, state, SUM(n) FROM state_tally WHERE rowid <= {last}
                     GROUP BY record, state HAVING SUM(n) <> 0"
                ))
                .await?;
                txn.execute_unprepared(&format!("DELETE FROM state_tally WHERE rowid <= {last}"))
                    .await?;
            }
            txn.commit().await?;
        }
    }
    Ok(())
}

/// How often [`keep_folded`] folds: between two folds, a state's sum reads the rows its
/// writes appended meanwhile, a few hundred at a thousand writes a second.
pub const FOLD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15);

/// Folds the tally at once (a bulk import or seed may have left a row per record on SQLite),
/// then every [`FOLD_INTERVAL`], for as long as the process runs. Failures are logged and
/// retried at the next fold.
pub async fn keep_folded(db: DatabaseConnection) {
    let mut ticks = tokio::time::interval(FOLD_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = fold(&db).await {
            tracing::warn!(error = %error, "database.tally_fold_failed");
        }
    }
}
