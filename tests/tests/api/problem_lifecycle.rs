//! Problems through the API: the life cycle to a known error, resolution by a successful fix
//! change (or a reason), closure, links in both directions, the known error database, refused
//! roles and illegal moves.

use quorum_tests::change::{CAB, ENGINEER, HEAD, MANAGER};
use quorum_tests::incident::PROBLEM_FIELDS;
use quorum_tests::{TestApp, TestResponse};
use serde_json::{Value, json};

async fn create_problem(
    app: &TestApp,
    incidents: &[&Value],
    items: &[&Value],
) -> Result<Value, TestResponse> {
    let response = app
        .graphql_by(
            ENGINEER,
            &format!("mutation($input: CreateProblemInput!) {{ createProblem(input: $input) {{ {PROBLEM_FIELDS} }} }}"),
            json!({ "input": {
                "title": "Pool exhaustion at peak",
                "incidentIds": incidents.iter().map(|incident| incident["id"].clone()).collect::<Vec<_>>(),
                "affectedItemIds": items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>(),
            } }),
        )
        .await;
    if response.json().get("errors").is_some() {
        return Err(response);
    }
    Ok(response.json()["data"]["createProblem"].clone())
}

async fn text(
    app: &TestApp,
    problem: &Value,
    name: &str,
    argument: &str,
    value: &str,
) -> Result<Value, TestResponse> {
    app.problem_action(
        ENGINEER,
        name,
        problem,
        ", $text: String!",
        &format!(", {argument}: $text"),
        json!({ "text": value }),
    )
    .await
}

async fn with_reason(
    app: &TestApp,
    problem: &Value,
    name: &str,
    reason: Option<&str>,
) -> Result<Value, TestResponse> {
    app.problem_action(
        MANAGER,
        name,
        problem,
        ", $reason: String",
        ", reason: $reason",
        json!({ "reason": reason }),
    )
    .await
}

#[tokio::test]
async fn a_problem_becomes_a_known_error_and_is_resolved_only_by_a_successful_fix_or_a_reason() {
    let app = TestApp::new().await;
    let api = app.create_ci("APPLICATION", "Payments API").await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let first = app.new_incident("HIGH", "HIGH", &[&api]).await;
    let second = app.new_incident("HIGH", "MEDIUM", &[&db]).await;
    let problem = create_problem(&app, &[&first], &[&api])
        .await
        .expect("created");
    assert_eq!(problem["number"], "PRB0000001");
    assert_eq!(problem["state"], "NEW");
    let problem = app
        .problem_action(
            ENGINEER,
            "linkIncidentsToProblem",
            &problem,
            ", $ids: [ID!]!",
            ", incidentIds: $ids",
            json!({ "ids": [second["id"]] }),
        )
        .await
        .expect("linked");
    assert_eq!(
        problem["incidents"],
        json!([{ "number": "INC0000001" }, { "number": "INC0000002" }])
    );
    assert_eq!(
        problem["affectedItems"],
        json!([{ "number": api["number"] }, { "number": db["number"] }]),
        "its own CIs and its incidents'"
    );
    let problem = text(
        &app,
        &problem,
        "recordRootCause",
        "rootCause",
        "pool sized from staging",
    )
    .await
    .expect("cause");
    assert_eq!(problem["state"], "UNDER_INVESTIGATION");
    let problem = text(
        &app,
        &problem,
        "recordWorkaround",
        "workaround",
        "raise pool.max and restart",
    )
    .await
    .expect("workaround");
    assert_eq!(problem["state"], "KNOWN_ERROR");
    assert_eq!(problem["knownErrorAt"], "2026-01-05T09:00:00.000Z");

    // No fix change yet: refused, and nothing written.
    let events = app.event_count().await;
    let refused = with_reason(&app, &problem, "resolveProblem", None)
        .await
        .expect_err("no fix");
    assert_eq!(refused.error_codes(), ["INVALID_TRANSITION"]);
    assert_eq!(app.event_count().await, events);

    // A fix change that is only scheduled does not count either.
    let fix = app.scheduled_change(&[&api]).await;
    let problem = app
        .problem_action(
            ENGINEER,
            "linkFixChange",
            &problem,
            ", $change: ID!",
            ", changeId: $change",
            json!({ "change": fix["id"] }),
        )
        .await
        .expect("fix linked");
    assert_eq!(problem["fixChanges"], json!([{ "number": fix["number"] }]));
    let refused = with_reason(&app, &problem, "resolveProblem", None)
        .await
        .expect_err("fix not closed");
    assert_eq!(refused.error_codes(), ["INVALID_TRANSITION"]);

    // Once the fix closes SUCCESSFUL, the problem resolves without a reason.
    app.clock
        .set("2026-01-10T10:30:00Z".parse().expect("instant"));
    let fix = app.start_implementation(&fix).await;
    let fix = app.complete(&fix, "SUCCESSFUL").await;
    app.act(MANAGER, "closeChange", &fix).await;
    let problem = with_reason(&app, &problem, "resolveProblem", None)
        .await
        .expect("resolved");
    assert_eq!(problem["state"], "RESOLVED");
    assert_eq!(problem["resolutionReason"], Value::Null);
    let resolves = app
        .data_by(
            ENGINEER,
            "query($id: ID!) { change(id: $id) { resolvesProblems { number } } }",
            json!({ "id": fix["id"] }),
        )
        .await;
    assert_eq!(
        resolves["change"]["resolvesProblems"],
        json!([{ "number": "PRB0000001" }])
    );
    let problem = with_reason(&app, &problem, "closeProblem", None)
        .await
        .expect("closed");
    assert_eq!(problem["state"], "CLOSED");
    let incident = app
        .data_by(
            ENGINEER,
            "query($id: ID!) { incident(id: $id) { problem { number state } } }",
            json!({ "id": first["id"] }),
        )
        .await;
    assert_eq!(
        incident["incident"]["problem"],
        json!({ "number": "PRB0000001", "state": "CLOSED" })
    );
}

