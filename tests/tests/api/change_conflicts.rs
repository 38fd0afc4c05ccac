//! Conflicts, scheduling and risk through the API: SAME_CI, DEPENDENT_CI (one way, with the
//! path, within the policy's depth) and FREEZE_WINDOW conflicts with exact lists; scheduling
//! refused, overridden, held by freezes and raced; the change calendar; risk factors on a
//! crafted history; the blast radius.

use chrono::{DateTime, Duration, Utc};
use quorum_core::Clock;
use quorum_tests::change::{ENGINEER, HEAD, MANAGER, WINDOW_END, WINDOW_START};
use quorum_tests::{TestApp, TestResponse, at, instant};
use serde_json::{Value, json};

const CONFLICT_FIELDS: &str = "kind change { number } freezeWindow { name } item { number } affectedItem { number } path { number } overlapStart overlapEnd";

fn rfc(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339()
}

fn number(value: &Value) -> String {
    value["number"].as_str().expect("a number").to_owned()
}

/// One conflict as the tests compare it: kind, the other change's number or the freeze
/// window's name, the CI in conflict, our CI, the path, and the overlap.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    kind: String,
    other: String,
    item: Option<String>,
    affected: Option<String>,
    path: Vec<String>,
    overlap: (DateTime<Utc>, DateTime<Utc>),
}

fn seen(
    kind: &str,
    other: &str,
    item: Option<&Value>,
    affected: Option<&Value>,
    path: &[&Value],
    overlap: (&str, &str),
) -> Seen {
    Seen {
        kind: kind.to_owned(),
        other: other.to_owned(),
        item: item.map(number),
        affected: affected.map(number),
        path: path.iter().map(|item| number(item)).collect(),
        overlap: (at(overlap.0), at(overlap.1)),
    }
}

/// A SAME_CI conflict with `other` on `item`.
fn same_ci(other: &Value, item: &Value, overlap: (&str, &str)) -> Seen {
    seen(
        "SAME_CI",
        &number(other),
        Some(item),
        Some(item),
        &[],
        overlap,
    )
}

/// A DEPENDENT_CI conflict with `other`, from our CI (first of `path`) to its (last).
fn dependent_ci(other: &Value, path: &[&Value], overlap: (&str, &str)) -> Seen {
    seen(
        "DEPENDENT_CI",
        &number(other),
        path.last().copied(),
        path.first().copied(),
        path,
        overlap,
    )
}

/// A FREEZE_WINDOW conflict with the window `name` (on `item`, or every CI).
fn frozen(name: &str, item: Option<&Value>, overlap: (&str, &str)) -> Seen {
    seen("FREEZE_WINDOW", name, item, item, &[], overlap)
}

/// The change's conflicts, as a CAB member reads them.
async fn conflicts(app: &TestApp, change: &Value) -> Vec<Seen> {
    let data = app
        .data_by(
            quorum_tests::change::CAB[0],
            &format!(
                "query($id: ID) {{ change(id: $id) {{ conflicts {{ {CONFLICT_FIELDS} }} }} }}"
            ),
            json!({ "id": change["id"] }),
        )
        .await;
    data["change"]["conflicts"]
        .as_array()
        .unwrap_or_else(|| panic!("no conflicts field: {data}"))
        .iter()
        .map(|conflict| Seen {
            kind: conflict["kind"].as_str().expect("kind").to_owned(),
            other: conflict["change"]["number"]
                .as_str()
                .or(conflict["freezeWindow"]["name"].as_str())
                .expect("a change or a freeze window")
                .to_owned(),
            item: conflict["item"]["number"].as_str().map(str::to_owned),
            affected: conflict["affectedItem"]["number"]
                .as_str()
                .map(str::to_owned),
            path: conflict["path"]
                .as_array()
                .expect("path")
                .iter()
                .map(number)
                .collect(),
            overlap: (
                instant(&conflict["overlapStart"]),
                instant(&conflict["overlapEnd"]),
            ),
        })
        .collect()
}

/// Conflicts of changes in DRAFT are read by someone who sees drafts.
async fn draft_conflicts(app: &TestApp, change: &Value) -> Vec<Seen> {
    let data = app
        .data_by(
            MANAGER,
            &format!(
                "query($id: ID) {{ change(id: $id) {{ conflicts {{ {CONFLICT_FIELDS} }} }} }}"
            ),
            json!({ "id": change["id"] }),
        )
        .await;
    let value = data["change"]["conflicts"].clone();
    value
        .as_array()
        .expect("conflicts")
        .iter()
        .map(|conflict| Seen {
            kind: conflict["kind"].as_str().expect("kind").to_owned(),
            other: conflict["change"]["number"]
                .as_str()
                .or(conflict["freezeWindow"]["name"].as_str())
                .expect("other")
                .to_owned(),
            item: conflict["item"]["number"].as_str().map(str::to_owned),
            affected: conflict["affectedItem"]["number"]
                .as_str()
                .map(str::to_owned),
            path: conflict["path"]
                .as_array()
                .expect("path")
                .iter()
                .map(number)
                .collect(),
            overlap: (
                instant(&conflict["overlapStart"]),
                instant(&conflict["overlapEnd"]),
            ),
        })
        .collect()
}

