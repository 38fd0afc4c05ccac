//! Subscriptions through a real WebSocket client against the real server: subscribe, write over
//! HTTP, receive; role scoping; tokens; resuming with `after`; nothing for a refused write.

use std::time::Duration;

use quorum_core::Role;
use quorum_tests::TestApp;
use quorum_tests::change::{CAB, ENGINEER, MANAGER, Person};
use quorum_tests::live::{WsClient, settle};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const CHANGE_EVENTS: &str = "subscription($filter: ChangeEventFilter, $after: ID) {
  changeEvents(filter: $filter, after: $after) {
    eventId kind action fromState toState actor occurredAt reason
    change { id number state type title version }
  }
}";

const INCIDENT_EVENTS: &str = "subscription($filter: IncidentEventFilter, $after: ID) {
  incidentEvents(filter: $filter, after: $after) {
    eventId kind action fromState toState actor
    incident { id number priority state majorIncident }
  }
}";

const AGENDA: &str = "subscription { cabAgendaChanged { eventId kind action fromState toState change { number state } vote { voter decision } } }";

async fn socket_as(app: &TestApp, address: std::net::SocketAddr, who: Person) -> WsClient {
    WsClient::connect(address, &app.token(who.subject, who.roles)).await
}

#[tokio::test]
async fn a_subscriber_receives_each_write_with_the_object_it_left() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let mut client = socket_as(&app, address, MANAGER).await;
    client.subscribe("1", CHANGE_EVENTS, json!({})).await;
    settle().await;

    let change = app.new_change("NORMAL", &[&ci]).await;
    let created = client.next_data("1", "changeEvents").await;
    assert_eq!(created["kind"], "CREATED");
    assert_eq!(created["action"], "created");
    assert_eq!(created["fromState"], Value::Null);
    assert_eq!(created["toState"], "DRAFT");
    assert_eq!(created["actor"], ENGINEER.subject);
    assert_eq!(created["change"]["number"], change["number"]);
    assert_eq!(created["change"]["state"], "DRAFT");
    assert_eq!(created["change"]["version"], change["version"]);

    let submitted = app.act(ENGINEER, "submitChange", &change).await;
    let moved = client.next_data("1", "changeEvents").await;
    assert_eq!(moved["kind"], "TRANSITIONED");
    assert_eq!(moved["action"], "submitted");
    assert_eq!(moved["fromState"], "DRAFT");
    assert_eq!(moved["toState"], "ASSESSMENT");
    assert_eq!(moved["change"]["state"], "ASSESSMENT");
    assert_eq!(moved["change"]["version"], submitted["version"]);
    let first: i64 = created["eventId"].as_str().unwrap().parse().unwrap();
    let second: i64 = moved["eventId"].as_str().unwrap().parse().unwrap();
    assert!(second > first, "{first} then {second}");

    // CI writes are not change events.
    app.create_ci("SERVER", "db-host-1").await;
    client.assert_quiet().await;
}

#[tokio::test]
async fn a_cab_member_never_receives_a_draft() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let mut cab = socket_as(&app, address, CAB[0]).await;
    let mut manager = socket_as(&app, address, MANAGER).await;
    cab.subscribe("c", CHANGE_EVENTS, json!({})).await;
    manager.subscribe("m", CHANGE_EVENTS, json!({})).await;
    settle().await;

    let change = app.new_change("NORMAL", &[&ci]).await;
    let edited = app
        .data_by(
            ENGINEER,
            "mutation($id: ID!, $version: Int!) { updateChange(id: $id, version: $version, input: { title: \"Upgrade the payments database to 16.4\" }) { id version state } }",
            json!({ "id": change["id"], "version": change["version"] }),
        )
        .await;
    assert_eq!(edited["updateChange"]["state"], "DRAFT");
    let mut draft = change.clone();
    draft["version"] = edited["updateChange"]["version"].clone();
    app.act(ENGINEER, "submitChange", &draft).await;

    // The manager sees the draft's creation and edit; the CAB member only the submission.
    assert_eq!(
        manager.next_data("m", "changeEvents").await["kind"],
        "CREATED"
    );
    assert_eq!(
        manager.next_data("m", "changeEvents").await["kind"],
        "UPDATED"
    );
    assert_eq!(
        manager.next_data("m", "changeEvents").await["kind"],
        "TRANSITIONED"
    );
    let first = cab.next_data("c", "changeEvents").await;
    assert_eq!(first["action"], "submitted");
    assert_eq!(first["fromState"], "DRAFT");
    assert_eq!(first["change"]["state"], "ASSESSMENT");
    cab.assert_quiet().await;
}

