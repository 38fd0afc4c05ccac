//! `viewer.work`: what waits on each person, through the API.

use quorum_core::Role;
use quorum_tests::TestApp;
use quorum_tests::change::{
    CAB, ENGINEER, HEAD, IMPLEMENTER, MANAGER, OTHER_ENGINEER, Person, SECOND_MANAGER,
};
use serde_json::{Value, json};

const WORK: &str = "{ viewer { subject work {
  awaitingMyVote { number type state }
  changesToImplement { number state }
  myIncidents { number state priority sla { resolutionDue resolutionBreached } }
  myRequestsNeedingAction { number state }
} } }";

/// Sits on both boards: CAB member and change manager.
const BOTH_BOARDS: Person = Person {
    subject: "bo",
    roles: &[Role::CabMember, Role::ChangeManager],
};

/// An EMERGENCY change on `items` requested by `who`, submitted (so before the ECAB).
async fn emergency_by(app: &TestApp, who: Person, items: &[&Value]) -> Value {
    let created = app
        .data_by(
            who,
            "mutation($input: CreateChangeInput!) { createChange(input: $input) { id number version } }",
            json!({ "input": {
                "type": "EMERGENCY", "title": "Patch the exploited gateway", "justification": "active exploit",
                "implementationPlan": "patch", "backoutPlan": "roll back",
                "affectedItemIds": items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>(),
                "assignee": IMPLEMENTER.subject,
            } }),
        )
        .await["createChange"]
        .clone();
    app.act(who, "submitChange", &created).await
}

