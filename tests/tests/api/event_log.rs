//! The event log and numbering straight against the store (SQLite or PostgreSQL, as the suite
//! runs), with the real migrations: the transactional guarantees every domain write relies on.

use chrono::{TimeZone, Utc};
use quorum_core::event::{self, EventAction, EventFilter, NewEvent};
use quorum_core::numbering::next_number;
use quorum_core::pagination::PageRequest;
use quorum_core::{Actor, DomainError, Role};
use quorum_tests::TestDatabase;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};

async fn database() -> (TestDatabase, DatabaseConnection) {
    let database = TestDatabase::create_migrated().await;
    let db = database.connect().await;
    (database, db)
}

fn created(id: &str) -> NewEvent {
    NewEvent {
        entity_kind: "ConfigurationItem",
        entity_id: id.to_owned(),
        action: EventAction::Created,
        reason: None,
        before: None,
        after: Some(serde_json::json!({ "name": id })),
    }
}

#[tokio::test]
async fn an_event_appended_in_a_rolled_back_transaction_leaves_no_row() {
    let (_database, db) = database().await;
    let actor = Actor::new("eve", [Role::Engineer]);
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();

    let txn = db.begin().await.unwrap();
    event::append(&txn, &actor, at, created("a")).await.unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(event::Entity::find().count(&db).await.unwrap(), 0);

    let txn = db.begin().await.unwrap();
    let row = event::append(&txn, &actor, at, created("b")).await.unwrap();
    txn.commit().await.unwrap();
    let stored = event::Entity::find_by_id(row.id).one(&db).await.unwrap();
    assert_eq!(stored, Some(row));
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_and_is_refused_to_engineers() {
    let (_database, db) = database().await;
    let engineer = Actor::new("eve", [Role::Engineer]);
    let head = Actor::new("hana", [Role::ServiceHead]);
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let txn = db.begin().await.unwrap();
    for name in ["a", "b", "c", "d", "e"] {
        event::append(&txn, &engineer, at, created(name))
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();

    let refused = event::list(
        &db,
        &engineer,
        &EventFilter::default(),
        &PageRequest::first(2),
    )
    .await;
    assert!(matches!(refused, Err(DomainError::Forbidden { .. })));

    let first = event::list(&db, &head, &EventFilter::default(), &PageRequest::first(2))
        .await
        .unwrap();
    let ids = |page: &quorum_core::pagination::Page<event::Model>| {
        page.edges
            .iter()
            .map(|(_, e)| e.entity_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ["e", "d"]);
    assert_eq!(first.total_count, 5);
    assert!(first.has_next_page);
    assert!(!first.has_previous_page);

    let next = PageRequest {
        first: Some(2),
        after: Some(first.edges[1].0.clone()),
        ..PageRequest::default()
    };
    let second = event::list(&db, &head, &EventFilter::default(), &next)
        .await
        .unwrap();
    assert_eq!(ids(&second), ["c", "b"]);
    assert!(second.has_previous_page);

    let back = PageRequest {
        last: Some(2),
        before: Some(second.edges[0].0.clone()),
        ..PageRequest::default()
    };
    let previous = event::list(&db, &head, &EventFilter::default(), &back)
        .await
        .unwrap();
    assert_eq!(ids(&previous), ["e", "d"]);
    assert!(!previous.has_previous_page);
    assert!(previous.has_next_page);

    let only_c = EventFilter {
        entity_id: Some("c".into()),
        ..EventFilter::default()
    };
    let filtered = event::list(&db, &head, &only_c, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(ids(&filtered), ["c"]);
}

#[tokio::test]
async fn numbers_count_up_per_prefix_and_only_sqlite_gives_a_rolled_back_number_back() {
    let (_database, db) = database().await;
    let txn = db.begin().await.unwrap();
    assert_eq!(next_number(&txn, "CHG").await.unwrap(), "CHG0000001");
    assert_eq!(next_number(&txn, "CHG").await.unwrap(), "CHG0000002");
    assert_eq!(next_number(&txn, "INC").await.unwrap(), "INC0000001");
    txn.commit().await.unwrap();

    let txn = db.begin().await.unwrap();
    assert_eq!(next_number(&txn, "CHG").await.unwrap(), "CHG0000003");
    txn.rollback().await.unwrap();

    // PostgreSQL's sequences never hand a number out twice, so that no creation waits for
    // another's commit; SQLite's writers take turns anyway, and its counter row rolls back.
    let expected = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "CHG0000004",
        _ => "CHG0000003",
    };
    let txn = db.begin().await.unwrap();
    assert_eq!(next_number(&txn, "CHG").await.unwrap(), expected);
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn concurrent_transactions_never_take_the_same_number() {
    let (_database, db) = database().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut taken = Vec::new();
            for _ in 0..5 {
                let txn = quorum_core::begin_write(&db).await.unwrap();
                taken.push(next_number(&txn, "PRB").await.unwrap());
                txn.commit().await.unwrap();
            }
            taken
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort();
    let expected: Vec<String> = (1..=40).map(|n| format!("PRB{n:07}")).collect();
    assert_eq!(all, expected);
}