#[tokio::test]
async fn filters_narrow_change_and_incident_events() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let web = app.create_ci("APPLICATION", "storefront").await;
    let watched = app.new_change("NORMAL", &[&db]).await;

    let mut client = socket_as(&app, address, MANAGER).await;
    client
        .subscribe(
            "one",
            CHANGE_EVENTS,
            json!({ "filter": { "changeIds": [watched["id"]] } }),
        )
        .await;
    client
        .subscribe(
            "emergencies",
            CHANGE_EVENTS,
            json!({ "filter": { "types": ["EMERGENCY"], "states": ["DRAFT"] } }),
        )
        .await;
    client
        .subscribe(
            "p1",
            INCIDENT_EVENTS,
            json!({ "filter": { "priorities": ["P1"] } }),
        )
        .await;
    client
        .subscribe(
            "web",
            INCIDENT_EVENTS,
            json!({ "filter": { "affectedCiIds": [web["id"]] } }),
        )
        .await;
    settle().await;

    app.new_change("NORMAL", &[&db]).await; // matches nothing
    app.act(ENGINEER, "submitChange", &watched).await;
    let emergency = app.new_change("EMERGENCY", &[&web]).await;
    app.new_incident("LOW", "LOW", &[&db]).await; // P5 on the database: matches nothing
    let p1 = app.new_incident("HIGH", "HIGH", &[&db]).await;
    let on_web = app.new_incident("MEDIUM", "LOW", &[&web]).await;

    let mut got: Vec<(String, String)> = Vec::new();
    for _ in 0..4 {
        let message = client.next_json().await;
        assert_eq!(message["type"], "next", "{message}");
        let id = message["id"].as_str().unwrap().to_owned();
        let data = &message["payload"]["data"];
        let number = data["changeEvents"]["change"]["number"]
            .as_str()
            .or_else(|| data["incidentEvents"]["incident"]["number"].as_str())
            .unwrap()
            .to_owned();
        got.push((id, number));
    }
    got.sort();
    let mut expected = vec![
        (
            "emergencies".to_owned(),
            emergency["number"].as_str().unwrap().to_owned(),
        ),
        (
            "one".to_owned(),
            watched["number"].as_str().unwrap().to_owned(),
        ),
        ("p1".to_owned(), p1["number"].as_str().unwrap().to_owned()),
        (
            "web".to_owned(),
            on_web["number"].as_str().unwrap().to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(got, expected);
    client.assert_quiet().await;
}

#[tokio::test]
async fn major_only_incident_events() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let mut client = socket_as(&app, address, MANAGER).await;
    client
        .subscribe(
            "major",
            INCIDENT_EVENTS,
            json!({ "filter": { "majorOnly": true } }),
        )
        .await;
    settle().await;
    let incident = app.new_incident("HIGH", "HIGH", &[&db]).await;
    client.assert_quiet().await;
    let declared = app
        .incident_action(MANAGER, "raiseMajorIncident", &incident, "", "", json!({}))
        .await
        .unwrap_or_else(|response| panic!("{}", response.text()));
    assert_eq!(declared["majorIncident"], true);
    let event = client.next_data("major", "incidentEvents").await;
    assert_eq!(event["kind"], "UPDATED");
    assert_eq!(event["incident"]["majorIncident"], true);
    assert_eq!(event["incident"]["number"], incident["number"]);
}

#[tokio::test]
async fn the_agenda_feed_tells_of_referrals_and_votes_and_refuses_engineers() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let mut cab = socket_as(&app, address, CAB[1]).await;
    cab.subscribe("a", AGENDA, json!({})).await;
    let mut engineer = socket_as(&app, address, ENGINEER).await;
    engineer.subscribe("a", AGENDA, json!({})).await;
    let refused = engineer.next_payload("a").await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let complete = engineer.next_json().await;
    assert_eq!(complete["type"], "complete", "{complete}");
    settle().await;

    // A low-risk change authorized by the manager never reaches the agenda.
    app.authorized_change(&[&ci]).await;
    cab.assert_quiet().await;

    let change = app.new_change("NORMAL", &[&ci]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::high_risk_answers()).await;
    let change = app.act(MANAGER, "referChangeToCab", &change).await;
    let referred = cab.next_data("a", "cabAgendaChanged").await;
    assert_eq!(referred["toState"], "CAB_REVIEW");
    assert_eq!(referred["change"]["number"], change["number"]);

    app.vote(CAB[2], &change, "APPROVE", None).await.unwrap();
    let voted = cab.next_data("a", "cabAgendaChanged").await;
    assert_eq!(voted["kind"], "VOTED");
    assert_eq!(voted["vote"]["voter"], CAB[2].subject);
    assert_eq!(voted["vote"]["decision"], "APPROVE");
    assert_eq!(voted["fromState"], Value::Null);
    assert_eq!(voted["change"]["state"], "CAB_REVIEW");
}

