//! Incidents through the API: the priority matrix, SLA clocks with a moved clock, every illegal
//! move, every refused role, links to changes, CIs and problems, stale versions.

use quorum_core::Role;
use quorum_tests::change::{CAB, ENGINEER, HEAD, MANAGER, Person};
use quorum_tests::incident::INCIDENT_FIELDS;
use quorum_tests::{TestApp, TestResponse, at};
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateIncidentInput!) { createIncident(input: $input) { id number priority version } }";

async fn create_as(app: &TestApp, who: Person, input: Value) -> TestResponse {
    app.graphql_by(who, CREATE, json!({ "input": input })).await
}

async fn read(app: &TestApp, incident: &Value) -> Value {
    app.data_by(
        ENGINEER,
        &format!("query($id: ID!) {{ incident(id: $id) {{ {INCIDENT_FIELDS} }} }}"),
        json!({ "id": incident["id"] }),
    )
    .await["incident"]
        .clone()
}

/// Calls `name` with the arguments its mutation needs (and nothing else) as `who`.
async fn call(
    app: &TestApp,
    who: Person,
    name: &str,
    incident: &Value,
) -> Result<Value, TestResponse> {
    let (params, args, variables) = match name {
        "updateIncident" => (
            ", $input: UpdateIncidentInput!",
            ", input: $input",
            json!({ "input": { "title": "Renamed" } }),
        ),
        "assignIncident" => (
            ", $who: String!",
            ", assignee: $who",
            json!({ "who": "ivan" }),
        ),
        "putIncidentOnHold" | "reopenIncident" | "lowerMajorIncident" => (
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "because" }),
        ),
        "resolveIncident" => (
            ", $code: ResolutionCode!, $notes: String!",
            ", code: $code, notes: $notes",
            json!({ "code": "FIXED", "notes": "restarted" }),
        ),
        "setIncidentCause" => (
            ", $change: ID",
            ", changeId: $change",
            json!({ "change": null }),
        ),
        _ => ("", "", json!({})),
    };
    app.incident_action(who, name, incident, params, args, variables)
        .await
}

#[tokio::test]
async fn priority_comes_from_the_matrix_in_all_nine_cells_and_is_never_taken_from_the_client() {
    let app = TestApp::new().await;
    let cells = [
        ("HIGH", "HIGH", "P1", 15, 240),
        ("HIGH", "MEDIUM", "P2", 30, 480),
        ("MEDIUM", "HIGH", "P2", 30, 480),
        ("HIGH", "LOW", "P3", 240, 1440),
        ("MEDIUM", "MEDIUM", "P3", 240, 1440),
        ("LOW", "HIGH", "P3", 240, 1440),
        ("MEDIUM", "LOW", "P4", 480, 4320),
        ("LOW", "MEDIUM", "P4", 480, 4320),
        ("LOW", "LOW", "P5", 1440, 7200),
    ];
    for (impact, urgency, priority, response, resolution) in cells {
        let incident = app.new_incident(impact, urgency, &[]).await;
        assert_eq!(incident["priority"], priority, "{impact}/{urgency}");
        assert_eq!(incident["sla"]["responseTargetMinutes"], response);
        assert_eq!(incident["sla"]["resolutionTargetMinutes"], resolution);
    }
    let refused = create_as(
        &app,
        ENGINEER,
        json!({ "title": "x", "impact": "LOW", "urgency": "LOW", "priority": "P1" }),
    )
    .await;
    // An input with a field the type does not have, sent as a variable: a request error.
    assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(refused.json()["errors"][0]["extensions"]["field"], "input");
}

