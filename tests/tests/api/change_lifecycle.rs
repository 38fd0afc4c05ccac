//! The change life cycle end to end through the API: every legal path of each type to its end
//! (with the timestamps the moved clock gives), every mutation a state does not allow (refused
//! with INVALID_TRANSITION, writing nothing, and agreeing with `availableTransitions`), stale
//! and racing versions, the events each move writes, draft visibility for the CAB, lookups,
//! filters, ordering and paging, affected-item edits, clearing edits and retired templates.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use quorum_tests::change::{
    CAB, ENGINEER, HEAD, IMPLEMENTER, MANAGER, OTHER_ENGINEER, Person, SECOND_MANAGER, WINDOW_END,
    WINDOW_START,
};
use quorum_tests::{TestApp, at, optional_instant};
use serde_json::{Value, json};

mod helpers;

use helpers::*;

// ---------------------------------------------------------------------------------------
// 1. Every legal path to its end, with its timestamps; 4. the events (history, audit log) each
//    move writes, with actor and reason
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_standard_change_from_a_template_is_authorized_at_submit_and_closes() {
    let app = TestApp::new().await;
    let host = app.create_ci("SERVER", "log-host").await;
    let template = create_template(&app, "Rotate the logs").await;
    assert_eq!(template["active"], true);
    assert_eq!(template["createdBy"], "max");
    assert_eq!(template["version"], 1);

    app.clock.advance(Duration::minutes(5));
    let change = from_template(&app, &template, &[&host])
        .await
        .expect("raised from the template");
    assert_eq!(change["type"], "STANDARD");
    assert_eq!(change["state"], "DRAFT");
    assert_eq!(change["title"], "Rotate the logs");
    assert_eq!(change["requestedBy"], "eve");
    assert_eq!(change["template"]["id"], template["id"]);
    assert_eq!(change["implementationPlan"], "Run the rotation job");
    assert_eq!(change["backoutPlan"], "Restore the previous files");
    assert_eq!(change["testPlan"], "Check the job's exit code");
    assert_eq!(change["description"], "Routine rotation");
    assert_eq!(change["justification"], Value::Null);
    assert_eq!(change["risk"], Value::Null);

    set_clock(&app, "2026-01-05T10:00:00Z");
    let change = app.act(ENGINEER, "submitChange", &change).await;
    assert_eq!(change["state"], "AUTHORIZED");
    assert_eq!(
        change["risk"],
        json!({ "score": 0, "level": "LOW", "factors": [{
            "name": "standardTemplate",
            "points": 0,
            "detail": "pre-authorized standard change from template `Rotate the logs`",
        }] })
    );
    assert_times(
        &change,
        &[
            ("submittedAt", Some("2026-01-05T10:00:00Z")),
            ("decidedAt", Some("2026-01-05T10:00:00Z")),
            ("referredAt", None),
        ],
    );

    set_clock(&app, "2026-01-06T08:00:00Z");
    let change = app.schedule(&change).await.expect("schedules");
    assert_eq!(change["state"], "SCHEDULED");
    set_clock(&app, "2026-01-10T10:00:00Z");
    let change = app.start_implementation(&change).await;
    assert_eq!(change["state"], "IMPLEMENTING");
    assert_eq!(change["startedOutsideWindow"], false);
    set_clock(&app, "2026-01-10T10:20:00Z");
    let change = app.complete(&change, "SUCCESSFUL").await;
    assert_eq!(change["state"], "REVIEW");
    assert_eq!(change["reviewRequired"], false);
    set_clock(&app, "2026-01-10T13:00:00Z");
    let change = app.act(MANAGER, "closeChange", &change).await;
    assert_eq!(change["state"], "CLOSED");
    assert_eq!(change["version"], 6);
    assert_times(
        &change,
        &[
            ("submittedAt", Some("2026-01-05T10:00:00Z")),
            ("decidedAt", Some("2026-01-05T10:00:00Z")),
            ("actualStart", Some("2026-01-10T10:00:00Z")),
            ("actualEnd", Some("2026-01-10T10:20:00Z")),
            ("completedAt", Some("2026-01-10T10:20:00Z")),
            ("closedAt", Some("2026-01-10T13:00:00Z")),
        ],
    );
    assert_eq!(
        history(&app, &change).await,
        vec![
            event("created", ENGINEER, None),
            event("submitted", ENGINEER, None),
            event("scheduled", MANAGER, None),
            event(
                "implementationStarted",
                IMPLEMENTER,
                Some("the test starts it now")
            ),
            event("implementationCompleted", IMPLEMENTER, None),
            event("closed", MANAGER, None),
        ]
    );
}

