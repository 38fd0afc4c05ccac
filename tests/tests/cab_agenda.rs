//! The CAB's agenda and each person's queue (`viewer.work`), through the API.

use quorum_tests::TestApp;
use quorum_tests::change::{CAB, ENGINEER, HEAD, IMPLEMENTER, MANAGER, Person};
use serde_json::{Value, json};

const AGENDA: &str = "query($from: DateTime, $to: DateTime) { cabAgenda(from: $from, to: $to) {
  section change { number type state risk { level } votes { voter } }
  blastRadius { itemCount businessServices } myVote { decision comment }
} }";

const WORK: &str = "{ viewer { work {
  awaitingMyVote { number } changesToImplement { number state } myIncidents { number sla { resolutionDue } }
  myRequestsNeedingAction { number state }
} } }";

/// A NORMAL change on `items`, assessed high risk and referred to the CAB.
async fn referred(app: &TestApp, items: &[&Value]) -> Value {
    let change = app.new_change("NORMAL", items).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::high_risk_answers()).await;
    app.act(MANAGER, "referChangeToCab", &change).await
}

/// A high-risk change approved by two CAB members and scheduled in `[start, end)`.
async fn high_risk_scheduled(app: &TestApp, items: &[&Value], start: &str, end: &str) -> Value {
    let change = referred(app, items).await;
    app.vote(CAB[3], &change, "APPROVE", None)
        .await
        .expect("vote");
    let change = app
        .vote(CAB[4], &change, "APPROVE", None)
        .await
        .expect("vote");
    assert_eq!(change["state"], "AUTHORIZED");
    app.schedule_in(&change, start, end, true, Some("agenda test"))
        .await
        .expect("scheduled")
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item["number"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn work(app: &TestApp, who: Person) -> Value {
    app.data_by(who, WORK, json!({})).await["viewer"]["work"].clone()
}

#[tokio::test]
async fn the_agenda_lists_cab_reviews_oldest_first_then_upcoming_high_risk_changes_in_the_range() {
    let app = TestApp::new().await;
    let service = app.create_ci("BUSINESS_SERVICE", "Online Banking").await;
    let web = app.create_ci("APPLICATION", "Banking Web App").await;
    let db = app.create_ci("DATABASE", "banking-db").await;
    app.relate(&service, "DEPENDS_ON", &web).await;
    app.relate(&web, "DEPENDS_ON", &db).await;

    let upcoming = high_risk_scheduled(
        &app,
        &[&web],
        "2026-01-12T20:00:00Z",
        "2026-01-12T22:00:00Z",
    )
    .await;
    let later = high_risk_scheduled(
        &app,
        &[&web],
        "2026-03-02T20:00:00Z",
        "2026-03-02T22:00:00Z",
    )
    .await;
    let low = app.authorized_change(&[&db]).await;
    app.schedule_in(
        &low,
        "2026-01-13T20:00:00Z",
        "2026-01-13T22:00:00Z",
        true,
        Some("low"),
    )
    .await
    .expect("scheduled");
    app.clock.advance(chrono::Duration::hours(1));
    let first = referred(&app, &[&db]).await;
    app.clock.advance(chrono::Duration::hours(1));
    let emergency = app.new_change("EMERGENCY", &[&web]).await;
    let emergency = app.act(ENGINEER, "submitChange", &emergency).await;
    app.vote(CAB[0], &first, "APPROVE", Some("rehearsed"))
        .await
        .expect("vote");

    let agenda = app.data_by(CAB[0], AGENDA, json!({})).await["cabAgenda"].clone();
    let rows: Vec<(String, String)> = agenda
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            (
                item["section"].as_str().unwrap_or_default().to_owned(),
                item["change"]["number"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let row = |section: &str, change: &Value| {
        (
            section.to_owned(),
            change["number"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(
        rows,
        vec![
            row("REVIEW", &first),
            row("REVIEW", &emergency),
            row("UPCOMING_HIGH_RISK", &upcoming)
        ],
        "{agenda}"
    );
    // banking-db reaches the web app and the service; the vote is the viewer's own.
    assert_eq!(
        agenda[0]["blastRadius"],
        json!({ "itemCount": 2, "businessServices": ["Online Banking"] })
    );
    assert_eq!(
        agenda[0]["myVote"],
        json!({ "decision": "APPROVE", "comment": "rehearsed" })
    );
    assert_eq!(agenda[0]["change"]["votes"], json!([{ "voter": "cab1" }]));
    assert_eq!(agenda[1]["myVote"], Value::Null);
    assert_eq!(agenda[2]["change"]["risk"]["level"], "VERY_HIGH");

    // A later range finds the March change instead.
    let march = app
        .data_by(
            HEAD,
            AGENDA,
            json!({ "from": "2026-03-01T00:00:00Z", "to": "2026-03-31T00:00:00Z" }),
        )
        .await;
    let upcoming_numbers: Vec<&str> = march["cabAgenda"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| item["section"] == "UPCOMING_HIGH_RISK")
        .filter_map(|item| item["change"]["number"].as_str())
        .collect();
    assert_eq!(
        upcoming_numbers,
        [later["number"].as_str().unwrap_or_default()]
    );

    let refused = app.graphql_by(ENGINEER, AGENDA, json!({})).await;
    assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
    let bad = app
        .graphql_by(
            MANAGER,
            AGENDA,
            json!({ "from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(bad.error_codes(), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn each_person_sees_what_waits_on_them() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let normal = referred(&app, &[&db]).await;
    let emergency = app.new_change("EMERGENCY", &[&db]).await;
    let emergency = app.act(ENGINEER, "submitChange", &emergency).await;
    let scheduled = app.scheduled_change(&[&db]).await;
    let draft = app.new_change("NORMAL", &[&db]).await;
    let incident = app.new_incident("HIGH", "HIGH", &[&db]).await;
    app.incident_action(
        ENGINEER,
        "assignIncident",
        &incident,
        ", $who: String!",
        ", assignee: $who",
        json!({ "who": IMPLEMENTER.subject }),
    )
    .await
    .expect("assigned");

    let cab = work(&app, CAB[0]).await;
    assert_eq!(
        numbers(&cab["awaitingMyVote"]),
        [normal["number"].as_str().unwrap_or_default()]
    );
    let manager = work(&app, MANAGER).await;
    assert_eq!(
        numbers(&manager["awaitingMyVote"]),
        [emergency["number"].as_str().unwrap_or_default()]
    );
    let implementer = work(&app, IMPLEMENTER).await;
    assert_eq!(
        implementer["changesToImplement"],
        json!([{ "number": scheduled["number"], "state": "SCHEDULED" }])
    );
    assert_eq!(numbers(&implementer["myIncidents"]), ["INC0000001"]);
    assert_eq!(
        implementer["myIncidents"][0]["sla"]["resolutionDue"],
        "2026-01-05T13:00:00+00:00"
    );
    let requester = work(&app, ENGINEER).await;
    assert_eq!(
        requester["myRequestsNeedingAction"],
        json!([{ "number": draft["number"], "state": "DRAFT" }])
    );
    assert_eq!(requester["awaitingMyVote"], json!([]));

    // Once voted, the change leaves the member's queue; the requester never sees their own.
    app.vote(CAB[0], &normal, "APPROVE", None)
        .await
        .expect("vote");
    assert_eq!(work(&app, CAB[0]).await["awaitingMyVote"], json!([]));
    assert_eq!(
        numbers(&work(&app, CAB[1]).await["awaitingMyVote"]),
        [normal["number"].as_str().unwrap_or_default()]
    );
}
