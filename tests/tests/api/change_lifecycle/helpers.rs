//! The helpers of the change life cycle suite: people, instants, refusals, reads and moves;
//! every change mutation called with valid arguments and changes parked in each state; lists
//! and lookups.

use std::collections::HashMap;

use quorum_core::Role;
use quorum_tests::change::{
    self, CAB, CHANGE_FIELDS, ENGINEER, HEAD, IMPLEMENTER, MANAGER, Person, WINDOW_END,
    WINDOW_START,
};
use quorum_tests::{TestApp, TestResponse, at, optional_instant};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Helpers: people, instants, refusals, reads and moves
// ---------------------------------------------------------------------------------------

/// A change manager who also sits on the CAB: eligible for every change mutation on every
/// type (votes included) and never the requester, so only the state can stand in the way.
pub(super) const BOARD_MANAGER: Person = Person {
    subject: "cora",
    roles: &[Role::ChangeManager, Role::CabMember],
};

/// Asserts that each named timestamp of `change` is the given instant (or null).
pub(super) fn assert_times(change: &Value, expected: &[(&str, Option<&str>)]) {
    for (field, when) in expected {
        assert_eq!(
            optional_instant(&change[*field]),
            when.map(at),
            "{field} of {}",
            change["number"]
        );
    }
}

/// Sets the test clock.
pub(super) fn set_clock(app: &TestApp, text: &str) {
    app.clock.set(at(text));
}

/// How a call was refused.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) code: String,
    pub(super) message: String,
    pub(super) field: Option<String>,
}

/// The one error of a call that must have failed.
pub(super) fn refused(result: Result<Value, TestResponse>) -> Refusal {
    let response = match result {
        Ok(value) => panic!("expected a refusal, got {value}"),
        Err(response) => response,
    };
    let json = response.json();
    let errors = json["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", response.text());
    let error = &errors[0];
    Refusal {
        code: error["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned(),
        message: error["message"].as_str().unwrap_or_default().to_owned(),
        field: error["extensions"]["field"].as_str().map(str::to_owned),
    }
}

/// Asserts a refusal's code and returns its message.
pub(super) fn refused_with(result: Result<Value, TestResponse>, code: &str) -> String {
    let refusal = refused(result);
    assert_eq!(refusal.code, code, "{refusal:?}");
    refusal.message
}

/// Asserts a BAD_USER_INPUT refusal on `field` and returns its message.
pub(super) fn bad_input(result: Result<Value, TestResponse>, field: &str) -> String {
    let refusal = refused(result);
    assert_eq!(refusal.code, "BAD_USER_INPUT", "{refusal:?}");
    assert_eq!(refusal.field.as_deref(), Some(field), "{refusal:?}");
    refusal.message
}

/// Runs a query or mutation as `who`; the field's value or the failed response.
pub(super) async fn run(
    app: &TestApp,
    who: Person,
    query: &str,
    field: &str,
    variables: Value,
) -> Result<Value, TestResponse> {
    let response = app.graphql_by(who, query, variables).await;
    let json = response.json();
    if json.get("errors").is_some() {
        return Err(response);
    }
    Ok(json["data"][field].clone())
}

/// The change as `who` reads it now (null when they may not see it).
pub(super) async fn read_as(app: &TestApp, who: Person, change: &Value) -> Value {
    app.data_by(
        who,
        &format!("query($id: ID) {{ change(id: $id) {{ {CHANGE_FIELDS} }} }}"),
        json!({ "id": change["id"] }),
    )
    .await["change"]
        .clone()
}

pub(super) async fn read(app: &TestApp, change: &Value) -> Value {
    read_as(app, MANAGER, change).await
}

/// One event of a change's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Event {
    pub(super) action: String,
    pub(super) actor: String,
    pub(super) reason: Option<String>,
}

pub(super) fn event(action: &str, actor: Person, reason: Option<&str>) -> Event {
    Event {
        action: action.to_owned(),
        actor: actor.subject.to_owned(),
        reason: reason.map(str::to_owned),
    }
}