#[tokio::test]
async fn a_low_risk_normal_change_is_authorized_by_the_manager_and_every_move_is_stamped_and_logged()
 {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&db]).await;
    assert_eq!(change["version"], 1);
    assert_times(
        &change,
        &[
            ("submittedAt", None),
            ("referredAt", None),
            ("decidedAt", None),
            ("actualStart", None),
            ("actualEnd", None),
            ("completedAt", None),
            ("closedAt", None),
        ],
    );

    set_clock(&app, "2026-01-05T10:00:00Z");
    let change = app.act(ENGINEER, "submitChange", &change).await;
    assert_eq!(change["state"], "ASSESSMENT");
    assert_eq!(change["version"], 2);

    set_clock(&app, "2026-01-05T11:00:00Z");
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    assert_eq!(change["state"], "ASSESSMENT");
    assert_eq!(change["risk"]["level"], "LOW");
    assert_eq!(change["risk"]["score"], 10, "{}", change["risk"]);

    set_clock(&app, "2026-01-05T12:00:00Z");
    let change = app
        .change_action(
            MANAGER,
            "authorizeChange",
            &change,
            ", $reason: String",
            ", reason: $reason",
            json!({ "reason": "Low risk, well rehearsed" }),
        )
        .await
        .expect("authorizes");
    assert_eq!(change["state"], "AUTHORIZED");

    set_clock(&app, "2026-01-06T09:00:00Z");
    let change = app.schedule(&change).await.expect("schedules");
    assert_eq!(change["state"], "SCHEDULED");
    assert_eq!(
        optional_instant(&change["plannedStart"]),
        Some(at(WINDOW_START))
    );
    assert_eq!(
        optional_instant(&change["plannedEnd"]),
        Some(at(WINDOW_END))
    );

    set_clock(&app, "2026-01-10T10:30:00Z");
    let change = app.start_implementation(&change).await;
    assert_eq!(change["startedOutsideWindow"], false);

    set_clock(&app, "2026-01-10T11:15:00Z");
    let change = app.complete(&change, "SUCCESSFUL").await;
    assert_eq!(change["state"], "REVIEW");
    assert_eq!(change["outcome"], "SUCCESSFUL");
    assert_eq!(change["reviewRequired"], false);

    set_clock(&app, "2026-01-10T12:15:00Z");
    let change = app.act(MANAGER, "closeChange", &change).await;
    assert_eq!(change["state"], "CLOSED");
    assert_eq!(change["version"], 8);
    assert_times(
        &change,
        &[
            ("submittedAt", Some("2026-01-05T10:00:00Z")),
            ("referredAt", None),
            ("decidedAt", Some("2026-01-05T12:00:00Z")),
            ("actualStart", Some("2026-01-10T10:30:00Z")),
            ("actualEnd", Some("2026-01-10T11:15:00Z")),
            ("completedAt", Some("2026-01-10T11:15:00Z")),
            ("closedAt", Some("2026-01-10T12:15:00Z")),
        ],
    );

    // Change.history: every move with its actor and reason.
    assert_eq!(
        history(&app, &change).await,
        vec![
            event("created", ENGINEER, None),
            event("submitted", ENGINEER, None),
            event("assessed", MANAGER, None),
            event("authorized", MANAGER, Some("Low risk, well rehearsed")),
            event("scheduled", MANAGER, None),
            event(
                "implementationStarted",
                IMPLEMENTER,
                Some("the test starts it now")
            ),
            event("implementationCompleted", IMPLEMENTER, None),
            event("closed", MANAGER, None),
        ]
    );

    // The audit log holds the same events, with when and the state after each.
    let data = app
        .data_by(
            MANAGER,
            "query($id: ID) { auditEvents(filter: { entityId: $id }, first: 50) { totalCount nodes { entityKind entityId action actor reason occurredAt before after } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    let log = &data["auditEvents"];
    assert_eq!(log["totalCount"], 8);
    let mut nodes = log["nodes"].as_array().expect("nodes").clone();
    nodes.reverse();
    let seen: Vec<(String, String, Option<DateTime<Utc>>, String)> = nodes
        .iter()
        .map(|node| {
            assert_eq!(node["entityKind"], "Change");
            assert_eq!(node["entityId"], change["id"]);
            (
                node["action"].as_str().unwrap_or_default().to_owned(),
                node["actor"].as_str().unwrap_or_default().to_owned(),
                optional_instant(&node["occurredAt"]),
                node["after"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let expected = [
        ("created", "eve", "2026-01-05T09:00:00Z", "DRAFT"),
        ("submitted", "eve", "2026-01-05T10:00:00Z", "ASSESSMENT"),
        ("assessed", "max", "2026-01-05T11:00:00Z", "ASSESSMENT"),
        ("authorized", "max", "2026-01-05T12:00:00Z", "AUTHORIZED"),
        ("scheduled", "max", "2026-01-06T09:00:00Z", "SCHEDULED"),
        (
            "implementationStarted",
            "ivan",
            "2026-01-10T10:30:00Z",
            "IMPLEMENTING",
        ),
        (
            "implementationCompleted",
            "ivan",
            "2026-01-10T11:15:00Z",
            "REVIEW",
        ),
        ("closed", "max", "2026-01-10T12:15:00Z", "CLOSED"),
    ]
    .map(|(action, actor, when, state)| {
        (
            action.to_owned(),
            actor.to_owned(),
            Some(at(when)),
            state.to_owned(),
        )
    });
    assert_eq!(seen, expected);
    assert_eq!(nodes[0]["before"], Value::Null, "a creation has no before");
    assert_eq!(nodes[1]["before"]["state"], "DRAFT");
    assert_eq!(nodes[3]["reason"], "Low risk, well rehearsed");
    assert_eq!(
        nodes[0]["after"]["affectedItemIds"],
        json!([db["id"]]),
        "the snapshot names the CIs"
    );
}

#[tokio::test]
async fn a_high_risk_normal_change_is_referred_to_the_cab_and_authorized_by_two_approvals() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "ledger-db").await;
    let change = submitted(&app, "NORMAL", &db).await;
    let change = app.assess(&change, TestApp::high_risk_answers()).await;
    assert_eq!(change["risk"]["level"], "HIGH");
    assert_eq!(change["risk"]["score"], 70, "{}", change["risk"]);

    // The manager may not authorize it alone.
    let events = app.event_count().await;
    let message = refused_with(
        app.change_action(MANAGER, "authorizeChange", &change, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 is HIGH risk, at or above the CAB threshold HIGH: refer it to the CAB"
    );
    assert_unchanged(&app, &change, events).await;

    set_clock(&app, "2026-01-05T10:00:00Z");
    let change = app
        .change_action(
            MANAGER,
            "referChangeToCab",
            &change,
            ", $reason: String",
            ", reason: $reason",
            json!({ "reason": "Touches the ledger" }),
        )
        .await
        .expect("refers");
    assert_eq!(change["state"], "CAB_REVIEW");
    assert_times(
        &change,
        &[
            ("referredAt", Some("2026-01-05T10:00:00Z")),
            ("decidedAt", None),
        ],
    );

    set_clock(&app, "2026-01-05T11:00:00Z");
    let change = app
        .vote(CAB[0], &change, "APPROVE", Some("Backout is solid"))
        .await
        .expect("votes");
    assert_eq!(
        change["state"], "CAB_REVIEW",
        "one approval is not the quorum"
    );
    assert_eq!(change["decidedAt"], Value::Null);
    set_clock(&app, "2026-01-05T12:00:00Z");
    let change = app
        .vote(CAB[1], &change, "APPROVE", None)
        .await
        .expect("votes");
    assert_eq!(change["state"], "AUTHORIZED");
    assert_times(&change, &[("decidedAt", Some("2026-01-05T12:00:00Z"))]);
    assert_eq!(
        change["votes"],
        json!([
            { "voter": "cab1", "board": "CAB", "decision": "APPROVE", "comment": "Backout is solid" },
            { "voter": "cab2", "board": "CAB", "decision": "APPROVE", "comment": null },
        ])
    );

    let change = app.schedule(&change).await.expect("schedules");
    set_clock(&app, "2026-01-10T11:59:59Z");
    let change = app.start_implementation(&change).await;
    assert_eq!(change["startedOutsideWindow"], false);
    let change = app.complete(&change, "SUCCESSFUL").await;
    let change = app.act(MANAGER, "closeChange", &change).await;
    assert_eq!(change["state"], "CLOSED");

    assert_eq!(
        history(&app, &change).await,
        vec![
            event("created", ENGINEER, None),
            event("submitted", ENGINEER, None),
            event("assessed", MANAGER, None),
            event("referredToCab", MANAGER, Some("Touches the ledger")),
            event("voted", CAB[0], Some("Backout is solid")),
            event("voted", CAB[1], None),
            event(
                "authorized",
                CAB[1],
                Some("2 approvals reached the quorum of 2")
            ),
            event("scheduled", MANAGER, None),
            event(
                "implementationStarted",
                IMPLEMENTER,
                Some("the test starts it now")
            ),
            event("implementationCompleted", IMPLEMENTER, None),
            event("closed", MANAGER, None),
        ]
    );
}

#[tokio::test]
async fn an_emergency_change_is_authorized_by_one_ecab_approval_and_closes_only_after_its_review() {
    let app = TestApp::new().await;
    let firewall = app.create_ci("NETWORK_DEVICE", "edge-firewall").await;
    let switch = app.create_ci("NETWORK_DEVICE", "core-switch").await;
    let change = app.new_change("EMERGENCY", &[&firewall]).await;
    assert_eq!(change["type"], "EMERGENCY");

    set_clock(&app, "2026-01-05T09:30:00Z");
    let change = app.act(ENGINEER, "submitChange", &change).await;
    assert_eq!(change["state"], "CAB_REVIEW", "straight to the ECAB");
    assert_eq!(change["risk"], Value::Null);
    assert_times(
        &change,
        &[
            ("submittedAt", Some("2026-01-05T09:30:00Z")),
            ("referredAt", Some("2026-01-05T09:30:00Z")),
            ("decidedAt", None),
        ],
    );

    set_clock(&app, "2026-01-05T09:40:00Z");
    let change = app
        .vote(MANAGER, &change, "APPROVE", Some("Go"))
        .await
        .expect("the change manager votes on the ECAB");
    // The ECAB quorum is 1, but no EMERGENCY change goes ahead unassessed: the approval
    // waits for the assessment, which then decides.
    assert_eq!(change["state"], "CAB_REVIEW", "not assessed yet");
    let offered = transitions(&app, MANAGER, &change).await;
    assert_eq!(offered["ASSESS"], (true, None));
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    assert_eq!(change["state"], "AUTHORIZED", "the ECAB quorum is 1");
    assert!(change["risk"]["level"].is_string(), "the risk is recorded");
    assert_times(&change, &[("decidedAt", Some("2026-01-05T09:40:00Z"))]);
    assert_eq!(
        change["votes"],
        json!([{ "voter": "max", "board": "ECAB", "decision": "APPROVE", "comment": "Go" }])
    );

    // A service head's approval authorizes one as well.
    let other = app.new_change("EMERGENCY", &[&switch]).await;
    let other = app.act(ENGINEER, "submitChange", &other).await;
    let other = app.assess(&other, TestApp::low_risk_answers()).await;
    assert_eq!(other["state"], "CAB_REVIEW", "assessed, not yet approved");
    let other = app
        .vote(HEAD, &other, "APPROVE", None)
        .await
        .expect("the service head votes on the ECAB");
    assert_eq!(other["state"], "AUTHORIZED");
    assert_eq!(other["votes"][0]["board"], "ECAB");

    set_clock(&app, "2026-01-05T10:00:00Z");
    let change = app
        .schedule_in(
            &change,
            "2026-01-05T10:00:00Z",
            "2026-01-05T11:00:00Z",
            false,
            None,
        )
        .await
        .expect("schedules");
    let change = app.start_implementation(&change).await;
    assert_eq!(change["startedOutsideWindow"], false);
    set_clock(&app, "2026-01-05T10:30:00Z");
    let change = app.complete(&change, "SUCCESSFUL").await;
    assert_eq!(change["state"], "REVIEW");
    assert_eq!(
        change["reviewRequired"], true,
        "every EMERGENCY is reviewed"
    );

    let events = app.event_count().await;
    let message = refused_with(
        app.change_action(MANAGER, "closeChange", &change, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 needs a post-implementation review before it closes (every EMERGENCY change is reviewed)"
    );
    assert_unchanged(&app, &change, events).await;
    let offered = transitions(&app, MANAGER, &change).await;
    assert_eq!(offered["CLOSE"], (false, Some(message)));
    assert_eq!(offered["RECORD_REVIEW"], (true, None));

    set_clock(&app, "2026-01-05T15:00:00Z");
    let change = record_review(&app, &change, "Patch earlier", false)
        .await
        .expect("reviews");
    assert_eq!(change["state"], "REVIEW");
    assert_eq!(
        change["review"],
        json!({ "lessonsLearned": "Patch earlier", "objectivesMet": false, "reviewedBy": "max" })
    );
    set_clock(&app, "2026-01-05T16:00:00Z");
    let change = app.act(MANAGER, "closeChange", &change).await;
    assert_eq!(change["state"], "CLOSED");
    assert_times(
        &change,
        &[
            ("actualStart", Some("2026-01-05T10:00:00Z")),
            ("actualEnd", Some("2026-01-05T10:30:00Z")),
            ("completedAt", Some("2026-01-05T10:30:00Z")),
            ("closedAt", Some("2026-01-05T16:00:00Z")),
        ],
    );
    let events = history(&app, &change).await;
    assert_eq!(
        actions(&events),
        [
            "created",
            "submitted",
            "voted",
            "assessed",
            "authorized",
            "scheduled",
            "implementationStarted",
            "implementationCompleted",
            "reviewed",
            "closed"
        ]
    );
    assert_eq!(
        events[4],
        event(
            "authorized",
            MANAGER,
            Some("1 approval reached the quorum of 1")
        )
    );
}

#[tokio::test]
async fn failed_and_backed_out_changes_need_a_review_before_they_close() {
    let app = TestApp::new().await;
    for (n, outcome) in ["FAILED", "BACKED_OUT"].into_iter().enumerate() {
        let item = app.create_ci("SERVER", &format!("host-{n}")).await;
        let change = implementing(&app, &item).await;
        // What happened must be said.
        bad_input(complete_with(&app, &change, outcome, None).await, "notes");
        bad_input(
            complete_with(&app, &change, outcome, Some("  ")).await,
            "notes",
        );
        let change = complete_with(&app, &change, outcome, Some("The migration timed out"))
            .await
            .expect("completes");
        assert_eq!(change["state"], "REVIEW");
        assert_eq!(change["outcome"], outcome);
        assert_eq!(change["reviewRequired"], true);

        let events = app.event_count().await;
        let message = refused_with(
            app.change_action(MANAGER, "closeChange", &change, "", "", json!({}))
                .await,
            "INVALID_TRANSITION",
        );
        assert_eq!(
            message,
            format!(
                "{} needs a post-implementation review before it closes (its outcome was {outcome})",
                change["number"].as_str().unwrap_or_default()
            )
        );
        assert_unchanged(&app, &change, events).await;

        let change = record_review(&app, &change, "Rehearse on staging", true)
            .await
            .expect("reviews");
        assert_eq!(change["review"]["lessonsLearned"], "Rehearse on staging");
        let change = app.act(MANAGER, "closeChange", &change).await;
        assert_eq!(change["state"], "CLOSED");
        assert_eq!(change["outcome"], outcome);
        let events = history(&app, &change).await;
        assert_eq!(
            actions(&events)[events.len() - 3..],
            ["implementationCompleted", "reviewed", "closed"]
        );
    }
}

#[tokio::test]
async fn a_change_successful_with_issues_closes_without_a_review() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "web-01").await;
    let change = implementing(&app, &item).await;
    let change = complete_with(
        &app,
        &change,
        "SUCCESSFUL_WITH_ISSUES",
        Some("Slow restart"),
    )
    .await
    .expect("completes");
    assert_eq!(change["reviewRequired"], false);
    assert_eq!(
        transitions(&app, MANAGER, &change).await["CLOSE"],
        (true, None)
    );
    let change = app.act(MANAGER, "closeChange", &change).await;
    assert_eq!(change["state"], "CLOSED");
    assert_eq!(change["outcome"], "SUCCESSFUL_WITH_ISSUES");
    assert_eq!(change["review"], Value::Null);
}

#[tokio::test]
async fn a_change_rejected_in_assessment_ends_rejected_with_its_reason() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "batch-01").await;
    let change = submitted(&app, "NORMAL", &item).await;

    let events = app.event_count().await;
    bad_input(
        reason_action(&app, MANAGER, "rejectChange", &change, "   ").await,
        "reason",
    );
    assert_unchanged(&app, &change, events).await;

    set_clock(&app, "2026-01-05T14:00:00Z");
    let change = reason_action(
        &app,
        MANAGER,
        "rejectChange",
        &change,
        "Duplicate of CHG0000007",
    )
    .await
    .expect("rejects");
    assert_eq!(change["state"], "REJECTED");
    assert_times(
        &change,
        &[
            ("decidedAt", Some("2026-01-05T14:00:00Z")),
            ("closedAt", None),
        ],
    );
    assert_eq!(
        history(&app, &change).await.last(),
        Some(&event("rejected", MANAGER, Some("Duplicate of CHG0000007")))
    );
    assert!(
        transitions(&app, MANAGER, &change)
            .await
            .values()
            .all(|(allowed, _)| !allowed),
        "REJECTED is an end"
    );
}

