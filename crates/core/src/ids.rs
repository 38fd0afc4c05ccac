//! Filters by many ids at once.
//!
//! PostgreSQL takes up to [`POSTGRES_CHUNK`] ids as one array parameter (`= ANY($1)`): one
//! bind parameter instead of hundreds, and a statement text that is the same whatever the
//! count, so it is prepared once. The chunk keeps each message under one loopback TCP segment:
//! sqlx does not set TCP_NODELAY, and a larger message waited ~40 ms for a delayed ACK.
//! SQLite takes `IN` lists of at most [`SQLITE_CHUNK`] ids, one statement per chunk.

use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend};

/// Ids per `IN (…)` list on SQLite: far below its bound-parameter limit.
const SQLITE_CHUNK: usize = 500;
/// Ids per array parameter on PostgreSQL: 1 000 UUIDs are about 40 KB on the wire.
const POSTGRES_CHUNK: usize = 1_000;

/// The slices of `ids` to filter by, one statement each.
pub fn batches<'a, C: ConnectionTrait>(db: &C, ids: &'a [String]) -> Vec<&'a [String]> {
    if ids.is_empty() {
        return Vec::new();
    }
    match db.get_database_backend() {
        DatabaseBackend::Postgres => ids.chunks(POSTGRES_CHUNK).collect(),
        _ => ids.chunks(SQLITE_CHUNK).collect(),
    }
}

/// `column` is one of `ids` (a batch from [`batches`]).
pub fn one_of<C: ConnectionTrait, Col: ColumnTrait>(
    db: &C,
    column: Col,
    ids: &[String],
) -> SimpleExpr {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            Expr::col(column.as_column_ref()).eq(PgFunc::any(Expr::val(ids.to_vec())))
        }
        _ => column.is_in(ids.iter().map(String::as_str)),
    }
}
