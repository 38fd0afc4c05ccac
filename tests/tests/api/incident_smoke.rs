//! A first walk through incidents and problems (the full suites are in incident_* and
//! problem_* files).

use quorum_tests::TestApp;
use quorum_tests::change::{ENGINEER, MANAGER};
use serde_json::json;

#[tokio::test]
async fn an_incident_caused_by_a_change_is_worked_to_closure_and_a_problem_tracks_it() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let incident = app.new_incident("HIGH", "MEDIUM", &[&db]).await;
    assert_eq!(incident["number"], "INC0000001");
    assert_eq!(incident["priority"], "P2");
    assert_eq!(incident["sla"]["responseDue"], "2026-01-05T09:30:00.000Z");
    assert_eq!(incident["sla"]["resolutionDue"], "2026-01-05T17:00:00.000Z");

    app.clock.advance(chrono::Duration::minutes(10));
    let incident = app
        .incident_action(
            ENGINEER,
            "assignIncident",
            &incident,
            ", $who: String!",
            ", assignee: $who",
            json!({ "who": "ivan" }),
        )
        .await
        .expect("assigns");
    assert_eq!(incident["state"], "IN_PROGRESS");
    assert_eq!(incident["respondedAt"], "2026-01-05T09:10:00.000Z");

    let incident = app
        .incident_action(
            ENGINEER,
            "putIncidentOnHold",
            &incident,
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "waiting for the vendor" }),
        )
        .await
        .expect("holds");
    app.clock.advance(chrono::Duration::hours(2));
    let incident = app
        .incident_action(ENGINEER, "resumeIncident", &incident, "", "", json!({}))
        .await
        .expect("resumes");
    assert_eq!(incident["sla"]["pausedSeconds"], 7200);
    assert_eq!(incident["sla"]["resolutionDue"], "2026-01-05T19:00:00.000Z");

    // The change that caused it.
    let change = app.scheduled_change(&[&db]).await;
    let refused = app
        .incident_action(
            ENGINEER,
            "setIncidentCause",
            &incident,
            ", $change: ID",
            ", changeId: $change",
            json!({ "change": change["id"] }),
        )
        .await
        .expect_err("not started");
    assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);
    app.clock
        .set("2026-01-10T10:30:00Z".parse().expect("instant"));
    let change = app.start_implementation(&change).await;
    let incident = app
        .incident_action(
            ENGINEER,
            "setIncidentCause",
            &incident,
            ", $change: ID",
            ", changeId: $change",
            json!({ "change": change["id"] }),
        )
        .await
        .expect("links");
    assert_eq!(incident["causedByChange"]["number"], change["number"]);
    assert_eq!(incident["sla"]["resolutionBreached"], true);

    let problem = app
        .data_by(
            MANAGER,
            &format!(
                "mutation($input: CreateProblemInput!) {{ createProblem(input: $input) {{ {} }} }}",
                quorum_tests::incident::PROBLEM_FIELDS
            ),
            json!({ "input": { "title": "Pool exhaustion", "incidentIds": [incident["id"]] } }),
        )
        .await["createProblem"]
        .clone();
    assert_eq!(problem["number"], "PRB0000001");
    assert_eq!(problem["incidents"], json!([{ "number": "INC0000001" }]));
    assert_eq!(
        problem["affectedItems"],
        json!([{ "number": db["number"] }])
    );
    let problem = app
        .problem_action(
            MANAGER,
            "recordRootCause",
            &problem,
            ", $text: String!",
            ", rootCause: $text",
            json!({ "text": "pool too small" }),
        )
        .await
        .expect("root cause");
    assert_eq!(problem["state"], "UNDER_INVESTIGATION");
    let problem = app
        .problem_action(
            MANAGER,
            "recordWorkaround",
            &problem,
            ", $text: String!",
            ", workaround: $text",
            json!({ "text": "restart the API" }),
        )
        .await
        .expect("workaround");
    assert_eq!(problem["state"], "KNOWN_ERROR");
    let refused = app
        .problem_action(MANAGER, "resolveProblem", &problem, "", "", json!({}))
        .await
        .expect_err("no fix yet");
    assert_eq!(refused.error_codes(), ["INVALID_TRANSITION"]);

    let known = app
        .data_by(
            ENGINEER,
            "{ knownErrors(filter: { text: \"restart\" }) { totalCount nodes { number } } }",
            json!({}),
        )
        .await;
    assert_eq!(known["knownErrors"]["totalCount"], 1);
    let caused = app
        .data_by(
            ENGINEER,
            "query($id: ID!) { change(id: $id) { causedIncidents { number } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    assert_eq!(
        caused["change"]["causedIncidents"],
        json!([{ "number": "INC0000001" }])
    );
}