#[tokio::test]
async fn one_cab_reject_vetoes_the_change() {
    let app = TestApp::new().await;
    let item = app.create_ci("DATABASE", "orders-db").await;
    let change = app.referred_change(&[&item]).await;
    let change = app
        .vote(CAB[0], &change, "APPROVE", None)
        .await
        .expect("votes");
    set_clock(&app, "2026-01-05T15:00:00Z");
    let change = app
        .vote(CAB[1], &change, "REJECT", Some("No backout rehearsal"))
        .await
        .expect("votes");
    assert_eq!(change["state"], "REJECTED");
    assert_times(&change, &[("decidedAt", Some("2026-01-05T15:00:00Z"))]);
    let events = history(&app, &change).await;
    assert_eq!(
        events[events.len() - 2..],
        [
            event("voted", CAB[1], Some("No backout rehearsal")),
            event(
                "rejected",
                CAB[1],
                Some("vetoed by a REJECT vote (1 reject)")
            ),
        ]
    );
    // A decided change takes no more votes.
    let message = refused_with(
        app.vote(CAB[2], &change, "APPROVE", None).await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 is NORMAL REJECTED; it can be voted on only in CAB_REVIEW"
    );
}

#[tokio::test]
async fn a_change_is_cancelled_before_implementation_but_not_once_implementing() {
    let app = TestApp::new().await;
    let mut items = Vec::new();
    for n in 0..6 {
        items.push(app.create_ci("SERVER", &format!("cancel-{n}")).await);
    }
    let cancellable = [
        ("DRAFT", app.new_change("NORMAL", &[&items[0]]).await),
        ("ASSESSMENT", submitted(&app, "NORMAL", &items[1]).await),
        ("CAB_REVIEW", app.referred_change(&[&items[2]]).await),
        ("AUTHORIZED", app.authorized_change(&[&items[3]]).await),
        ("SCHEDULED", app.scheduled_change(&[&items[4]]).await),
    ];
    set_clock(&app, "2026-01-06T08:00:00Z");
    for (state, change) in &cancellable {
        assert_eq!(change["state"], *state);
        // The reason is required.
        bad_input(
            reason_action(&app, ENGINEER, "cancelChange", change, "").await,
            "reason",
        );
        let reason = format!("No longer needed ({state})");
        let cancelled = reason_action(&app, ENGINEER, "cancelChange", change, &reason)
            .await
            .unwrap_or_else(|response| panic!("cancel from {state}: {}", response.text()));
        assert_eq!(cancelled["state"], "CANCELLED");
        assert_times(&cancelled, &[("closedAt", Some("2026-01-06T08:00:00Z"))]);
        assert_eq!(
            history(&app, change).await.last(),
            Some(&event("cancelled", ENGINEER, Some(&reason)))
        );
    }

    let change = implementing(&app, &items[5]).await;
    let events = app.event_count().await;
    let message = refused_with(
        reason_action(&app, MANAGER, "cancelChange", &change, "Too late").await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000006 is NORMAL IMPLEMENTING; it can be cancelled only before IMPLEMENTING"
    );
    assert_unchanged(&app, &change, events).await;
}

#[tokio::test]
async fn starting_outside_the_planned_window_needs_a_reason_and_is_flagged() {
    let app = TestApp::new().await;
    let mut changes = Vec::new();
    for n in 0..4 {
        let item = app.create_ci("SERVER", &format!("window-{n}")).await;
        changes.push(app.scheduled_change(&[&item]).await);
    }
    // [WINDOW_START, WINDOW_END): the start is inside, the end is not.
    for (change, now, outside) in [
        (&changes[0], "2026-01-05T09:00:00Z", true),
        (&changes[1], WINDOW_START, false),
        (&changes[2], "2026-01-10T11:59:59Z", false),
        (&changes[3], WINDOW_END, true),
    ] {
        set_clock(&app, now);
        // Without a reason: fine inside the window, refused outside it (nothing written).
        let plain = app
            .change_action(
                IMPLEMENTER,
                "startImplementation",
                change,
                "",
                "",
                json!({}),
            )
            .await;
        let started = if outside {
            let refused = plain.expect_err("outside the window a reason is needed");
            assert_eq!(
                refused.error_codes(),
                ["BAD_USER_INPUT"],
                "started at {now}"
            );
            assert_eq!(refused.json()["errors"][0]["extensions"]["field"], "reason");
            let unchanged = app.start_implementation(change).await;
            let events = history(&app, &unchanged).await;
            assert_eq!(
                events.last().and_then(|event| event.reason.as_deref()),
                Some("the test starts it now"),
                "the reason is recorded"
            );
            unchanged
        } else {
            plain.expect("inside the window no reason is needed")
        };
        assert_eq!(started["state"], "IMPLEMENTING");
        assert_eq!(started["startedOutsideWindow"], outside, "started at {now}");
        assert_times(&started, &[("actualStart", Some(now))]);
    }
}

#[tokio::test]
async fn a_scheduled_change_is_rescheduled_and_started_against_its_new_window() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "moved").await;
    let change = app.scheduled_change(&[&item]).await;
    set_clock(&app, "2026-01-07T09:00:00Z");
    let moved = app
        .schedule_in(
            &change,
            "2026-01-08T22:00:00Z",
            "2026-01-08T23:00:00Z",
            false,
            None,
        )
        .await
        .expect("reschedules");
    assert_eq!(moved["state"], "SCHEDULED");
    assert_eq!(
        moved["version"],
        change["version"].as_i64().unwrap_or(0) + 1
    );
    assert_times(
        &moved,
        &[
            ("plannedStart", Some("2026-01-08T22:00:00Z")),
            ("plannedEnd", Some("2026-01-08T23:00:00Z")),
        ],
    );
    // The old window no longer counts.
    set_clock(&app, "2026-01-08T22:30:00Z");
    let started = app.start_implementation(&moved).await;
    assert_eq!(started["startedOutsideWindow"], false);
    let events = history(&app, &started).await;
    assert_eq!(
        actions(&events)[events.len() - 3..],
        ["scheduled", "scheduled", "implementationStarted"]
    );
}

// ---------------------------------------------------------------------------------------
// 2. Every illegal transition
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_mutation_a_state_does_not_allow_is_an_invalid_transition_that_writes_nothing() {
    let app = TestApp::new().await;
    let parked = park_changes(&app).await;
    let spare = app.create_ci("SERVER", "spare").await;
    let mut refusals = 0;
    for Parked {
        label,
        change,
        legal,
    } in &parked
    {
        let (change_type, state) = label.split_once(' ').expect("type and state");
        assert_eq!(change["type"], change_type, "{label}");
        assert_eq!(
            change["state"],
            state.split(' ').next().unwrap_or_default(),
            "{label}"
        );
        let number = change["number"].as_str().expect("number");
        // What the buttons say for someone eligible for everything: exactly the legal moves.
        let offered = transitions(&app, BOARD_MANAGER, change).await;
        for mutation in MUTATIONS {
            assert_eq!(
                offered[action_of(mutation)].0,
                legal.contains(&mutation),
                "{label}: {mutation} offered {:?}",
                offered[action_of(mutation)]
            );
        }
        // What each caller is offered, read once per change (reads wait for DataLoaders).
        let mut offered_to = HashMap::from([(BOARD_MANAGER.subject, offered)]);
        let events = app.event_count().await;
        for mutation in MUTATIONS.into_iter().filter(|m| !legal.contains(m)) {
            let callers = [Some(BOARD_MANAGER), usual_caller(mutation, change)];
            for who in callers.into_iter().flatten() {
                let refusal = refused(call(&app, who, mutation, change, &spare).await);
                assert_eq!(
                    refusal.code, "INVALID_TRANSITION",
                    "{label}: {mutation} as {}: {refusal:?}",
                    who.subject
                );
                assert!(
                    refusal.message.starts_with(number),
                    "{label}: {mutation}: {}",
                    refusal.message
                );
                assert_eq!(
                    app.event_count().await,
                    events,
                    "{label}: {mutation} as {} wrote an event",
                    who.subject
                );
                // The button says the same, in the same words.
                if !offered_to.contains_key(who.subject) {
                    offered_to.insert(who.subject, transitions(&app, who, change).await);
                }
                assert_eq!(
                    offered_to[who.subject][action_of(mutation)],
                    (false, Some(refusal.message.clone())),
                    "{label}: {mutation} as {}",
                    who.subject
                );
                refusals += 1;
            }
        }
        // Any write would have moved the version on.
        assert_unchanged(&app, change, events).await;
    }
    assert_eq!(refusals, 354, "refusals tried");
}