/// The change's newest event: (action, reason).
async fn last_event(app: &TestApp, change: &Value) -> (String, Option<String>) {
    let data = app
        .data_by(
            MANAGER,
            "query($id: ID) { change(id: $id) { history(first: 1) { nodes { action reason } } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    let event = &data["change"]["history"]["nodes"][0];
    (
        event["action"].as_str().expect("action").to_owned(),
        event["reason"].as_str().map(str::to_owned),
    )
}

/// A NORMAL change on `items` in `[start, end)` (none: no window) driven to AUTHORIZED.
async fn authorized_in(app: &TestApp, items: &[&Value], window: Option<(&str, &str)>) -> Value {
    let (start, end) = window.map_or((Value::Null, Value::Null), |(start, end)| {
        (json!(start), json!(end))
    });
    let change = app
        .new_change_with(
            "NORMAL",
            items,
            json!({ "plannedStart": start, "plannedEnd": end }),
        )
        .await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    app.act(MANAGER, "authorizeChange", &change).await
}

/// Schedules `change` into `[start, end)`, overriding conflicts when there are any.
async fn scheduled_in(app: &TestApp, change: &Value, start: &str, end: &str) -> Value {
    app.schedule_in(change, start, end, true, Some("planned together"))
        .await
        .unwrap_or_else(|response| panic!("scheduleChange failed: {}", response.text()))
}

/// A DRAFT change on `items` in `[start, end)`.
async fn draft_in(app: &TestApp, items: &[&Value], start: &str, end: &str) -> Value {
    app.new_change_with(
        "NORMAL",
        items,
        json!({ "plannedStart": start, "plannedEnd": end }),
    )
    .await
}

async fn set_conflict_depth(app: &TestApp, depth: i64) {
    app.data_by(
        HEAD,
        "mutation($depth: Int!) { updateChangePolicy(input: { conflictDepth: $depth }) { conflictDepth } }",
        json!({ "depth": depth }),
    )
    .await;
}

async fn freeze(app: &TestApp, name: &str, start: &str, end: &str, items: &[&Value]) -> Value {
    let ci_ids: Option<Vec<Value>> = if items.is_empty() {
        None
    } else {
        Some(items.iter().map(|item| item["id"].clone()).collect())
    };
    app.data_by(
        MANAGER,
        "mutation($name: String!, $start: DateTime!, $end: DateTime!, $ciIds: [ID!]) { createFreezeWindow(name: $name, start: $start, end: $end, ciIds: $ciIds) { id name global items { number } } }",
        json!({ "name": name, "start": start, "end": end, "ciIds": ci_ids }),
    )
    .await["createFreezeWindow"]
        .clone()
}

/// `extensions.conflicts` of a refused schedule: (kind, change, freeze window, item, path).
/// `extensions.conflicts` reduced to what these tests compare: kind, the other change's number,
/// the freeze window's name, the CI's number and the path's numbers (the extension carries the
/// `ChangeConflict` shape, with ids and names besides).
fn extension_conflicts(response: &TestResponse) -> Vec<Value> {
    response.first_error()["extensions"]["conflicts"]
        .as_array()
        .unwrap_or_else(|| panic!("no extensions.conflicts: {}", response.text()))
        .iter()
        .map(|conflict| {
            json!({
                "kind": conflict["kind"],
                "change": conflict["change"]["number"],
                "freezeWindow": conflict["freezeWindow"]["name"],
                "item": conflict["item"]["number"],
                "path": conflict["path"]
                    .as_array()
                    .map(|path| path.iter().map(|item| item["number"].clone()).collect::<Vec<_>>())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Conflicts.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn same_ci_conflicts_are_in_flight_changes_with_overlapping_windows() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "orders-db").await;
    let (ten, noon) = (WINDOW_START, WINDOW_END);

    // Done or not yet decided, in the same window: none of these count.
    let closed = app.scheduled_change(&[&db]).await;
    let closed = app.start_implementation(&closed).await;
    let closed = app.complete(&closed, "SUCCESSFUL").await;
    let in_review = authorized_in(&app, &[&db], Some((ten, noon))).await;
    let in_review = app.schedule(&in_review).await.expect("schedules");
    let in_review = app.start_implementation(&in_review).await;
    let in_review = app.complete(&in_review, "FAILED").await;
    let closed = app.act(MANAGER, "closeChange", &closed).await;
    assert_eq!(closed["state"], "CLOSED");
    assert_eq!(in_review["state"], "REVIEW");
    let draft = draft_in(&app, &[&db], ten, noon).await;
    let assessment = draft_in(&app, &[&db], ten, noon).await;
    let assessment = app.act(ENGINEER, "submitChange", &assessment).await;
    let cancelled = authorized_in(&app, &[&db], Some((ten, noon))).await;
    let cancelled = app
        .change_action(
            ENGINEER,
            "cancelChange",
            &cancelled,
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "not needed" }),
        )
        .await
        .expect("cancels");
    assert_eq!(cancelled["state"], "CANCELLED");
    let rejected = draft_in(&app, &[&db], ten, noon).await;
    let rejected = app.act(ENGINEER, "submitChange", &rejected).await;
    let rejected = app
        .change_action(
            MANAGER,
            "rejectChange",
            &rejected,
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "no" }),
        )
        .await
        .expect("rejects");
    assert_eq!(rejected["state"], "REJECTED");

    // In flight: these do, where their windows overlap ours (10:00–12:00).
    let authorized = authorized_in(
        &app,
        &[&db],
        Some(("2026-01-10T09:00:00Z", "2026-01-10T11:00:00Z")),
    )
    .await;
    let scheduled = authorized_in(&app, &[&db], None).await;
    let scheduled = scheduled_in(&app, &scheduled, ten, noon).await;
    let implementing = authorized_in(&app, &[&db], None).await;
    let implementing = scheduled_in(
        &app,
        &implementing,
        "2026-01-10T11:00:00Z",
        "2026-01-10T13:00:00Z",
    )
    .await;
    let implementing = app.start_implementation(&implementing).await;
    assert_eq!(implementing["state"], "IMPLEMENTING");
    // In flight, but only touching our window's ends: [start, end) windows do not overlap.
    let before = authorized_in(
        &app,
        &[&db],
        Some(("2026-01-10T08:00:00Z", "2026-01-10T10:00:00Z")),
    )
    .await;
    let after = authorized_in(
        &app,
        &[&db],
        Some(("2026-01-10T12:00:00Z", "2026-01-10T14:00:00Z")),
    )
    .await;

    let mine = draft_in(&app, &[&db], ten, noon).await;
    assert_eq!(
        draft_conflicts(&app, &mine).await,
        [
            same_ci(&authorized, &db, (ten, "2026-01-10T11:00:00Z")),
            same_ci(&scheduled, &db, (ten, noon)),
            same_ci(&implementing, &db, ("2026-01-10T11:00:00Z", noon)),
        ]
    );
    // The draft, the one in assessment and the one in review see the same three; so does a
    // change that is itself in flight (not itself, not the drafts).
    for change in [&draft, &in_review] {
        assert_eq!(draft_conflicts(&app, change).await.len(), 3);
    }
    assert_eq!(
        conflicts(&app, &scheduled).await,
        [
            same_ci(&authorized, &db, (ten, "2026-01-10T11:00:00Z")),
            same_ci(&implementing, &db, ("2026-01-10T11:00:00Z", noon)),
        ]
    );
    assert_eq!(
        conflicts(&app, &before).await,
        [same_ci(
            &authorized,
            &db,
            ("2026-01-10T09:00:00Z", "2026-01-10T10:00:00Z")
        )]
    );
    assert_eq!(
        conflicts(&app, &after).await,
        [same_ci(
            &implementing,
            &db,
            ("2026-01-10T12:00:00Z", "2026-01-10T13:00:00Z")
        )]
    );
    assert_eq!(assessment["state"], "ASSESSMENT");
    // A change without a window has no conflicts.
    let unplanned = app
        .new_change_with(
            "NORMAL",
            &[&db],
            json!({ "plannedStart": null, "plannedEnd": null }),
        )
        .await;
    assert_eq!(draft_conflicts(&app, &unplanned).await, []);
}

