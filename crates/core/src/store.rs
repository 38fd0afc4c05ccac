//! How domain writes open their transaction.

use std::ops::Deref;
use std::sync::{Arc, LazyLock};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// SQLite writers of this process, in the order they asked. SQLite lets one writer in at a
/// time; the others, left to its busy handler, sleep in growing steps (up to 100 ms) and retry,
/// so a writer could lose the race again and again: at 16 clients creating incidents, p99 was
/// 119 ms and the slowest took 1.7–2.1 s. Queued here (a fair, first-come lock), each writer
/// takes the database lock the moment the previous one lets go.
static SQLITE_WRITERS: LazyLock<Arc<Mutex<()>>> = LazyLock::new(|| Arc::new(Mutex::new(())));

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
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let turn = match db.get_database_backend() {
        DatabaseBackend::Sqlite => Some(SQLITE_WRITERS.clone().lock_owned().await),
        _ => None,
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    Ok(WriteTransaction {
        txn,
        _turn: turn,
        written: std::sync::Mutex::default(),
    })
}