#[tokio::test]
async fn state_refusals_say_what_the_state_is_and_when_the_move_is_possible() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "msg-host").await;
    let spare = app.create_ci("SERVER", "msg-spare").await;
    let draft = app.new_change("NORMAL", &[&item]).await;
    let cases = [
        (
            "assessChange",
            "CHG0000001 is NORMAL DRAFT; it can be assessed only in ASSESSMENT (NORMAL) or CAB_REVIEW (EMERGENCY)",
        ),
        (
            "authorizeChange",
            "CHG0000001 is NORMAL DRAFT; it can be authorized by the change manager only when NORMAL and in ASSESSMENT",
        ),
        (
            "scheduleChange",
            "CHG0000001 is NORMAL DRAFT; it can be scheduled only when AUTHORIZED or SCHEDULED",
        ),
        (
            "startImplementation",
            "CHG0000001 is NORMAL DRAFT; it can start implementation only when SCHEDULED",
        ),
        (
            "closeChange",
            "CHG0000001 is NORMAL DRAFT; it can be closed only in REVIEW",
        ),
    ];
    for (mutation, expected) in cases {
        let message = refused_with(
            call(&app, MANAGER, mutation, &draft, &spare).await,
            "INVALID_TRANSITION",
        );
        assert_eq!(message, expected);
    }
}

#[tokio::test]
async fn authorizing_or_referring_before_the_assessment_is_an_invalid_transition() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "unassessed").await;
    let change = submitted(&app, "NORMAL", &item).await;
    let events = app.event_count().await;
    for mutation in ["authorizeChange", "referChangeToCab"] {
        let message = refused_with(
            app.change_action(MANAGER, mutation, &change, "", "", json!({}))
                .await,
            "INVALID_TRANSITION",
        );
        assert_eq!(
            message,
            "CHG0000001 has not been assessed; assess its risk first"
        );
    }
    assert_unchanged(&app, &change, events).await;
    let offered = transitions(&app, MANAGER, &change).await;
    assert_eq!(offered["ASSESS"], (true, None));
    assert_eq!(
        offered["AUTHORIZE"],
        (
            false,
            Some("CHG0000001 has not been assessed; assess its risk first".to_owned())
        )
    );
    assert!(!offered["REFER_TO_CAB"].0);
}

#[tokio::test]
async fn a_change_at_the_cab_threshold_cannot_be_authorized_by_the_manager() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "threshold").await;
    // The service head lowers the threshold to MEDIUM: a MEDIUM change must go to the CAB.
    app.data_by(
        HEAD,
        "mutation { updateChangePolicy(input: { cabThreshold: MEDIUM }) { cabThreshold } }",
        json!({}),
    )
    .await;
    let change = submitted(&app, "NORMAL", &item).await;
    // 10 (criticality 2) + 15 (outage) + 5 (never done) = 30: MEDIUM.
    let change = app
        .assess(
            &change,
            json!({ "userImpact": "NONE", "outageRequired": true, "tested": true, "backoutTested": true, "doneBefore": false }),
        )
        .await;
    assert_eq!(change["risk"]["level"], "MEDIUM");
    assert_eq!(change["risk"]["score"], 30);
    let events = app.event_count().await;
    let message = refused_with(
        app.change_action(MANAGER, "authorizeChange", &change, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 is MEDIUM risk, at or above the CAB threshold MEDIUM: refer it to the CAB"
    );
    assert_unchanged(&app, &change, events).await;
    assert_eq!(
        transitions(&app, MANAGER, &change).await["AUTHORIZE"],
        (false, Some(message))
    );
    let change = app.act(MANAGER, "referChangeToCab", &change).await;
    assert_eq!(change["state"], "CAB_REVIEW");
}

#[tokio::test]
async fn submitting_without_plans_justification_or_a_ci_names_what_is_missing() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "submit-host").await;
    let bare = create_as(&app, ENGINEER, json!({ "title": "Do something" }))
        .await
        .expect("a bare draft");
    assert_eq!(bare["type"], "NORMAL", "NORMAL by default");
    let events = app.event_count().await;
    let message = refused_with(
        app.change_action(ENGINEER, "submitChange", &bare, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 cannot be submitted without: justification, implementationPlan, backoutPlan, affectedItemIds"
    );
    assert_unchanged(&app, &bare, events).await;

    // Blank plans are missing plans.
    let planned = update(
        &app,
        ENGINEER,
        &bare,
        json!({ "justification": "Needed", "implementationPlan": "Do it", "backoutPlan": "   " }),
    )
    .await
    .expect("updates");
    assert_eq!(planned["version"], 2);
    let message = refused_with(
        app.change_action(ENGINEER, "submitChange", &planned, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 cannot be submitted without: backoutPlan, affectedItemIds"
    );

    let planned = update(
        &app,
        ENGINEER,
        &planned,
        json!({ "backoutPlan": "Undo it" }),
    )
    .await
    .expect("updates");
    let events = app.event_count().await;
    let message = refused_with(
        app.change_action(ENGINEER, "submitChange", &planned, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 cannot be submitted without: affectedItemIds"
    );
    assert_unchanged(&app, &planned, events).await;

    let ready = edit_items(
        &app,
        ENGINEER,
        "addChangeAffectedItems",
        &planned,
        &[&item["id"]],
    )
    .await
    .expect("adds");
    let submitted = app.act(ENGINEER, "submitChange", &ready).await;
    assert_eq!(submitted["state"], "ASSESSMENT");
}

#[tokio::test]
async fn submit_is_not_offered_on_a_draft_without_affected_items() {
    let app = TestApp::new().await;
    let change = create_as(
        &app,
        ENGINEER,
        json!({ "title": "No CI", "justification": "j", "implementationPlan": "i", "backoutPlan": "b" }),
    )
    .await
    .expect("a draft");
    let message = refused_with(
        app.change_action(ENGINEER, "submitChange", &change, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        transitions(&app, ENGINEER, &change).await["SUBMIT"],
        (false, Some(message))
    );
}

#[tokio::test]
async fn submit_is_not_offered_on_a_draft_from_a_retired_template() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "retired-button").await;
    let template = create_template(&app, "Rotate the logs").await;
    let change = from_template(&app, &template, &[&item])
        .await
        .expect("raised");
    app.data_by(
        MANAGER,
        "mutation($id: ID!) { retireStandardChangeTemplate(id: $id, version: 1) { active } }",
        json!({ "id": template["id"] }),
    )
    .await;
    let message = refused_with(
        app.change_action(ENGINEER, "submitChange", &change, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        transitions(&app, ENGINEER, &change).await["SUBMIT"],
        (false, Some(message))
    );
}

#[tokio::test]
async fn bad_creations_and_windows_are_bad_user_input_and_write_nothing() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "bad-input").await;
    let events = app.event_count().await;
    let message = bad_input(
        create_as(
            &app,
            ENGINEER,
            json!({ "type": "STANDARD", "title": "Sneak past", "affectedItemIds": [item["id"]] }),
        )
        .await,
        "input.type",
    );
    assert_eq!(
        message,
        "STANDARD changes are raised from a template with `createChangeFromTemplate`"
    );
    bad_input(
        create_as(&app, ENGINEER, json!({ "title": "   " })).await,
        "input.title",
    );
    bad_input(
        create_as(
            &app,
            ENGINEER,
            json!({ "title": "Backwards", "plannedStart": WINDOW_END, "plannedEnd": WINDOW_START }),
        )
        .await,
        "input.plannedEnd",
    );
    bad_input(
        create_as(
            &app,
            ENGINEER,
            json!({ "title": "Half a window", "plannedStart": WINDOW_START }),
        )
        .await,
        "input.plannedEnd",
    );
    bad_input(
        create_as(
            &app,
            ENGINEER,
            json!({ "title": "Unknown CI", "affectedItemIds": ["no-such-ci"] }),
        )
        .await,
        "input.affectedItemIds",
    );
    assert_eq!(app.event_count().await, events);

    // Schedule windows: already ended, or ending before (or when) they start.
    let change = app.authorized_change(&[&item]).await;
    set_clock(&app, "2026-01-06T12:00:00Z");
    let events = app.event_count().await;
    for (start, end, message) in [
        (
            "2026-01-06T10:00:00Z",
            "2026-01-06T11:00:00Z",
            "the window has already ended",
        ),
        (
            "2026-01-06T10:00:00Z",
            "2026-01-06T12:00:00Z",
            "the window has already ended",
        ),
        (
            WINDOW_END,
            WINDOW_START,
            "the planned end must be after the planned start",
        ),
        (
            WINDOW_START,
            WINDOW_START,
            "the planned end must be after the planned start",
        ),
    ] {
        assert_eq!(
            bad_input(
                app.schedule_in(&change, start, end, false, None).await,
                "plannedEnd"
            ),
            message,
            "{start}..{end}"
        );
    }
    assert_unchanged(&app, &change, events).await;
    // A NORMAL change's window may not have begun already, nor last longer than the policy's
    // maxWindowHours (a week).
    assert_eq!(
        bad_input(
            app.schedule_in(
                &change,
                "2026-01-06T11:00:00Z",
                "2026-01-06T13:00:00Z",
                false,
                None
            )
            .await,
            "plannedStart"
        ),
        "the window starts in the past; only an EMERGENCY change may be planned after the fact"
    );
    assert_eq!(
        bad_input(
            app.schedule_in(
                &change,
                "2026-01-07T10:00:00Z",
                "2026-01-14T10:00:01Z",
                false,
                None
            )
            .await,
            "plannedEnd"
        ),
        "a change window may last at most 168 hours (the policy's maxWindowHours); split the work into several changes"
    );
    assert_unchanged(&app, &change, events).await;
    let change = app
        .schedule_in(
            &change,
            "2026-01-07T10:00:00Z",
            "2026-01-14T10:00:00Z",
            false,
            None,
        )
        .await
        .expect("a week is allowed");
    assert_eq!(change["state"], "SCHEDULED");
}

