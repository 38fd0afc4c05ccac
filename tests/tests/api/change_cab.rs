//! CAB and roles through the API: every change mutation refused to each role (and person) that
//! may not call it, in a state where it would otherwise be legal, writing nothing; CAB and ECAB
//! quorum and veto; votes cast at once; the change policy's defaults and validation.

use std::collections::HashMap;

use quorum_core::Role;
use quorum_tests::change::{
    CAB, CHANGE_FIELDS, ENGINEER, HEAD, IMPLEMENTER, MANAGER, OTHER_ENGINEER, Person,
    SECOND_MANAGER, WINDOW_END, WINDOW_START, action_of,
};
use quorum_tests::{TestApp, TestResponse, instant};
use serde_json::{Value, json};

/// An engineer who also sits on the CAB: raises changes, and votes on other people's.
const CAB_ENGINEER: Person = Person {
    subject: "carl",
    roles: &[Role::Engineer, Role::CabMember],
};

/// What a refused change mutation could have touched.
const SNAPSHOT_FIELDS: &str = "id number state title version assignee plannedStart plannedEnd risk { score } affectedItems { id } votes { voter decision comment }";

const POLICY_FIELDS: &str =
    "cabQuorum rejectVetoes cabThreshold ecabQuorum conflictDepth version updatedBy updatedAt";

