//! Scale-out: instances on one database see each other's writes, in commit order and once;
//! a feed whose database connections are killed reconnects and misses nothing; a subscriber
//! that falls too far behind is dropped with the id to resume after.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use quorum_core::feed::{EventFeed, FeedError, StartPoint};
use quorum_tests::change::{ENGINEER, MANAGER};
use quorum_tests::live::{WsClient, settle};
use quorum_tests::{Backend, TestApp};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const CHANGE_EVENTS: &str = "subscription($after: ID) {
  changeEvents(after: $after) { eventId action change { id number version } }
}";

/// Reads `count` change events of operation `id`: (event id, change id, change version).
async fn read_events(client: &mut WsClient, id: &str, count: usize) -> Vec<(i64, String, i64)> {
    let mut events = Vec::with_capacity(count);
    for _ in 0..count {
        let event = client.next_data(id, "changeEvents").await;
        events.push((
            event["eventId"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("an event id"),
            event["change"]["id"]
                .as_str()
                .expect("a change id")
                .to_owned(),
            event["change"]["version"].as_i64().expect("a version"),
        ));
    }
    events
}

/// Every change event in the table: id, change id, the version its write left.
async fn change_events_in_table(app: &TestApp) -> Vec<(i64, String)> {
    let backend = app.db.get_database_backend();
    app.db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, entity_id FROM event WHERE entity_kind = 'Change' ORDER BY id",
        ))
        .await
        .expect("the event table reads")
        .into_iter()
        .map(|row| {
            (
                row.try_get::<i64>("", "id").expect("id"),
                row.try_get::<String>("", "entity_id").expect("entity_id"),
            )
        })
        .collect()
}

/// Checks that `events` holds each change's versions in increasing order, once each.
fn assert_in_order_once(events: &[(i64, String, i64)]) {
    let mut seen_ids = std::collections::HashSet::new();
    let mut versions: HashMap<&str, i64> = HashMap::new();
    for (event_id, change, version) in events {
        assert!(
            seen_ids.insert(*event_id),
            "event {event_id} delivered twice"
        );
        if let Some(previous) = versions.insert(change, *version) {
            assert!(
                *version > previous,
                "change {change}: version {version} after {previous}"
            );
        }
    }
}

#[tokio::test]
async fn a_subscriber_on_one_instance_receives_the_writes_sent_to_another_in_order_and_once() {
    let a = TestApp::new().await;
    let b = a.another_instance().await;
    let address = a.serve().await;
    let ci = b.create_ci("DATABASE", "payments-db").await;
    let mut client = WsClient::connect(address, &a.token(MANAGER.subject, MANAGER.roles)).await;
    client.subscribe("1", CHANGE_EVENTS, json!({})).await;
    settle().await;

    // Eight writers at once on instance B, each taking a change through three writes.
    let writers = (0..8).map(|_| {
        let b = &b;
        let ci = &ci;
        async move {
            let change = b.new_change("NORMAL", &[ci]).await;
            let change = b.act(ENGINEER, "submitChange", &change).await;
            b.assess(&change, TestApp::low_risk_answers()).await;
        }
    });
    futures_util::future::join_all(writers).await;

    let events = read_events(&mut client, "1", 24).await;
    client.assert_quiet().await;
    assert_in_order_once(&events);
    let mut received: Vec<i64> = events.iter().map(|event| event.0).collect();
    received.sort_unstable();
    let written: Vec<i64> = change_events_in_table(&a)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(received, written, "every committed change event, once");
}