// ---------------------------------------------------------------------------------------
// 3. Versions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_changes_nothing() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "stale").await;
    let first = app.new_change("NORMAL", &[&item]).await;
    let second = update(&app, ENGINEER, &first, json!({ "title": "Second" }))
        .await
        .expect("updates");
    assert_eq!(second["version"], 2);

    let events = app.event_count().await;
    for mutation in ["updateChange", "submitChange", "cancelChange"] {
        let message = refused_with(
            call(&app, ENGINEER, mutation, &first, &item).await,
            "CONFLICT",
        );
        assert_eq!(
            message,
            "CHG0000001 is at version 2, not 1: it changed since you read it; reload and retry"
        );
    }
    assert_unchanged(&app, &second, events).await;
    assert_eq!(read(&app, &first).await["title"], "Second");

    // A version from the future is as stale.
    let mut future = second.clone();
    future["version"] = json!(9);
    refused_with(
        app.change_action(ENGINEER, "submitChange", &future, "", "", json!({}))
            .await,
        "CONFLICT",
    );
    // Further on in the life cycle too.
    let change = app
        .authorized_change(&[&app.create_ci("SERVER", "stale-2").await])
        .await;
    let mut stale = change.clone();
    stale["version"] = json!(3);
    let events = app.event_count().await;
    refused_with(app.schedule(&stale).await, "CONFLICT");
    refused_with(
        reason_action(&app, MANAGER, "cancelChange", &stale, "Old news").await,
        "CONFLICT",
    );
    assert_unchanged(&app, &change, events).await;
}

#[tokio::test]
async fn of_two_concurrent_updates_with_the_same_version_exactly_one_wins() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "race").await;
    let change = app.new_change("NORMAL", &[&item]).await;
    let events = app.event_count().await;
    let (a, b) = tokio::join!(
        update(&app, ENGINEER, &change, json!({ "title": "From Eve" })),
        update(&app, MANAGER, &change, json!({ "title": "From Max" })),
    );
    let (winner, loser) = match (a, b) {
        (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => (winner, loser),
        (a, b) => panic!("exactly one must win: {a:?} / {b:?}"),
    };
    assert_eq!(
        refused_with(Err(loser), "CONFLICT"),
        "CHG0000001 is at version 2, not 1: it changed since you read it; reload and retry"
    );
    assert_eq!(winner["version"], 2);
    assert!(["From Eve", "From Max"].contains(&winner["title"].as_str().unwrap_or_default()));
    let now = read(&app, &change).await;
    assert_eq!(now["title"], winner["title"]);
    assert_eq!(now["version"], 2);
    assert_eq!(app.event_count().await, events + 1);

    // Two moves racing from one version: exactly one decides the change.
    let change = submitted(&app, "NORMAL", &app.create_ci("SERVER", "race-2").await).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let events = app.event_count().await;
    let (authorized, rejected) = tokio::join!(
        app.change_action(MANAGER, "authorizeChange", &change, "", "", json!({})),
        reason_action(&app, SECOND_MANAGER, "rejectChange", &change, "Not now"),
    );
    let state = match (authorized, rejected) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => {
            assert_eq!(
                refused_with(Err(lost), "CONFLICT"),
                "CHG0000002 is at version 4, not 3: it changed since you read it; reload and retry"
            );
            won["state"].as_str().unwrap_or_default().to_owned()
        }
        (a, b) => panic!("exactly one must win: {a:?} / {b:?}"),
    };
    let now = read(&app, &change).await;
    assert_eq!(now["state"], state.as_str());
    assert_eq!(
        now["version"],
        change["version"].as_i64().unwrap_or_default() + 1
    );
    assert_eq!(app.event_count().await, events + 1);
    let last = history(&app, &change).await;
    let decided: Vec<&str> = actions(&last)
        .into_iter()
        .filter(|action| ["authorized", "rejected"].contains(action))
        .collect();
    assert_eq!(decided.len(), 1, "{last:?}");
}

// ---------------------------------------------------------------------------------------
// 5. Drafts are hidden from the CAB
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn cab_members_never_see_drafts_but_see_them_once_submitted() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "seen").await;
    let draft = app.new_change("NORMAL", &[&item]).await;
    let submitted = submitted(&app, "NORMAL", &item).await;
    let cab = CAB[0];

    assert_eq!(read_as(&app, cab, &draft).await, Value::Null);
    assert_eq!(by_number(&app, cab, "CHG0000001").await, Value::Null);
    assert_eq!(matching(&app, cab, json!({})).await, chg(&[2]));
    assert_eq!(
        matching(&app, cab, json!({ "states": ["DRAFT"] })).await,
        chg(&[])
    );
    assert_eq!(
        matching(&app, cab, json!({ "text": "CHG0000001" })).await,
        chg(&[])
    );
    assert_eq!(changes_of_item(&app, cab, &item).await, (1, chg(&[2])));
    // Nor can they act on one: to them it does not exist.
    let events = app.event_count().await;
    assert_eq!(
        refused(app.vote(cab, &draft, "APPROVE", None).await).code,
        "NOT_FOUND"
    );
    assert_eq!(app.event_count().await, events);
    assert_eq!(read_as(&app, cab, &submitted).await["state"], "ASSESSMENT");

    // Everyone else sees drafts.
    for who in [ENGINEER, OTHER_ENGINEER, MANAGER, HEAD] {
        assert_eq!(read_as(&app, who, &draft).await["state"], "DRAFT");
        assert_eq!(matching(&app, who, json!({})).await, chg(&[2, 1]));
        assert_eq!(changes_of_item(&app, who, &item).await, (2, chg(&[2, 1])));
    }

    let draft = app.act(ENGINEER, "submitChange", &draft).await;
    assert_eq!(read_as(&app, cab, &draft).await["state"], "ASSESSMENT");
    assert_eq!(
        by_number(&app, cab, "CHG0000001").await,
        json!({ "number": "CHG0000001", "state": "ASSESSMENT" })
    );
    assert_eq!(matching(&app, cab, json!({})).await, chg(&[2, 1]));
    assert_eq!(changes_of_item(&app, cab, &item).await, (2, chg(&[2, 1])));
}

// ---------------------------------------------------------------------------------------
// 6. availableTransitions agrees with the mutations
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn available_transitions_agree_with_the_mutations_for_each_viewer() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "buttons").await;
    let spare = app.create_ci("SERVER", "buttons-spare").await;
    let change = app.new_change("NORMAL", &[&item]).await;

    // DRAFT: an engineer who is not the requester may not touch it.
    let offered = transitions(&app, OTHER_ENGINEER, &change).await;
    assert_eq!(
        offered["UPDATE"],
        (
            false,
            Some("only the requester of CHG0000001 or a change manager may update it".to_owned())
        )
    );
    assert_eq!(
        offered["SUBMIT"].1.as_deref(),
        Some("only the requester of CHG0000001 or a change manager may submit it")
    );
    assert_eq!(
        offered["CANCEL"].1.as_deref(),
        Some("only the requester of CHG0000001 or a change manager may cancel it")
    );
    assert_eq!(
        offered["EDIT_AFFECTED_ITEMS"].1.as_deref(),
        Some("only the requester of CHG0000001 or a change manager may change its affected items")
    );
    for mutation in [
        "updateChange",
        "addChangeAffectedItems",
        "submitChange",
        "cancelChange",
    ] {
        assert_eq!(
            agrees(&app, OTHER_ENGINEER, mutation, &change, &spare).await,
            Err("FORBIDDEN".to_owned())
        );
    }
    // An engineer has no role for the manager's moves.
    assert_eq!(
        agrees(&app, ENGINEER, "assessChange", &change, &spare).await,
        Err("FORBIDDEN".to_owned())
    );
    // The requester and a manager may.
    let offered = transitions(&app, ENGINEER, &change).await;
    let open: Vec<&str> = [
        "UPDATE",
        "EDIT_AFFECTED_ITEMS",
        "SUBMIT",
        "ASSESS",
        "AUTHORIZE",
        "SCHEDULE",
        "CANCEL",
    ]
    .into_iter()
    .filter(|action| offered[*action].0)
    .collect();
    assert_eq!(open, ["UPDATE", "EDIT_AFFECTED_ITEMS", "SUBMIT", "CANCEL"]);
    assert_eq!(
        transitions(&app, MANAGER, &change).await["UPDATE"],
        (true, None)
    );
    let change = agrees(&app, ENGINEER, "updateChange", &change, &spare)
        .await
        .expect("updates");
    let change = agrees(&app, ENGINEER, "submitChange", &change, &spare)
        .await
        .expect("submits");

    // ASSESSMENT: the manager may assess, not yet authorize.
    let offered = transitions(&app, MANAGER, &change).await;
    assert_eq!(offered["ASSESS"], (true, None));
    assert_eq!(offered["REJECT"], (true, None));
    assert!(!offered["AUTHORIZE"].0);
    assert!(!offered["REFER_TO_CAB"].0);
    assert!(!offered["SUBMIT"].0);
    assert_eq!(
        agrees(&app, MANAGER, "authorizeChange", &change, &spare).await,
        Err("INVALID_TRANSITION".to_owned())
    );
    let change = agrees(&app, MANAGER, "assessChange", &change, &spare)
        .await
        .expect("assesses");
    let offered = transitions(&app, MANAGER, &change).await;
    assert_eq!(offered["AUTHORIZE"], (true, None));
    assert_eq!(offered["REFER_TO_CAB"], (true, None));
    // The CAB has no say on a change the manager may authorize.
    assert_eq!(
        agrees(&app, CAB[0], "castCabVote", &change, &spare).await,
        Err("INVALID_TRANSITION".to_owned())
    );
    let change = agrees(&app, MANAGER, "authorizeChange", &change, &spare)
        .await
        .expect("authorizes");
    let change = app.schedule(&change).await.expect("schedules");

    // SCHEDULED: the assignee starts it; the requester may still cancel but not start.
    let message = "only the assignee of CHG0000001 or a change manager may implement it";
    for who in [OTHER_ENGINEER, ENGINEER] {
        assert_eq!(
            transitions(&app, who, &change).await["START_IMPLEMENTATION"],
            (false, Some(message.to_owned()))
        );
        assert_eq!(
            agrees(&app, who, "startImplementation", &change, &spare).await,
            Err("FORBIDDEN".to_owned())
        );
    }
    assert_eq!(
        transitions(&app, ENGINEER, &change).await["CANCEL"],
        (true, None)
    );
    assert_eq!(
        transitions(&app, IMPLEMENTER, &change).await["CANCEL"]
            .1
            .as_deref(),
        Some("only the requester of CHG0000001 or a change manager may cancel it")
    );
    let change = agrees(&app, IMPLEMENTER, "startImplementation", &change, &spare)
        .await
        .expect("starts");
    assert_eq!(
        transitions(&app, MANAGER, &change).await["CANCEL"],
        (
            false,
            Some(
                "CHG0000001 is NORMAL IMPLEMENTING; it can be cancelled only before IMPLEMENTING"
                    .to_owned()
            )
        )
    );
    let change = agrees(&app, IMPLEMENTER, "completeImplementation", &change, &spare)
        .await
        .expect("completes");
    assert_eq!(
        agrees(&app, ENGINEER, "closeChange", &change, &spare).await,
        Err("FORBIDDEN".to_owned())
    );
    let change = agrees(&app, MANAGER, "closeChange", &change, &spare)
        .await
        .expect("closes");
    assert_eq!(change["state"], "CLOSED");
}