/// `Change.history`, oldest first.
pub(super) async fn history(app: &TestApp, change: &Value) -> Vec<Event> {
    let data = app
        .data_by(
            MANAGER,
            "query($id: ID) { change(id: $id) { history(first: 100) { totalCount nodes { action actor reason } } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    let history = &data["change"]["history"];
    let mut events: Vec<Event> = history["nodes"]
        .as_array()
        .expect("history nodes")
        .iter()
        .map(|node| Event {
            action: node["action"].as_str().unwrap_or_default().to_owned(),
            actor: node["actor"].as_str().unwrap_or_default().to_owned(),
            reason: node["reason"].as_str().map(str::to_owned),
        })
        .collect();
    assert_eq!(history["totalCount"], json!(events.len()));
    events.reverse();
    events
}

pub(super) fn actions(events: &[Event]) -> Vec<&str> {
    events.iter().map(|event| event.action.as_str()).collect()
}

/// `availableTransitions` for `who`: action → (allowed, reason).
pub(super) async fn transitions(
    app: &TestApp,
    who: Person,
    change: &Value,
) -> HashMap<String, (bool, Option<String>)> {
    let data = app
        .data_by(
            who,
            "query($id: ID) { change(id: $id) { availableTransitions { action allowed reason } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    let list = data["change"]["availableTransitions"]
        .as_array()
        .unwrap_or_else(|| panic!("{} cannot see {}", who.subject, change["number"]));
    assert_eq!(list.len(), 14, "one entry per action");
    list.iter()
        .map(|transition| {
            let allowed = transition["allowed"].as_bool().expect("allowed");
            let reason = transition["reason"].as_str().map(str::to_owned);
            assert_eq!(allowed, reason.is_none(), "{transition}");
            (
                transition["action"].as_str().expect("action").to_owned(),
                (allowed, reason),
            )
        })
        .collect()
}

/// Creates a NORMAL or EMERGENCY change as `who` from a full input.
pub(super) async fn create_as(
    app: &TestApp,
    who: Person,
    input: Value,
) -> Result<Value, TestResponse> {
    run(
        app,
        who,
        &format!("mutation($input: CreateChangeInput!) {{ createChange(input: $input) {{ {CHANGE_FIELDS} }} }}"),
        "createChange",
        json!({ "input": input }),
    )
    .await
}

pub(super) const TEMPLATE_FIELDS: &str = "id name description implementationPlan backoutPlan testPlan active version createdBy createdAt";

/// A standard change template created by the change manager.
pub(super) async fn create_template(app: &TestApp, name: &str) -> Value {
    app.data_by(
        MANAGER,
        &format!("mutation($input: CreateStandardChangeTemplateInput!) {{ createStandardChangeTemplate(input: $input) {{ {TEMPLATE_FIELDS} }} }}"),
        json!({ "input": {
            "name": name,
            "description": "Routine rotation",
            "implementationPlan": "Run the rotation job",
            "backoutPlan": "Restore the previous files",
            "testPlan": "Check the job's exit code",
        } }),
    )
    .await["createStandardChangeTemplate"]
        .clone()
}

/// Raises a STANDARD change from `template` as ENGINEER (standard window, IMPLEMENTER).
pub(super) async fn from_template(
    app: &TestApp,
    template: &Value,
    items: &[&Value],
) -> Result<Value, TestResponse> {
    run(
        app,
        ENGINEER,
        &format!("mutation($input: CreateChangeFromTemplateInput!) {{ createChangeFromTemplate(input: $input) {{ {CHANGE_FIELDS} template {{ id name }} implementationPlan backoutPlan testPlan description justification }} }}"),
        "createChangeFromTemplate",
        json!({ "input": {
            "templateId": template["id"],
            "affectedItemIds": items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>(),
            "plannedStart": WINDOW_START,
            "plannedEnd": WINDOW_END,
            "assignee": IMPLEMENTER.subject,
        } }),
    )
    .await
}

pub(super) async fn submitted(app: &TestApp, change_type: &str, item: &Value) -> Value {
    let change = app.new_change(change_type, &[item]).await;
    app.act(ENGINEER, "submitChange", &change).await
}

pub(super) async fn implementing(app: &TestApp, item: &Value) -> Value {
    let change = app.scheduled_change(&[item]).await;
    app.start_implementation(&change).await
}

pub(super) async fn reason_action(
    app: &TestApp,
    who: Person,
    name: &str,
    change: &Value,
    reason: &str,
) -> Result<Value, TestResponse> {
    app.change_action(
        who,
        name,
        change,
        ", $reason: String!",
        ", reason: $reason",
        json!({ "reason": reason }),
    )
    .await
}

pub(super) async fn record_review(
    app: &TestApp,
    change: &Value,
    lessons: &str,
    objectives_met: bool,
) -> Result<Value, TestResponse> {
    app.change_action(
        MANAGER,
        "recordReview",
        change,
        ", $lessons: String!, $met: Boolean!, $follow: String",
        ", lessonsLearned: $lessons, objectivesMet: $met, followUpActions: $follow",
        json!({ "lessons": lessons, "met": objectives_met, "follow": "Add a canary step" }),
    )
    .await
}

pub(super) async fn complete_with(
    app: &TestApp,
    change: &Value,
    outcome: &str,
    notes: Option<&str>,
) -> Result<Value, TestResponse> {
    app.change_action(
        IMPLEMENTER,
        "completeImplementation",
        change,
        ", $outcome: ChangeOutcome!, $notes: String",
        ", outcome: $outcome, notes: $notes",
        json!({ "outcome": outcome, "notes": notes }),
    )
    .await
}

pub(super) async fn update(
    app: &TestApp,
    who: Person,
    change: &Value,
    input: Value,
) -> Result<Value, TestResponse> {
    app.change_action(
        who,
        "updateChange",
        change,
        ", $input: UpdateChangeInput!",
        ", input: $input",
        json!({ "input": input }),
    )
    .await
}

/// `addChangeAffectedItems` or `removeChangeAffectedItems` as `who`.
pub(super) async fn edit_items(
    app: &TestApp,
    who: Person,
    name: &str,
    change: &Value,
    ci_ids: &[&Value],
) -> Result<Value, TestResponse> {
    app.change_action(
        who,
        name,
        change,
        ", $ciIds: [ID!]!",
        ", ciIds: $ciIds",
        json!({ "ciIds": ci_ids }),
    )
    .await
}

pub(super) fn numbers_of(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["number"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts that nothing was written since `events` were counted: same event count, and the
/// change as it was (`before`).
pub(super) async fn assert_unchanged(app: &TestApp, before: &Value, events: i64) {
    assert_eq!(app.event_count().await, events, "an event was written");
    let now = read(app, before).await;
    for field in [
        "version",
        "state",
        "title",
        "risk",
        "affectedItems",
        "votes",
        "plannedStart",
        "plannedEnd",
        "review",
        "outcome",
    ] {
        assert_eq!(now[field], before[field], "{field} of {}", before["number"]);
    }
}

// ---------------------------------------------------------------------------------------
// Helpers: every change mutation called with valid arguments, and changes parked in each state
// ---------------------------------------------------------------------------------------

/// Every change mutation.
pub(super) const MUTATIONS: [&str; 15] = [
    "updateChange",
    "addChangeAffectedItems",
    "removeChangeAffectedItems",
    "submitChange",
    "assessChange",
    "authorizeChange",
    "referChangeToCab",
    "rejectChange",
    "castCabVote",
    "scheduleChange",
    "startImplementation",
    "completeImplementation",
    "recordReview",
    "closeChange",
    "cancelChange",
];

/// The `availableTransitions` action behind a change mutation.
pub(super) fn action_of(mutation: &str) -> &'static str {
    change::action_of(mutation).unwrap_or_else(|| panic!("unknown mutation {mutation}"))
}

/// Who would normally call `mutation` on `change` (the requester, the assignee, the change
/// manager, a board member); None when that person cannot see it (a CAB member and a draft).
pub(super) fn usual_caller(mutation: &str, change: &Value) -> Option<Person> {
    match mutation {
        "updateChange"
        | "addChangeAffectedItems"
        | "removeChangeAffectedItems"
        | "submitChange"
        | "cancelChange" => Some(ENGINEER),
        "startImplementation" | "completeImplementation" => Some(IMPLEMENTER),
        "castCabVote" if change["type"] == "EMERGENCY" => Some(HEAD),
        "castCabVote" if change["state"] == "DRAFT" => None,
        "castCabVote" => Some(CAB[0]),
        _ => Some(MANAGER),
    }
}

/// Calls `mutation` on `change` as `who` with valid arguments (`spare` is a CI the change
/// does not touch).
pub(super) async fn call(
    app: &TestApp,
    who: Person,
    mutation: &str,
    change: &Value,
    spare: &Value,
) -> Result<Value, TestResponse> {
    match mutation {
        "updateChange" => update(app, who, change, json!({ "title": "Renamed" })).await,
        "addChangeAffectedItems" => edit_items(app, who, mutation, change, &[&spare["id"]]).await,
        "removeChangeAffectedItems" => {
            edit_items(
                app,
                who,
                mutation,
                change,
                &[&change["affectedItems"][0]["id"]],
            )
            .await
        }
        "assessChange" => {
            app.change_action(
                who,
                mutation,
                change,
                ", $input: RiskQuestionnaireInput!",
                ", input: $input",
                json!({ "input": TestApp::low_risk_answers() }),
            )
            .await
        }
        "authorizeChange" | "referChangeToCab" => {
            app.change_action(
                who,
                mutation,
                change,
                ", $reason: String",
                ", reason: $reason",
                json!({ "reason": "Because" }),
            )
            .await
        }
        "rejectChange" | "cancelChange" => {
            reason_action(app, who, mutation, change, "Because").await
        }
        "castCabVote" => app.vote(who, change, "APPROVE", Some("Fine")).await,
        "scheduleChange" => {
            app.change_action(
                who,
                mutation,
                change,
                ", $start: DateTime!, $end: DateTime!",
                ", plannedStart: $start, plannedEnd: $end",
                json!({ "start": "2026-02-01T10:00:00Z", "end": "2026-02-01T11:00:00Z" }),
            )
            .await
        }
        "completeImplementation" => {
            app.change_action(
                who,
                mutation,
                change,
                ", $outcome: ChangeOutcome!, $notes: String",
                ", outcome: $outcome, notes: $notes",
                json!({ "outcome": "SUCCESSFUL", "notes": "Done" }),
            )
            .await
        }
        "recordReview" => {
            app.change_action(
                who,
                mutation,
                change,
                ", $lessons: String!",
                ", lessonsLearned: $lessons",
                json!({ "lessons": "None" }),
            )
            .await
        }
        "startImplementation" => {
            // Outside its window (the suite's clock stands before it) a start needs a reason.
            app.change_action(
                who,
                mutation,
                change,
                ", $reason: String",
                ", reason: $reason",
                json!({ "reason": "Because" }),
            )
            .await
        }
        "submitChange" | "closeChange" => {
            app.change_action(who, mutation, change, "", "", json!({}))
                .await
        }
        other => panic!("unknown mutation {other}"),
    }
}

/// A change parked in a state, and the mutations legal on it there.
pub(super) struct Parked {
    pub(super) label: &'static str,
    pub(super) change: Value,
    pub(super) legal: &'static [&'static str],
}

pub(super) const EDITS: [&str; 3] = [
    "updateChange",
    "addChangeAffectedItems",
    "removeChangeAffectedItems",
];

/// One change in each state (and type where it matters), each on its own CI.
pub(super) async fn park_changes(app: &TestApp) -> Vec<Parked> {
    let mut items = Vec::new();
    for n in 0..14 {
        items.push(app.create_ci("SERVER", &format!("parked-{n:02}")).await);
    }
    let template = create_template(app, "Rotate the logs").await;

    let draft = app.new_change("NORMAL", &[&items[0]]).await;
    let standard_draft = from_template(app, &template, &[&items[1]])
        .await
        .expect("raised");
    let standard_authorized = from_template(app, &template, &[&items[2]])
        .await
        .expect("raised");
    let standard_authorized = app
        .act(ENGINEER, "submitChange", &standard_authorized)
        .await;
    let assessment = submitted(app, "NORMAL", &items[3]).await;
    let cab_review = app.referred_change(&[&items[4]]).await;
    let emergency = submitted(app, "EMERGENCY", &items[5]).await;
    let authorized = app.authorized_change(&[&items[6]]).await;
    let scheduled = app.scheduled_change(&[&items[7]]).await;
    let in_progress = implementing(app, &items[8]).await;
    let review = app
        .complete(&implementing(app, &items[9]).await, "SUCCESSFUL")
        .await;
    let failed = complete_with(
        app,
        &implementing(app, &items[10]).await,
        "FAILED",
        Some("Timed out"),
    )
    .await
    .expect("completes");
    let closed = app
        .complete(&implementing(app, &items[11]).await, "SUCCESSFUL")
        .await;
    let closed = app.act(MANAGER, "closeChange", &closed).await;
    let rejected = submitted(app, "NORMAL", &items[12]).await;
    let rejected = reason_action(app, MANAGER, "rejectChange", &rejected, "No")
        .await
        .expect("rejects");
    let cancelled = app.new_change("NORMAL", &[&items[13]]).await;
    let cancelled = reason_action(app, ENGINEER, "cancelChange", &cancelled, "No")
        .await
        .expect("cancels");

    const DRAFT: &[&str] = &[EDITS[0], EDITS[1], EDITS[2], "submitChange", "cancelChange"];
    vec![
        Parked {
            label: "NORMAL DRAFT",
            change: draft,
            legal: DRAFT,
        },
        Parked {
            label: "STANDARD DRAFT",
            change: standard_draft,
            legal: DRAFT,
        },
        Parked {
            label: "STANDARD AUTHORIZED",
            change: standard_authorized,
            legal: &["scheduleChange", "cancelChange"],
        },
        Parked {
            // Not yet assessed: authorize and refer wait for the assessment.
            label: "NORMAL ASSESSMENT",
            change: assessment,
            legal: &[
                EDITS[0],
                EDITS[1],
                EDITS[2],
                "assessChange",
                "rejectChange",
                "cancelChange",
            ],
        },
        Parked {
            label: "NORMAL CAB_REVIEW",
            change: cab_review,
            legal: &["castCabVote", "cancelChange"],
        },
        Parked {
            label: "EMERGENCY CAB_REVIEW",
            change: emergency,
            legal: &["assessChange", "castCabVote", "cancelChange"],
        },
        Parked {
            label: "NORMAL AUTHORIZED",
            change: authorized,
            legal: &["scheduleChange", "cancelChange"],
        },
        Parked {
            label: "NORMAL SCHEDULED",
            change: scheduled,
            legal: &["scheduleChange", "startImplementation", "cancelChange"],
        },
        Parked {
            label: "NORMAL IMPLEMENTING",
            change: in_progress,
            legal: &["completeImplementation"],
        },
        Parked {
            label: "NORMAL REVIEW (SUCCESSFUL)",
            change: review,
            legal: &["recordReview", "closeChange"],
        },
        Parked {
            // Closing waits for the review.
            label: "NORMAL REVIEW (FAILED)",
            change: failed,
            legal: &["recordReview"],
        },
        Parked {
            label: "NORMAL CLOSED",
            change: closed,
            legal: &[],
        },
        Parked {
            label: "NORMAL REJECTED",
            change: rejected,
            legal: &[],
        },
        Parked {
            label: "NORMAL CANCELLED",
            change: cancelled,
            legal: &[],
        },
    ]
}

/// Reads what `who` is offered for `mutation`, calls it, and checks they agree: an offered
/// move succeeds; a refused one fails with the offered reason as its message. Returns the
/// call's result and the error code when refused.
pub(super) async fn agrees(
    app: &TestApp,
    who: Person,
    mutation: &str,
    change: &Value,
    spare: &Value,
) -> Result<Value, String> {
    let (allowed, reason) = transitions(app, who, change).await[action_of(mutation)].clone();
    let events = app.event_count().await;
    let result = call(app, who, mutation, change, spare).await;
    if allowed {
        let value = result.unwrap_or_else(|response| {
            panic!(
                "{mutation} offered to {} but failed: {}",
                who.subject,
                response.text()
            )
        });
        assert!(app.event_count().await > events);
        Ok(value)
    } else {
        let refusal = refused(result);
        assert_eq!(
            Some(refusal.message.clone()),
            reason,
            "{mutation} as {}",
            who.subject
        );
        assert_unchanged(app, change, events).await;
        Err(refusal.code)
    }
}

// ---------------------------------------------------------------------------------------
// Helpers: lists and lookups
// ---------------------------------------------------------------------------------------

pub(super) const LIST: &str = "query($filter: ChangeFilter, $orderBy: ChangeOrder, $first: Int, $after: String) { changes(filter: $filter, orderBy: $orderBy, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { number } } }";

/// A page of `changes` as `who`: (totalCount, numbers, hasNextPage, endCursor).
pub(super) async fn list(
    app: &TestApp,
    who: Person,
    variables: Value,
) -> (i64, Vec<String>, bool, Option<String>) {
    let data = app.data_by(who, LIST, variables).await;
    let changes = &data["changes"];
    (
        changes["totalCount"].as_i64().expect("totalCount"),
        numbers_of(&changes["nodes"]),
        changes["pageInfo"]["hasNextPage"]
            .as_bool()
            .expect("hasNextPage"),
        changes["pageInfo"]["endCursor"].as_str().map(str::to_owned),
    )
}

/// The numbers of the changes matching `filter`, as `who`, newest first; checks totalCount.
pub(super) async fn matching(app: &TestApp, who: Person, filter: Value) -> Vec<String> {
    let (total, numbers, more, _) = list(app, who, json!({ "filter": filter })).await;
    assert_eq!(total, i64::try_from(numbers.len()).unwrap_or(-1));
    assert!(!more);
    numbers
}

pub(super) fn chg(numbers: &[u32]) -> Vec<String> {
    numbers.iter().map(|n| format!("CHG{n:07}")).collect()
}

/// `ConfigurationItem.changes` as `who`: (totalCount, numbers).
pub(super) async fn changes_of_item(
    app: &TestApp,
    who: Person,
    item: &Value,
) -> (i64, Vec<String>) {
    let data = app
        .data_by(
            who,
            "query($id: ID) { configurationItem(id: $id) { changes(first: 10) { totalCount nodes { number } } } }",
            json!({ "id": item["id"] }),
        )
        .await;
    let changes = &data["configurationItem"]["changes"];
    (
        changes["totalCount"].as_i64().expect("totalCount"),
        numbers_of(&changes["nodes"]),
    )
}

pub(super) async fn by_number(app: &TestApp, who: Person, number: &str) -> Value {
    app.data_by(
        who,
        "query($number: String) { change(number: $number) { number state } }",
        json!({ "number": number }),
    )
    .await["change"]
        .clone()
}

pub(super) const TEXT_FIELDS: &str = "title description justification implementationPlan backoutPlan testPlan assignee plannedStart plannedEnd version";

pub(super) async fn texts(app: &TestApp, change: &Value) -> Value {
    app.data_by(
        MANAGER,
        &format!("query($id: ID) {{ change(id: $id) {{ {TEXT_FIELDS} }} }}"),
        json!({ "id": change["id"] }),
    )
    .await["change"]
        .clone()
}