#[tokio::test]
async fn changing_impact_recomputes_priority_and_due_times_keeping_elapsed_and_paused_time() {
    let app = TestApp::new().await;
    let incident = app.new_incident("LOW", "MEDIUM", &[]).await;
    assert_eq!(incident["priority"], "P4");
    let incident = call(&app, ENGINEER, "assignIncident", &incident)
        .await
        .expect("assigned");
    app.clock.advance(chrono::Duration::minutes(30));
    let incident = call(&app, ENGINEER, "putIncidentOnHold", &incident)
        .await
        .expect("held");
    app.clock.advance(chrono::Duration::minutes(60));
    let incident = call(&app, ENGINEER, "resumeIncident", &incident)
        .await
        .expect("resumed");
    let incident = app
        .incident_action(
            ENGINEER,
            "updateIncident",
            &incident,
            ", $input: UpdateIncidentInput!",
            ", input: $input",
            json!({ "input": { "impact": "HIGH" } }),
        )
        .await
        .expect("updated");
    // HIGH/MEDIUM is P2: 30 min / 8 h from the opening, plus the hour on hold.
    assert_eq!(incident["priority"], "P2");
    assert_eq!(incident["sla"]["responseDue"], "2026-01-05T09:30:00.000Z");
    assert_eq!(incident["sla"]["resolutionDue"], "2026-01-05T18:00:00.000Z");
    assert_eq!(incident["sla"]["pausedSeconds"], 3600);
    // 1h30 elapsed, 1h of it paused: 7h30 of the 8h left.
    assert_eq!(incident["sla"]["remainingSeconds"], 7 * 3600 + 1800);
    let history = app
        .data_by(
            MANAGER,
            "query($id: ID!) { incident(id: $id) { history { nodes { action reason actor } } } }",
            json!({ "id": incident["id"] }),
        )
        .await;
    assert_eq!(
        history["incident"]["history"]["nodes"][0],
        json!({ "action": "updated", "reason": "priority P4 → P2", "actor": "eve" })
    );
}

#[tokio::test]
async fn the_resolution_clock_stops_on_hold_and_breach_is_judged_against_the_moved_clock() {
    let app = TestApp::new().await;
    // P1: respond within 15 min, resolve within 4 h.
    let incident = app.new_incident("HIGH", "HIGH", &[]).await;
    app.clock.advance(chrono::Duration::minutes(20));
    let late = read(&app, &incident).await;
    assert_eq!(
        late["sla"]["responseBreached"], true,
        "no response after 20 min"
    );
    assert_eq!(late["sla"]["resolutionBreached"], false);
    let incident = call(&app, ENGINEER, "acknowledgeIncident", &incident)
        .await
        .expect("ack");
    assert_eq!(incident["respondedAt"], "2026-01-05T09:20:00.000Z");
    assert_eq!(incident["assignee"], "eve");
    app.clock.advance(chrono::Duration::hours(1));
    let incident = call(&app, ENGINEER, "putIncidentOnHold", &incident)
        .await
        .expect("held");
    // Ten hours on hold: the clock stands still at 2h40 left (1h20 elapsed of 4h).
    app.clock.advance(chrono::Duration::hours(10));
    let held = read(&app, &incident).await;
    assert_eq!(held["state"], "ON_HOLD");
    assert_eq!(held["sla"]["resolutionBreached"], false);
    assert_eq!(held["sla"]["remainingSeconds"], 2 * 3600 + 2400);
    assert_eq!(held["sla"]["pausedSeconds"], 36_000);
    assert_eq!(held["sla"]["resolutionDue"], "2026-01-05T23:00:00.000Z");
    let breached_list = "{ incidents(filter: { breached: true }) { nodes { number } } }";
    let listed = app.data_by(ENGINEER, breached_list, json!({})).await;
    assert_eq!(
        listed["incidents"]["nodes"],
        json!([{ "number": "INC0000001" }]),
        "response was late"
    );
    let incident = call(&app, ENGINEER, "resumeIncident", &incident)
        .await
        .expect("resumed");
    assert_eq!(incident["sla"]["resolutionDue"], "2026-01-05T23:00:00.000Z");
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        read(&app, &incident).await["sla"]["resolutionBreached"],
        false
    );
    app.clock.advance(chrono::Duration::minutes(41));
    let late = read(&app, &incident).await;
    assert_eq!(late["sla"]["resolutionBreached"], true);
    assert_eq!(late["sla"]["remainingSeconds"], -60);
    let incident = call(&app, ENGINEER, "resolveIncident", &incident)
        .await
        .expect("resolved");
    app.clock.advance(chrono::Duration::days(3));
    let resolved = read(&app, &incident).await;
    assert_eq!(
        resolved["sla"]["remainingSeconds"], -60,
        "frozen at resolution"
    );
    // Reopened three days later: the time it sat resolved does not count.
    let incident = call(&app, ENGINEER, "reopenIncident", &incident)
        .await
        .expect("reopened");
    assert_eq!(incident["reopenCount"], 1);
    assert_eq!(incident["state"], "IN_PROGRESS");
    assert_eq!(incident["sla"]["remainingSeconds"], -60);
    assert_eq!(incident["sla"]["pausedSeconds"], 36_000 + 3 * 86_400);
}