#[tokio::test]
async fn a_feed_whose_connections_are_killed_reconnects_and_a_resuming_subscriber_misses_nothing() {
    if Backend::from_env() != Backend::Postgres {
        // One SQLite instance has no connection to kill; LISTEN exists on PostgreSQL only.
        return;
    }
    let a = TestApp::new().await;
    let b = a.another_instance().await;
    let address = a.serve().await;
    let ci = b.create_ci("DATABASE", "payments-db").await;
    let token = a.token(MANAGER.subject, MANAGER.roles);
    let mut client = WsClient::connect(address, &token).await;
    client.subscribe("1", CHANGE_EVENTS, json!({})).await;
    settle().await;
    let first = b.new_change("NORMAL", &[&ci]).await;
    let seen = read_events(&mut client, "1", 1).await;
    assert_eq!(seen[0].1, first["id"].as_str().unwrap());

    // Kill every connection of the database but our own: both instances' pools and
    // listeners. The client on A drops too, as a browser losing its network would.
    drop(client);
    let killed =
        b.db.query_all_raw(Statement::from_string(
            b.db.get_database_backend(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await
        .unwrap()
        .len();
    assert!(killed >= 2, "the listeners at least: {killed}");

    // Written while A's listener is down. B's pool hands out its dropped connections without
    // a ping (they were just used); each write begins again on another (`begin_write`).
    let change = b.act(ENGINEER, "submitChange", &first).await;
    let second = b.new_change("EMERGENCY", &[&ci]).await;
    let written = 2;

    // Resume on A after the last event seen: the missed ones, then live ones.
    let mut client = WsClient::connect(address, &token).await;
    client
        .subscribe(
            "2",
            CHANGE_EVENTS,
            json!({ "after": seen[0].0.to_string() }),
        )
        .await;
    let missed = read_events(&mut client, "2", written).await;
    assert_eq!(missed[0].1, change["id"].as_str().unwrap());
    assert_eq!(missed[1].1, second["id"].as_str().unwrap());
    b.act(ENGINEER, "submitChange", &second).await;
    let live = read_events(&mut client, "2", 1).await;
    assert_eq!(live[0].1, second["id"].as_str().unwrap());
    client.assert_quiet().await;
    let mut all = seen;
    all.extend(missed);
    all.extend(live);
    assert_in_order_once(&all);

    // Both instances LISTEN again, on new connections.
    let mut listening = 0;
    for _ in 0..50 {
        listening =
            b.db.query_all_raw(Statement::from_string(
                b.db.get_database_backend(),
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND query ILIKE 'LISTEN%quorum_events%'",
            ))
            .await
            .unwrap()
            .len();
        if listening == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(listening, 2, "both instances listen again");

    // A's listener is back: its own feed sees B's next write without any client resuming.
    let mut client = WsClient::connect(address, &token).await;
    client.subscribe("3", CHANGE_EVENTS, json!({})).await;
    settle().await;
    let third = b.new_change("NORMAL", &[&ci]).await;
    let live = read_events(&mut client, "3", 1).await;
    assert_eq!(live[0].1, third["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_dropped_with_the_id_to_resume_after() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let feed = EventFeed::start(app.db.clone(), 4).await.unwrap();
    tokio::spawn(feed.clone().run(None));
    let start = feed.current_position().await.unwrap();
    let mut slow = Box::pin(feed.subscribe(start.clone()));
    let mut keeping_up = Box::pin(feed.subscribe(start));

    let change = app.new_change("NORMAL", &[&ci]).await;
    feed.wake();
    let first = tokio::time::timeout(Duration::from_secs(5), slow.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.event.entity_id, change["id"].as_str().unwrap());
    tokio::time::timeout(Duration::from_secs(5), keeping_up.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    // Ten more events while `slow` reads nothing: more than the ring holds.
    for _ in 0..10 {
        app.new_change("NORMAL", &[&ci]).await;
        feed.wake();
        let event = tokio::time::timeout(Duration::from_secs(5), keeping_up.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(event.event.action, "created");
    }
    match tokio::time::timeout(Duration::from_secs(5), slow.next())
        .await
        .expect("the slow subscriber hears of its lag")
    {
        Some(Err(FeedError::Lagged {
            capacity,
            last_event_id,
        })) => {
            assert_eq!(capacity, 4);
            assert_eq!(last_event_id, Some(first.event.id));
        }
        other => panic!("expected Lagged, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(Duration::from_secs(5), slow.next())
            .await
            .expect("the stream ends")
            .is_none(),
        "the stream ends after Lagged"
    );

    // Resuming after the last event it got, it catches up from the table.
    let resumed: Vec<Value> = tokio::time::timeout(
        Duration::from_secs(5),
        Box::pin(feed.subscribe(StartPoint::after(first.position)))
            .take(10)
            .map(|event| json!(event.unwrap().event.entity_id))
            .collect(),
    )
    .await
    .expect("the missed events are read back");
    assert_eq!(resumed.len(), 10);
}

#[tokio::test]
async fn an_event_committed_after_a_later_id_is_delivered_first_and_not_skipped() {
    if Backend::from_env() != Backend::Postgres {
        // SQLite has one writer at a time: its ids are in commit order already.
        return;
    }
    use sea_orm::TransactionTrait;
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let feed = EventFeed::start(app.db.clone(), 64).await.unwrap();
    tokio::spawn(feed.clone().run(None));
    let mut events = Box::pin(feed.subscribe(feed.current_position().await.unwrap()));

    // A write that takes its event id first and commits last.
    let slow = app.db.begin().await.unwrap();
    slow.execute_unprepared(
        "INSERT INTO event (occurred_at, actor, entity_kind, entity_id, action) \
         VALUES (now(), 'slow.writer', 'Test', 'slow', 'updated')",
    )
    .await
    .unwrap();
    let change = app.new_change("NORMAL", &[&ci]).await;
    feed.wake();
    // The change's event is committed, but an older transaction is still running: it waits.
    assert!(
        tokio::time::timeout(Duration::from_millis(800), events.next())
            .await
            .is_err(),
        "nothing may be delivered past a transaction still in flight"
    );
    slow.commit().await.unwrap();
    feed.wake();
    let first = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.event.entity_id, "slow");
    assert_eq!(second.event.entity_id, change["id"].as_str().unwrap());
    assert!(first.event.id < second.event.id);
    assert!(first.position < second.position);
}

#[tokio::test]
async fn a_subscription_from_now_skips_exactly_what_committed_before_it() {
    if Backend::from_env() != Backend::Postgres {
        // Only PostgreSQL holds committed events back behind an older transaction.
        return;
    }
    use sea_orm::TransactionTrait;
    let app = TestApp::new().await;
    // An older transaction holds the mark back: what commits next waits above it.
    let older = app.db.begin().await.unwrap();
    older
        .execute_unprepared("SELECT pg_current_xact_id()")
        .await
        .unwrap();
    let before = app.create_ci("DATABASE", "payments-db").await;

    let feed = EventFeed::start(app.db.clone(), 64).await.unwrap();
    tokio::spawn(feed.clone().run(None));
    let start = feed.current_position().await.unwrap();
    assert_eq!(start.skip.len(), 1, "{start:?}");
    let mut events = Box::pin(feed.subscribe(start));
    let after = app.create_ci("SERVER", "db-host-1").await;
    older.rollback().await.unwrap();
    feed.wake();

    let first = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("the event after the start arrives")
        .unwrap()
        .unwrap();
    assert_eq!(first.event.entity_id, after["id"].as_str().unwrap());
    assert_ne!(first.event.entity_id, before["id"].as_str().unwrap());
    assert!(
        tokio::time::timeout(Duration::from_millis(700), events.next())
            .await
            .is_err(),
        "nothing else"
    );
}
