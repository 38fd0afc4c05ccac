//! How domain writes open their transaction.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

/// Opens the transaction of one write. On SQLite it takes the write lock at BEGIN
/// (`BEGIN IMMEDIATE`), so concurrent writers wait their turn (busy timeout) instead of failing
/// when a read lock cannot be upgraded; PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