#[tokio::test]
async fn dependent_ci_conflicts_follow_relationships_one_way_within_the_policy_depth() {
    let app = TestApp::new().await;
    // web → api → db → vm (DEPENDS_ON, DEPENDS_ON, HOSTED_ON): a change to vm impacts them all.
    let web = app.create_ci("APPLICATION", "web").await;
    let api = app.create_ci("APPLICATION", "api").await;
    let db = app.create_ci("DATABASE", "db").await;
    let vm = app.create_ci("VIRTUAL_MACHINE", "vm").await;
    app.relate(&web, "DEPENDS_ON", &api).await;
    app.relate(&api, "DEPENDS_ON", &db).await;
    app.relate(&db, "HOSTED_ON", &vm).await;
    // billing → ledger ← audit: siblings that only share a dependency.
    let billing = app.create_ci("APPLICATION", "billing").await;
    let audit = app.create_ci("APPLICATION", "audit").await;
    let ledger = app.create_ci("DATABASE", "ledger").await;
    app.relate(&billing, "DEPENDS_ON", &ledger).await;
    app.relate(&audit, "DEPENDS_ON", &ledger).await;
    let w = (WINDOW_START, WINDOW_END);

    let on_vm = app.scheduled_change(&[&vm]).await;
    let on_db = authorized_in(&app, &[&db], Some(w)).await;
    let on_billing = authorized_in(&app, &[&billing], Some(w)).await;
    let on_ledger = authorized_in(&app, &[&ledger], Some(w)).await;

    let mine_on_web = draft_in(&app, &[&web], w.0, w.1).await;
    let mine_on_vm = draft_in(&app, &[&vm], w.0, w.1).await;
    let mine_on_audit = draft_in(&app, &[&audit], w.0, w.1).await;
    let mine_on_api_and_db = draft_in(&app, &[&api, &db], w.0, w.1).await;

    // Default depth 3: along the dependencies from web, 2 and 3 hops away.
    assert_eq!(
        draft_conflicts(&app, &mine_on_web).await,
        [
            dependent_ci(&on_vm, &[&web, &api, &db, &vm], w),
            dependent_ci(&on_db, &[&web, &api, &db], w),
        ]
    );
    // The other way, along the impact from vm: the change on db is 1 hop away.
    assert_eq!(
        draft_conflicts(&app, &mine_on_vm).await,
        [
            same_ci(&on_vm, &vm, w),
            dependent_ci(&on_db, &[&vm, &db], w)
        ]
    );
    // Shared dependency: audit and billing are not in conflict; audit and ledger are.
    assert_eq!(
        draft_conflicts(&app, &mine_on_audit).await,
        [dependent_ci(&on_ledger, &[&audit, &ledger], w)]
    );
    // Two of ours: the path starts at the nearest of them.
    assert_eq!(
        draft_conflicts(&app, &mine_on_api_and_db).await,
        [
            same_ci(&on_db, &db, w),
            dependent_ci(&on_vm, &[&db, &vm], w),
        ]
    );
    // In-flight changes see each other the same way.
    assert_eq!(
        conflicts(&app, &on_billing).await,
        [dependent_ci(&on_ledger, &[&billing, &ledger], w)]
    );
    assert_eq!(
        conflicts(&app, &on_db).await,
        [dependent_ci(&on_vm, &[&db, &vm], w)]
    );

    // Depth 2: vm is 3 hops from web; depth 1: db is 2.
    set_conflict_depth(&app, 2).await;
    assert_eq!(
        draft_conflicts(&app, &mine_on_web).await,
        [dependent_ci(&on_db, &[&web, &api, &db], w)]
    );
    set_conflict_depth(&app, 1).await;
    assert_eq!(draft_conflicts(&app, &mine_on_web).await, []);
    assert_eq!(
        draft_conflicts(&app, &mine_on_vm).await,
        [
            same_ci(&on_vm, &vm, w),
            dependent_ci(&on_db, &[&vm, &db], w)
        ]
    );
    // Depth 0: the same CIs only.
    set_conflict_depth(&app, 0).await;
    assert_eq!(
        draft_conflicts(&app, &mine_on_vm).await,
        [same_ci(&on_vm, &vm, w)]
    );
    assert_eq!(draft_conflicts(&app, &mine_on_audit).await, []);
}