async fn work(app: &TestApp, who: Person) -> Value {
    let data = app.data_by(who, WORK, json!({})).await;
    assert_eq!(data["viewer"]["subject"], who.subject);
    data["viewer"]["work"].clone()
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|item| item["number"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn number(record: &Value) -> String {
    record["number"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn each_board_member_waits_on_the_votes_of_their_board_but_never_on_their_own_change() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let gateway = app.create_ci("APPLICATION", "payment-gateway").await;
    let normal = app.referred_change(&[&db]).await;
    app.clock.advance(chrono::Duration::minutes(5));
    let emergency = emergency_by(&app, ENGINEER, &[&gateway]).await;
    app.clock.advance(chrono::Duration::minutes(5));
    let own = emergency_by(&app, MANAGER, &[&db]).await;
    assert_eq!(emergency["state"], "CAB_REVIEW");

    let queue = |work: &Value| numbers(&work["awaitingMyVote"]);
    assert_eq!(queue(&work(&app, CAB[0]).await), [number(&normal)]);
    // The ECAB: EMERGENCY changes only, and the manager not on the one they requested.
    assert_eq!(queue(&work(&app, MANAGER).await), [number(&emergency)]);
    assert_eq!(
        queue(&work(&app, SECOND_MANAGER).await),
        [number(&emergency), number(&own)]
    );
    assert_eq!(
        queue(&work(&app, HEAD).await),
        [number(&emergency), number(&own)]
    );
    // On both boards: both kinds, oldest referral first.
    assert_eq!(
        queue(&work(&app, BOTH_BOARDS).await),
        [number(&normal), number(&emergency), number(&own)]
    );
    // Engineers sit on no board; the requester does not vote on their own.
    assert_eq!(queue(&work(&app, ENGINEER).await), Vec::<String>::new());
    assert_eq!(queue(&work(&app, IMPLEMENTER).await), Vec::<String>::new());

    // A standing vote (even an abstention) takes the change off the voter's queue only.
    app.vote(SECOND_MANAGER, &emergency, "ABSTAIN", None)
        .await
        .expect("vote");
    assert_eq!(queue(&work(&app, SECOND_MANAGER).await), [number(&own)]);
    assert_eq!(
        queue(&work(&app, HEAD).await),
        [number(&emergency), number(&own)]
    );
    // Once the board decides (the change assessed), the change leaves every queue.
    let emergency = app.assess(&emergency, TestApp::low_risk_answers()).await;
    let decided = app
        .vote(HEAD, &emergency, "APPROVE", None)
        .await
        .expect("vote");
    assert_eq!(decided["state"], "AUTHORIZED");
    assert_eq!(queue(&work(&app, HEAD).await), [number(&own)]);
    assert_eq!(queue(&work(&app, MANAGER).await), Vec::<String>::new());
    assert_eq!(
        queue(&work(&app, BOTH_BOARDS).await),
        [number(&normal), number(&own)]
    );
}

#[tokio::test]
async fn the_assignee_sees_the_changes_to_implement_with_a_window_first() {
    let app = TestApp::new().await;
    let mut items = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        items.push(app.create_ci("SERVER", &format!("srv-{name}")).await);
    }
    // AUTHORIZED without a window.
    let unplanned = app
        .new_change_with(
            "NORMAL",
            &[&items[0]],
            json!({ "plannedStart": null, "plannedEnd": null }),
        )
        .await;
    let unplanned = app.act(ENGINEER, "submitChange", &unplanned).await;
    let unplanned = app.assess(&unplanned, TestApp::low_risk_answers()).await;
    let unplanned = app.act(MANAGER, "authorizeChange", &unplanned).await;
    // SCHEDULED in the standard window (the 10th).
    let scheduled = app.scheduled_change(&[&items[1]]).await;
    // IMPLEMENTING, scheduled earlier (the 7th).
    let started = app.authorized_change(&[&items[2]]).await;
    let started = app
        .schedule_in(
            &started,
            "2026-01-07T10:00:00Z",
            "2026-01-07T12:00:00Z",
            false,
            None,
        )
        .await
        .expect("scheduled");
    let started = app.start_implementation(&started).await;
    // Done with: in REVIEW.
    let done = app.scheduled_change(&[&items[3]]).await;
    let done = app.start_implementation(&done).await;
    let done = app.complete(&done, "FAILED").await;
    assert_eq!(done["state"], "REVIEW");
    // Someone else's.
    let others = app
        .new_change_with(
            "NORMAL",
            &[&items[4]],
            json!({ "assignee": OTHER_ENGINEER.subject }),
        )
        .await;
    let others = app.act(ENGINEER, "submitChange", &others).await;
    let others = app.assess(&others, TestApp::low_risk_answers()).await;
    app.act(MANAGER, "authorizeChange", &others).await;

    let implementer = work(&app, IMPLEMENTER).await;
    assert_eq!(
        implementer["changesToImplement"],
        json!([
            { "number": started["number"], "state": "IMPLEMENTING" },
            { "number": scheduled["number"], "state": "SCHEDULED" },
            { "number": unplanned["number"], "state": "AUTHORIZED" },
        ])
    );
    assert_eq!(
        numbers(&work(&app, OTHER_ENGINEER).await["changesToImplement"]),
        [number(&others)]
    );
    // The requester implements nothing here.
    assert_eq!(work(&app, ENGINEER).await["changesToImplement"], json!([]));
}

#[tokio::test]
async fn the_assignee_sees_their_open_incidents_running_clocks_first_with_their_sla() {
    let app = TestApp::new().await;
    let assign = |incident: Value, who: Person| {
        let app = &app;
        async move {
            app.incident_action(
                MANAGER,
                "assignIncident",
                &incident,
                ", $who: String!",
                ", assignee: $who",
                json!({ "who": who.subject }),
            )
            .await
            .expect("assigned")
        }
    };
    // Assigned, each is IN_PROGRESS. P3: resolution due in 24 h; P1: in 4 h; P2 (8 h) goes on hold; a P1 resolved; a P1 of
    // someone else's.
    let p3 = assign(app.new_incident("MEDIUM", "MEDIUM", &[]).await, IMPLEMENTER).await;
    let p1 = assign(app.new_incident("HIGH", "HIGH", &[]).await, IMPLEMENTER).await;
    let p2 = assign(app.new_incident("HIGH", "MEDIUM", &[]).await, IMPLEMENTER).await;
    let p2 = app
        .incident_action(
            IMPLEMENTER,
            "putIncidentOnHold",
            &p2,
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "waiting on the vendor" }),
        )
        .await
        .expect("on hold");
    let resolved = assign(app.new_incident("HIGH", "HIGH", &[]).await, IMPLEMENTER).await;
    app.incident_action(
        IMPLEMENTER,
        "resolveIncident",
        &resolved,
        ", $code: ResolutionCode!, $notes: String!",
        ", code: $code, notes: $notes",
        json!({ "code": "FIXED", "notes": "restarted" }),
    )
    .await
    .expect("resolved");
    let others = assign(app.new_incident("HIGH", "HIGH", &[]).await, OTHER_ENGINEER).await;

    let mine = work(&app, IMPLEMENTER).await["myIncidents"].clone();
    assert_eq!(
        mine,
        json!([
            { "number": p1["number"], "state": "IN_PROGRESS", "priority": "P1",
              "sla": { "resolutionDue": "2026-01-05T13:00:00.000Z", "resolutionBreached": false } },
            { "number": p3["number"], "state": "IN_PROGRESS", "priority": "P3",
              "sla": { "resolutionDue": "2026-01-06T09:00:00.000Z", "resolutionBreached": false } },
            { "number": p2["number"], "state": "ON_HOLD", "priority": "P2",
              "sla": { "resolutionDue": "2026-01-05T17:00:00.000Z", "resolutionBreached": false } },
        ])
    );
    assert_eq!(
        numbers(&work(&app, OTHER_ENGINEER).await["myIncidents"]),
        [number(&others)]
    );

    // Five hours on, the P1 is breached and still leads; the held P2's clock has not run.
    app.clock.advance(chrono::Duration::hours(5));
    let mine = work(&app, IMPLEMENTER).await["myIncidents"].clone();
    assert_eq!(numbers(&mine), [number(&p1), number(&p3), number(&p2)]);
    assert_eq!(mine[0]["sla"]["resolutionBreached"], true);
    assert_eq!(mine[2]["sla"]["resolutionBreached"], false);
    // A CAB member works no incidents but may ask.
    assert_eq!(work(&app, CAB[0]).await["myIncidents"], json!([]));
}