#[tokio::test]
async fn who_may_vote_is_what_available_transitions_says() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "votes").await;
    let spare = app.create_ci("SERVER", "votes-spare").await;
    // A NORMAL change before the CAB: CAB members vote, managers and engineers do not.
    let normal = app.referred_change(&[&item]).await;
    assert_eq!(
        transitions(&app, CAB[0], &normal).await["VOTE"],
        (true, None)
    );
    assert_eq!(
        transitions(&app, MANAGER, &normal).await["VOTE"],
        (
            false,
            Some("only CAB members vote on NORMAL changes".to_owned())
        )
    );
    for who in [MANAGER, ENGINEER, HEAD] {
        assert_eq!(
            agrees(&app, who, "castCabVote", &normal, &spare).await,
            Err("FORBIDDEN".to_owned()),
            "{}",
            who.subject
        );
    }
    // An EMERGENCY change raised by a manager: the ECAB votes, but not its requester.
    let emergency = create_as(
        &app,
        MANAGER,
        json!({
            "type": "EMERGENCY",
            "title": "Block the attack",
            "justification": "Under attack",
            "implementationPlan": "Add the rule",
            "backoutPlan": "Remove the rule",
            "affectedItemIds": [spare["id"]],
        }),
    )
    .await
    .expect("raised");
    let emergency = app.act(MANAGER, "submitChange", &emergency).await;
    assert_eq!(
        transitions(&app, MANAGER, &emergency).await["VOTE"],
        (
            false,
            Some("you requested CHG0000002, so you may not vote on it".to_owned())
        )
    );
    assert_eq!(
        transitions(&app, CAB[0], &emergency).await["VOTE"]
            .1
            .as_deref(),
        Some("only change managers and service heads (the ECAB) vote on EMERGENCY changes")
    );
    for who in [MANAGER, CAB[0]] {
        assert_eq!(
            agrees(&app, who, "castCabVote", &emergency, &spare).await,
            Err("FORBIDDEN".to_owned())
        );
    }
    assert_eq!(
        transitions(&app, HEAD, &emergency).await["VOTE"],
        (true, None)
    );
    let emergency = app.assess(&emergency, TestApp::low_risk_answers()).await;
    let decided = agrees(&app, SECOND_MANAGER, "castCabVote", &emergency, &spare)
        .await
        .expect("votes");
    assert_eq!(decided["state"], "AUTHORIZED");
}

#[tokio::test]
async fn a_standard_change_is_never_put_to_a_vote() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "standard-vote").await;
    let template = create_template(&app, "Restart the cache").await;
    let change = from_template(&app, &template, &[&item])
        .await
        .expect("raised");
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let message = refused_with(
        app.vote(CAB[0], &change, "APPROVE", None).await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 is STANDARD AUTHORIZED; it can be voted on only in CAB_REVIEW"
    );
    assert_eq!(
        transitions(&app, CAB[0], &change).await["VOTE"],
        (false, Some(message))
    );
}

// ---------------------------------------------------------------------------------------
// 7. Queries, affected items, edits, templates
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_change_is_found_by_its_number_in_any_case_or_by_id() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "lookup").await;
    let first = app.new_change("NORMAL", &[&item]).await;
    app.new_change("NORMAL", &[&item]).await;
    for number in ["CHG0000001", "chg0000001", "  Chg0000001 "] {
        assert_eq!(
            by_number(&app, MANAGER, number).await,
            json!({ "number": "CHG0000001", "state": "DRAFT" }),
            "{number}"
        );
    }
    assert_eq!(
        by_number(&app, MANAGER, "CHG0000002").await["number"],
        "CHG0000002"
    );
    assert_eq!(by_number(&app, MANAGER, "CHG0000003").await, Value::Null);
    assert_eq!(read(&app, &first).await["number"], "CHG0000001");
    assert_eq!(
        read(
            &app,
            &json!({ "id": "00000000-0000-0000-0000-000000000000" })
        )
        .await,
        Value::Null
    );
    for variables in [
        json!({ "id": first["id"], "number": "CHG0000001" }),
        json!({}),
    ] {
        let refusal = refused(
            run(
                &app,
                MANAGER,
                "query($id: ID, $number: String) { change(id: $id, number: $number) { number } }",
                "change",
                variables,
            )
            .await,
        );
        assert_eq!(refusal.code, "BAD_USER_INPUT");
        assert_eq!(refusal.field.as_deref(), Some("id"));
    }
}

#[tokio::test]
async fn changes_are_filtered_by_every_criterion() {
    let app = TestApp::new().await;
    let alpha = app.create_ci("SERVER", "alpha").await;
    let beta = app.create_ci("SERVER", "beta").await;
    let gamma = app.create_ci("SERVER", "gamma").await;
    let template = create_template(&app, "Rotate the logs").await;

    // CHG1: NORMAL on alpha, eve → ivan, 10 Jan 10:00–12:00, assessed LOW.
    let first = submitted(&app, "NORMAL", &alpha).await;
    app.assess(&first, TestApp::low_risk_answers()).await;
    // CHG2: EMERGENCY draft on beta, eve → otto, 12 Jan 10:00–11:00.
    app.new_change_with(
        "EMERGENCY",
        &[&beta],
        json!({
            "title": "Patch the edge FIREWALL",
            "description": "CVE fix, 100% urgent",
            "assignee": "otto",
            "plannedStart": "2026-01-12T10:00:00Z",
            "plannedEnd": "2026-01-12T11:00:00Z",
        }),
    )
    .await;
    // CHG3: NORMAL on alpha and beta, otto, no assignee, 20 Jan, assessed HIGH.
    let third = create_as(
        &app,
        OTHER_ENGINEER,
        json!({
            "title": "Resize the volumes",
            "description": "Grow the payments volume",
            "justification": "Disk is full",
            "implementationPlan": "Grow online",
            "backoutPlan": "None needed",
            "affectedItemIds": [alpha["id"], beta["id"]],
            "plannedStart": "2026-01-20T10:00:00Z",
            "plannedEnd": "2026-01-20T11:00:00Z",
        }),
    )
    .await
    .expect("raised");
    let third = app.act(OTHER_ENGINEER, "submitChange", &third).await;
    app.assess(&third, TestApp::high_risk_answers()).await;
    // CHG4: STANDARD on gamma, eve → ivan, 10 Jan 10:00–12:00, authorized.
    let fourth = from_template(&app, &template, &[&gamma])
        .await
        .expect("raised");
    app.act(ENGINEER, "submitChange", &fourth).await;

    let cases = [
        (json!({}), vec![4, 3, 2, 1]),
        (json!({ "states": ["ASSESSMENT"] }), vec![3, 1]),
        (json!({ "states": ["DRAFT", "AUTHORIZED"] }), vec![4, 2]),
        (json!({ "states": ["CLOSED"] }), vec![]),
        (json!({ "types": ["EMERGENCY"] }), vec![2]),
        (json!({ "types": ["STANDARD", "NORMAL"] }), vec![4, 3, 1]),
        (json!({ "riskLevels": ["HIGH"] }), vec![3]),
        (json!({ "riskLevels": ["LOW"] }), vec![4, 1]),
        (json!({ "riskLevels": ["MEDIUM", "VERY_HIGH"] }), vec![]),
        (json!({ "affectedItemId": alpha["id"] }), vec![3, 1]),
        (json!({ "affectedItemId": beta["id"] }), vec![3, 2]),
        (json!({ "affectedItemId": gamma["id"] }), vec![4]),
        (json!({ "requestedBy": "otto" }), vec![3]),
        (json!({ "requestedBy": "eve" }), vec![4, 2, 1]),
        (json!({ "assignee": "otto" }), vec![2]),
        (json!({ "assignee": "ivan" }), vec![4, 1]),
        // Windows overlapping [plannedFrom, plannedTo): touching ends do not overlap.
        (
            json!({ "plannedFrom": "2026-01-10T11:00:00Z", "plannedTo": "2026-01-10T11:30:00Z" }),
            vec![4, 1],
        ),
        (
            json!({ "plannedFrom": "2026-01-10T12:00:00Z", "plannedTo": "2026-01-12T10:00:00Z" }),
            vec![],
        ),
        (
            json!({ "plannedFrom": "2026-01-10T11:59:59Z", "plannedTo": "2026-01-12T10:00:01Z" }),
            vec![4, 2, 1],
        ),
        (json!({ "plannedFrom": "2026-01-15T00:00:00Z" }), vec![3]),
        (json!({ "plannedTo": "2026-01-11T00:00:00Z" }), vec![4, 1]),
        // Text: part of the title or description in any case, or the exact number.
        (json!({ "text": "firewall" }), vec![2]),
        (json!({ "text": "PAYMENTS" }), vec![3, 1]),
        (json!({ "text": "resize" }), vec![3]),
        (json!({ "text": "chg0000003" }), vec![3]),
        (json!({ "text": " CHG0000004 " }), vec![4]),
        (json!({ "text": "100%" }), vec![2]),
        (json!({ "text": "%" }), vec![2]),
        (json!({ "text": "_" }), vec![]),
        (json!({ "text": "\\" }), vec![]),
        (json!({ "states": [] }), vec![]),
        (json!({ "affectedItemId": "no-such-ci" }), vec![]),
        (json!({ "text": "   " }), vec![4, 3, 2, 1]),
        // Every criterion must hold.
        (
            json!({ "states": ["ASSESSMENT"], "riskLevels": ["LOW"] }),
            vec![1],
        ),
        (
            json!({ "requestedBy": "eve", "types": ["NORMAL"], "affectedItemId": alpha["id"] }),
            vec![1],
        ),
        (
            json!({ "requestedBy": "otto", "types": ["EMERGENCY"] }),
            vec![],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            matching(&app, MANAGER, filter.clone()).await,
            chg(&expected),
            "{filter}"
        );
    }
    // The CAB's totals leave the draft out.
    assert_eq!(matching(&app, CAB[0], json!({})).await, chg(&[4, 3, 1]));
    assert_eq!(
        matching(&app, CAB[0], json!({ "affectedItemId": beta["id"] })).await,
        chg(&[3])
    );
}