#[tokio::test]
async fn a_missing_or_bad_token_closes_the_socket_with_4401() {
    let app = TestApp::new().await;
    let address = app.serve().await;

    let mut anonymous = WsClient::open(address).await;
    anonymous.send(json!({ "type": "connection_init" })).await;
    assert_eq!(anonymous.closed().await.code, 4401);

    let mut forged = WsClient::open(address).await;
    forged
        .send(json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not.a.token" } }))
        .await;
    let closed = forged.closed().await;
    assert_eq!(closed.code, 4401);
    assert!(closed.reason.starts_with("unauthenticated"), "{closed:?}");

    // Subscribing before connection_init is refused too (the protocol's 4401).
    let mut hasty = WsClient::open(address).await;
    hasty.subscribe("1", CHANGE_EVENTS, json!({})).await;
    assert_eq!(hasty.closed().await.code, 4401);

    // The legacy protocol of subscriptions-transport-ws is refused at the upgrade.
    let mut legacy = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .unwrap();
    legacy.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-ws"),
    );
    match tokio_tungstenite::connect_async(legacy).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400);
        }
        other => panic!("expected a refused upgrade, got {other:?}"),
    }
}

#[tokio::test]
async fn an_expired_token_is_refused_at_subscribe_time() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let token = app.token_for("max", &[Role::ChangeManager], Duration::from_secs(2));
    let mut client = WsClient::connect(address, &token).await;
    client.subscribe("early", CHANGE_EVENTS, json!({})).await;
    client.assert_quiet().await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    client.subscribe("late", CHANGE_EVENTS, json!({})).await;
    let refused = client.next_payload("late").await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
}

#[tokio::test]
async fn resuming_after_an_event_replays_what_was_missed_then_goes_live() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let mut client = socket_as(&app, address, MANAGER).await;
    client.subscribe("1", CHANGE_EVENTS, json!({})).await;
    settle().await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    let seen = client.next_data("1", "changeEvents").await;
    drop(client);

    // Written while the client was away.
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let other = app.new_change("EMERGENCY", &[&ci]).await;

    let mut client = socket_as(&app, address, MANAGER).await;
    client
        .subscribe("2", CHANGE_EVENTS, json!({ "after": seen["eventId"] }))
        .await;
    let missed: Vec<Value> = vec![
        client.next_data("2", "changeEvents").await,
        client.next_data("2", "changeEvents").await,
        client.next_data("2", "changeEvents").await,
    ];
    let actions: Vec<&str> = missed
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submitted", "assessed", "created"]);
    assert_eq!(missed[2]["change"]["number"], other["number"]);
    let ids: Vec<i64> = missed
        .iter()
        .map(|event| event["eventId"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");

    // Then live, with nothing twice.
    app.act(MANAGER, "authorizeChange", &change).await;
    let live = client.next_data("2", "changeEvents").await;
    assert_eq!(live["action"], "authorized");
    client.assert_quiet().await;

    // An id that is no event is bad input, before anything starts.
    client
        .subscribe("3", CHANGE_EVENTS, json!({ "after": "999999" }))
        .await;
    let refused = client.next_payload("3").await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
}

#[tokio::test]
async fn a_refused_write_publishes_nothing() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    let mut client = socket_as(&app, address, MANAGER).await;
    client.subscribe("1", CHANGE_EVENTS, json!({})).await;
    settle().await;

    // A stale version and a role that may not submit: both refused, nothing written.
    let before = app.event_count().await;
    let mut stale = change.clone();
    stale["version"] = json!(99);
    assert!(
        app.change_action(ENGINEER, "submitChange", &stale, "", "", json!({}))
            .await
            .is_err()
    );
    assert!(
        app.change_action(CAB[0], "submitChange", &change, "", "", json!({}))
            .await
            .is_err()
    );
    assert_eq!(app.event_count().await, before);
    client.assert_quiet().await;

    app.act(ENGINEER, "submitChange", &change).await;
    assert_eq!(
        client.next_data("1", "changeEvents").await["action"],
        "submitted"
    );
}