#[tokio::test]
async fn the_breached_filter_and_priority_order_agree_with_each_incident_sla() {
    let app = TestApp::new().await;
    let p1 = app.new_incident("HIGH", "HIGH", &[]).await;
    let p3 = app.new_incident("MEDIUM", "MEDIUM", &[]).await;
    let p5 = app.new_incident("LOW", "LOW", &[]).await;
    call(&app, ENGINEER, "assignIncident", &p1)
        .await
        .expect("p1 responded");
    let p3 = call(&app, ENGINEER, "assignIncident", &p3)
        .await
        .expect("p3 responded");
    call(&app, ENGINEER, "putIncidentOnHold", &p3)
        .await
        .expect("p3 held");
    // Five hours on: P1 (4 h) is late; P3 (24 h, on hold) is not; P5 responded late? (24 h) no.
    app.clock.advance(chrono::Duration::hours(5));
    let breached = app
        .data_by(
            ENGINEER,
            "{ late: incidents(filter: { breached: true }) { nodes { number } } fine: incidents(filter: { breached: false }, orderBy: { field: PRIORITY, direction: ASC }) { nodes { number priority } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        breached["late"]["nodes"],
        json!([{ "number": p1["number"] }])
    );
    assert_eq!(
        breached["fine"]["nodes"],
        json!([{ "number": p3["number"], "priority": "P3" }, { "number": p5["number"], "priority": "P5" }])
    );
}

#[tokio::test]
async fn every_move_a_state_does_not_allow_is_an_invalid_transition_that_writes_nothing() {
    let app = TestApp::new().await;
    let new = app.new_incident("LOW", "LOW", &[]).await;
    let in_progress = call(
        &app,
        ENGINEER,
        "assignIncident",
        &app.new_incident("LOW", "LOW", &[]).await,
    )
    .await
    .expect("assigned");
    let on_hold = call(
        &app,
        ENGINEER,
        "putIncidentOnHold",
        &call(
            &app,
            ENGINEER,
            "assignIncident",
            &app.new_incident("LOW", "LOW", &[]).await,
        )
        .await
        .expect("assigned"),
    )
    .await
    .expect("held");
    let resolved = call(
        &app,
        ENGINEER,
        "resolveIncident",
        &app.new_incident("LOW", "LOW", &[]).await,
    )
    .await
    .expect("resolved");
    let closed = call(
        &app,
        ENGINEER,
        "closeIncident",
        &call(
            &app,
            ENGINEER,
            "resolveIncident",
            &app.new_incident("LOW", "LOW", &[]).await,
        )
        .await
        .expect("resolved"),
    )
    .await
    .expect("closed");
    let table: [(&Value, &[&str]); 5] = [
        (
            &new,
            &[
                "putIncidentOnHold",
                "resumeIncident",
                "closeIncident",
                "reopenIncident",
                "lowerMajorIncident",
            ],
        ),
        (
            &in_progress,
            &[
                "acknowledgeIncident",
                "resumeIncident",
                "closeIncident",
                "reopenIncident",
                "lowerMajorIncident",
            ],
        ),
        (
            &on_hold,
            &[
                "acknowledgeIncident",
                "putIncidentOnHold",
                "closeIncident",
                "reopenIncident",
                "lowerMajorIncident",
            ],
        ),
        (
            &resolved,
            &[
                "updateIncident",
                "assignIncident",
                "acknowledgeIncident",
                "putIncidentOnHold",
                "resumeIncident",
                "resolveIncident",
                "raiseMajorIncident",
            ],
        ),
        (
            &closed,
            &[
                "updateIncident",
                "assignIncident",
                "acknowledgeIncident",
                "putIncidentOnHold",
                "resumeIncident",
                "resolveIncident",
                "closeIncident",
                "reopenIncident",
                "setIncidentCause",
                "raiseMajorIncident",
            ],
        ),
    ];
    let head = Person {
        subject: "hana",
        roles: &[Role::ServiceHead, Role::ChangeManager],
    };
    for (incident, illegal) in table {
        for name in illegal {
            let events = app.event_count().await;
            let refused = call(&app, head, name, incident).await.expect_err(name);
            assert_eq!(
                refused.error_codes(),
                ["INVALID_TRANSITION"],
                "{name} on {}: {}",
                incident["state"],
                refused.text()
            );
            assert_eq!(app.event_count().await, events, "{name} wrote something");
            assert_eq!(read(&app, incident).await["version"], incident["version"]);
        }
    }
}