/// Whether `who` is offered `action` on `change` by `availableTransitions` (None when `who`
/// cannot see the change).
async fn offered(app: &TestApp, who: Person, change: &Value, action: &str) -> Option<bool> {
    let data = app
        .data_by(
            who,
            "query($id: ID) { change(id: $id) { availableTransitions { action allowed reason } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    let transitions = data["change"]["availableTransitions"].as_array()?.clone();
    transitions
        .iter()
        .find(|transition| transition["action"] == action)
        .map(|transition| transition["allowed"].as_bool().unwrap_or(false))
}

/// The change's events, oldest first: (action, actor, reason).
async fn history(app: &TestApp, change: &Value) -> Vec<(String, String, Option<String>)> {
    let data = app
        .data_by(
            MANAGER,
            "query($id: ID) { change(id: $id) { history(first: 100) { nodes { action actor reason } } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    let mut events: Vec<_> = data["change"]["history"]["nodes"]
        .as_array()
        .expect("history")
        .iter()
        .map(|event| {
            (
                event["action"].as_str().unwrap_or_default().to_owned(),
                event["actor"].as_str().unwrap_or_default().to_owned(),
                event["reason"].as_str().map(str::to_owned),
            )
        })
        .collect();
    events.reverse();
    events
}

fn actions(events: &[(String, String, Option<String>)]) -> Vec<&str> {
    events
        .iter()
        .map(|(action, _, _)| action.as_str())
        .collect()
}

/// The standing votes as (voter, board, decision).
fn votes(change: &Value) -> Vec<(String, String, String)> {
    change["votes"]
        .as_array()
        .expect("votes")
        .iter()
        .map(|vote| {
            (
                vote["voter"].as_str().unwrap_or_default().to_owned(),
                vote["board"].as_str().unwrap_or_default().to_owned(),
                vote["decision"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn vote_row(voter: Person, board: &str, decision: &str) -> (String, String, String) {
    (
        voter.subject.to_owned(),
        board.to_owned(),
        decision.to_owned(),
    )
}

/// Creates a change as `who` with the helpers' defaults (every plan, the standard window,
/// IMPLEMENTER as assignee).
async fn create_change_as(
    app: &TestApp,
    who: Person,
    change_type: &str,
    items: &[&Value],
) -> Value {
    let input = json!({
        "type": change_type,
        "title": "Rotate the certificates",
        "justification": "They expire",
        "implementationPlan": "Replace and reload",
        "backoutPlan": "Restore the old ones",
        "affectedItemIds": items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>(),
        "plannedStart": WINDOW_START,
        "plannedEnd": WINDOW_END,
        "assignee": IMPLEMENTER.subject,
    });
    app.data_by(
        who,
        &format!("mutation($input: CreateChangeInput!) {{ createChange(input: $input) {{ {CHANGE_FIELDS} }} }}"),
        json!({ "input": input }),
    )
    .await["createChange"]
        .clone()
}

/// A NORMAL change on `items`, assessed high and referred to the CAB.
async fn cab_change(app: &TestApp, items: &[&Value]) -> Value {
    let change = app.new_change("NORMAL", items).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::high_risk_answers()).await;
    let change = app.act(MANAGER, "referChangeToCab", &change).await;
    assert_eq!(change["state"], "CAB_REVIEW");
    change
}

/// An EMERGENCY change on `items` raised and submitted by `requester`: in CAB_REVIEW (ECAB),
/// assessed (its approvals count only once it is).
async fn emergency_change(app: &TestApp, requester: Person, items: &[&Value]) -> Value {
    let change = create_change_as(app, requester, "EMERGENCY", items).await;
    let change = app.act(requester, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    assert_eq!(change["state"], "CAB_REVIEW");
    change
}

async fn update_policy(app: &TestApp, input: Value) -> Value {
    app.data_by(
        HEAD,
        &format!("mutation($input: UpdateChangePolicyInput!) {{ updateChangePolicy(input: $input) {{ {POLICY_FIELDS} }} }}"),
        json!({ "input": input }),
    )
    .await["updateChangePolicy"]
        .clone()
}

async fn policy(app: &TestApp) -> Value {
    app.data_by(
        ENGINEER,
        &format!("{{ changePolicy {{ {POLICY_FIELDS} }} }}"),
        json!({}),
    )
    .await["changePolicy"]
        .clone()
}

// ---------------------------------------------------------------------------------------
// Who may not: one table.
// ---------------------------------------------------------------------------------------

/// What a refused call is aimed at, prepared in the state where the call would be legal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum On {
    /// Nothing yet (creations).
    New,
    /// A NORMAL change in DRAFT.
    Draft,
    /// A NORMAL change in ASSESSMENT, not yet assessed, touching two CIs.
    Assessment,
    /// A NORMAL change in ASSESSMENT assessed LOW.
    Assessed,
    /// A NORMAL change in CAB_REVIEW requested by ENGINEER.
    CabReview,
    /// A NORMAL change in CAB_REVIEW requested by CAB_ENGINEER.
    CabReviewOwn,
    /// An EMERGENCY change in CAB_REVIEW requested by ENGINEER.
    Emergency,
    /// An EMERGENCY change in CAB_REVIEW requested by MANAGER.
    EmergencyOwn,
    Authorized,
    Scheduled,
    Implementing,
    /// In REVIEW after a SUCCESSFUL implementation.
    Review,
    /// An active standard change template.
    Template,
    Freeze,
    Policy,
}

struct Fixtures {
    changes: HashMap<On, Value>,
    /// The second CI of the ASSESSMENT change (to remove).
    second_item: Value,
    /// A CI no change touches (to add, to raise changes on).
    spare_item: Value,
    template: Value,
    freeze: Value,
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let mut items = Vec::new();
    for n in 0..13 {
        items.push(app.create_ci("SERVER", &format!("host-{n:02}")).await);
    }
    let mut changes = HashMap::new();
    changes.insert(On::Draft, app.new_change("NORMAL", &[&items[0]]).await);
    let assessment = app.new_change("NORMAL", &[&items[1], &items[2]]).await;
    changes.insert(
        On::Assessment,
        app.act(ENGINEER, "submitChange", &assessment).await,
    );
    let assessed = app.new_change("NORMAL", &[&items[3]]).await;
    let assessed = app.act(ENGINEER, "submitChange", &assessed).await;
    changes.insert(
        On::Assessed,
        app.assess(&assessed, TestApp::low_risk_answers()).await,
    );
    changes.insert(On::CabReview, cab_change(app, &[&items[4]]).await);
    let own = create_change_as(app, CAB_ENGINEER, "NORMAL", &[&items[5]]).await;
    let own = app.act(CAB_ENGINEER, "submitChange", &own).await;
    let own = app.assess(&own, TestApp::high_risk_answers()).await;
    changes.insert(
        On::CabReviewOwn,
        app.act(MANAGER, "referChangeToCab", &own).await,
    );
    changes.insert(
        On::Emergency,
        emergency_change(app, ENGINEER, &[&items[6]]).await,
    );
    changes.insert(
        On::EmergencyOwn,
        emergency_change(app, MANAGER, &[&items[7]]).await,
    );
    changes.insert(On::Authorized, app.authorized_change(&[&items[8]]).await);
    changes.insert(On::Scheduled, app.scheduled_change(&[&items[9]]).await);
    let implementing = app.scheduled_change(&[&items[10]]).await;
    changes.insert(
        On::Implementing,
        app.start_implementation(&implementing).await,
    );
    let review = app.scheduled_change(&[&items[11]]).await;
    let review = app.start_implementation(&review).await;
    changes.insert(On::Review, app.complete(&review, "SUCCESSFUL").await);
    for (on, state) in [
        (On::Draft, "DRAFT"),
        (On::Assessment, "ASSESSMENT"),
        (On::Assessed, "ASSESSMENT"),
        (On::CabReview, "CAB_REVIEW"),
        (On::CabReviewOwn, "CAB_REVIEW"),
        (On::Emergency, "CAB_REVIEW"),
        (On::EmergencyOwn, "CAB_REVIEW"),
        (On::Authorized, "AUTHORIZED"),
        (On::Scheduled, "SCHEDULED"),
        (On::Implementing, "IMPLEMENTING"),
        (On::Review, "REVIEW"),
    ] {
        assert_eq!(changes[&on]["state"], state, "{on:?}");
    }
    let template = app
        .data_by(
            MANAGER,
            "mutation { createStandardChangeTemplate(input: { name: \"Patch a host\", implementationPlan: \"Patch\", backoutPlan: \"Roll back\" }) { id version active } }",
            json!({}),
        )
        .await["createStandardChangeTemplate"]
        .clone();
    let freeze = app
        .data_by(
            MANAGER,
            "mutation { createFreezeWindow(name: \"Quarter end\", start: \"2026-03-28T00:00:00Z\", end: \"2026-04-02T00:00:00Z\") { id } }",
            json!({}),
        )
        .await["createFreezeWindow"]
        .clone();
    Fixtures {
        changes,
        second_item: items[2].clone(),
        spare_item: items[12].clone(),
        template,
        freeze,
    }
}

/// Someone who may take the change action on `on` (the control that the state is right).
fn allowed_person(mutation: &str, on: On) -> Person {
    match (mutation, on) {
        ("castCabVote", On::CabReview | On::CabReviewOwn) => CAB[1],
        ("castCabVote", On::Emergency) => MANAGER,
        ("castCabVote", On::EmergencyOwn) => SECOND_MANAGER,
        _ => MANAGER,
    }
}

/// Calls `mutation` as `who` on what `on` names, with valid arguments.
async fn call(
    app: &TestApp,
    fixtures: &Fixtures,
    mutation: &str,
    on: On,
    who: Person,
) -> TestResponse {
    let target = fixtures.changes.get(&on).cloned().unwrap_or(Value::Null);
    // Change mutations send the version the change is at now.
    let change = if target.is_null() {
        Value::Null
    } else {
        app.read_change(&target).await
    };
    let with_change = |params: &str, args: &str, variables: Value| {
        let query = format!(
            "mutation($id: ID!, $version: Int!{params}) {{ {mutation}(id: $id, version: $version{args}) {{ id }} }}"
        );
        let mut variables = variables;
        variables["id"] = change["id"].clone();
        variables["version"] = change["version"].clone();
        (query, variables)
    };
    let (query, variables) = match mutation {
        "createChange" => (
            "mutation($input: CreateChangeInput!) { createChange(input: $input) { id } }".to_owned(),
            json!({ "input": { "title": "Sneaky change", "affectedItemIds": [fixtures.spare_item["id"]] } }),
        ),
        "createChangeFromTemplate" => (
            "mutation($input: CreateChangeFromTemplateInput!) { createChangeFromTemplate(input: $input) { id } }".to_owned(),
            json!({ "input": { "templateId": fixtures.template["id"], "affectedItemIds": [fixtures.spare_item["id"]] } }),
        ),
        "updateChange" => with_change(
            ", $input: UpdateChangeInput!",
            ", input: $input",
            json!({ "input": { "title": "Hijacked" } }),
        ),
        "addChangeAffectedItems" => with_change(
            ", $ciIds: [ID!]!",
            ", ciIds: $ciIds",
            json!({ "ciIds": [fixtures.spare_item["id"]] }),
        ),
        "removeChangeAffectedItems" => with_change(
            ", $ciIds: [ID!]!",
            ", ciIds: $ciIds",
            json!({ "ciIds": [fixtures.second_item["id"]] }),
        ),
        "submitChange" | "authorizeChange" | "referChangeToCab" | "startImplementation"
        | "closeChange" => with_change("", "", json!({})),
        "assessChange" => with_change(
            ", $input: RiskQuestionnaireInput!",
            ", input: $input",
            json!({ "input": TestApp::low_risk_answers() }),
        ),
        "rejectChange" | "cancelChange" => with_change(
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "not now" }),
        ),
        "scheduleChange" => with_change(
            ", $start: DateTime!, $end: DateTime!",
            ", plannedStart: $start, plannedEnd: $end",
            json!({ "start": "2026-01-20T10:00:00Z", "end": "2026-01-20T11:00:00Z" }),
        ),
        "completeImplementation" => with_change(
            ", $outcome: ChangeOutcome!",
            ", outcome: $outcome",
            json!({ "outcome": "SUCCESSFUL" }),
        ),
        "recordReview" => with_change(
            ", $lessons: String!",
            ", lessonsLearned: $lessons",
            json!({ "lessons": "went fine" }),
        ),
        "castCabVote" => (
            "mutation($id: ID!) { castCabVote(changeId: $id, decision: APPROVE, comment: \"fine\") { id } }".to_owned(),
            json!({ "id": change["id"] }),
        ),
        "createStandardChangeTemplate" => (
            "mutation { createStandardChangeTemplate(input: { name: \"Reboot\", implementationPlan: \"Reboot\", backoutPlan: \"None\" }) { id } }".to_owned(),
            json!({}),
        ),
        "retireStandardChangeTemplate" => (
            "mutation($id: ID!, $version: Int!) { retireStandardChangeTemplate(id: $id, version: $version) { id } }".to_owned(),
            json!({ "id": fixtures.template["id"], "version": fixtures.template["version"] }),
        ),
        "createFreezeWindow" => (
            "mutation { createFreezeWindow(name: \"Mine\", start: \"2026-02-01T00:00:00Z\", end: \"2026-02-02T00:00:00Z\") { id } }".to_owned(),
            json!({}),
        ),
        "removeFreezeWindow" => (
            "mutation($id: ID!) { removeFreezeWindow(id: $id) { id } }".to_owned(),
            json!({ "id": fixtures.freeze["id"] }),
        ),
        "updateChangePolicy" => (
            "mutation { updateChangePolicy(input: { cabQuorum: 3, rejectVetoes: false }) { version } }".to_owned(),
            json!({}),
        ),
        other => panic!("no call for {other}"),
    };
    app.graphql_by(who, &query, variables).await
}

/// Everything a refused call could have written, as the change manager reads it.
async fn snapshot(app: &TestApp) -> Value {
    let mut data = app
        .data_by(
            MANAGER,
            &format!(
                "{{ changes(first: 50) {{ totalCount nodes {{ {SNAPSHOT_FIELDS} }} }} \
                   standardChangeTemplates(includeRetired: true) {{ id version active }} \
                   freezeWindows(from: \"2020-01-01T00:00:00Z\") {{ id name }} \
                   changePolicy {{ {POLICY_FIELDS} }} }}"
            ),
            json!({}),
        )
        .await;
    data["events"] = json!(app.event_count().await);
    data
}

fn refusals() -> Vec<(&'static str, On, Vec<Person>)> {
    let cab = CAB[0];
    vec![
        ("createChange", On::New, vec![cab, HEAD]),
        ("createChangeFromTemplate", On::New, vec![cab, HEAD]),
        // Engineers edit, submit and cancel only their own changes.
        (
            "updateChange",
            On::Draft,
            vec![OTHER_ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "updateChange",
            On::Assessment,
            vec![OTHER_ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "addChangeAffectedItems",
            On::Assessment,
            vec![OTHER_ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "removeChangeAffectedItems",
            On::Assessment,
            vec![OTHER_ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "submitChange",
            On::Draft,
            vec![OTHER_ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "assessChange",
            On::Assessment,
            vec![ENGINEER, OTHER_ENGINEER, cab, HEAD],
        ),
        ("authorizeChange", On::Assessed, vec![ENGINEER, cab, HEAD]),
        ("referChangeToCab", On::Assessed, vec![ENGINEER, cab, HEAD]),
        ("rejectChange", On::Assessment, vec![ENGINEER, cab, HEAD]),
        // NORMAL changes: the CAB votes, not managers, heads or engineers.
        (
            "castCabVote",
            On::CabReview,
            vec![ENGINEER, OTHER_ENGINEER, MANAGER, HEAD],
        ),
        // Nobody votes on their own change.
        ("castCabVote", On::CabReviewOwn, vec![CAB_ENGINEER]),
        // EMERGENCY changes: the ECAB (managers, heads), not CAB members or engineers.
        (
            "castCabVote",
            On::Emergency,
            vec![cab, CAB_ENGINEER, OTHER_ENGINEER],
        ),
        ("castCabVote", On::EmergencyOwn, vec![MANAGER]),
        (
            "scheduleChange",
            On::Authorized,
            vec![ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        // Engineers implement only what they are assigned, even their own change.
        (
            "startImplementation",
            On::Scheduled,
            vec![ENGINEER, OTHER_ENGINEER, cab, HEAD],
        ),
        (
            "completeImplementation",
            On::Implementing,
            vec![ENGINEER, OTHER_ENGINEER, cab, HEAD],
        ),
        (
            "recordReview",
            On::Review,
            vec![ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "closeChange",
            On::Review,
            vec![ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "cancelChange",
            On::Draft,
            vec![OTHER_ENGINEER, IMPLEMENTER, HEAD],
        ),
        (
            "cancelChange",
            On::Authorized,
            vec![OTHER_ENGINEER, IMPLEMENTER, cab, HEAD],
        ),
        (
            "createStandardChangeTemplate",
            On::New,
            vec![ENGINEER, cab, HEAD],
        ),
        (
            "retireStandardChangeTemplate",
            On::Template,
            vec![ENGINEER, cab, HEAD],
        ),
        ("createFreezeWindow", On::New, vec![ENGINEER, cab, HEAD]),
        ("removeFreezeWindow", On::Freeze, vec![ENGINEER, cab, HEAD]),
        (
            "updateChangePolicy",
            On::Policy,
            vec![ENGINEER, MANAGER, cab],
        ),
    ]
}

#[tokio::test]
async fn every_change_mutation_is_forbidden_to_those_who_may_not_call_it_and_writes_nothing() {
    let app = TestApp::new().await;
    let fixtures = fixtures(&app).await;
    let table = refusals();
    // Every change mutation is in the table.
    let mut covered: Vec<&str> = table.iter().map(|(mutation, _, _)| *mutation).collect();
    covered.sort_unstable();
    covered.dedup();
    assert_eq!(covered.len(), 22, "{covered:?}");

    let mut checked = 0;
    for (mutation, on, people) in &table {
        // The control: the state is one where the action is open to someone.
        if let (Some(action), Some(change)) = (action_of(mutation), fixtures.changes.get(on)) {
            let allowed = allowed_person(mutation, *on);
            assert_eq!(
                offered(&app, allowed, change, action).await,
                Some(true),
                "{mutation} on {on:?} should be open to {}",
                allowed.subject
            );
        }
        for who in people {
            let before = snapshot(&app).await;
            let response = call(&app, &fixtures, mutation, *on, *who).await;
            assert_eq!(
                response.first_code(),
                "FORBIDDEN",
                "{mutation} on {on:?} by {} ({:?}): {}",
                who.subject,
                who.roles,
                response.text()
            );
            assert!(
                response.json()["data"].is_null(),
                "{mutation} by {}: {}",
                who.subject,
                response.text()
            );
            let after = snapshot(&app).await;
            assert_eq!(
                before, after,
                "{mutation} on {on:?} by {} wrote something",
                who.subject
            );
            // The button agrees with the rule (when the person can see the change at all).
            if let (Some(action), Some(change)) = (action_of(mutation), fixtures.changes.get(on))
                && let Some(allowed) = offered(&app, *who, change, action).await
            {
                assert!(!allowed, "{action} offered to {} on {on:?}", who.subject);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 88);

    // The other side of the table: each refused non-change call works for its role.
    let template_change = call(
        &app,
        &fixtures,
        "createChangeFromTemplate",
        On::New,
        ENGINEER,
    )
    .await;
    assert!(
        template_change.json().get("errors").is_none(),
        "{}",
        template_change.text()
    );
    for (mutation, on, who) in [
        ("createChange", On::New, ENGINEER),
        ("createStandardChangeTemplate", On::New, MANAGER),
        ("retireStandardChangeTemplate", On::Template, MANAGER),
        ("createFreezeWindow", On::New, MANAGER),
        ("removeFreezeWindow", On::Freeze, MANAGER),
        ("updateChangePolicy", On::Policy, HEAD),
    ] {
        let response = call(&app, &fixtures, mutation, on, who).await;
        assert!(
            response.json().get("errors").is_none(),
            "{mutation} by {}: {}",
            who.subject,
            response.text()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Quorum and veto.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn by_default_two_approvals_authorize_and_abstentions_do_not_count() {
    let app = TestApp::new().await;
    let host = app.create_ci("SERVER", "web-01").await;
    let change = cab_change(&app, &[&host]).await;
    let version = change["version"].as_i64().expect("version");

    let change = app
        .vote(CAB[0], &change, "ABSTAIN", None)
        .await
        .expect("abstains");
    let change = app
        .vote(CAB[1], &change, "ABSTAIN", Some("no opinion"))
        .await
        .expect("abstains");
    assert_eq!(
        change["state"], "CAB_REVIEW",
        "two abstentions decide nothing"
    );
    let change = app
        .vote(CAB[2], &change, "APPROVE", Some("looks fine"))
        .await
        .expect("approves");
    assert_eq!(change["state"], "CAB_REVIEW", "one approval of two");
    assert_eq!(change["version"], version, "votes do not bump the version");
    assert!(change["decidedAt"].is_null());
    let change = app
        .vote(CAB[3], &change, "APPROVE", None)
        .await
        .expect("approves");
    assert_eq!(change["state"], "AUTHORIZED");
    assert_eq!(change["version"], version + 1);
    assert_eq!(
        instant(&change["decidedAt"]),
        instant(&json!("2026-01-05T09:00:00Z"))
    );
    assert_eq!(
        votes(&change),
        [
            vote_row(CAB[0], "CAB", "ABSTAIN"),
            vote_row(CAB[1], "CAB", "ABSTAIN"),
            vote_row(CAB[2], "CAB", "APPROVE"),
            vote_row(CAB[3], "CAB", "APPROVE"),
        ]
    );
    assert_eq!(change["votes"][2]["comment"], "looks fine");
    let events = history(&app, &change).await;
    assert_eq!(
        actions(&events),
        [
            "created",
            "submitted",
            "assessed",
            "referredToCab",
            "voted",
            "voted",
            "voted",
            "voted",
            "authorized"
        ]
    );
    let (_, actor, reason) = events.last().expect("authorized");
    assert_eq!(actor, CAB[3].subject, "the deciding vote authorizes");
    assert_eq!(
        reason.as_deref(),
        Some("2 approvals reached the quorum of 2")
    );

    // Decided: no more votes.
    let late = app
        .vote(CAB[4], &change, "APPROVE", None)
        .await
        .expect_err("decided");
    assert_eq!(late.first_code(), "INVALID_TRANSITION", "{}", late.text());
}

#[tokio::test]
async fn one_reject_vetoes_at_once_and_needs_a_comment() {
    let app = TestApp::new().await;
    let host = app.create_ci("SERVER", "web-01").await;
    let change = cab_change(&app, &[&host]).await;
    let change = app
        .vote(CAB[0], &change, "APPROVE", None)
        .await
        .expect("approves");

    let events = app.event_count().await;
    for comment in [None, Some("   ")] {
        let bare = app
            .vote(CAB[1], &change, "REJECT", comment)
            .await
            .expect_err("a reject needs a comment");
        assert_eq!(bare.first_code(), "BAD_USER_INPUT", "{}", bare.text());
        assert_eq!(bare.first_error()["extensions"]["field"], "comment");
    }
    assert_eq!(app.event_count().await, events, "nothing written");
    let unchanged = app.read_change(&change).await;
    assert_eq!(unchanged["state"], "CAB_REVIEW");
    assert_eq!(votes(&unchanged), [vote_row(CAB[0], "CAB", "APPROVE")]);

    let change = app
        .vote(CAB[1], &change, "REJECT", Some("no backout tested"))
        .await
        .expect("rejects");
    assert_eq!(change["state"], "REJECTED");
    assert_eq!(
        change["version"],
        unchanged["version"].as_i64().expect("v") + 1
    );
    assert_eq!(
        instant(&change["decidedAt"]),
        instant(&json!("2026-01-05T09:00:00Z"))
    );
    let events = history(&app, &change).await;
    assert_eq!(
        actions(&events)[events.len() - 3..],
        ["voted", "voted", "rejected"]
    );
    assert_eq!(
        events[events.len() - 2].2.as_deref(),
        Some("no backout tested"),
        "the vote's comment is its event's reason"
    );
    assert_eq!(
        events.last().expect("rejected").2.as_deref(),
        Some("vetoed by a REJECT vote (1 reject)")
    );
}

#[tokio::test]
async fn the_service_head_raises_the_quorum_to_three() {
    let app = TestApp::new().await;
    let host = app.create_ci("SERVER", "web-01").await;
    let change = cab_change(&app, &[&host]).await;
    let policy = update_policy(&app, json!({ "cabQuorum": 3 })).await;
    assert_eq!(policy["cabQuorum"], 3);
    assert_eq!(policy["version"], 2);
    assert_eq!(policy["updatedBy"], HEAD.subject);
    for (n, member) in CAB[..2].iter().enumerate() {
        let change = app
            .vote(*member, &change, "APPROVE", None)
            .await
            .expect("approves");
        assert_eq!(change["state"], "CAB_REVIEW", "{} approvals of 3", n + 1);
    }
    let change = app
        .vote(CAB[2], &change, "APPROVE", None)
        .await
        .expect("approves");
    assert_eq!(change["state"], "AUTHORIZED");
    let events = history(&app, &change).await;
    assert_eq!(
        events.last().expect("authorized").2.as_deref(),
        Some("3 approvals reached the quorum of 3")
    );
}

#[tokio::test]
async fn without_veto_rejections_reaching_the_quorum_reject_and_approvals_outvote_a_reject() {
    let app = TestApp::new().await;
    let first = app.create_ci("SERVER", "web-01").await;
    let second = app.create_ci("SERVER", "web-02").await;
    update_policy(&app, json!({ "rejectVetoes": false })).await;

    let rejected = cab_change(&app, &[&first]).await;
    let rejected = app
        .vote(CAB[0], &rejected, "REJECT", Some("too risky"))
        .await
        .expect("rejects");
    assert_eq!(
        rejected["state"], "CAB_REVIEW",
        "one reject no longer vetoes"
    );
    let rejected = app
        .vote(CAB[1], &rejected, "REJECT", Some("agreed"))
        .await
        .expect("rejects");
    assert_eq!(rejected["state"], "REJECTED");
    assert_eq!(
        history(&app, &rejected)
            .await
            .last()
            .expect("event")
            .2
            .as_deref(),
        Some("2 rejections reached the quorum of 2")
    );

    let authorized = cab_change(&app, &[&second]).await;
    let authorized = app
        .vote(CAB[0], &authorized, "REJECT", Some("too risky"))
        .await
        .expect("rejects");
    let authorized = app
        .vote(CAB[1], &authorized, "APPROVE", None)
        .await
        .expect("approves");
    assert_eq!(authorized["state"], "CAB_REVIEW");
    let authorized = app
        .vote(CAB[2], &authorized, "APPROVE", None)
        .await
        .expect("approves");
    assert_eq!(authorized["state"], "AUTHORIZED");
    assert_eq!(
        votes(&authorized),
        [
            vote_row(CAB[0], "CAB", "REJECT"),
            vote_row(CAB[1], "CAB", "APPROVE"),
            vote_row(CAB[2], "CAB", "APPROVE"),
        ]
    );
}

#[tokio::test]
async fn a_second_vote_replaces_the_first_and_both_stay_in_the_history() {
    let app = TestApp::new().await;
    let host = app.create_ci("SERVER", "web-01").await;
    let change = cab_change(&app, &[&host]).await;
    app.vote(CAB[0], &change, "APPROVE", Some("fine"))
        .await
        .expect("approves");
    app.clock.advance(chrono::Duration::minutes(5));
    let change = app
        .vote(CAB[0], &change, "ABSTAIN", Some("on second thoughts"))
        .await
        .expect("abstains");
    assert_eq!(votes(&change), [vote_row(CAB[0], "CAB", "ABSTAIN")]);
    assert_eq!(change["votes"][0]["comment"], "on second thoughts");
    let events = history(&app, &change).await;
    let voted: Vec<_> = events
        .iter()
        .filter(|(action, _, _)| action == "voted")
        .map(|(_, actor, reason)| (actor.as_str(), reason.as_deref()))
        .collect();
    assert_eq!(
        voted,
        [
            (CAB[0].subject, Some("fine")),
            (CAB[0].subject, Some("on second thoughts"))
        ]
    );
    // The replaced approval no longer counts: one approval of two.
    app.clock.advance(chrono::Duration::minutes(1));
    let change = app
        .vote(CAB[1], &change, "APPROVE", None)
        .await
        .expect("approves");
    assert_eq!(change["state"], "CAB_REVIEW");
    app.clock.advance(chrono::Duration::minutes(1));
    let change = app
        .vote(CAB[0], &change, "APPROVE", Some("convinced"))
        .await
        .expect("approves again");
    assert_eq!(change["state"], "AUTHORIZED");
    assert_eq!(
        votes(&change),
        [
            vote_row(CAB[1], "CAB", "APPROVE"),
            vote_row(CAB[0], "CAB", "APPROVE"),
        ],
        "oldest first: a replaced vote takes its new time"
    );
}

#[tokio::test]
async fn voting_outside_cab_review_is_an_invalid_transition() {
    let app = TestApp::new().await;
    let first = app.create_ci("SERVER", "web-01").await;
    let second = app.create_ci("SERVER", "web-02").await;
    let third = app.create_ci("SERVER", "web-03").await;
    let assessment = app.new_change("NORMAL", &[&first]).await;
    let assessment = app.act(ENGINEER, "submitChange", &assessment).await;
    let authorized = app.authorized_change(&[&second]).await;
    let rejected = cab_change(&app, &[&third]).await;
    let rejected = app
        .vote(CAB[0], &rejected, "REJECT", Some("no"))
        .await
        .expect("vetoes");
    assert_eq!(rejected["state"], "REJECTED");
    let emergency_authorized = emergency_change(&app, ENGINEER, &[&first]).await;
    let emergency_authorized = app
        .vote(MANAGER, &emergency_authorized, "APPROVE", None)
        .await
        .expect("the ECAB quorum is 1 by default");
    assert_eq!(emergency_authorized["state"], "AUTHORIZED");

    for (change, who) in [
        (&assessment, CAB[1]),
        (&authorized, CAB[1]),
        (&rejected, CAB[1]),
        (&emergency_authorized, SECOND_MANAGER),
    ] {
        let events = app.event_count().await;
        let response = app
            .vote(who, change, "APPROVE", None)
            .await
            .expect_err("not in CAB review");
        assert_eq!(
            response.first_code(),
            "INVALID_TRANSITION",
            "{}: {}",
            change["state"],
            response.text()
        );
        assert_eq!(app.event_count().await, events);
        assert_eq!(app.read_change(change).await["votes"], change["votes"]);
    }
}

#[tokio::test]
async fn an_ecab_quorum_of_two_needs_a_manager_and_the_head() {
    let app = TestApp::new().await;
    let host = app.create_ci("DATABASE", "payments-db").await;
    update_policy(&app, json!({ "ecabQuorum": 2 })).await;
    let change = emergency_change(&app, ENGINEER, &[&host]).await;
    let version = change["version"].as_i64().expect("version");
    let change = app
        .vote(MANAGER, &change, "APPROVE", Some("needed tonight"))
        .await
        .expect("a manager approves");
    assert_eq!(change["state"], "CAB_REVIEW", "one of two");
    app.clock.advance(chrono::Duration::minutes(1));
    let change = app
        .vote(HEAD, &change, "APPROVE", None)
        .await
        .expect("the head approves");
    assert_eq!(change["state"], "AUTHORIZED");
    assert_eq!(change["version"], version + 1);
    assert_eq!(
        votes(&change),
        [
            vote_row(MANAGER, "ECAB", "APPROVE"),
            vote_row(HEAD, "ECAB", "APPROVE"),
        ]
    );
    assert_eq!(
        history(&app, &change).await.last().expect("event"),
        &(
            "authorized".to_owned(),
            HEAD.subject.to_owned(),
            Some("2 approvals reached the quorum of 2".to_owned())
        )
    );
}

#[tokio::test]
async fn five_members_voting_at_once_all_count_and_the_change_is_authorized_once() {
    let app = TestApp::new().await;
    let host = app.create_ci("SERVER", "web-01").await;
    update_policy(&app, json!({ "cabQuorum": 5 })).await;
    let change = cab_change(&app, &[&host]).await;
    let version = change["version"].as_i64().expect("version");

    let (a, b, c, d, e) = tokio::join!(
        app.vote(CAB[0], &change, "APPROVE", None),
        app.vote(CAB[1], &change, "APPROVE", None),
        app.vote(CAB[2], &change, "APPROVE", None),
        app.vote(CAB[3], &change, "APPROVE", None),
        app.vote(CAB[4], &change, "APPROVE", None),
    );
    for result in [a, b, c, d, e] {
        if let Err(response) = result {
            panic!("a vote failed: {}", response.text());
        }
    }
    let change = app.read_change(&change).await;
    assert_eq!(change["state"], "AUTHORIZED");
    assert_eq!(change["version"], version + 1, "decided exactly once");
    let mut voters: Vec<_> = votes(&change)
        .into_iter()
        .map(|(voter, board, decision)| {
            assert_eq!((board.as_str(), decision.as_str()), ("CAB", "APPROVE"));
            voter
        })
        .collect();
    voters.sort();
    assert_eq!(voters, ["cab1", "cab2", "cab3", "cab4", "cab5"]);
    let events = history(&app, &change).await;
    let count = |name: &str| {
        events
            .iter()
            .filter(|(action, _, _)| action == name)
            .count()
    };
    assert_eq!(count("voted"), 5);
    assert_eq!(count("authorized"), 1);
    assert_eq!(
        events.last().expect("event").2.as_deref(),
        Some("5 approvals reached the quorum of 5")
    );
}

#[tokio::test]
async fn votes_past_the_quorum_arriving_at_once_find_the_change_decided() {
    let app = TestApp::new().await;
    let host = app.create_ci("SERVER", "web-01").await;
    let change = cab_change(&app, &[&host]).await;
    let version = change["version"].as_i64().expect("version");

    let results = {
        let (a, b, c, d, e) = tokio::join!(
            app.vote(CAB[0], &change, "APPROVE", None),
            app.vote(CAB[1], &change, "APPROVE", None),
            app.vote(CAB[2], &change, "APPROVE", None),
            app.vote(CAB[3], &change, "APPROVE", None),
            app.vote(CAB[4], &change, "APPROVE", None),
        );
        [a, b, c, d, e]
    };
    let mut counted = 0;
    for result in &results {
        match result {
            Ok(_) => counted += 1,
            Err(response) => assert_eq!(
                response.first_code(),
                "INVALID_TRANSITION",
                "a late vote: {}",
                response.text()
            ),
        }
    }
    assert_eq!(
        counted, 2,
        "the quorum of 2 decides; later votes find it decided"
    );
    let change = app.read_change(&change).await;
    assert_eq!(change["state"], "AUTHORIZED");
    assert_eq!(change["version"], version + 1);
    assert_eq!(votes(&change).len(), 2);
    let events = history(&app, &change).await;
    let count = |name: &str| {
        events
            .iter()
            .filter(|(action, _, _)| action == name)
            .count()
    };
    assert_eq!((count("voted"), count("authorized")), (2, 1));
}

// ---------------------------------------------------------------------------------------
// The policy.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_policy_defaults_to_quorum_two_with_veto_high_threshold_ecab_one_depth_three() {
    let app = TestApp::new().await;
    for who in [ENGINEER, MANAGER, CAB[0], HEAD] {
        let policy = app
            .data_by(
                who,
                &format!("{{ changePolicy {{ {POLICY_FIELDS} }} }}"),
                json!({}),
            )
            .await["changePolicy"]
            .clone();
        assert_eq!(
            policy,
            json!({
                "cabQuorum": 2,
                "rejectVetoes": true,
                "cabThreshold": "HIGH",
                "ecabQuorum": 1,
                "conflictDepth": 3,
                "version": 1,
                "updatedBy": null,
                "updatedAt": null,
            }),
            "as {}",
            who.subject
        );
    }
}

#[tokio::test]
async fn an_out_of_range_policy_is_bad_input_on_its_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let defaults = policy(&app).await;
    let cases = [
        (json!({ "cabQuorum": 0 }), "input.cabQuorum"),
        (json!({ "cabQuorum": 26 }), "input.cabQuorum"),
        (json!({ "cabQuorum": -1 }), "input.cabQuorum"),
        (json!({ "ecabQuorum": 0 }), "input.ecabQuorum"),
        (json!({ "ecabQuorum": 26 }), "input.ecabQuorum"),
        (json!({ "conflictDepth": -1 }), "input.conflictDepth"),
        (json!({ "conflictDepth": 7 }), "input.conflictDepth"),
        // One bad field spoils the whole update.
        (
            json!({ "cabQuorum": 3, "rejectVetoes": false, "conflictDepth": 9 }),
            "input.conflictDepth",
        ),
    ];
    for (input, field) in cases {
        let events = app.event_count().await;
        let response = app
            .graphql_by(
                HEAD,
                "mutation($input: UpdateChangePolicyInput!) { updateChangePolicy(input: $input) { version } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(
            response.first_code(),
            "BAD_USER_INPUT",
            "{input}: {}",
            response.text()
        );
        assert_eq!(
            response.first_error()["extensions"]["field"],
            field,
            "{input}"
        );
        assert_eq!(app.event_count().await, events, "{input}");
        assert_eq!(policy(&app).await, defaults, "{input}");
    }

    // The bounds themselves are fine; an update that changes nothing writes nothing.
    let updated = update_policy(
        &app,
        json!({ "cabQuorum": 25, "ecabQuorum": 25, "conflictDepth": 0, "cabThreshold": "MEDIUM", "rejectVetoes": false }),
    )
    .await;
    assert_eq!(
        (
            &updated["cabQuorum"],
            &updated["ecabQuorum"],
            &updated["conflictDepth"],
            &updated["cabThreshold"],
            &updated["rejectVetoes"],
            &updated["version"],
        ),
        (
            &json!(25),
            &json!(25),
            &json!(0),
            &json!("MEDIUM"),
            &json!(false),
            &json!(2)
        )
    );
    let updated = update_policy(
        &app,
        json!({ "conflictDepth": 6, "cabQuorum": 1, "ecabQuorum": 1 }),
    )
    .await;
    assert_eq!(updated["version"], 3);
    let events = app.event_count().await;
    let same = update_policy(&app, json!({ "conflictDepth": 6 })).await;
    assert_eq!(same, updated);
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn policy_updates_made_at_once_both_stay() {
    let app = TestApp::new().await;
    let update = |input: Value| {
        app.graphql_by(
            HEAD,
            "mutation($input: UpdateChangePolicyInput!) { updateChangePolicy(input: $input) { version } }",
            json!({ "input": input }),
        )
    };
    for round in 0..3_i64 {
        let quorum = 3 + round;
        let depth = 2 - round;
        let (a, b) = tokio::join!(
            update(json!({ "cabQuorum": quorum })),
            update(json!({ "conflictDepth": depth }))
        );
        for response in [&a, &b] {
            assert!(
                response.json().get("errors").is_none(),
                "{}",
                response.text()
            );
        }
        let mut versions = [
            a.json()["data"]["updateChangePolicy"]["version"].clone(),
            b.json()["data"]["updateChangePolicy"]["version"].clone(),
        ]
        .map(|version| version.as_i64().expect("version"));
        versions.sort_unstable();
        assert_eq!(versions, [2 + 2 * round, 3 + 2 * round], "one version each");
        let policy = policy(&app).await;
        assert_eq!(
            (
                &policy["cabQuorum"],
                &policy["conflictDepth"],
                &policy["version"]
            ),
            (&json!(quorum), &json!(depth), &json!(3 + 2 * round)),
            "round {round}: neither update was lost"
        );
    }
}