#[tokio::test]
async fn changes_are_ordered_and_paged() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "paged").await;
    let mut changes = Vec::new();
    for _ in 0..5 {
        app.clock.advance(Duration::minutes(1));
        changes.push(app.new_change("NORMAL", &[&item]).await);
    }
    // Touch CHG2 last and CHG4 before it.
    app.clock.advance(Duration::minutes(1));
    update(&app, ENGINEER, &changes[3], json!({ "title": "Fourth" }))
        .await
        .expect("updates");
    app.clock.advance(Duration::minutes(1));
    update(&app, ENGINEER, &changes[1], json!({ "title": "Second" }))
        .await
        .expect("updates");

    let order = |field: &str, direction: &str| json!({ "field": field, "direction": direction });
    for (order_by, expected) in [
        (Value::Null, vec![5, 4, 3, 2, 1]),
        (json!({}), vec![5, 4, 3, 2, 1]),
        (order("NUMBER", "ASC"), vec![1, 2, 3, 4, 5]),
        (order("NUMBER", "DESC"), vec![5, 4, 3, 2, 1]),
        (order("UPDATED_AT", "ASC"), vec![1, 3, 5, 4, 2]),
        (order("UPDATED_AT", "DESC"), vec![2, 4, 5, 3, 1]),
    ] {
        // Two pages of two and one of one, following endCursor.
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for page in 0..3 {
            let (total, numbers, more, cursor) = list(
                &app,
                MANAGER,
                json!({ "orderBy": order_by, "first": 2, "after": after }),
            )
            .await;
            assert_eq!(total, 5, "{order_by}");
            assert_eq!(numbers.len(), if page < 2 { 2 } else { 1 }, "{order_by}");
            assert_eq!(more, page < 2, "{order_by} page {page}");
            seen.extend(numbers);
            after = cursor;
        }
        assert_eq!(seen, chg(&expected), "{order_by}");
    }
    // Backwards from the end: the last two of newest-first are the oldest two.
    let data = app
        .data_by(
            MANAGER,
            "query($before: String) { changes(last: 2, before: $before) { totalCount pageInfo { hasPreviousPage startCursor } nodes { number } } }",
            json!({ "before": null }),
        )
        .await;
    assert_eq!(numbers_of(&data["changes"]["nodes"]), chg(&[2, 1]));
    assert_eq!(data["changes"]["pageInfo"]["hasPreviousPage"], true);
    let data = app
        .data_by(
            MANAGER,
            "query($before: String) { changes(last: 2, before: $before) { nodes { number } } }",
            json!({ "before": data["changes"]["pageInfo"]["startCursor"] }),
        )
        .await;
    assert_eq!(numbers_of(&data["changes"]["nodes"]), chg(&[4, 3]));
    // A filter and an order together.
    let (total, numbers, more, _) = list(
        &app,
        MANAGER,
        json!({ "filter": { "text": "o" }, "orderBy": order("UPDATED_AT", "ASC"), "first": 1 }),
    )
    .await;
    assert_eq!((total, numbers, more), (5, chg(&[1]), true));
    let (total, numbers, _, _) = list(
        &app,
        MANAGER,
        json!({ "filter": { "text": "second" }, "first": 10 }),
    )
    .await;
    assert_eq!((total, numbers), (1, chg(&[2])));
}

#[tokio::test]
async fn affected_items_are_edited_in_draft_and_assessment_only() {
    let app = TestApp::new().await;
    let alpha = app.create_ci("SERVER", "items-alpha").await;
    let beta = app.create_ci("SERVER", "items-beta").await;
    let critical = app
        .create_ci_with(json!({
            "class": "DATABASE",
            "name": "items-critical",
            "environment": "PRODUCTION",
            "criticality": 1,
        }))
        .await;
    let retired = app.create_ci("SERVER", "items-retired").await;
    app.data_by(
        ENGINEER,
        "mutation($id: ID!) { retireConfigurationItem(id: $id, version: 1) { status } }",
        json!({ "id": retired["id"] }),
    )
    .await;
    let change = app.new_change("NORMAL", &[&alpha]).await;
    let add = "addChangeAffectedItems";
    let remove = "removeChangeAffectedItems";

    // DRAFT: duplicates and CIs already there are ignored.
    let change = edit_items(
        &app,
        ENGINEER,
        add,
        &change,
        &[&beta["id"], &beta["id"], &alpha["id"]],
    )
    .await
    .expect("adds");
    assert_eq!(
        numbers_of(&change["affectedItems"]),
        numbers_of(&json!([alpha, beta]))
    );
    assert_eq!(change["version"], 2);
    // Adding what is there already writes nothing.
    let events = app.event_count().await;
    let same = edit_items(&app, ENGINEER, add, &change, &[&alpha["id"]])
        .await
        .expect("a no-op");
    assert_eq!(same["version"], 2);
    assert_unchanged(&app, &change, events).await;
    let change = edit_items(&app, ENGINEER, remove, &change, &[&alpha["id"]])
        .await
        .expect("removes");
    assert_eq!(
        numbers_of(&change["affectedItems"]),
        numbers_of(&json!([beta]))
    );
    assert_eq!(change["version"], 3);

    // Bad CIs: unknown, retired, not touched, none.
    let events = app.event_count().await;
    let message = bad_input(
        edit_items(&app, ENGINEER, add, &change, &[&json!("no-such-ci")]).await,
        "ciIds",
    );
    assert_eq!(message, "no configuration item has id `no-such-ci`");
    let message = bad_input(
        edit_items(&app, ENGINEER, add, &change, &[&retired["id"]]).await,
        "ciIds",
    );
    assert_eq!(
        message,
        format!(
            "{} is retired; a change cannot touch it",
            retired["number"].as_str().unwrap_or_default()
        )
    );
    bad_input(
        edit_items(&app, ENGINEER, remove, &change, &[&alpha["id"]]).await,
        "ciIds",
    );
    bad_input(edit_items(&app, ENGINEER, add, &change, &[]).await, "ciIds");
    bad_input(
        create_as(
            &app,
            ENGINEER,
            json!({ "title": "On a retired CI", "affectedItemIds": [retired["id"]] }),
        )
        .await,
        "input.affectedItemIds",
    );
    assert_eq!(
        refused(edit_items(&app, OTHER_ENGINEER, add, &change, &[&alpha["id"]]).await).code,
        "FORBIDDEN"
    );
    assert_unchanged(&app, &change, events).await;

    // ASSESSMENT: a new scope clears the risk, which must be assessed again.
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    assert_eq!(change["risk"]["score"], 10);
    let change = edit_items(&app, MANAGER, add, &change, &[&critical["id"]])
        .await
        .expect("adds in ASSESSMENT");
    assert_eq!(change["state"], "ASSESSMENT");
    assert_eq!(change["risk"], Value::Null);
    assert_eq!(
        transitions(&app, MANAGER, &change).await["AUTHORIZE"]
            .1
            .as_deref(),
        Some("CHG0000001 has not been assessed; assess its risk first")
    );
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    assert_eq!(change["risk"]["score"], 15, "the critical database counts");
    let change = edit_items(&app, ENGINEER, remove, &change, &[&critical["id"]])
        .await
        .expect("removes in ASSESSMENT");
    assert_eq!(change["risk"], Value::Null);
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let change = app.act(MANAGER, "authorizeChange", &change).await;

    // Later: refused, nothing written.
    let events = app.event_count().await;
    for (mutation, ci) in [(add, &alpha), (remove, &beta)] {
        let message = refused_with(
            edit_items(&app, MANAGER, mutation, &change, &[&ci["id"]]).await,
            "INVALID_TRANSITION",
        );
        assert_eq!(
            message,
            "CHG0000001 is NORMAL AUTHORIZED; it can have its affected items changed only in DRAFT or ASSESSMENT"
        );
    }
    assert_unchanged(&app, &change, events).await;

    assert_eq!(
        history(&app, &change).await,
        vec![
            event("created", ENGINEER, None),
            event("affectedItemsChanged", ENGINEER, None),
            event("affectedItemsChanged", ENGINEER, None),
            event("submitted", ENGINEER, None),
            event("assessed", MANAGER, None),
            event("affectedItemsChanged", MANAGER, None),
            event("assessed", MANAGER, None),
            event("affectedItemsChanged", ENGINEER, None),
            event("assessed", MANAGER, None),
            event("authorized", MANAGER, None),
        ]
    );
}