#[tokio::test]
async fn every_role_that_may_not_act_is_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    let cab = CAB[0];
    // CAB members may neither log nor work incidents.
    let refused = create_as(
        &app,
        cab,
        json!({ "title": "x", "impact": "LOW", "urgency": "LOW" }),
    )
    .await;
    assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
    let open = app.new_incident("HIGH", "LOW", &[]).await;
    let open = call(&app, ENGINEER, "assignIncident", &open)
        .await
        .expect("assigned");
    for name in [
        "updateIncident",
        "assignIncident",
        "putIncidentOnHold",
        "resolveIncident",
        "setIncidentCause",
        "raiseMajorIncident",
    ] {
        let events = app.event_count().await;
        let refused = call(&app, cab, name, &open).await.expect_err(name);
        assert_eq!(refused.error_codes(), ["FORBIDDEN"], "{name}");
        assert_eq!(app.event_count().await, events);
    }
    // Only a service head lowers a major incident; a service head may not name its cause.
    let major = call(&app, ENGINEER, "raiseMajorIncident", &open)
        .await
        .expect("raised");
    assert_eq!(major["majorIncident"], true);
    for who in [ENGINEER, MANAGER, cab] {
        let refused = call(&app, who, "lowerMajorIncident", &major)
            .await
            .expect_err("lowered");
        assert_eq!(refused.error_codes(), ["FORBIDDEN"], "{}", who.subject);
    }
    let refused = call(&app, HEAD, "setIncidentCause", &major)
        .await
        .expect_err("cause");
    assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
    let lowered = call(&app, HEAD, "lowerMajorIncident", &major)
        .await
        .expect("lowered");
    assert_eq!(lowered["majorIncident"], false);
    // SLA targets: the service head only, and bad ones change nothing.
    let update = "mutation($targets: [SlaTargetInput!]!) { updateSlaTargets(targets: $targets) { priority responseMinutes resolutionMinutes } }";
    for who in [ENGINEER, MANAGER, cab] {
        let refused = app
            .graphql_by(who, update, json!({ "targets": [{ "priority": "P1", "responseMinutes": 10, "resolutionMinutes": 120 }] }))
            .await;
        assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
    }
    let bad = app
        .graphql_by(HEAD, update, json!({ "targets": [{ "priority": "P1", "responseMinutes": 60, "resolutionMinutes": 30 }] }))
        .await;
    assert_eq!(bad.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(
        bad.json()["errors"][0]["extensions"]["field"],
        "targets.0.resolutionMinutes"
    );
    let set = app
        .data_by(HEAD, update, json!({ "targets": [{ "priority": "P1", "responseMinutes": 10, "resolutionMinutes": 120 }] }))
        .await;
    assert_eq!(
        set["updateSlaTargets"][0],
        json!({ "priority": "P1", "responseMinutes": 10, "resolutionMinutes": 120 })
    );
    let next = app.new_incident("HIGH", "HIGH", &[]).await;
    assert_eq!(next["sla"]["resolutionDue"], "2026-01-05T11:00:00.000Z");
}