/// Only a mutation can have written an event, so only a mutation sends the feed's pump to read
/// the event table: a dashboard's queries (every one a POST) cost the database no pump reads.
/// The pump still reads on its own (every half second; more often while another transaction on
/// the PostgreSQL server holds events back), so each window starts once it is quiet and a few
/// reads may fall in it.
#[tokio::test]
async fn queries_do_not_send_the_pump_to_read_and_a_write_does_when_someone_listens() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let address = app.serve().await;
    let mut client = socket_as(&app, address, ENGINEER).await;
    app.feed_caught_up().await;

    pump_quiet(&app).await;
    let before = app.feed_reads();
    for _ in 0..40 {
        app.data_by(
            ENGINEER,
            "{ changes(first: 5) { nodes { number } } }",
            json!({}),
        )
        .await;
    }
    settle().await;
    let reads = app.feed_reads() - before;
    assert!(reads <= 3, "40 queries made the pump read {reads} times");

    pump_quiet(&app).await;
    let before = app.feed_reads();
    for n in 0..40 {
        let id = format!("q{n}");
        client
            .subscribe(&id, "{ changes(first: 5) { nodes { number } } }", json!({}))
            .await;
        client.next_data(&id, "changes").await;
        assert_eq!(client.next_json().await["type"], "complete");
    }
    settle().await;
    let reads = app.feed_reads() - before;
    assert!(
        reads <= 3,
        "40 queries on a socket made the pump read {reads} times"
    );

    // With nobody subscribed here, writes wait for the pump's half-second poll: twenty of
    // them make it read at most once per poll, not once per write.
    pump_quiet(&app).await;
    let before = app.feed_reads();
    let started = std::time::Instant::now();
    for n in 0..20 {
        app.create_ci("SERVER", &format!("unwatched-{n}")).await;
    }
    let polls = started.elapsed().as_millis() as u64 / 500 + 2;
    let reads = app.feed_reads() - before;
    assert!(
        reads <= polls,
        "20 writes nobody here subscribed to made the pump read {reads} times"
    );

    // A subscriber here: each write is read at once.
    let mut watcher = socket_as(&app, address, ENGINEER).await;
    watcher.subscribe("live", CHANGE_EVENTS, json!({})).await;
    settle().await;
    pump_quiet(&app).await;
    let before = app.feed_reads();
    client
        .subscribe(
            "w",
            "mutation { createConfigurationItem(input: { class: DATABASE, name: \"ws-db\", environment: PRODUCTION, criticality: 2 }) { id } }",
            json!({}),
        )
        .await;
    client.next_data("w", "createConfigurationItem").await;
    assert_eq!(client.next_json().await["type"], "complete");
    assert!(pump_reads_soon(&app, before).await, "a write on a socket");

    pump_quiet(&app).await;
    let before = app.feed_reads();
    app.new_change("NORMAL", &[&ci]).await;
    assert!(pump_reads_soon(&app, before).await, "a write over HTTP");
    assert_eq!(
        watcher.next_data("live", "changeEvents").await["action"],
        "created"
    );
}

/// Waits until the pump has not read for 150 ms.
async fn pump_quiet(app: &TestApp) {
    for _ in 0..40 {
        let reads = app.feed_reads();
        tokio::time::sleep(Duration::from_millis(150)).await;
        if app.feed_reads() == reads {
            return;
        }
    }
    panic!("the pump never went quiet for 150 ms");
}