/// On PostgreSQL a creation does not wait for another's commit to be numbered: numbers come
/// from a sequence, not a counter row locked until commit (which capped createIncident at
/// about 450 a second with 16 clients). SQLite's writers queue anyway.
#[tokio::test]
async fn a_creation_is_numbered_while_another_holds_its_number_uncommitted() {
    use sea_orm::{DbBackend, TransactionTrait};
    let app = TestApp::new().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let item = app.create_ci("SERVER", "numbered-host").await;
    let held = app.db.begin().await.expect("transaction");
    let taken = quorum_core::numbering::next_number(&held, "INC")
        .await
        .expect("a number");
    // A hang detector, not a speed check: the old counter row waited for `held` forever.
    let created = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.new_incident("HIGH", "HIGH", &[&item]),
    )
    .await
    .expect("createIncident waited for another transaction's number");
    let number = created["number"].as_str().expect("a number");
    assert!(number.starts_with("INC"), "{created}");
    assert_ne!(number, taken);
    held.rollback().await.expect("rolls back");
    // A number is never given twice, even after a rollback.
    let next = app.new_incident("LOW", "LOW", &[&item]).await;
    assert_ne!(next["number"], json!(taken), "{next}");
    assert_ne!(next["number"], created["number"], "{next}");
}

/// A table analysed while empty is planned as if it stayed so, until its statistics change
/// (createIncident fell from 803 to 251 a second as incidents grew, with autovacuum off).
/// Quorum's keeper analyses a table once its changes pass autovacuum's threshold, and only
/// then.
#[tokio::test]
async fn statistics_follow_a_table_that_grew_from_empty() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let app = TestApp::new().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        assert_eq!(
            quorum_server::statistics::refresh(&app.db).await,
            Ok(vec![])
        );
        return;
    }
    app.db
        .execute_unprepared("ANALYZE incident")
        .await
        .expect("analyses the empty table");
    let item = app.create_ci("SERVER", "growing-host").await;
    for _ in 0..60 {
        app.new_incident("LOW", "LOW", &[&item]).await;
    }
    // Activity counters reach PostgreSQL's statistics within a second or so of each commit.
    let mut analysed = Vec::new();
    for _ in 0..100 {
        analysed = quorum_server::statistics::refresh(&app.db)
            .await
            .expect("refreshes");
        if analysed.iter().any(|table| table == "incident") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        analysed.iter().any(|table| table == "incident"),
        "{analysed:?}"
    );
    let rows = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT reltuples::bigint AS rows FROM pg_class WHERE relname = 'incident'",
        ))
        .await
        .expect("reads pg_class")
        .expect("a row");
    assert_eq!(rows.try_get::<i64>("", "rows"), Ok(60));
    // Below the threshold again: nothing to do.
    let again = quorum_server::statistics::refresh(&app.db)
        .await
        .expect("refreshes");
    assert!(!again.iter().any(|table| table == "incident"), "{again:?}");
}

/// An incident's CIs come with their links in one statement, for one incident or a page; a
/// new incident links its CIs with one insert (it has none to delete) and answers with them.
#[tokio::test]
async fn incidents_read_their_cis_in_one_statement_and_a_new_one_links_them_without_a_delete() {
    let app = TestApp::computing().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let web = app.create_ci("APPLICATION", "payments-web").await;
    let before = app.statements();
    let incident = app.new_incident("HIGH", "MEDIUM", &[&db, &web]).await;
    let run = app.statements_since(before);
    assert_eq!(incident["affectedItems"].as_array().map(Vec::len), Some(2));
    let links: Vec<_> = run
        .iter()
        .filter(|statement| statement.contains("incident_affected_item"))
        .collect();
    // The insert only: the answer's CIs are those the write checked (locked) and linked,
    // not read again after the commit.
    assert_eq!(links.len(), 1, "{run:#?}");
    // On PostgreSQL its number is drawn in the statement that reads its SLA targets, and the
    // incident, its links and its event are one statement: the CIs, targets and number, the
    // writes (BEGIN and COMMIT are not logged).
    if app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        let targets: Vec<_> = run
            .iter()
            .filter(|statement| statement.contains("sla_target") || statement.contains("nextval"))
            .collect();
        assert_eq!(targets.len(), 1, "{run:#?}");
        assert!(targets[0].contains("nextval"), "{run:#?}");
        assert!(
            ["\"incident\"", "\"incident_affected_item\"", "\"event\""]
                .iter()
                .all(|table| links[0].contains(&format!("INSERT INTO {table}"))),
            "{run:#?}"
        );
        assert_eq!(run.len(), 3, "{run:#?}");
    }
    assert!(
        !links
            .iter()
            .any(|statement| statement.starts_with("DELETE")),
        "{run:#?}"
    );
    // What it answered is what a read shows, in the same order.
    let read = app
        .data_by(
            ENGINEER,
            "query($id: ID!) { incident(id: $id) { affectedItems { id number } } }",
            json!({ "id": incident["id"] }),
        )
        .await;
    assert_eq!(
        read["incident"]["affectedItems"], incident["affectedItems"],
        "{read}"
    );

    for _ in 0..4 {
        app.new_incident("LOW", "LOW", &[&db]).await;
    }
    let (response, run) = app
        .cheapest_of_three(
            &[quorum_core::Role::Engineer],
            "{ incidents(first: 5) { nodes { number affectedItems { number } } } }",
            json!({}),
        )
        .await;
    let nodes = response["data"]["incidents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .clone();
    assert_eq!(nodes.len(), 5);
    assert!(
        nodes
            .iter()
            .all(|node| node["affectedItems"][0]["number"].is_string())
    );
    // The page, then its CIs (links joined to items).
    assert_eq!(run.len(), 2, "{run:#?}");
}
