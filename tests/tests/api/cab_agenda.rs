//! The CAB's agenda (`cabAgenda`) and `Change.myVote`, through the API. Each person's queue
//! (`viewer.work`) is in `viewer_work.rs`.

use quorum_core::{Clock, Role};
use quorum_tests::TestApp;
use quorum_tests::change::{CAB, ENGINEER, HEAD, IMPLEMENTER, MANAGER, Person};
use serde_json::{Value, json};

const AGENDA: &str = "query($from: DateTime, $to: DateTime) { cabAgenda(from: $from, to: $to) {
  section change { number type state risk { level } votes { voter } myVote { decision } }
  blastRadius { itemCount businessServices truncated } myVote { decision comment }
} }";

/// What a front end asks for to render the meeting.
const MEETING: &str = "{ cabAgenda {
  section myVote { decision comment }
  blastRadius { itemCount businessServices truncated }
  change { number type state title requestedBy referredAt plannedStart plannedEnd
    risk { score level factors { name points detail } }
    affectedItems { number name class }
    conflicts { kind change { number } item { name } freezeWindow { name } }
    votes { voter board decision comment }
    myVote { decision comment }
    availableTransitions { action allowed reason } }
} }";

/// A high-risk change approved by two CAB members and scheduled in `[start, end)`.
async fn high_risk_scheduled(app: &TestApp, items: &[&Value], start: &str, end: &str) -> Value {
    let change = app.referred_change(items).await;
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

/// `(section, number)` of each agenda item.
fn rows(agenda: &Value) -> Vec<(String, String)> {
    agenda
        .as_array()
        .unwrap_or_else(|| panic!("items: {agenda}"))
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
        .collect()
}

fn row(section: &str, change: &Value) -> (String, String) {
    (
        section.to_owned(),
        change["number"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn agenda(app: &TestApp, who: Person, range: Value) -> Value {
    app.data_by(who, AGENDA, range).await["cabAgenda"].clone()
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
    let first = app.referred_change(&[&db]).await;
    app.clock.advance(chrono::Duration::hours(1));
    let emergency = app.new_change("EMERGENCY", &[&web]).await;
    let emergency = app.act(ENGINEER, "submitChange", &emergency).await;
    app.vote(CAB[0], &first, "APPROVE", Some("rehearsed"))
        .await
        .expect("vote");

    let items = agenda(&app, CAB[0], json!({})).await;
    assert_eq!(
        rows(&items),
        vec![
            row("REVIEW", &first),
            row("REVIEW", &emergency),
            row("UPCOMING_HIGH_RISK", &upcoming)
        ],
        "{items}"
    );
    // banking-db reaches the web app and the service; the vote is the viewer's own.
    assert_eq!(
        items[0]["blastRadius"],
        json!({ "itemCount": 2, "businessServices": ["Online Banking"], "truncated": false })
    );
    assert_eq!(
        items[0]["myVote"],
        json!({ "decision": "APPROVE", "comment": "rehearsed" })
    );
    assert_eq!(
        items[0]["change"]["myVote"],
        json!({ "decision": "APPROVE" })
    );
    assert_eq!(items[0]["change"]["votes"], json!([{ "voter": "cab1" }]));
    assert_eq!(items[1]["myVote"], Value::Null);
    assert_eq!(items[1]["change"]["type"], "EMERGENCY");
    // The web app reaches the service only.
    assert_eq!(
        items[1]["blastRadius"],
        json!({ "itemCount": 1, "businessServices": ["Online Banking"], "truncated": false })
    );
    assert_eq!(items[2]["change"]["risk"]["level"], "VERY_HIGH");
    assert_eq!(items[2]["change"]["state"], "SCHEDULED");

    // Another member sees the same agenda with their own (no) vote.
    let other = agenda(&app, CAB[1], json!({})).await;
    assert_eq!(rows(&other), rows(&items));
    assert_eq!(other[0]["myVote"], Value::Null);
    assert_eq!(other[0]["change"]["myVote"], Value::Null);

    // A later range finds the March change instead; the reviews stay.
    let march = agenda(
        &app,
        HEAD,
        json!({ "from": "2026-03-01T00:00:00Z", "to": "2026-03-31T00:00:00Z" }),
    )
    .await;
    assert_eq!(
        rows(&march),
        vec![
            row("REVIEW", &first),
            row("REVIEW", &emergency),
            row("UPCOMING_HIGH_RISK", &later)
        ]
    );
}

#[tokio::test]
async fn the_range_takes_windows_that_overlap_it_and_defaults_to_the_next_fourteen_days() {
    let app = TestApp::new().await;
    let mut items = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        items.push(app.create_ci("SERVER", &format!("srv-{name}")).await);
    }
    // Now is 2026-01-05T09:00Z; the window that straddles it was scheduled before it began.
    let now = app.clock.now();
    app.clock.set(now - chrono::Duration::hours(2));
    let straddles = high_risk_scheduled(
        &app,
        &[&items[0]],
        "2026-01-05T08:00:00Z",
        "2026-01-05T10:00:00Z",
    )
    .await;
    app.clock.set(now);
    let day_13 = high_risk_scheduled(
        &app,
        &[&items[1]],
        "2026-01-18T08:00:00Z",
        "2026-01-18T10:00:00Z",
    )
    .await;
    let day_15 = high_risk_scheduled(
        &app,
        &[&items[2]],
        "2026-01-20T08:00:00Z",
        "2026-01-20T10:00:00Z",
    )
    .await;
    // Authorized (not yet scheduled) in its requested window: the 10th.
    let authorized = app.referred_change(&[&items[3]]).await;
    app.vote(CAB[3], &authorized, "APPROVE", None)
        .await
        .expect("vote");
    let authorized = app
        .vote(CAB[4], &authorized, "APPROVE", None)
        .await
        .expect("vote");
    // Being implemented: no longer upcoming.
    let started = high_risk_scheduled(
        &app,
        &[&items[4]],
        "2026-01-06T08:00:00Z",
        "2026-01-06T10:00:00Z",
    )
    .await;
    app.start_implementation(&started).await;

    assert_eq!(
        rows(&agenda(&app, MANAGER, json!({})).await),
        vec![
            row("UPCOMING_HIGH_RISK", &straddles),
            row("UPCOMING_HIGH_RISK", &authorized),
            row("UPCOMING_HIGH_RISK", &day_13),
        ]
    );
    assert_eq!(authorized["state"], "AUTHORIZED");
    // Half-open: a window ending at `from` or starting at `to` is outside.
    assert_eq!(
        rows(
            &agenda(
                &app,
                MANAGER,
                json!({ "from": "2026-01-05T10:00:00Z", "to": "2026-01-18T08:00:00Z" })
            )
            .await
        ),
        vec![row("UPCOMING_HIGH_RISK", &authorized)]
    );
    assert_eq!(
        rows(&agenda(&app, MANAGER, json!({ "from": "2026-01-19T00:00:00Z" })).await),
        vec![row("UPCOMING_HIGH_RISK", &day_15)]
    );
    // `to` alone runs from now.
    assert_eq!(
        rows(&agenda(&app, MANAGER, json!({ "to": "2026-01-06T00:00:00Z" })).await),
        vec![row("UPCOMING_HIGH_RISK", &straddles)]
    );

    for range in [
        json!({ "from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" }),
        json!({ "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z" }),
        json!({ "to": "2026-01-01T00:00:00Z" }),
    ] {
        let bad = app.graphql_by(MANAGER, AGENDA, range.clone()).await;
        assert_eq!(bad.error_codes(), ["BAD_USER_INPUT"], "{range}");
        assert_eq!(bad.json()["errors"][0]["extensions"]["field"], "to");
    }
}

#[tokio::test]
async fn the_cab_change_managers_and_service_heads_may_read_the_whole_meeting_and_no_one_else() {
    let app = TestApp::new().await;
    let service = app.create_ci("BUSINESS_SERVICE", "Payments").await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    app.relate(&service, "DEPENDS_ON", &db).await;
    let freeze = app
        .data_by(
            MANAGER,
            "mutation { createFreezeWindow(name: \"Month end\", start: \"2026-01-10T11:30:00Z\", end: \"2026-01-11T00:00:00Z\") { id } }",
            json!({}),
        )
        .await;
    assert!(freeze["createFreezeWindow"]["id"].is_string());
    // In review, its window in the freeze and on the same CI as a scheduled change.
    let review = app.referred_change(&[&db]).await;
    let scheduled =
        high_risk_scheduled(&app, &[&db], "2026-01-10T10:00:00Z", "2026-01-10T11:00:00Z").await;
    app.vote(CAB[2], &review, "ABSTAIN", Some("not during month end"))
        .await
        .expect("vote");

    for who in [CAB[2], MANAGER, HEAD] {
        let response = app.graphql_by(who, MEETING, json!({})).await;
        let json = response.json();
        assert!(json.get("errors").is_none(), "{}", response.text());
        let items = json["data"]["cabAgenda"].clone();
        assert_eq!(
            rows(&items),
            vec![
                row("REVIEW", &review),
                row("UPCOMING_HIGH_RISK", &scheduled)
            ]
        );
        let kinds: Vec<&str> = items[0]["change"]["conflicts"]
            .as_array()
            .expect("conflicts")
            .iter()
            .filter_map(|conflict| conflict["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"SAME_CI"), "{kinds:?}");
        assert!(kinds.contains(&"FREEZE_WINDOW"), "{kinds:?}");
        assert!(
            items[0]["change"]["risk"]["factors"]
                .as_array()
                .is_some_and(|factors| !factors.is_empty())
        );
        assert_eq!(
            items[0]["change"]["votes"],
            json!([{ "voter": "cab3", "board": "CAB", "decision": "ABSTAIN", "comment": "not during month end" }])
        );
        let mine = if who.subject == "cab3" {
            json!({ "decision": "ABSTAIN", "comment": "not during month end" })
        } else {
            Value::Null
        };
        assert_eq!(items[0]["myVote"], mine);
        assert_eq!(
            items[0]["blastRadius"]["businessServices"],
            json!(["Payments"])
        );
    }

    for who in [ENGINEER, IMPLEMENTER] {
        let refused = app.graphql_by(who, MEETING, json!({})).await;
        assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
        assert_eq!(refused.json()["data"], json!({ "cabAgenda": null }));
    }
    let anonymous = app.graphql(MEETING, None).await;
    assert_eq!(anonymous.error_codes(), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn my_vote_on_a_change_is_the_viewers_standing_vote_or_null() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let change = app.referred_change(&[&db]).await;
    let query = "query($id: ID!) { change(id: $id) { myVote { voter board decision comment } } }";
    let my_vote = |who: Person| {
        let app = &app;
        let id = change["id"].clone();
        async move { app.data_by(who, query, json!({ "id": id })).await["change"]["myVote"].clone() }
    };
    assert_eq!(my_vote(CAB[0]).await, Value::Null);
    app.vote(CAB[0], &change, "ABSTAIN", None)
        .await
        .expect("vote");
    // A changed mind replaces the vote.
    app.vote(CAB[0], &change, "APPROVE", Some("fine after all"))
        .await
        .expect("vote");
    assert_eq!(
        my_vote(CAB[0]).await,
        json!({ "voter": "cab1", "board": "CAB", "decision": "APPROVE", "comment": "fine after all" })
    );
    assert_eq!(my_vote(CAB[1]).await, Value::Null);
    assert_eq!(my_vote(ENGINEER).await, Value::Null);
}

#[tokio::test]
async fn the_agenda_costs_one_walk_per_item_and_a_bounded_number_of_statements_besides() {
    let app = TestApp::new().await;
    let service = app.create_ci("BUSINESS_SERVICE", "Payments").await;
    let mut changes = Vec::new();
    for n in 0..12 {
        let db = app.create_ci("DATABASE", &format!("db-{n:02}")).await;
        app.relate(&service, "DEPENDS_ON", &db).await;
        let change = app.referred_change(&[&db]).await;
        app.vote(CAB[n % 4], &change, "APPROVE", None)
            .await
            .expect("vote");
        changes.push(change);
    }
    let query = "{ cabAgenda { section blastRadius { itemCount businessServices } myVote { decision }
      change { number risk { level factors { name points } } affectedItems { number name } votes { voter decision } myVote { decision } } } }";
    let before = app.statements();
    let response = app.graphql_as(&[Role::CabMember], query, json!({})).await;
    let cost = app.statements() - before;
    let statements = app.statements_since(before);
    let json = response.json();
    assert!(json.get("errors").is_none(), "{}", response.text());
    let items = json["data"]["cabAgenda"].as_array().expect("items").clone();
    assert_eq!(items.len(), 12);
    for item in &items {
        assert_eq!(
            item["blastRadius"],
            json!({ "itemCount": 1, "businessServices": ["Payments"] })
        );
        assert_eq!(item["change"]["votes"].as_array().map(Vec::len), Some(1));
    }
    // Two for the agenda, then one batch each for the CI ids, the CIs and the votes (a few more
    // if a loader window splits), and one walk per item: the walks are the only per-item cost.
    assert!(
        cost <= 2 + 6 + 12,
        "{cost} statements for 12 items:\n{statements:#?}"
    );
}