#[tokio::test]
async fn freeze_windows_hold_every_ci_or_the_ones_they_name() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "orders-db").await;
    let web = app.create_ci("APPLICATION", "orders-web").await;
    let other = app.create_ci("SERVER", "unrelated").await;
    let global = freeze(
        &app,
        "Year end",
        "2026-01-10T00:00:00Z",
        "2026-01-11T00:00:00Z",
        &[],
    )
    .await;
    assert_eq!(global["global"], true);
    assert_eq!(global["items"], json!([]));
    let scoped = freeze(
        &app,
        "Database maintenance",
        "2026-01-10T11:00:00Z",
        "2026-01-10T15:00:00Z",
        &[&web, &db],
    )
    .await;
    assert_eq!(scoped["global"], false);
    assert_eq!(
        scoped["items"],
        json!([{ "number": number(&db) }, { "number": number(&web) }])
    );
    freeze(
        &app,
        "Not ours",
        "2026-01-10T00:00:00Z",
        "2026-01-11T00:00:00Z",
        &[&other],
    )
    .await;
    freeze(
        &app,
        "Next week",
        "2026-01-12T00:00:00Z",
        "2026-01-13T00:00:00Z",
        &[],
    )
    .await;

    let w = (WINDOW_START, WINDOW_END);
    let mine = draft_in(&app, &[&db, &web], w.0, w.1).await;
    assert_eq!(
        draft_conflicts(&app, &mine).await,
        [
            frozen(
                "Database maintenance",
                Some(&db),
                ("2026-01-10T11:00:00Z", w.1)
            ),
            frozen(
                "Database maintenance",
                Some(&web),
                ("2026-01-10T11:00:00Z", w.1)
            ),
            frozen("Year end", None, w),
        ]
    );
    // Outside every freeze: nothing.
    let later = draft_in(&app, &[&db], "2026-01-11T00:00:00Z", "2026-01-11T02:00:00Z").await;
    assert_eq!(draft_conflicts(&app, &later).await, []);
    // Only the global freeze holds a CI no freeze names.
    let elsewhere = draft_in(
        &app,
        &[&other],
        "2026-01-10T16:00:00Z",
        "2026-01-10T17:00:00Z",
    )
    .await;
    assert_eq!(
        draft_conflicts(&app, &elsewhere).await,
        [
            frozen(
                "Not ours",
                Some(&other),
                ("2026-01-10T16:00:00Z", "2026-01-10T17:00:00Z")
            ),
            frozen(
                "Year end",
                None,
                ("2026-01-10T16:00:00Z", "2026-01-10T17:00:00Z")
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Scheduling.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_conflicting_schedule_is_refused_with_its_conflicts_unless_overridden_with_a_reason() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "orders-db").await;
    let web = app.create_ci("APPLICATION", "orders-web").await;
    app.relate(&web, "DEPENDS_ON", &db).await;
    let on_db = app.scheduled_change(&[&db]).await;
    let on_web = authorized_in(&app, &[&web], Some((WINDOW_START, WINDOW_END))).await;
    let mine = authorized_in(&app, &[&db], None).await;

    let expected = json!([
        { "kind": "SAME_CI", "change": number(&on_db), "freezeWindow": null, "item": number(&db), "path": [] },
        { "kind": "DEPENDENT_CI", "change": number(&on_web), "freezeWindow": null, "item": number(&web), "path": [number(&db), number(&web)] },
    ]);
    let events = app.event_count().await;
    let refused = app.schedule(&mine).await.expect_err("conflicts");
    assert_eq!(refused.first_code(), "CONFLICT", "{}", refused.text());
    assert_eq!(json!(extension_conflicts(&refused)), expected);
    let message = refused.first_error()["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(message.contains(&number(&on_db)), "{message}");
    assert!(message.contains("override with a reason"), "{message}");

    // Overriding needs a reason; a blank one is none.
    for reason in [None, Some("  ")] {
        let bare = app
            .schedule_in(&mine, WINDOW_START, WINDOW_END, true, reason)
            .await
            .expect_err("no reason");
        assert_eq!(bare.first_code(), "BAD_USER_INPUT", "{}", bare.text());
        assert_eq!(bare.first_error()["extensions"]["field"], "reason");
    }
    assert_eq!(app.event_count().await, events, "nothing written");
    let unchanged = app.read_change(&mine).await;
    assert_eq!(
        (
            &unchanged["state"],
            &unchanged["version"],
            &unchanged["plannedStart"]
        ),
        (&mine["state"], &mine["version"], &Value::Null)
    );

    let scheduled = app
        .schedule_in(
            &mine,
            WINDOW_START,
            WINDOW_END,
            true,
            Some("the vendor is only available then"),
        )
        .await
        .expect("overrides");
    assert_eq!(scheduled["state"], "SCHEDULED");
    assert_eq!(
        scheduled["scheduleOverrideReason"],
        "the vendor is only available then"
    );
    assert_eq!(
        scheduled["version"],
        mine["version"].as_i64().expect("v") + 1
    );
    assert_eq!(instant(&scheduled["plannedStart"]), at(WINDOW_START));
    assert_eq!(app.event_count().await, events + 1);
    assert_eq!(
        last_event(&app, &scheduled).await,
        (
            "scheduled".to_owned(),
            Some(format!(
                "scheduled over 2 conflicts: SAME_CI {} on {}; DEPENDENT_CI {} on {} via {} → {}; reason: the vendor is only available then",
                number(&on_db),
                number(&db),
                number(&on_web),
                number(&web),
                number(&db),
                number(&web)
            ))
        )
    );

    // Moved to a free window, it carries no override reason any more.
    let moved = app
        .schedule_in(
            &scheduled,
            "2026-01-11T10:00:00Z",
            "2026-01-11T11:00:00Z",
            false,
            None,
        )
        .await
        .expect("reschedules");
    assert_eq!(moved["state"], "SCHEDULED");
    assert!(moved["scheduleOverrideReason"].is_null(), "{moved}");
    assert_eq!(
        last_event(&app, &moved).await,
        ("scheduled".to_owned(), None)
    );
}

#[tokio::test]
async fn a_freeze_holds_normal_changes_even_overridden_but_not_emergency_ones() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "orders-db").await;
    let other = app.create_ci("SERVER", "other").await;
    freeze(
        &app,
        "Year end",
        "2026-01-10T00:00:00Z",
        "2026-01-11T00:00:00Z",
        &[],
    )
    .await;
    let normal = authorized_in(&app, &[&db], None).await;
    let events = app.event_count().await;
    for (override_conflicts, reason) in [(false, None), (true, Some("it is urgent, honestly"))] {
        let refused = app
            .schedule_in(
                &normal,
                WINDOW_START,
                WINDOW_END,
                override_conflicts,
                reason,
            )
            .await
            .expect_err("frozen");
        assert_eq!(refused.first_code(), "CONFLICT", "{}", refused.text());
        assert_eq!(
            json!(extension_conflicts(&refused)),
            json!([{ "kind": "FREEZE_WINDOW", "change": null, "freezeWindow": "Year end", "item": null, "path": [] }])
        );
        let message = refused.first_error()["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(
            message.contains("gives way only to EMERGENCY changes"),
            "{message}"
        );
    }
    assert_eq!(app.event_count().await, events, "nothing written");
    assert_eq!(app.read_change(&normal).await["state"], "AUTHORIZED");

    // An EMERGENCY change goes through the freeze without asking.
    let emergency = app
        .new_change_with(
            "EMERGENCY",
            &[&db],
            json!({ "plannedStart": null, "plannedEnd": null }),
        )
        .await;
    let emergency = app.act(ENGINEER, "submitChange", &emergency).await;
    let emergency = app.assess(&emergency, TestApp::low_risk_answers()).await;
    let emergency = app
        .vote(MANAGER, &emergency, "APPROVE", None)
        .await
        .expect("the ECAB approves");
    assert_eq!(emergency["state"], "AUTHORIZED");
    let scheduled = app.schedule(&emergency).await.expect("not held by freezes");
    assert_eq!(scheduled["state"], "SCHEDULED");
    assert!(scheduled["scheduleOverrideReason"].is_null());
    assert_eq!(
        last_event(&app, &scheduled).await,
        (
            "scheduled".to_owned(),
            Some("scheduled over 1 conflict: FREEZE_WINDOW `Year end` on every CI".to_owned())
        )
    );
    assert_eq!(
        conflicts(&app, &scheduled).await,
        [frozen("Year end", None, (WINDOW_START, WINDOW_END))]
    );

    // But not through another change's CI: only what blocks is listed.
    let second = app
        .new_change_with(
            "EMERGENCY",
            &[&db, &other],
            json!({ "plannedStart": null, "plannedEnd": null }),
        )
        .await;
    let second = app.act(ENGINEER, "submitChange", &second).await;
    let second = app.assess(&second, TestApp::low_risk_answers()).await;
    let second = app
        .vote(MANAGER, &second, "APPROVE", None)
        .await
        .expect("approves");
    let refused = app.schedule(&second).await.expect_err("same CI");
    assert_eq!(refused.first_code(), "CONFLICT");
    assert_eq!(
        json!(extension_conflicts(&refused)),
        json!([{ "kind": "SAME_CI", "change": number(&emergency), "freezeWindow": null, "item": number(&db), "path": [] }])
    );
    let overridden = app
        .schedule_in(&second, WINDOW_START, WINDOW_END, true, Some("same outage"))
        .await
        .expect("overrides the change, not needing to for the freeze");
    assert_eq!(overridden["scheduleOverrideReason"], "same outage");
}

