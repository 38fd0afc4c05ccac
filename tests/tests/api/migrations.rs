//! Migrations on the real backend: applying them again changes nothing.

use quorum_migrations::{Migrator, MigratorTrait};
use quorum_tests::TestDatabase;
use sea_orm::{ConnectionTrait, Statement};

async fn applied(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await
        .expect("migration table reads");
    rows.iter()
        .map(|row| {
            row.try_get::<String>("", "version")
                .expect("version column")
        })
        .collect()
}

#[tokio::test]
async fn applying_migrations_twice_is_a_no_op() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    Migrator::up(&db, None).await.expect("first run applies");
    let after_first = applied(&db).await;
    assert_eq!(after_first.len(), Migrator::migrations().len());
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status reads")
            .is_empty()
    );

    Migrator::up(&db, None).await.expect("second run succeeds");
    assert_eq!(applied(&db).await, after_first);
}

#[tokio::test]
async fn every_migration_can_be_rolled_back_and_reapplied() {
    let database = TestDatabase::create().await;
    // One connection, as the server migrates: on a pool of SQLite connections, one that read
    // the schema before a table was dropped refuses to create its index again.
    let db = database.connect_one().await;
    Migrator::up(&db, None).await.expect("migrations apply");
    Migrator::down(&db, None)
        .await
        .expect("migrations roll back");
    assert!(applied(&db).await.is_empty());
    Migrator::up(&db, None)
        .await
        .expect("migrations apply again");
    assert_eq!(applied(&db).await.len(), Migrator::migrations().len());
}
