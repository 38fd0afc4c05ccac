//! How domain writes open their transaction.

use std::ops::Deref;
use std::sync::{Arc, LazyLock};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, RuntimeErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// SQLite writers of this process, in the order they asked. SQLite lets one writer in at a
/// time; the others, left to its busy handler, sleep in growing steps (up to 100 ms) and retry,
/// so a writer could lose the race again and again: at 16 clients creating incidents, p99 was
/// 119 ms and the slowest took 1.7–2.1 s. Queued here (a fair, first-come lock), each writer
/// takes the database lock the moment the previous one lets go.
static SQLITE_WRITERS: LazyLock<Arc<Mutex<()>>> = LazyLock::new(|| Arc::new(Mutex::new(())));

/// How many connections [`on_a_live_connection`] tries: more than a pool holds (sqlx's default
/// of 10), so a pool whose every connection was dropped at once still yields a new one.
pub const CONNECTION_ATTEMPTS: u32 = 16;

/// Runs `first`, the first statement on a pooled connection (a BEGIN, or a read that a repeat
/// cannot harm), again on another connection while it fails because the database dropped the
/// one it drew, up to [`CONNECTION_ATTEMPTS`] times. A dropped connection fails at once, and
/// the pool closes it rather than hand it out again.
pub async fn on_a_live_connection<T, F, Fut>(mut first: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    let mut attempt = 1;
    loop {
        match first().await {
            Err(error) if attempt < CONNECTION_ATTEMPTS && connection_lost(&error) => {
                tracing::info!(%error, attempt, "database.connection_lost");
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// Whether `error` says the connection is gone rather than that a statement failed: the
/// socket closed or broke, or PostgreSQL ended the session (SQLSTATE class 57P, operator
/// intervention: shutdown, crash, terminated backend) or reported it broken (class 08).
pub fn connection_lost(error: &DbErr) -> bool {
    let (DbErr::Conn(RuntimeErr::SqlxError(error))
    | DbErr::Exec(RuntimeErr::SqlxError(error))
    | DbErr::Query(RuntimeErr::SqlxError(error))) = error
    else {
        return false;
    };
    match error.as_ref() {
        sea_orm::SqlxError::Io(_) => true,
        sea_orm::SqlxError::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

/// The transaction of one write; on SQLite it also holds this process's writer turn until it
/// commits or rolls back (or is dropped). The records it wrote are logged once it commits, so
/// the log never tells of a write that was rolled back.
pub struct WriteTransaction {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
    written: std::sync::Mutex<Vec<Written>>,
}

/// One record a write transaction wrote, for its log line.
#[derive(Debug)]
pub(crate) struct Written {
    pub kind: &'static str,
    pub number: String,
    pub version: i32,
    pub action: &'static str,
}

impl Deref for WriteTransaction {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// A write transaction runs statements like the transaction it holds, for functions generic
/// over connections.
#[async_trait::async_trait]
impl ConnectionTrait for WriteTransaction {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

impl WriteTransaction {
    /// Notes `written` for the log line this transaction writes when it commits.
    pub(crate) fn note(&self, written: Written) {
        if let Ok(mut list) = self.written.lock() {
            list.push(written);
        }
    }

    /// Commits, then logs one `record.written` line per record written.
    pub async fn commit(self) -> Result<(), DbErr> {
        let written = self.written.into_inner().unwrap_or_default();
        self.txn.commit().await?;
        for record in written {
            tracing::info!(
                record.kind = record.kind,
                record.number = record.number,
                record.version = record.version,
                record.action = record.action,
                "record.written"
            );
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

/// Opens the transaction of one write. On SQLite it waits for this process's writers before
/// it in a fair queue, then takes the write lock at BEGIN (`BEGIN IMMEDIATE`), so concurrent
/// writers neither fail when a read lock cannot be upgraded nor starve; another process's
/// writers are still waited for by the busy timeout. PostgreSQL ignores both.
///
/// The pool hands out a connection used in the last half second without asking the database
/// whether it is still there (`quorum_server::db`). When BEGIN finds that the database dropped
/// it (a restart, a failover, an administrator ending sessions), nothing has been written yet,
/// so the write begins again on another connection ([`on_a_live_connection`]).
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let turn = match db.get_database_backend() {
        DatabaseBackend::Sqlite => Some(SQLITE_WRITERS.clone().lock_owned().await),
        _ => None,
    };
    let txn = on_a_live_connection(|| {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
    })
    .await?;
    Ok(WriteTransaction {
        txn,
        _turn: turn,
        written: std::sync::Mutex::default(),
    })
}