#[tokio::test]
async fn a_bad_freeze_window_is_refused_on_its_argument_and_removing_one_frees_its_span() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "orders-db").await;
    let retired = app.create_ci("SERVER", "old-host").await;
    let response = app
        .graphql_by(
            ENGINEER,
            "mutation($id: ID!) { retireConfigurationItem(id: $id, version: 1) { status } }",
            json!({ "id": retired["id"] }),
        )
        .await;
    assert!(
        response.json().get("errors").is_none(),
        "{}",
        response.text()
    );
    const CREATE: &str = "mutation($name: String!, $start: DateTime!, $end: DateTime!, $reason: String, $ciIds: [ID!]) { createFreezeWindow(name: $name, start: $start, end: $end, reason: $reason, ciIds: $ciIds) { id name reason global items { number } } }";
    let valid = json!({ "name": "Year end", "start": "2026-01-10T00:00:00Z", "end": "2026-01-11T00:00:00Z", "reason": "audit", "ciIds": [db["id"]] });
    let with = |key: &str, value: Value| {
        let mut variables = valid.clone();
        variables[key] = value;
        variables
    };
    let events = app.event_count().await;
    for (variables, field) in [
        (with("name", json!("   ")), "name"),
        (with("name", json!("x".repeat(201))), "name"),
        (with("reason", json!("x".repeat(5_001))), "reason"),
        (with("end", json!("2026-01-10T00:00:00Z")), "end"),
        (with("end", json!("2026-01-09T00:00:00Z")), "end"),
        (with("ciIds", json!(["no-such-ci"])), "ciIds"),
        (with("ciIds", json!([db["id"], retired["id"]])), "ciIds"),
    ] {
        let refused = app.graphql_by(MANAGER, CREATE, variables.clone()).await;
        assert_eq!(
            refused.first_code(),
            "BAD_USER_INPUT",
            "{variables}: {}",
            refused.text()
        );
        assert_eq!(
            refused.first_error()["extensions"]["field"],
            field,
            "{variables}"
        );
    }
    assert_eq!(app.event_count().await, events, "nothing written");
    let listed = app
        .data_by(
            MANAGER,
            "{ freezeWindows(from: \"2020-01-01T00:00:00Z\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["freezeWindows"], json!([]));

    let created = app.data_by(MANAGER, CREATE, valid).await["createFreezeWindow"].clone();
    assert_eq!(created["reason"], "audit");
    let change = authorized_in(&app, &[&db], None).await;
    let refused = app.schedule(&change).await.expect_err("frozen");
    assert_eq!(refused.first_code(), "CONFLICT");

    let removed = app
        .data_by(
            MANAGER,
            "mutation($id: ID!) { removeFreezeWindow(id: $id) { name global items { number } } }",
            json!({ "id": created["id"] }),
        )
        .await["removeFreezeWindow"]
        .clone();
    assert_eq!(
        removed,
        json!({ "name": "Year end", "global": false, "items": [{ "number": number(&db) }] })
    );
    let again = app
        .graphql_by(
            MANAGER,
            "mutation($id: ID!) { removeFreezeWindow(id: $id) { id } }",
            json!({ "id": created["id"] }),
        )
        .await;
    assert_eq!(again.first_code(), "NOT_FOUND", "{}", again.text());
    let scheduled = app.schedule(&change).await.expect("the span is free again");
    assert_eq!(scheduled["state"], "SCHEDULED");
    assert!(scheduled["scheduleOverrideReason"].is_null());
}

#[tokio::test]
async fn two_changes_scheduled_at_once_into_the_same_window_on_one_ci_cannot_both_succeed() {
    let app = TestApp::new().await;
    for round in 0..3 {
        let item = app.create_ci("DATABASE", &format!("db-{round}")).await;
        let first = authorized_in(&app, &[&item], None).await;
        let second = authorized_in(&app, &[&item], None).await;
        let (a, b) = tokio::join!(app.schedule(&first), app.schedule(&second));
        let (winner, loser, refused) = match (a, b) {
            (Ok(_), Err(refused)) => (&first, &second, refused),
            (Err(refused), Ok(_)) => (&second, &first, refused),
            (Ok(_), Ok(_)) => panic!("round {round}: both were scheduled into one window"),
            (Err(a), Err(b)) => panic!("round {round}: both refused: {} / {}", a.text(), b.text()),
        };
        assert_eq!(refused.first_code(), "CONFLICT", "{}", refused.text());
        assert_eq!(
            json!(extension_conflicts(&refused)),
            json!([{ "kind": "SAME_CI", "change": number(winner), "freezeWindow": null, "item": number(&item), "path": [] }])
        );
        assert_eq!(app.read_change(winner).await["state"], "SCHEDULED");
        let loser = app.read_change(loser).await;
        assert_eq!(loser["state"], "AUTHORIZED");
        assert!(loser["plannedStart"].is_null());
    }
}

