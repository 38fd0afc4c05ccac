//! Answers kept for repeats (`server::results`): a repeat of a query is answered from what was
//! kept only while nothing has been written since, by anyone, on any instance; it is kept per
//! caller; and an answer that depends on the clock, failed, or came from a mutation is never
//! handed out again. On SQLite nothing is kept (it has no commit mark), so every repeat runs.

use quorum_core::Role;
use quorum_tests::TestApp;
use quorum_tests::change::{CAB, ENGINEER, MANAGER};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use serde_json::{Value, json};

const CHANGES: &str = "{ changes(first: 50) { totalCount nodes { number title state } } }";

fn keeps(app: &TestApp) -> bool {
    app.db.get_database_backend() == DatabaseBackend::Postgres
}

/// `query` as `who`, with its data (no errors allowed) and the statements it ran.
async fn ask(
    app: &TestApp,
    who: quorum_tests::change::Person,
    query: &str,
) -> (Value, Vec<String>) {
    let before = app.statements();
    let data = app.data_by(who, query, json!({})).await;
    (data, app.statements_since(before))
}

/// Whether `statements` are only the commit mark's read: the answer was a kept one.
fn only_the_mark(statements: &[String]) -> bool {
    statements.len() == 1 && statements[0].contains("pg_current_snapshot")
}

/// Whether a repeat of `query` is answered from what was kept. The mark is the whole
/// PostgreSQL server's: tests writing to their own databases beside this one move it too, so
/// a few repeats are allowed to find it moved (each then computes and keeps a fresh answer).
async fn a_repeat_is_kept(app: &TestApp, who: quorum_tests::change::Person, query: &str) -> bool {
    let (expected, _) = ask(app, who, query).await;
    for _ in 0..50 {
        let (data, statements) = ask(app, who, query).await;
        assert_eq!(data, expected);
        if only_the_mark(&statements) {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn a_repeat_is_answered_from_what_was_kept_until_anything_is_written_on_any_instance() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "db-01").await;
    app.new_change("NORMAL", &[&item]).await;

    let (first, computed) = ask(&app, ENGINEER, CHANGES).await;
    assert!(computed.len() > 1, "{computed:?}");
    let (again, statements) = ask(&app, ENGINEER, CHANGES).await;
    assert_eq!(again, first);
    if !keeps(&app) {
        assert_eq!(statements.len(), computed.len(), "{statements:?}");
    }
    assert_eq!(a_repeat_is_kept(&app, ENGINEER, CHANGES).await, keeps(&app));

    // A write through this instance: the next read is the database's.
    let second = app.new_change("NORMAL", &[&item]).await;
    let (after_write, statements) = ask(&app, ENGINEER, CHANGES).await;
    assert_eq!(after_write["changes"]["totalCount"], 2);
    assert_eq!(
        after_write["changes"]["nodes"][0]["number"],
        second["number"]
    );
    assert!(!only_the_mark(&statements), "{statements:?}");
    assert_eq!(a_repeat_is_kept(&app, ENGINEER, CHANGES).await, keeps(&app));

    // A write through another instance, which this one has not been told of: still read.
    let other = app.another_instance().await;
    let third = other.new_change("NORMAL", &[&item]).await;
    let (after_other, _) = ask(&app, ENGINEER, CHANGES).await;
    assert_eq!(after_other["changes"]["totalCount"], 3);
    assert_eq!(
        after_other["changes"]["nodes"][0]["number"],
        third["number"]
    );

    // A write by no instance at all (an operator's SQL): still read.
    let sql = format!(
        "UPDATE change_request SET title = 'Renamed by hand' WHERE number = '{}'",
        third["number"].as_str().expect("a number")
    );
    app.db.execute_unprepared(&sql).await.expect("update");
    let (after_sql, _) = ask(&app, ENGINEER, CHANGES).await;
    assert_eq!(
        after_sql["changes"]["nodes"][0]["title"], "Renamed by hand",
        "{after_sql}"
    );
}

#[tokio::test]
async fn what_was_kept_for_one_caller_is_never_handed_to_another() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "db-01").await;
    // A draft: engineers see it, CAB members do not.
    app.new_change("NORMAL", &[&item]).await;
    let (engineer, _) = ask(&app, ENGINEER, CHANGES).await;
    assert_eq!(engineer["changes"]["totalCount"], 1);
    let (member, _) = ask(&app, CAB[0], CHANGES).await;
    assert_eq!(member["changes"]["totalCount"], 0, "{member}");

    // The same roles, another subject: `viewer.subject` (and `myVote`) are theirs.
    let viewer = "{ viewer { subject } }";
    let (first, _) = ask(&app, CAB[0], viewer).await;
    let (second, _) = ask(&app, CAB[1], viewer).await;
    assert_eq!(first["viewer"]["subject"], CAB[0].subject);
    assert_eq!(second["viewer"]["subject"], CAB[1].subject);
    assert_eq!(a_repeat_is_kept(&app, CAB[0], viewer).await, keeps(&app));
    let (first_again, _) = ask(&app, CAB[0], viewer).await;
    assert_eq!(first_again, first);
    let (second_again, _) = ask(&app, CAB[1], viewer).await;
    assert_eq!(second_again, second);
    let (member_again, _) = ask(&app, CAB[0], CHANGES).await;
    assert_eq!(member_again, member);
}

#[tokio::test]
async fn an_answer_that_read_the_clock_failed_or_wrote_is_not_handed_out_again() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "db-01").await;
    let incident = app.new_incident("HIGH", "HIGH", &[&item]).await;

    // The SLA's remaining time moves with the clock, with nothing written.
    let sla = format!(
        "{{ incident(id: \"{}\") {{ sla {{ remainingSeconds }} }} }}",
        incident["id"].as_str().expect("an id")
    );
    let (before, _) = ask(&app, ENGINEER, &sla).await;
    app.clock.advance(chrono::Duration::minutes(5));
    let (after, statements) = ask(&app, ENGINEER, &sla).await;
    let remaining = |data: &Value| data["incident"]["sla"]["remainingSeconds"].as_i64();
    assert_eq!(
        remaining(&before)
            .zip(remaining(&after))
            .map(|(a, b)| a - b),
        Some(300),
        "{before} {after}"
    );
    assert!(!only_the_mark(&statements), "{statements:?}");

    // A list that does not ask about breaches does not read the clock: it is kept.
    let incidents = "{ incidents(first: 10) { nodes { number } } }";
    assert_eq!(
        a_repeat_is_kept(&app, ENGINEER, incidents).await,
        keeps(&app)
    );

    // A field refused for the role: the answer has an error, and a repeat runs again.
    let partly = "{ changes(first: 5) { nodes { number } } auditEvents(first: 1) { totalCount } }";
    for _ in 0..2 {
        let before = app.statements();
        let response = app.graphql_as(&[Role::Engineer], partly, json!({})).await;
        assert_eq!(response.error_codes(), ["FORBIDDEN"], "{}", response.text());
        assert!(
            app.statements_since(before)
                .iter()
                .any(|sql| sql.contains("change_request")),
            "the repeat read the changes again"
        );
    }

    // A mutation sent twice, byte for byte, runs twice.
    let create = json!({ "input": {
        "type": "NORMAL", "title": "Patch", "description": "d", "justification": "j",
        "affectedItemIds": [item["id"]],
    } });
    let mutation =
        "mutation($input: CreateChangeInput!) { createChange(input: $input) { number } }";
    let one = app.data_by(MANAGER, mutation, create.clone()).await;
    let two = app.data_by(MANAGER, mutation, create).await;
    assert_ne!(one["createChange"]["number"], two["createChange"]["number"]);
}