#[tokio::test]
async fn update_change_with_null_clears_optional_fields_and_leaves_the_others() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "edits").await;
    let change = app.new_change("NORMAL", &[&item]).await;
    let before = texts(&app, &change).await;
    assert_eq!(before["testPlan"], "Smoke tests");

    let change = update(
        &app,
        ENGINEER,
        &change,
        json!({ "description": null, "testPlan": null, "assignee": null, "plannedStart": null, "plannedEnd": null }),
    )
    .await
    .expect("clears");
    assert_eq!(
        texts(&app, &change).await,
        json!({
            "title": "Upgrade the payments database",
            "description": null,
            "justification": "Security fixes",
            "implementationPlan": "Fail over, upgrade, fail back",
            "backoutPlan": "Restore the snapshot",
            "testPlan": null,
            "assignee": null,
            "plannedStart": null,
            "plannedEnd": null,
            "version": 2,
        })
    );

    // Set again, trimmed; blank text is no text.
    let change = update(
        &app,
        ENGINEER,
        &change,
        json!({
            "title": "  Upgrade to 16.2 ",
            "description": "   ",
            "assignee": " ivan ",
            "plannedStart": "2026-01-11T10:00:00Z",
            "plannedEnd": "2026-01-11T11:00:00Z",
        }),
    )
    .await
    .expect("sets");
    let now = texts(&app, &change).await;
    assert_eq!(now["title"], "Upgrade to 16.2");
    assert_eq!(now["description"], Value::Null);
    assert_eq!(now["assignee"], "ivan");
    assert_eq!(
        optional_instant(&now["plannedStart"]),
        Some(at("2026-01-11T10:00:00Z"))
    );

    // Bad edits change nothing.
    let events = app.event_count().await;
    bad_input(
        update(&app, ENGINEER, &change, json!({ "title": " " })).await,
        "input.title",
    );
    bad_input(
        update(&app, ENGINEER, &change, json!({ "plannedStart": null })).await,
        "input.plannedEnd",
    );
    bad_input(
        update(
            &app,
            ENGINEER,
            &change,
            json!({ "plannedEnd": "2026-01-11T09:00:00Z" }),
        )
        .await,
        "input.plannedEnd",
    );
    bad_input(
        update(&app, ENGINEER, &change, json!({ "title": "x".repeat(201) })).await,
        "input.title",
    );
    assert_eq!(app.event_count().await, events);
    assert_eq!(texts(&app, &change).await, now);

    // An edit that changes nothing writes nothing.
    for input in [
        json!({}),
        json!({ "title": "Upgrade to 16.2", "description": null, "assignee": "ivan" }),
    ] {
        let same = update(&app, ENGINEER, &change, input.clone())
            .await
            .expect("a no-op");
        assert_eq!(same["version"], change["version"], "{input}");
    }
    assert_eq!(app.event_count().await, events);

    // A cleared justification is missing at submission.
    let change = update(&app, ENGINEER, &change, json!({ "justification": null }))
        .await
        .expect("clears");
    let message = refused_with(
        app.change_action(ENGINEER, "submitChange", &change, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 cannot be submitted without: justification"
    );
    let change = update(&app, ENGINEER, &change, json!({ "justification": "CVEs" }))
        .await
        .expect("sets");
    let change = app.act(ENGINEER, "submitChange", &change).await;
    // In ASSESSMENT the requester may still edit; the assessment stays.
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    let change = update(
        &app,
        ENGINEER,
        &change,
        json!({ "testPlan": "Run the suite" }),
    )
    .await
    .expect("edits in ASSESSMENT");
    assert_eq!(change["risk"]["level"], "LOW");
    assert_eq!(
        actions(&history(&app, &change).await),
        [
            "created",
            "updated",
            "updated",
            "updated",
            "updated",
            "submitted",
            "assessed",
            "updated"
        ]
    );
}

#[tokio::test]
async fn a_standard_change_keeps_its_template_plans() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "standard-plans").await;
    let template = create_template(&app, "Rotate the logs").await;
    let change = from_template(&app, &template, &[&item])
        .await
        .expect("raised");
    let events = app.event_count().await;
    for (field, value) in [
        ("implementationPlan", json!("Something else")),
        ("backoutPlan", json!("Hope")),
        ("testPlan", Value::Null),
    ] {
        let message = bad_input(
            update(&app, ENGINEER, &change, json!({ field: value })).await,
            &format!("input.{field}"),
        );
        assert_eq!(
            message,
            "CHG0000001 is a STANDARD change: its plans are its template's; raise a NORMAL change to do it differently"
        );
    }
    assert_unchanged(&app, &change, events).await;
    // Restating them is no edit; the rest is the requester's.
    let change = update(
        &app,
        ENGINEER,
        &change,
        json!({ "implementationPlan": "Run the rotation job", "title": "Rotate the web logs", "justification": "Disk at 90%" }),
    )
    .await
    .expect("edits");
    assert_eq!(change["title"], "Rotate the web logs");
    assert_eq!(change["version"], 2);
    let change = app.act(ENGINEER, "submitChange", &change).await;
    assert_eq!(change["state"], "AUTHORIZED");
}

#[tokio::test]
async fn a_retired_template_raises_no_changes_and_its_drafts_cannot_be_submitted() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "templated").await;
    let template = create_template(&app, "Rotate the logs").await;
    let draft = from_template(&app, &template, &[&item])
        .await
        .expect("raised");
    let retire = |who: Person, version: i64| {
        let app = &app;
        let id = template["id"].clone();
        async move {
            run(
                app,
                who,
                &format!("mutation($id: ID!, $version: Int!) {{ retireStandardChangeTemplate(id: $id, version: $version) {{ {TEMPLATE_FIELDS} }} }}"),
                "retireStandardChangeTemplate",
                json!({ "id": id, "version": version }),
            )
            .await
        }
    };

    let events = app.event_count().await;
    assert_eq!(refused(retire(ENGINEER, 1).await).code, "FORBIDDEN");
    assert_eq!(refused(retire(MANAGER, 2).await).code, "CONFLICT");
    assert_eq!(app.event_count().await, events);
    let retired = retire(MANAGER, 1).await.expect("retires");
    assert_eq!(retired["active"], false);
    assert_eq!(retired["version"], 2);
    assert_eq!(
        refused_with(retire(MANAGER, 2).await, "INVALID_TRANSITION"),
        "template `Rotate the logs` is already retired"
    );

    // It raises no new change.
    let events = app.event_count().await;
    let message = bad_input(
        from_template(&app, &template, &[&item]).await,
        "input.templateId",
    );
    assert_eq!(message, "the template `Rotate the logs` is retired");
    bad_input(
        from_template(&app, &json!({ "id": "no-such-template" }), &[&item]).await,
        "input.templateId",
    );
    // Its draft cannot be submitted.
    let message = refused_with(
        app.change_action(ENGINEER, "submitChange", &draft, "", "", json!({}))
            .await,
        "INVALID_TRANSITION",
    );
    assert_eq!(
        message,
        "CHG0000001 comes from a template that is retired; raise it as a NORMAL change"
    );
    assert_unchanged(&app, &draft, events).await;

    let listed = |include: bool| {
        let app = &app;
        async move {
            app.data_by(
                ENGINEER,
                "query($all: Boolean!) { standardChangeTemplates(includeRetired: $all) { name active } }",
                json!({ "all": include }),
            )
            .await["standardChangeTemplates"]
                .clone()
        }
    };
    assert_eq!(listed(false).await, json!([]));
    assert_eq!(
        listed(true).await,
        json!([{ "name": "Rotate the logs", "active": false }])
    );
    // The draft can still be cancelled, and still names its template.
    let cancelled = reason_action(&app, ENGINEER, "cancelChange", &draft, "Template retired")
        .await
        .expect("cancels");
    assert_eq!(cancelled["state"], "CANCELLED");
    let data = app
        .data_by(
            MANAGER,
            "query($id: ID) { change(id: $id) { template { name active } } auditEvents(filter: { entityKind: \"StandardChangeTemplate\" }) { nodes { action actor } } }",
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(
        data["change"]["template"],
        json!({ "name": "Rotate the logs", "active": false })
    );
    assert_eq!(
        data["auditEvents"]["nodes"],
        json!([{ "action": "retired", "actor": "max" }, { "action": "created", "actor": "max" }])
    );
}

#[tokio::test]
async fn a_ci_retired_while_a_change_adds_it_is_refused() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = TestApp::new().await;
    let kept = app.create_ci("SERVER", "race-kept").await;
    let going = app.create_ci("SERVER", "race-going").await;
    let change = app.new_change("NORMAL", &[&kept]).await;
    // A retirement holds the CI's row until it commits, a moment after the change reads it.
    let retirement = app.db.begin().await.expect("transaction");
    retirement
        .execute_unprepared(&format!(
            "UPDATE configuration_item SET status = 'RETIRED' WHERE id = '{}'",
            going["id"].as_str().expect("id")
        ))
        .await
        .expect("retires");
    let going_ids = [&going["id"]];
    let (added, ()) = tokio::join!(
        edit_items(
            &app,
            ENGINEER,
            "addChangeAffectedItems",
            &change,
            &going_ids
        ),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            retirement.commit().await.expect("commits");
        },
    );
    let message = bad_input(added, "ciIds");
    assert_eq!(
        message,
        format!(
            "{} is retired; a change cannot touch it",
            going["number"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(
        numbers_of(&read(&app, &change).await["affectedItems"]),
        numbers_of(&json!([kept]))
    );
}