#[tokio::test]
async fn bad_input_is_refused_on_its_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let events = app.event_count().await;
    for (input, field) in [
        (
            json!({ "title": "  ", "impact": "LOW", "urgency": "LOW" }),
            "input.title",
        ),
        (
            json!({ "title": "x", "impact": "LOW", "urgency": "LOW", "affectedItemIds": ["nope"] }),
            "input.affectedItemIds",
        ),
    ] {
        let refused = create_as(&app, ENGINEER, input).await;
        assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);
        assert_eq!(refused.json()["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn the_cause_links_both_ways_and_needs_a_change_that_started() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let incident = app.new_incident("HIGH", "MEDIUM", &[&db]).await;
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
    assert_eq!(
        refused.json()["errors"][0]["extensions"]["field"],
        "changeId"
    );
    app.clock.set(at("2026-01-10T10:30:00Z"));
    let change = app.start_implementation(&change).await;
    let incident = app
        .incident_action(
            MANAGER,
            "setIncidentCause",
            &incident,
            ", $change: ID",
            ", changeId: $change",
            json!({ "change": change["id"] }),
        )
        .await
        .expect("linked");
    assert_eq!(incident["causedByChange"]["number"], change["number"]);
    let sides = app
        .data_by(
            ENGINEER,
            "query($change: ID!, $ci: ID!) { change(id: $change) { causedIncidents { number } } configurationItem(id: $ci) { incidents { totalCount nodes { number } } } incidents(filter: { causedByChangeId: $change, affectedItemId: $ci }) { totalCount } }",
            json!({ "change": change["id"], "ci": db["id"] }),
        )
        .await;
    assert_eq!(
        sides["change"]["causedIncidents"],
        json!([{ "number": "INC0000001" }])
    );
    assert_eq!(
        sides["configurationItem"]["incidents"]["nodes"],
        json!([{ "number": "INC0000001" }])
    );
    assert_eq!(sides["incidents"]["totalCount"], 1);
    let cleared = call(&app, ENGINEER, "setIncidentCause", &incident)
        .await
        .expect("cleared");
    assert_eq!(cleared["causedByChange"], Value::Null);
}

#[tokio::test]
async fn of_two_updates_with_the_same_version_exactly_one_wins() {
    let app = TestApp::new().await;
    let incident = app.new_incident("LOW", "LOW", &[]).await;
    let update = |title: &'static str| {
        let app = &app;
        let incident = &incident;
        async move {
            app.incident_action(
                ENGINEER,
                "updateIncident",
                incident,
                ", $input: UpdateIncidentInput!",
                ", input: $input",
                json!({ "input": { "title": title } }),
            )
            .await
        }
    };
    let (first, second) = tokio::join!(update("first"), update("second"));
    let outcomes = [first, second];
    let won: Vec<&Value> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok())
        .collect();
    assert_eq!(won.len(), 1, "exactly one update wins");
    let lost: Vec<&TestResponse> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().err())
        .collect();
    assert_eq!(lost[0].error_codes(), ["CONFLICT"]);
    let now = read(&app, &incident).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["title"], won[0]["title"]);
    let stale = call(&app, ENGINEER, "assignIncident", &incident)
        .await
        .expect_err("stale");
    assert_eq!(stale.error_codes(), ["CONFLICT"]);
}
