//! The pool of database connections, as a request meets it when the database dropped them: a
//! restart, a failover, an administrator ending sessions.

use futures_util::future::join_all;
use quorum_tests::change::ENGINEER;
use quorum_tests::{Backend, TestApp};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

/// Ends every session on the app's database but the one this runs on, and returns how many.
async fn drop_every_other_connection(app: &TestApp) -> usize {
    app.db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await
        .expect("terminate sessions")
        .len()
}

#[tokio::test]
async fn writes_go_through_on_their_first_try_right_after_the_database_dropped_the_pooled_connections()
 {
    if Backend::from_env() != Backend::Postgres {
        // SQLite's connections live in the process: nothing outside can drop them.
        return;
    }
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    // Concurrent reads each take a pooled connection, so the pool holds several, all just used.
    join_all((0..6).map(|_| {
        app.data_by(
            ENGINEER,
            "{ incidents(first: 1) { totalCount } }",
            json!({}),
        )
    }))
    .await;
    let dropped = drop_every_other_connection(&app).await;
    assert!(dropped >= 2, "the pool held several connections: {dropped}");

    // Each write may draw a dropped connection from the pool; none may fail for it. The
    // helper panics on any error.
    let mut numbers = Vec::new();
    for _ in 0..8 {
        let incident = app.new_incident("HIGH", "MEDIUM", &[&ci]).await;
        numbers.push(incident["number"].as_str().expect("a number").to_owned());
    }
    assert_eq!(numbers.first().map(String::as_str), Some("INC0000001"));
    assert_eq!(numbers.last().map(String::as_str), Some("INC0000008"));
}
