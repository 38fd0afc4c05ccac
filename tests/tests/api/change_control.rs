//! Change control without holes: each way the change life cycle could be walked around,
//! closed at the rule that should have caught it, through the API on both stores.

use quorum_tests::change::{
    CAB, CHANGE_FIELDS, ENGINEER, HEAD, IMPLEMENTER, MANAGER, Person, SECOND_MANAGER, WINDOW_END,
    WINDOW_START,
};
use quorum_tests::incident::PROBLEM_FIELDS;
use quorum_tests::{TestApp, TestResponse};
use serde_json::{Value, json};

fn field(response: &TestResponse) -> String {
    response.first_error()["extensions"]["field"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

fn message(response: &TestResponse) -> String {
    response.first_error()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn update_policy(app: &TestApp, input: Value) {
    let response = app
        .graphql_by(
            HEAD,
            "mutation($input: UpdateChangePolicyInput!) { updateChangePolicy(input: $input) { version } }",
            json!({ "input": input }),
        )
        .await;
    assert!(
        response.json().get("errors").is_none(),
        "{}",
        response.text()
    );
}

async fn freeze(app: &TestApp, name: &str, items: &[&Value]) {
    let response = app
        .graphql_by(
            MANAGER,
            "mutation($name: String!, $start: DateTime!, $end: DateTime!, $ci: [ID!]) { createFreezeWindow(name: $name, start: $start, end: $end, ciIds: $ci) { name } }",
            json!({
                "name": name,
                "start": "2026-01-09T00:00:00Z",
                "end": "2026-01-12T00:00:00Z",
                "ci": if items.is_empty() { Value::Null } else { json!(items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>()) },
            }),
        )
        .await;
    assert!(
        response.json().get("errors").is_none(),
        "{}",
        response.text()
    );
}

async fn conflicts(app: &TestApp, change: &Value) -> Vec<Value> {
    app.data_by(
        MANAGER,
        "query($id: ID) { change(id: $id) { conflicts { kind freezeWindow { name } item { name } path { name } } } }",
        json!({ "id": change["id"] }),
    )
    .await["change"]["conflicts"]
        .as_array()
        .expect("conflicts")
        .clone()
}

// 1. A change with no CIs escaped every check.
#[tokio::test]
async fn a_submitted_change_keeps_a_ci_and_a_global_freeze_holds_every_change() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&db]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let events = app.event_count().await;
    let refused = app
        .change_action(
            ENGINEER,
            "removeChangeAffectedItems",
            &change,
            ", $ci: [ID!]!",
            ", ciIds: $ci",
            json!({ "ci": [db["id"]] }),
        )
        .await
        .expect_err("the last CI of a submitted change stays");
    assert_eq!(refused.first_code(), "BAD_USER_INPUT");
    assert_eq!(field(&refused), "ciIds");
    assert_eq!(app.event_count().await, events, "nothing written");

    // A freeze of every CI holds a change whatever its CIs, even one that has none (a draft).
    freeze(&app, "Year-end freeze", &[]).await;
    let bare = app.new_change("NORMAL", &[]).await;
    assert_eq!(
        conflicts(&app, &bare).await,
        [
            json!({ "kind": "FREEZE_WINDOW", "freezeWindow": { "name": "Year-end freeze" }, "item": null, "path": [] })
        ]
    );
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let change = app.act(SECOND_MANAGER, "authorizeChange", &change).await;
    let refused = app.schedule(&change).await.expect_err("frozen");
    assert_eq!(refused.first_code(), "CONFLICT");
    assert_eq!(refused.first_error()["extensions"]["reason"], "COLLISION");
}

// 2. A freeze on a business service did not protect what it depends on.
#[tokio::test]
async fn a_freeze_on_a_service_holds_what_it_depends_on_within_the_conflict_depth() {
    let app = TestApp::new().await;
    let service = app.create_ci("BUSINESS_SERVICE", "Card Payments").await;
    let api = app.create_ci("APPLICATION", "Payments API").await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    app.relate(&service, "DEPENDS_ON", &api).await;
    app.relate(&api, "DEPENDS_ON", &db).await;
    freeze(&app, "Card Payments peak", &[&service]).await;
    let change = app.authorized_change(&[&db]).await;
    let refused = app.schedule(&change).await.expect_err("held by the freeze");
    assert_eq!(refused.first_code(), "CONFLICT");
    // `extensions.conflicts` has the shape of `ChangeConflict`.
    let ci = |item: &Value| json!({ "id": item["id"], "number": item["number"], "name": item["name"], "class": item["class"] });
    let listed = refused.first_error()["extensions"]["conflicts"].clone();
    assert_eq!(listed[0]["kind"], "FREEZE_WINDOW");
    assert_eq!(listed[0]["change"], Value::Null);
    assert_eq!(listed[0]["freezeWindow"]["name"], "Card Payments peak");
    assert_eq!(listed[0]["item"], ci(&service));
    assert_eq!(listed[0]["affectedItem"], ci(&db));
    assert_eq!(listed[0]["path"], json!([ci(&db), ci(&api), ci(&service)]));
    assert_eq!(listed[0]["overlapStart"], "2026-01-10T10:00:00.000Z");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(
        message(&refused).starts_with("1 conflict in this window"),
        "{}",
        message(&refused)
    );
    assert_eq!(
        conflicts(&app, &change).await,
        [
            json!({ "kind": "FREEZE_WINDOW", "freezeWindow": { "name": "Card Payments peak" }, "item": { "name": "Card Payments" }, "path": [{ "name": "payments-db" }, { "name": "Payments API" }, { "name": "Card Payments" }] })
        ]
    );
    // Beyond the policy's conflict depth the freeze does not reach.
    update_policy(&app, json!({ "conflictDepth": 1 })).await;
    assert_eq!(conflicts(&app, &change).await, Vec::<Value>::new());
    let scheduled = app
        .schedule(&change)
        .await
        .expect("out of the freeze's reach");
    assert_eq!(scheduled["state"], "SCHEDULED");
}

// 3. An emergency change was authorized without any risk assessment.
#[tokio::test]
async fn an_emergency_change_is_not_authorized_before_it_is_assessed() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("EMERGENCY", &[&db]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let voted = app
        .vote(HEAD, &change, "APPROVE", Some("go"))
        .await
        .expect("the ECAB may vote before the assessment");
    assert_eq!(voted["state"], "CAB_REVIEW");
    assert_eq!(voted["risk"], Value::Null);
    let assessed = app.assess(&voted, TestApp::high_risk_answers()).await;
    assert_eq!(
        assessed["state"], "AUTHORIZED",
        "the assessment completes the decision"
    );
    assert!(assessed["risk"]["level"].is_string());
    let scheduled = app.schedule(&assessed).await.expect("schedules");
    assert_eq!(scheduled["risk"]["level"], assessed["risk"]["level"]);
    // Its risk recorded, it shows among the upcoming high-risk changes.
    let agenda = app
        .data_by(
            CAB[0],
            "{ cabAgenda(from: \"2026-01-05T00:00:00Z\", to: \"2026-01-20T00:00:00Z\") { section change { number } } }",
            json!({}),
        )
        .await;
    assert!(
        agenda["cabAgenda"]
            .as_array()
            .expect("agenda")
            .iter()
            .any(|item| item["change"]["number"] == scheduled["number"]),
        "{agenda}"
    );

    // A rejection needs no assessment.
    let other = app.new_change("EMERGENCY", &[&db]).await;
    let other = app.act(ENGINEER, "submitChange", &other).await;
    let rejected = app
        .vote(MANAGER, &other, "REJECT", Some("not now"))
        .await
        .expect("votes");
    assert_eq!(rejected["state"], "REJECTED");
}

async fn create_as(app: &TestApp, who: Person, change_type: &str, items: &[&Value]) -> Value {
    app.data_by(
        who,
        &format!("mutation($input: CreateChangeInput!) {{ createChange(input: $input) {{ {CHANGE_FIELDS} }} }}"),
        json!({ "input": {
            "type": change_type,
            "title": "Rotate the certificates",
            "justification": "They expire",
            "implementationPlan": "Replace and reload",
            "backoutPlan": "Restore the old ones",
            "affectedItemIds": items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>(),
            "plannedStart": WINDOW_START,
            "plannedEnd": WINDOW_END,
            "assignee": IMPLEMENTER.subject,
        } }),
    )
    .await["createChange"]
        .clone()
}

async fn offered(
    app: &TestApp,
    who: Person,
    change: &Value,
    action: &str,
) -> (bool, Option<String>) {
    let transitions = app
        .data_by(
            who,
            "query($id: ID) { change(id: $id) { availableTransitions { action allowed reason } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    let found = transitions["change"]["availableTransitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .find(|transition| transition["action"] == action)
        .cloned()
        .expect("the action is listed");
    (
        found["allowed"].as_bool().unwrap_or_default(),
        found["reason"].as_str().map(str::to_owned),
    )
}

// 4. No separation of duties.
#[tokio::test]
async fn the_requester_never_authorizes_votes_on_or_reviews_their_own_change() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let change = create_as(&app, MANAGER, "NORMAL", &[&db]).await;
    let change = app.act(MANAGER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let (allowed, reason) = offered(&app, MANAGER, &change, "AUTHORIZE").await;
    assert!(!allowed);
    let reason = reason.expect("a reason");
    assert!(reason.contains("separation of duties"), "{reason}");
    let events = app.event_count().await;
    let refused = app
        .change_action(MANAGER, "authorizeChange", &change, "", "", json!({}))
        .await
        .expect_err("not their own");
    assert_eq!(refused.first_code(), "FORBIDDEN");
    assert_eq!(message(&refused), reason, "the button and the rule agree");
    assert_eq!(app.event_count().await, events);
    let authorized = app.act(SECOND_MANAGER, "authorizeChange", &change).await;
    assert_eq!(authorized["state"], "AUTHORIZED");

    // The requester records no post-implementation review of their own failed change.
    let scheduled = app.schedule(&authorized).await.expect("schedules");
    let started = app.start_implementation(&scheduled).await;
    let failed = app.complete(&started, "FAILED").await;
    let review = |who: Person| {
        let app = &app;
        let failed = failed.clone();
        async move {
            app.change_action(
                who,
                "recordReview",
                &failed,
                ", $lessons: String!",
                ", lessonsLearned: $lessons",
                json!({ "lessons": "rehearse" }),
            )
            .await
        }
    };
    let refused = review(MANAGER).await.expect_err("not their own review");
    assert_eq!(refused.first_code(), "FORBIDDEN");
    let (allowed, _) = offered(&app, MANAGER, &failed, "RECORD_REVIEW").await;
    assert!(!allowed);
    review(SECOND_MANAGER).await.expect("someone else reviews");

    // A small team may let the requester do it all.
    update_policy(&app, json!({ "requesterMayAuthorize": true })).await;
    let own = create_as(&app, MANAGER, "NORMAL", &[&db]).await;
    let own = app.act(MANAGER, "submitChange", &own).await;
    let own = app.assess(&own, TestApp::low_risk_answers()).await;
    assert_eq!(
        offered(&app, MANAGER, &own, "AUTHORIZE").await,
        (true, None)
    );
    let own = app.act(MANAGER, "authorizeChange", &own).await;
    assert_eq!(own["state"], "AUTHORIZED");
}

#[tokio::test]
async fn the_requesters_own_ecab_vote_counts_only_while_the_policy_allows_it() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    update_policy(
        &app,
        json!({ "requesterMayAuthorize": true, "ecabQuorum": 2 }),
    )
    .await;
    let change = create_as(&app, MANAGER, "EMERGENCY", &[&db]).await;
    let change = app.act(MANAGER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let change = app
        .vote(MANAGER, &change, "APPROVE", None)
        .await
        .expect("allowed by the policy");
    assert_eq!(change["state"], "CAB_REVIEW", "one of two");
    update_policy(&app, json!({ "requesterMayAuthorize": false })).await;
    let change = app
        .vote(HEAD, &change, "APPROVE", None)
        .await
        .expect("votes");
    assert_eq!(
        change["state"], "CAB_REVIEW",
        "the requester's own approval no longer counts towards the quorum"
    );
    let change = app
        .vote(SECOND_MANAGER, &change, "APPROVE", None)
        .await
        .expect("votes");
    assert_eq!(change["state"], "AUTHORIZED");
}

// 5. An incident moved from one problem to another silently.
#[tokio::test]
async fn an_incident_moves_to_another_problem_only_when_asked_and_both_problems_say_so() {
    let app = TestApp::new().await;
    let incident = app.new_incident("HIGH", "HIGH", &[]).await;
    let create = |title: &str, move_incidents: bool| {
        let app = &app;
        let input = json!({ "title": title, "incidentIds": [incident["id"]], "moveIncidents": move_incidents });
        async move {
            app.graphql_by(
                ENGINEER,
                &format!("mutation($input: CreateProblemInput!) {{ createProblem(input: $input) {{ {PROBLEM_FIELDS} }} }}"),
                json!({ "input": input }),
            )
            .await
        }
    };
    let first = create("pool exhaustion", false).await.json()["data"]["createProblem"].clone();
    let events = app.event_count().await;
    let refused = create("timeouts", false).await;
    assert_eq!(refused.first_code(), "CONFLICT");
    assert_eq!(refused.first_error()["extensions"]["reason"], "DUPLICATE");
    assert!(
        message(&refused).contains(first["number"].as_str().unwrap_or("?")),
        "{}",
        message(&refused)
    );
    assert_eq!(app.event_count().await, events, "nothing written");

    let second = create("timeouts", true).await.json()["data"]["createProblem"].clone();
    assert_eq!(
        second["incidents"],
        json!([{ "number": incident["number"] }])
    );
    let history = |problem: &Value| {
        let app = &app;
        let id = problem["id"].clone();
        async move {
            app.data_by(
                MANAGER,
                "query($id: ID!) { problem(id: $id) { incidents { number } history { nodes { action reason } } } }",
                json!({ "id": id }),
            )
            .await["problem"]
                .clone()
        }
    };
    let left = history(&first).await;
    assert_eq!(left["incidents"], json!([]));
    assert_eq!(
        left["history"]["nodes"][0],
        json!({ "action": "incidentsMovedOut", "reason": format!("{} moved to {}", incident["number"].as_str().unwrap_or("?"), second["number"].as_str().unwrap_or("?")) })
    );
    let took = history(&second).await;
    assert!(
        took["history"]["nodes"][0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("moved from")),
        "{took}"
    );

    // Linking later follows the same rule.
    let third = create("elsewhere", false).await;
    assert_eq!(third.first_code(), "CONFLICT");
}

// 6. Data that should be refused was accepted.
#[tokio::test]
async fn duplicate_templates_loose_sla_targets_and_past_or_long_windows_are_refused() {
    let app = TestApp::new().await;
    let template = |name: &str| {
        let app = &app;
        let name = name.to_owned();
        async move {
            app.graphql_by(
                MANAGER,
                "mutation($input: CreateStandardChangeTemplateInput!) { createStandardChangeTemplate(input: $input) { id version name } }",
                json!({ "input": { "name": name, "implementationPlan": "do it", "backoutPlan": "undo it" } }),
            )
            .await
        }
    };
    assert!(
        template("Restart a pod")
            .await
            .json()
            .get("errors")
            .is_none()
    );
    let duplicate = template("restart A POD").await;
    assert_eq!(duplicate.first_code(), "BAD_USER_INPUT");
    assert_eq!(field(&duplicate), "input.name");

    let targets = |targets: Value| {
        let app = &app;
        async move {
            app.graphql_by(
                HEAD,
                "mutation($targets: [SlaTargetInput!]!) { updateSlaTargets(targets: $targets) { priority } }",
                json!({ "targets": targets }),
            )
            .await
        }
    };
    let looser =
        targets(json!([{ "priority": "P1", "responseMinutes": 2000, "resolutionMinutes": 9000 }]))
            .await;
    assert_eq!(looser.first_code(), "BAD_USER_INPUT", "{}", looser.text());
    assert!(message(&looser).contains("tighten"), "{}", message(&looser));
    let inverted =
        targets(json!([{ "priority": "P3", "responseMinutes": 300, "resolutionMinutes": 200 }]))
            .await;
    assert_eq!(inverted.first_code(), "BAD_USER_INPUT");
    let fine =
        targets(json!([{ "priority": "P1", "responseMinutes": 10, "resolutionMinutes": 200 }]))
            .await;
    assert!(fine.json().get("errors").is_none(), "{}", fine.text());

    // Windows: now is 2026-01-05T09:00Z.
    let db = app.create_ci("DATABASE", "payments-db").await;
    let create = |change_type: &str, start: &str, end: &str| {
        let app = &app;
        let input = json!({
            "type": change_type, "title": "x", "affectedItemIds": [db["id"]],
            "plannedStart": start, "plannedEnd": end,
        });
        async move {
            app.graphql_by(
                ENGINEER,
                "mutation($input: CreateChangeInput!) { createChange(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await
        }
    };
    let past = create("NORMAL", "2026-01-04T10:00:00Z", "2026-01-04T11:00:00Z").await;
    assert_eq!(past.first_code(), "BAD_USER_INPUT");
    assert_eq!(field(&past), "input.plannedStart");
    let year = create("NORMAL", "2026-01-10T10:00:00Z", "2027-01-10T10:00:00Z").await;
    assert_eq!(year.first_code(), "BAD_USER_INPUT");
    assert_eq!(field(&year), "input.plannedEnd");
    let after_the_fact = create("EMERGENCY", "2026-01-05T07:00:00Z", "2026-01-05T08:00:00Z").await;
    assert!(
        after_the_fact.json().get("errors").is_none(),
        "{}",
        after_the_fact.text()
    );
}

#[tokio::test]
async fn a_ci_in_use_is_not_retired_and_a_retired_ci_is_named_by_nothing_new() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let host = app.create_ci("SERVER", "db-host-1").await;
    let retire = |ci: &Value| {
        let app = &app;
        let ci = ci.clone();
        async move {
            app.graphql_by(
                MANAGER,
                "mutation($id: ID!, $version: Int!) { retireConfigurationItem(id: $id, version: $version) { status version } }",
                json!({ "id": ci["id"], "version": ci["version"] }),
            )
            .await
        }
    };
    let change = app.new_change("NORMAL", &[&db]).await;
    let incident = app.new_incident("LOW", "LOW", &[&host]).await;
    let events = app.event_count().await;
    for (ci, holder) in [(&db, &change), (&host, &incident)] {
        let refused = retire(ci).await;
        assert_eq!(
            refused.first_code(),
            "INVALID_TRANSITION",
            "{}",
            refused.text()
        );
        assert!(
            message(&refused).contains(holder["number"].as_str().unwrap_or("?")),
            "{}",
            message(&refused)
        );
    }
    assert_eq!(app.event_count().await, events, "nothing written");
    app.change_action(
        ENGINEER,
        "cancelChange",
        &change,
        ", $reason: String!",
        ", reason: $reason",
        json!({ "reason": "not needed" }),
    )
    .await
    .expect("cancels");
    let retired = retire(&db).await;
    assert_eq!(
        retired.json()["data"]["retireConfigurationItem"]["status"],
        "RETIRED"
    );

    let named = app
        .graphql_by(
            ENGINEER,
            "mutation($input: CreateIncidentInput!) { createIncident(input: $input) { id } }",
            json!({ "input": { "title": "x", "impact": "LOW", "urgency": "LOW", "affectedItemIds": [db["id"]] } }),
        )
        .await;
    assert_eq!(named.first_code(), "BAD_USER_INPUT");
    assert_eq!(field(&named), "input.affectedItemIds");
}

// 7. Words that mislead.
#[tokio::test]
async fn filters_are_named_for_what_they_return_and_a_stale_version_says_so() {
    let app = TestApp::new().await;
    for (name, criticality) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
        app.create_ci_with(json!({ "class": "SERVER", "name": name, "environment": "PRODUCTION", "criticality": criticality }))
            .await;
    }
    let names = |filter: Value| {
        let app = &app;
        async move {
            app.data_by(
                ENGINEER,
                "query($filter: CiFilter) { configurationItems(filter: $filter, orderBy: { field: NAME }) { nodes { name } } }",
                json!({ "filter": filter }),
            )
            .await["configurationItems"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|node| node["name"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(json!({ "atLeastAsCriticalAs": 2 })).await, ["a", "b"]);
    assert_eq!(names(json!({ "atMostAsCriticalAs": 3 })).await, ["c", "d"]);

    let ci = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    app.act(ENGINEER, "submitChange", &change).await;
    let stale = app
        .change_action(
            ENGINEER,
            "cancelChange",
            &change,
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "x" }),
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.first_code(), "CONFLICT");
    let extensions = &stale.first_error()["extensions"];
    assert_eq!(extensions["reason"], "STALE_VERSION");
    assert_eq!(extensions["currentVersion"], 2);
}

#[tokio::test]
async fn a_change_manager_sees_what_waits_to_be_assessed_scheduled_and_reviewed() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let host = app.create_ci("SERVER", "db-host-1").await;
    let to_assess = app.new_change("NORMAL", &[&db]).await;
    let to_assess = app.act(ENGINEER, "submitChange", &to_assess).await;
    let to_schedule = app.authorized_change(&[&db]).await;
    let failed = app.scheduled_change(&[&host]).await;
    let failed = app.start_implementation(&failed).await;
    let failed = app.complete(&failed, "FAILED").await;
    let work = app
        .data_by(
            MANAGER,
            "{ viewer { work { changesToAssess { number } changesToSchedule { number } reviewsDue { number } } } }",
            json!({}),
        )
        .await;
    let work = &work["viewer"]["work"];
    assert_eq!(
        work["changesToAssess"],
        json!([{ "number": to_assess["number"] }])
    );
    assert_eq!(
        work["changesToSchedule"],
        json!([{ "number": to_schedule["number"] }])
    );
    assert_eq!(work["reviewsDue"], json!([{ "number": failed["number"] }]));
    let engineer = app
        .data_by(
            ENGINEER,
            "{ viewer { work { changesToAssess { number } reviewsDue { number } } } }",
            json!({}),
        )
        .await;
    assert_eq!(engineer["viewer"]["work"]["changesToAssess"], json!([]));
}