#[tokio::test]
async fn a_reason_resolves_without_a_fix_and_an_unreproducible_problem_closes_with_one() {
    let app = TestApp::new().await;
    let problem = create_problem(&app, &[], &[]).await.expect("created");
    let problem = text(
        &app,
        &problem,
        "recordRootCause",
        "rootCause",
        "a cosmic ray",
    )
    .await
    .expect("cause");
    let problem = app
        .problem_action(ENGINEER, "markKnownError", &problem, "", "", json!({}))
        .await
        .expect("known");
    assert_eq!(problem["state"], "KNOWN_ERROR");
    let problem = with_reason(
        &app,
        &problem,
        "resolveProblem",
        Some("vendor fixed it upstream"),
    )
    .await
    .expect("resolved");
    assert_eq!(problem["resolutionReason"], "vendor fixed it upstream");

    let other = create_problem(&app, &[], &[]).await.expect("created");
    let events = app.event_count().await;
    let refused = with_reason(&app, &other, "closeProblem", None)
        .await
        .expect_err("needs a reason");
    assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(refused.json()["errors"][0]["extensions"]["field"], "reason");
    assert_eq!(app.event_count().await, events);
    let refused = app
        .problem_action(ENGINEER, "markKnownError", &other, "", "", json!({}))
        .await
        .expect_err("nothing known");
    assert_eq!(refused.error_codes(), ["INVALID_TRANSITION"]);
    let closed = with_reason(&app, &other, "closeProblem", Some("not reproducible"))
        .await
        .expect("closed");
    assert_eq!(closed["closeReason"], "not reproducible");
    for name in ["recordRootCause", "recordWorkaround"] {
        let refused = text(
            &app,
            &closed,
            name,
            if name == "recordRootCause" {
                "rootCause"
            } else {
                "workaround"
            },
            "late",
        )
        .await
        .expect_err(name);
        assert_eq!(refused.error_codes(), ["INVALID_TRANSITION"], "{name}");
    }
    let refused = with_reason(&app, &closed, "resolveProblem", Some("x"))
        .await
        .expect_err("closed");
    assert_eq!(refused.error_codes(), ["INVALID_TRANSITION"]);
}