// ---------------------------------------------------------------------------------------
// The calendar.
// ---------------------------------------------------------------------------------------

async fn calendar(
    app: &TestApp,
    from: &str,
    to: &str,
    ci_ids: Option<Vec<&Value>>,
) -> TestResponse {
    app.graphql_by(
        quorum_tests::change::CAB[0],
        "query($from: DateTime!, $to: DateTime!, $ciIds: [ID!]) { changeCalendar(from: $from, to: $to, ciIds: $ciIds) { from to changes { number state } freezeWindows { name } } }",
        json!({
            "from": from,
            "to": to,
            "ciIds": ci_ids.map(|items| items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>()),
        }),
    )
    .await
}

async fn calendar_lists(app: &TestApp, ci_ids: Option<Vec<&Value>>) -> (Vec<String>, Vec<String>) {
    let response = calendar(app, "2026-01-06T00:00:00Z", "2026-01-13T00:00:00Z", ci_ids).await;
    let json = response.json();
    assert!(json.get("errors").is_none(), "{}", response.text());
    let calendar = &json["data"]["changeCalendar"];
    assert_eq!(instant(&calendar["from"]), at("2026-01-06T00:00:00Z"));
    assert_eq!(instant(&calendar["to"]), at("2026-01-13T00:00:00Z"));
    let names = |list: &Value, key: &str| {
        list.as_array()
            .expect("list")
            .iter()
            .map(|entry| entry[key].as_str().expect("text").to_owned())
            .collect::<Vec<_>>()
    };
    (
        names(&calendar["changes"], "number"),
        names(&calendar["freezeWindows"], "name"),
    )
}

#[tokio::test]
async fn the_calendar_lists_in_flight_changes_by_planned_start_and_the_freezes_of_a_range() {
    let app = TestApp::new().await;
    let c1 = app.create_ci("SERVER", "c1").await;
    let c2 = app.create_ci("SERVER", "c2").await;
    let c3 = app.create_ci("SERVER", "c3").await;

    let a = app.scheduled_change(&[&c1]).await; // Jan 10 10:00
    let b = authorized_in(
        &app,
        &[&c2],
        Some(("2026-01-08T10:00:00Z", "2026-01-08T11:00:00Z")),
    )
    .await;
    let c = authorized_in(&app, &[&c1], None).await;
    let c = scheduled_in(&app, &c, "2026-01-12T09:00:00Z", "2026-01-12T10:00:00Z").await;
    let c = app.start_implementation(&c).await;
    // Straddles the start of the range.
    let g = authorized_in(
        &app,
        &[&c2],
        Some(("2026-01-05T12:00:00Z", "2026-01-07T00:00:00Z")),
    )
    .await;
    // Same start as `a`: by number.
    let h = authorized_in(&app, &[&c3], Some((WINDOW_START, WINDOW_END))).await;
    // Not listed: a draft, a closed change and changes outside the range.
    draft_in(&app, &[&c1], "2026-01-09T10:00:00Z", "2026-01-09T11:00:00Z").await;
    let closed = authorized_in(&app, &[&c3], None).await;
    let closed = scheduled_in(
        &app,
        &closed,
        "2026-01-07T10:00:00Z",
        "2026-01-07T11:00:00Z",
    )
    .await;
    let closed = app.start_implementation(&closed).await;
    let closed = app.complete(&closed, "SUCCESSFUL").await;
    app.act(MANAGER, "closeChange", &closed).await;
    authorized_in(
        &app,
        &[&c3],
        Some(("2026-02-20T10:00:00Z", "2026-02-20T11:00:00Z")),
    )
    .await;
    authorized_in(
        &app,
        &[&c1],
        Some(("2026-01-13T00:00:00Z", "2026-01-13T01:00:00Z")),
    )
    .await;
    authorized_in(
        &app,
        &[&c1],
        Some(("2026-01-05T10:00:00Z", "2026-01-06T00:00:00Z")),
    )
    .await;

    freeze(
        &app,
        "Release freeze",
        "2026-01-11T00:00:00Z",
        "2026-01-11T06:00:00Z",
        &[],
    )
    .await;
    freeze(
        &app,
        "c2 maintenance",
        "2026-01-09T00:00:00Z",
        "2026-01-09T06:00:00Z",
        &[&c2],
    )
    .await;
    freeze(
        &app,
        "c3 patching",
        "2026-01-07T00:00:00Z",
        "2026-01-07T06:00:00Z",
        &[&c3],
    )
    .await;
    freeze(
        &app,
        "Later",
        "2026-01-20T00:00:00Z",
        "2026-01-21T00:00:00Z",
        &[],
    )
    .await;
    freeze(
        &app,
        "Earlier",
        "2026-01-05T00:00:00Z",
        "2026-01-06T00:00:00Z",
        &[&c1],
    )
    .await;

    let numbers = |changes: &[&Value]| {
        changes
            .iter()
            .map(|change| number(change))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        calendar_lists(&app, None).await,
        (
            numbers(&[&g, &b, &a, &h, &c]),
            vec![
                "c3 patching".to_owned(),
                "c2 maintenance".to_owned(),
                "Release freeze".to_owned()
            ]
        )
    );
    assert_eq!(
        calendar_lists(&app, Some(vec![&c1])).await,
        (numbers(&[&a, &c]), vec!["Release freeze".to_owned()])
    );
    assert_eq!(
        calendar_lists(&app, Some(vec![&c2, &c3])).await,
        (
            numbers(&[&g, &b, &h]),
            vec![
                "c3 patching".to_owned(),
                "c2 maintenance".to_owned(),
                "Release freeze".to_owned()
            ]
        )
    );

    // At most 400 days; `to` after `from`.
    let long = calendar(&app, "2026-01-01T00:00:00Z", "2027-02-05T00:00:00Z", None).await;
    let json = long.json();
    assert!(
        json.get("errors").is_none(),
        "400 days are fine: {}",
        long.text()
    );
    for (from, to) in [
        ("2026-01-01T00:00:00Z", "2027-02-05T00:00:01Z"),
        ("2026-01-01T00:00:00Z", "2027-06-01T00:00:00Z"),
        ("2026-01-06T00:00:00Z", "2026-01-06T00:00:00Z"),
        ("2026-01-06T00:00:00Z", "2026-01-05T00:00:00Z"),
    ] {
        let refused = calendar(&app, from, to, None).await;
        assert_eq!(
            refused.first_code(),
            "BAD_USER_INPUT",
            "{from}..{to}: {}",
            refused.text()
        );
        assert_eq!(refused.first_error()["extensions"]["field"], "to");
    }
}