#[tokio::test]
async fn the_requester_sees_their_drafts_to_submit_and_nothing_once_submitted() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let first = app.new_change("NORMAL", &[&db]).await;
    let second = app.new_change("NORMAL", &[&db]).await;
    let cancelled = app.new_change("NORMAL", &[&db]).await;
    app.change_action(
        ENGINEER,
        "cancelChange",
        &cancelled,
        ", $reason: String!",
        ", reason: $reason",
        json!({ "reason": "duplicate" }),
    )
    .await
    .expect("cancelled");
    let managers = app
        .data_by(
            MANAGER,
            "mutation { createChange(input: { title: \"Rotate certificates\" }) { number } }",
            json!({}),
        )
        .await["createChange"]
        .clone();

    let requests = |work: &Value| work["myRequestsNeedingAction"].clone();
    assert_eq!(
        requests(&work(&app, ENGINEER).await),
        json!([
            { "number": first["number"], "state": "DRAFT" },
            { "number": second["number"], "state": "DRAFT" },
        ])
    );
    assert_eq!(
        numbers(&requests(&work(&app, MANAGER).await)),
        [number(&managers)]
    );
    app.act(ENGINEER, "submitChange", &first).await;
    assert_eq!(
        numbers(&requests(&work(&app, ENGINEER).await)),
        [number(&second)]
    );
    assert_eq!(requests(&work(&app, OTHER_ENGINEER).await), json!([]));
    assert_eq!(requests(&work(&app, CAB[0]).await), json!([]));
}

#[tokio::test]
async fn work_needs_a_token() {
    let app = TestApp::new().await;
    let response = app.graphql(WORK, None).await;
    assert_eq!(response.error_codes(), ["UNAUTHENTICATED"]);
    assert_eq!(response.json()["data"], Value::Null);
}