#[tokio::test]
async fn known_errors_are_searchable_by_text_and_by_ci_including_their_incidents_cis() {
    let app = TestApp::new().await;
    let api = app.create_ci("APPLICATION", "Payments API").await;
    let vm = app.create_ci("VIRTUAL_MACHINE", "vm-api-01").await;
    let incident = app.new_incident("HIGH", "LOW", &[&vm]).await;
    let known = create_problem(&app, &[&incident], &[&api])
        .await
        .expect("created");
    let known = text(
        &app,
        &known,
        "recordRootCause",
        "rootCause",
        "pool too small",
    )
    .await
    .expect("cause");
    let known = text(
        &app,
        &known,
        "recordWorkaround",
        "workaround",
        "Restart the API",
    )
    .await
    .expect("workaround");
    // A known error without a workaround is not in the database the service desk searches.
    let bare = create_problem(&app, &[], &[&api]).await.expect("created");
    let bare = text(
        &app,
        &bare,
        "recordRootCause",
        "rootCause",
        "restart storms",
    )
    .await
    .expect("cause");
    app.problem_action(ENGINEER, "markKnownError", &bare, "", "", json!({}))
        .await
        .expect("known");
    let search = "query($filter: KnownErrorFilter) { knownErrors(filter: $filter) { totalCount nodes { number workaround } } }";
    for (filter, expected) in [
        (json!({}), vec![known["number"].clone()]),
        (json!({ "text": "RESTART" }), vec![known["number"].clone()]),
        (json!({ "text": "nothing like it" }), vec![]),
        (
            json!({ "affectedItemId": api["id"] }),
            vec![known["number"].clone()],
        ),
        (
            json!({ "affectedItemId": vm["id"] }),
            vec![known["number"].clone()],
        ),
    ] {
        let found = app
            .data_by(CAB[0], search, json!({ "filter": filter }))
            .await;
        let numbers: Vec<Value> = found["knownErrors"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| node["number"].clone())
            .collect();
        assert_eq!(numbers, expected, "{filter}");
    }
    // Unlinking the incident takes its CI out of the problem.
    let known = app
        .problem_action(
            ENGINEER,
            "unlinkIncidentFromProblem",
            &known,
            ", $incident: ID!",
            ", incidentId: $incident",
            json!({ "incident": incident["id"] }),
        )
        .await
        .expect("unlinked");
    assert_eq!(known["incidents"], json!([]));
    assert_eq!(known["affectedItems"], json!([{ "number": api["number"] }]));
}

#[tokio::test]
async fn roles_that_may_not_work_problems_are_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    let problem = create_problem(&app, &[], &[]).await.expect("created");
    for who in [CAB[0], HEAD] {
        let events = app.event_count().await;
        let refused = app
            .graphql_by(
                who,
                "mutation { createProblem(input: { title: \"x\" }) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(refused.error_codes(), ["FORBIDDEN"], "{}", who.subject);
        for (name, params, args, variables) in [
            (
                "recordRootCause",
                ", $text: String!",
                ", rootCause: $text",
                json!({ "text": "x" }),
            ),
            (
                "recordWorkaround",
                ", $text: String!",
                ", workaround: $text",
                json!({ "text": "x" }),
            ),
            ("markKnownError", "", "", json!({})),
            (
                "linkIncidentsToProblem",
                ", $ids: [ID!]!",
                ", incidentIds: $ids",
                json!({ "ids": ["x"] }),
            ),
            (
                "unlinkIncidentFromProblem",
                ", $incident: ID!",
                ", incidentId: $incident",
                json!({ "incident": "x" }),
            ),
            (
                "linkFixChange",
                ", $change: ID!",
                ", changeId: $change",
                json!({ "change": "x" }),
            ),
            (
                "resolveProblem",
                ", $reason: String",
                ", reason: $reason",
                json!({ "reason": "x" }),
            ),
            (
                "closeProblem",
                ", $reason: String",
                ", reason: $reason",
                json!({ "reason": "x" }),
            ),
        ] {
            let refused = app
                .problem_action(who, name, &problem, params, args, variables)
                .await
                .expect_err(name);
            assert_eq!(
                refused.error_codes(),
                ["FORBIDDEN"],
                "{name} as {}",
                who.subject
            );
        }
        assert_eq!(app.event_count().await, events);
    }
    let stale = with_reason(
        &app,
        &json!({ "id": problem["id"], "version": 7 }),
        "closeProblem",
        Some("x"),
    )
    .await
    .expect_err("stale");
    assert_eq!(stale.error_codes(), ["CONFLICT"]);
}