// ---------------------------------------------------------------------------------------
// Risk.
// ---------------------------------------------------------------------------------------

/// A NORMAL change on `items` that completes with `outcome` at `completed`: created two days
/// before, driven through the API while the clock moves.
async fn past_change(app: &TestApp, items: &[&Value], outcome: &str, completed: DateTime<Utc>) {
    app.clock.set(completed - Duration::days(2));
    let change = authorized_in(
        app,
        items,
        Some((
            &rfc(completed - Duration::hours(1)),
            &rfc(completed + Duration::hours(1)),
        )),
    )
    .await;
    let change = app
        .schedule_in(
            &change,
            &rfc(completed - Duration::hours(1)),
            &rfc(completed + Duration::hours(1)),
            false,
            None,
        )
        .await
        .unwrap_or_else(|response| panic!("scheduleChange failed: {}", response.text()));
    app.clock.set(completed - Duration::minutes(30));
    let change = app.start_implementation(&change).await;
    app.clock.set(completed);
    let change = app.complete(&change, outcome).await;
    assert_eq!(instant(&change["completedAt"]), completed);
}

fn factors(change: &Value) -> Vec<(String, i64, String)> {
    change["risk"]["factors"]
        .as_array()
        .unwrap_or_else(|| panic!("no risk: {change}"))
        .iter()
        .map(|factor| {
            (
                factor["name"].as_str().expect("name").to_owned(),
                factor["points"].as_i64().expect("points"),
                factor["detail"].as_str().expect("detail").to_owned(),
            )
        })
        .collect()
}

fn factor(name: &str, points: i64, detail: &str) -> (String, i64, String) {
    (name.to_owned(), points, detail.to_owned())
}