/// Whether the pump reads again within 200 ms (well within its half-second poll).
async fn pump_reads_soon(app: &TestApp, before: u64) -> bool {
    for _ in 0..40 {
        if app.feed_reads() > before {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test]
async fn bad_documents_on_a_socket_get_the_codes_they_get_over_http() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let mut client = socket_as(&app, address, MANAGER).await;
    let aliases: String = (0..31)
        .map(|n| format!("a{n}: viewer {{ subject }} "))
        .collect();
    let cases = [
        ("subscription { changeEvents {", "GRAPHQL_PARSE_FAILED"),
        (
            "subscription { changeEvents { eventId numbr } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "subscription { incidentEvents(filter: { priorities: [P9] }) { eventId } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (&format!("{{ {aliases} }}"), "GRAPHQL_VALIDATION_FAILED"),
    ];
    for (n, (document, code)) in cases.iter().enumerate() {
        let id = n.to_string();
        client.subscribe(&id, document, json!({})).await;
        let refused = client.next_payload(&id).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], *code,
            "{refused}"
        );
        assert!(refused["data"].is_null(), "{refused}");
        assert_eq!(
            client.next_json().await,
            json!({ "id": id, "type": "complete" })
        );
    }

    // The socket still serves a good operation, a query as well.
    client
        .subscribe("ok", "{ viewer { subject } }", json!({}))
        .await;
    assert_eq!(
        client.next_data("ok", "viewer").await["subject"],
        MANAGER.subject
    );
}

#[tokio::test]
async fn an_event_whose_snapshot_does_not_decode_is_an_internal_error_naming_it() {
    // The submission's snapshot as a column rename would have left it for today's types.
    a_broken_submission_event_is_an_internal_error(|_, change_id| {
        format!("after = '{{\"id\": \"{change_id}\", \"status\": \"ASSESSMENT\"}}'")
    })
    .await;
}

#[tokio::test]
async fn an_event_whose_state_before_does_not_decode_is_an_internal_error_not_an_update() {
    // Only the state it left is unreadable: read leniently, the submission would have reached
    // subscribers as a plain update.
    a_broken_submission_event_is_an_internal_error(|backend, _| match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "before = jsonb_set(before::jsonb, '{state}', '\"SKETCH\"')::json".to_owned()
        }
        _ => "before = json_set(before, '$.state', 'SKETCH')".to_owned(),
    })
    .await;
}

/// Submits a change, breaks its `submitted` event with `set` (an SQL SET clause, given the
/// backend and the change's id) and checks a subscriber resuming before it gets INTERNAL
/// naming that event.
async fn a_broken_submission_event_is_an_internal_error(
    set: impl Fn(sea_orm::DatabaseBackend, &str) -> String,
) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::new().await;
    let address = app.serve().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    let event_id = |action: &'static str| {
        let db = &app.db;
        async move {
            db.query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT max(id) FROM event WHERE action = '{action}'"),
            ))
            .await
            .expect("event id reads")
            .and_then(|row| row.try_get_by_index::<i64>(0).ok())
            .expect("an event")
        }
    };
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let (first, submitted) = (event_id("created").await, event_id("submitted").await);
    let changed = app
        .db
        .execute_unprepared(&format!(
            "UPDATE event SET {} WHERE id = {submitted}",
            set(
                app.db.get_database_backend(),
                change["id"].as_str().expect("id")
            )
        ))
        .await
        .expect("the snapshot is replaced");
    assert_eq!(changed.rows_affected(), 1);

    let mut client = socket_as(&app, address, MANAGER).await;
    client
        .subscribe("1", CHANGE_EVENTS, json!({ "after": first.to_string() }))
        .await;
    let payload = client.next_payload("1").await;
    let error = &payload["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL", "{payload}");
    assert_eq!(
        error["extensions"]["lastEventId"],
        submitted.to_string(),
        "{payload}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.contains("trace id")),
        "{payload}"
    );
}

/// A subscription lives for hours and answers once per event: each answer reads the time when
/// it is made. (One HTTP request reads the clock once, so all its fields agree; a socket's
/// operation held that first instant for every later event, so an incident's SLA clock stood
/// still for its subscribers.)
#[tokio::test]
async fn each_event_a_subscription_sends_reads_the_time_anew() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let mut client = socket_as(&app, address, MANAGER).await;
    client
        .subscribe(
            "sla",
            "subscription { incidentEvents { action incident { number sla { remainingSeconds } } } }",
            json!({}),
        )
        .await;
    settle().await;
    let incident = app.new_incident("HIGH", "MEDIUM", &[&db]).await;
    let created = client.next_data("sla", "incidentEvents").await;
    let first = created["incident"]["sla"]["remainingSeconds"]
        .as_i64()
        .unwrap_or_else(|| panic!("{created}"));
    assert_eq!(
        first,
        incident["sla"]["remainingSeconds"].as_i64().unwrap_or(-1),
        "{created}"
    );

    app.clock.advance(chrono::Duration::minutes(10));
    app.incident_action(
        ENGINEER,
        "assignIncident",
        &incident,
        ", $who: String!",
        ", assignee: $who",
        json!({ "who": "ivan" }),
    )
    .await
    .unwrap_or_else(|response| panic!("{}", response.text()));
    let assigned = client.next_data("sla", "incidentEvents").await;
    assert_eq!(
        assigned["incident"]["sla"]["remainingSeconds"].as_i64(),
        Some(first - 600),
        "{assigned}"
    );
}