#[tokio::test]
async fn risk_adds_explained_factors_from_answers_criticality_services_and_recent_failures() {
    let app = TestApp::new().await;
    let now = app.clock.now();
    app.clock.set(now - Duration::days(210));
    let host = app
        .create_ci_with(json!({ "class": "SERVER", "name": "pay-host", "environment": "PRODUCTION", "criticality": 1 }))
        .await;
    let service_app = app
        .create_ci_with(json!({ "class": "APPLICATION", "name": "pay-app", "environment": "PRODUCTION", "criticality": 3 }))
        .await;
    let payments = app
        .create_ci_with(json!({ "class": "BUSINESS_SERVICE", "name": "Payments", "environment": "PRODUCTION", "criticality": 3 }))
        .await;
    let checkout = app
        .create_ci_with(json!({ "class": "BUSINESS_SERVICE", "name": "Checkout", "environment": "PRODUCTION", "criticality": 2 }))
        .await;
    // Upstream of pay-app, not in its blast radius: its criticality does not count.
    let reporting = app
        .create_ci_with(json!({ "class": "BUSINESS_SERVICE", "name": "Reporting", "environment": "PRODUCTION", "criticality": 1 }))
        .await;
    let unrelated = app
        .create_ci_with(json!({ "class": "SERVER", "name": "elsewhere", "environment": "PRODUCTION", "criticality": 4 }))
        .await;
    app.relate(&service_app, "HOSTED_ON", &host).await;
    app.relate(&payments, "DEPENDS_ON", &service_app).await;
    app.relate(&checkout, "DEPENDS_ON", &payments).await;
    app.relate(&service_app, "DEPENDS_ON", &reporting).await;

    // 200 days ago: too old to count.
    past_change(&app, &[&service_app], "FAILED", now - Duration::days(200)).await;
    // Within 180 days, on one or both of the CIs: 2 failures of 4.
    past_change(&app, &[&host], "FAILED", now - Duration::days(179)).await;
    past_change(
        &app,
        &[&service_app, &host],
        "BACKED_OUT",
        now - Duration::days(100),
    )
    .await;
    past_change(
        &app,
        &[&service_app],
        "SUCCESSFUL",
        now - Duration::days(30),
    )
    .await;
    // On another CI: does not count.
    past_change(&app, &[&unrelated], "FAILED", now - Duration::days(20)).await;
    past_change(
        &app,
        &[&host],
        "SUCCESSFUL_WITH_ISSUES",
        now - Duration::days(10),
    )
    .await;
    app.clock.set(now);
    // Not completed: does not count.
    authorized_in(&app, &[&host], None).await;

    let change = app.new_change("NORMAL", &[&service_app, &host]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app
        .assess(
            &change,
            json!({ "userImpact": "MEDIUM", "outageRequired": true, "tested": true, "backoutTested": false, "doneBefore": true }),
        )
        .await;
    let expected = [
        factor("userImpact", 10, "user impact MEDIUM"),
        factor("outageRequired", 15, "an outage is required"),
        factor("tested", 0, "the change has been tested"),
        factor("backoutTested", 10, "the backout plan has not been tested"),
        factor("doneBefore", 0, "this change has been done before"),
        factor(
            "affectedItemCriticality",
            15,
            &format!(
                "most critical affected CI: {} pay-host (criticality 1)",
                number(&host)
            ),
        ),
        factor(
            "businessServiceCriticality",
            6,
            &format!(
                "most critical business service in the blast radius: {} Checkout (criticality 2)",
                number(&checkout)
            ),
        ),
        // 15 × 2/4 = 7.5, rounded.
        factor(
            "failureHistory",
            8,
            "2 of 4 changes on these CIs in the last 180 days failed or were backed out",
        ),
    ];
    assert_eq!(factors(&change), expected);
    let sum: i64 = expected.iter().map(|(_, points, _)| points).sum();
    assert_eq!(change["risk"]["score"], sum);
    assert_eq!(sum, 64);
    assert_eq!(change["risk"]["level"], "HIGH");
    let risk = app
        .data_by(
            MANAGER,
            "query($id: ID) { change(id: $id) { risk { assessedAt assessedBy questionnaire { userImpact outageRequired tested backoutTested doneBefore } } } }",
            json!({ "id": change["id"] }),
        )
        .await["change"]["risk"]
        .clone();
    assert_eq!(instant(&risk["assessedAt"]), now);
    assert_eq!(risk["assessedBy"], MANAGER.subject);
    assert_eq!(
        risk["questionnaire"],
        json!({ "userImpact": "MEDIUM", "outageRequired": true, "tested": true, "backoutTested": false, "doneBefore": true })
    );
    // The high risk sends it to the CAB: the manager may not authorize it alone.
    let refused = app
        .change_action(MANAGER, "authorizeChange", &change, "", "", json!({}))
        .await
        .expect_err("at or above the CAB threshold");
    assert_eq!(refused.first_code(), "INVALID_TRANSITION");

    // A business service among the affected CIs counts as one in the blast radius.
    let change = app.new_change("NORMAL", &[&checkout]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let by_name = factors(&change);
    assert_eq!(
        by_name[5..7],
        [
            factor(
                "affectedItemCriticality",
                10,
                &format!(
                    "most critical affected CI: {} Checkout (criticality 2)",
                    number(&checkout)
                ),
            ),
            factor(
                "businessServiceCriticality",
                6,
                &format!(
                    "most critical business service in the blast radius: {} Checkout (criticality 2)",
                    number(&checkout)
                ),
            ),
        ]
    );
    assert_eq!(change["risk"]["score"], 16);
    assert_eq!(change["risk"]["level"], "LOW");

    // A change with no history, no service and a criticality-4 CI scores only its answers.
    let quiet = app
        .create_ci_with(
            json!({ "class": "SERVER", "name": "quiet", "environment": "TEST", "criticality": 4 }),
        )
        .await;
    let change = app.new_change("NORMAL", &[&quiet]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::high_risk_answers()).await;
    assert_eq!(
        factors(&change),
        [
            factor("userImpact", 15, "user impact HIGH"),
            factor("outageRequired", 15, "an outage is required"),
            factor("tested", 15, "the change has not been tested"),
            factor("backoutTested", 10, "the backout plan has not been tested"),
            factor("doneBefore", 5, "this change has not been done before"),
            factor(
                "affectedItemCriticality",
                0,
                &format!(
                    "most critical affected CI: {} quiet (criticality 4)",
                    number(&quiet)
                ),
            ),
            factor(
                "businessServiceCriticality",
                0,
                "no business service within 5 hops"
            ),
            factor(
                "failureHistory",
                0,
                "no change on these CIs completed in the last 180 days",
            ),
        ]
    );
    assert_eq!(change["risk"]["score"], 60);
    assert_eq!(change["risk"]["level"], "HIGH");
}

// ---------------------------------------------------------------------------------------
// Blast radius.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_blast_radius_is_the_union_of_the_affected_cis_impact_from_the_nearest_root() {
    let app = TestApp::new().await;
    let server = app.create_ci("SERVER", "s").await;
    let db = app.create_ci("DATABASE", "d").await;
    let upstream = app.create_ci("SERVER", "u").await;
    let a = app.create_ci("APPLICATION", "a").await;
    let b = app.create_ci("APPLICATION", "b").await;
    let e = app.create_ci("APPLICATION", "e").await;
    let x = app.create_ci("BUSINESS_SERVICE", "x").await;
    let y = app.create_ci("BUSINESS_SERVICE", "y").await;
    // A root reached from the other root stays a root.
    app.relate(&db, "HOSTED_ON", &server).await;
    // What d depends on is not impacted by a change to it.
    app.relate(&db, "DEPENDS_ON", &upstream).await;
    app.relate(&a, "DEPENDS_ON", &db).await;
    app.relate(&b, "HOSTED_ON", &server).await;
    // e is 2 hops from d (through a) but 1 from s: its path starts at s.
    app.relate(&e, "DEPENDS_ON", &a).await;
    app.relate(&e, "HOSTED_ON", &server).await;
    app.relate(&x, "DEPENDS_ON", &a).await;
    app.relate(&y, "DEPENDS_ON", &b).await;
    // Submitted: CAB members, who read it here, do not see drafts.
    let change = app.new_change("NORMAL", &[&db, &server]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let radius = |depth: i64| {
        app.graphql_by(
            quorum_tests::change::CAB[0],
            "query($id: ID, $depth: Int!) { change(id: $id) { blastRadius(depth: $depth) { depth truncated roots { number } items { item { number } distance relationshipType path { number } } businessServices { item { number } distance path { number } } } } }",
            json!({ "id": change["id"], "depth": depth }),
        )
    };

    let entry = |item: &Value, distance: i64, via: &str, path: &[&Value]| {
        json!({
            "item": { "number": number(item) },
            "distance": distance,
            "relationshipType": via,
            "path": path.iter().map(|item| json!({ "number": number(item) })).collect::<Vec<_>>(),
        })
    };
    let service = |item: &Value, distance: i64, path: &[&Value]| {
        json!({
            "item": { "number": number(item) },
            "distance": distance,
            "path": path.iter().map(|item| json!({ "number": number(item) })).collect::<Vec<_>>(),
        })
    };
    let response = radius(5).await;
    let json = response.json();
    assert!(json.get("errors").is_none(), "{}", response.text());
    assert_eq!(
        json["data"]["change"]["blastRadius"],
        json!({
            "depth": 5,
            "truncated": false,
            "roots": [{ "number": number(&server) }, { "number": number(&db) }],
            "items": [
                entry(&a, 1, "DEPENDS_ON", &[&db, &a]),
                entry(&b, 1, "HOSTED_ON", &[&server, &b]),
                entry(&e, 1, "HOSTED_ON", &[&server, &e]),
                entry(&x, 2, "DEPENDS_ON", &[&db, &a, &x]),
                entry(&y, 2, "DEPENDS_ON", &[&server, &b, &y]),
            ],
            "businessServices": [
                service(&x, 2, &[&db, &a, &x]),
                service(&y, 2, &[&server, &b, &y]),
            ],
        })
    );

    let response = radius(1).await;
    let json = response.json();
    let shallow = &json["data"]["change"]["blastRadius"];
    assert_eq!(shallow["truncated"], true, "{}", response.text());
    assert_eq!(
        shallow["items"],
        json!([
            entry(&a, 1, "DEPENDS_ON", &[&db, &a]),
            entry(&b, 1, "HOSTED_ON", &[&server, &b]),
            entry(&e, 1, "HOSTED_ON", &[&server, &e]),
        ])
    );
    assert_eq!(shallow["businessServices"], json!([]));

    for depth in [0, 11] {
        let refused = radius(depth).await;
        assert_eq!(refused.first_code(), "BAD_USER_INPUT", "{}", refused.text());
        assert_eq!(refused.first_error()["extensions"]["field"], "depth");
    }
}
