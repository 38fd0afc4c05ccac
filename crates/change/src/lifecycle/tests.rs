//! The life cycle as tables: every action on every type and state of change, for each kind
//! of actor (a grid per actor); then the exact words and code of every kind of refusal. The
//! API suites then prove the wiring (a mutation and its button ask this function), not
//! every cell.

use chrono::{TimeZone, Utc};
use quorum_core::{Actor, Role, TransitionBlock};
use serde_json::json;

use super::*;
use crate::entity::RiskLevel;

const REQUESTER: &str = "rita";
const ASSIGNEE: &str = "ivan";

const TYPES: [ChangeType; 3] = [
    ChangeType::Standard,
    ChangeType::Normal,
    ChangeType::Emergency,
];

const STATES: [ChangeState; 10] = [
    ChangeState::Draft,
    ChangeState::Assessment,
    ChangeState::CabReview,
    ChangeState::Authorized,
    ChangeState::Scheduled,
    ChangeState::Implementing,
    ChangeState::Review,
    ChangeState::Closed,
    ChangeState::Rejected,
    ChangeState::Cancelled,
];

/// The policy the migrations write: CAB threshold HIGH, no requester may authorize their
/// own change.
fn policy() -> Policy {
    Policy {
        id: 1,
        cab_quorum: 2,
        reject_vetoes: true,
        cab_threshold: RiskLevel::High,
        ecab_quorum: 1,
        conflict_depth: 3,
        requester_may_authorize: false,
        max_window_hours: 168,
        version: 1,
        updated_by: None,
        updated_at: None,
    }
}

/// CHG0000001 of `change_type` in `state`, requested by REQUESTER, assigned to ASSIGNEE, with
/// every prerequisite met: plans and justification, a LOW risk (under the threshold), a
/// SUCCESSFUL outcome and a review. So the grids show role, person and state alone.
fn change(change_type: ChangeType, state: ChangeState) -> Model {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid instant");
    Model {
        id: "0190c0de-0000-7000-8000-000000000001".to_owned(),
        number: "CHG0000001".to_owned(),
        change_type,
        state,
        title: "Upgrade the payments database".to_owned(),
        description: None,
        justification: Some("Security fixes".to_owned()),
        implementation_plan: Some("Fail over, upgrade, fail back".to_owned()),
        backout_plan: Some("Restore the snapshot".to_owned()),
        test_plan: None,
        requested_by: REQUESTER.to_owned(),
        assignee: Some(ASSIGNEE.to_owned()),
        template_id: None,
        planned_start: None,
        planned_end: None,
        actual_start: None,
        actual_end: None,
        started_outside_window: false,
        outcome: Some(ChangeOutcome::Successful),
        completion_notes: None,
        review: Some(json!({ "lessonsLearned": "none", "objectivesMet": true })),
        risk: None,
        risk_score: Some(10),
        risk_level: Some(RiskLevel::Low),
        schedule_override_reason: None,
        submitted_at: None,
        referred_at: None,
        decided_at: None,
        completed_at: None,
        closed_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

/// A grid's column heading for each action, in [`ChangeAction::ALL`]'s order.
fn heading(action: ChangeAction) -> &'static str {
    match action {
        ChangeAction::Update => "upd",
        ChangeAction::EditAffectedItems => "edit",
        ChangeAction::Submit => "subm",
        ChangeAction::Assess => "asss",
        ChangeAction::Authorize => "auth",
        ChangeAction::ReferToCab => "refr",
        ChangeAction::Reject => "rej",
        ChangeAction::Vote => "vote",
        ChangeAction::Schedule => "schd",
        ChangeAction::StartImplementation => "strt",
        ChangeAction::CompleteImplementation => "cmpl",
        ChangeAction::RecordReview => "revw",
        ChangeAction::Close => "clos",
        ChangeAction::Cancel => "cncl",
    }
}

/// A cell: `ok` allowed; `R` the role does not grant it (FORBIDDEN); `P` the role does, but
/// not to this person (FORBIDDEN); `.` the state (or type) does not allow it
/// (INVALID_TRANSITION); `Q` a prerequisite is missing (INVALID_TRANSITION).
fn cell(transition: &Transition) -> &'static str {
    match (transition.allowed, transition.code) {
        (true, _) => "ok",
        (false, Some(TransitionBlock::Role)) => "R",
        (false, Some(TransitionBlock::Person)) => "P",
        (false, Some(TransitionBlock::State)) => ".",
        (false, Some(TransitionBlock::Prerequisite)) => "Q",
        (false, None) => "?",
    }
}

/// Every type and state × every action for `actor`, one row per type and state. Checks on
/// the way that `availableTransitions` says what [`check`] says, in the same words.
fn grid(title: &str, actor: &Actor, policy: &Policy) -> String {
    let mut rows = vec![title.to_owned()];
    let mut heading_row = format!("{:<23}", "");
    for action in ChangeAction::ALL {
        heading_row.push_str(&format!("{:>5}", heading(action)));
    }
    rows.push(heading_row);
    for change_type in TYPES {
        for state in STATES {
            let change = change(change_type, state);
            let mut row = format!(
                "{:<23}",
                format!("{} {}", name_of(&change_type), name_of(&state))
            );
            for transition in available_transitions(&change, actor, policy) {
                let checked = check(transition.action, &change, actor, policy);
                assert_eq!(
                    checked.as_ref().err().map(ToString::to_string),
                    transition.reason,
                    "{title}: {:?} on {} {}",
                    transition.action,
                    name_of(&change_type),
                    name_of(&state)
                );
                assert_eq!(checked.is_ok(), transition.allowed);
                row.push_str(&format!("{:>5}", cell(&transition)));
            }
            rows.push(row);
        }
    }
    rows.join("\n")
}

/// Compares a rendered table with the expected one, line by line; on a difference prints the
/// whole rendered table, to read (and, once the rule change is meant, to paste).
fn assert_table(actual: &str, expected: &str) {
    let expected = expected.trim_matches('\n');
    for (line, (actual_line, expected_line)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(
            actual_line.trim_end(),
            expected_line.trim_end(),
            "line {} differs; the whole table is:\n{actual}\n",
            line + 1
        );
    }
    assert_eq!(
        actual.lines().count(),
        expected.lines().count(),
        "the tables differ in length; the whole table is:\n{actual}\n"
    );
}

fn actor(subject: &str, roles: &[Role]) -> Actor {
    Actor::new(subject, roles.iter().copied())
}

// The grids. A row is a type and state of CHG0000001 (requested by rita, assigned to ivan,
// every prerequisite met); a column an action: upd(ate), edit (affected items), subm(it),
// as(se)ss, auth(orize), ref(e)r (to the CAB), rej(ect), vote, sch(e)d(ule), st(a)rt and
// c(o)mpl(ete) implementation, (record) rev(ie)w, clos(e), canc(e)l. A cell: `ok` allowed,
// `R` not the role's (FORBIDDEN), `P` the role's but not this person's (FORBIDDEN), `.` not
// in this state or type (INVALID_TRANSITION). The role is checked first, then the person, then
// the state; the prerequisites are in `every_kind_of_refusal_says_why_in_its_own_words`.

#[test]
fn an_engineer_edits_submits_and_cancels_their_own_change_and_implements_the_one_assigned_to_them()
{
    let policy = policy();
    let grids = [
        grid(
            "ENGINEER, the requester",
            &actor(REQUESTER, &[Role::Engineer]),
            &policy,
        ),
        grid(
            "ENGINEER, the assignee",
            &actor(ASSIGNEE, &[Role::Engineer]),
            &policy,
        ),
        grid(
            "ENGINEER, neither requester nor assignee",
            &actor("otto", &[Role::Engineer]),
            &policy,
        ),
    ];
    assert_table(&grids.join("\n\n"), ENGINEER_GRIDS);
}

const ENGINEER_GRIDS: &str = "
ENGINEER, the requester
                         upd edit subm asss auth refr  rej vote schd strt cmpl revw clos cncl
STANDARD DRAFT            ok   ok   ok    R    R    R    R    R    R    P    P    R    R   ok
STANDARD ASSESSMENT       ok   ok    .    R    R    R    R    R    R    P    P    R    R   ok
STANDARD CAB_REVIEW        .    .    .    R    R    R    R    R    R    P    P    R    R   ok
STANDARD AUTHORIZED        .    .    .    R    R    R    R    R    R    P    P    R    R   ok
STANDARD SCHEDULED         .    .    .    R    R    R    R    R    R    P    P    R    R   ok
STANDARD IMPLEMENTING      .    .    .    R    R    R    R    R    R    P    P    R    R    .
STANDARD REVIEW            .    .    .    R    R    R    R    R    R    P    P    R    R    .
STANDARD CLOSED            .    .    .    R    R    R    R    R    R    P    P    R    R    .
STANDARD REJECTED          .    .    .    R    R    R    R    R    R    P    P    R    R    .
STANDARD CANCELLED         .    .    .    R    R    R    R    R    R    P    P    R    R    .
NORMAL DRAFT              ok   ok   ok    R    R    R    R    R    R    P    P    R    R   ok
NORMAL ASSESSMENT         ok   ok    .    R    R    R    R    R    R    P    P    R    R   ok
NORMAL CAB_REVIEW          .    .    .    R    R    R    R    R    R    P    P    R    R   ok
NORMAL AUTHORIZED          .    .    .    R    R    R    R    R    R    P    P    R    R   ok
NORMAL SCHEDULED           .    .    .    R    R    R    R    R    R    P    P    R    R   ok
NORMAL IMPLEMENTING        .    .    .    R    R    R    R    R    R    P    P    R    R    .
NORMAL REVIEW              .    .    .    R    R    R    R    R    R    P    P    R    R    .
NORMAL CLOSED              .    .    .    R    R    R    R    R    R    P    P    R    R    .
NORMAL REJECTED            .    .    .    R    R    R    R    R    R    P    P    R    R    .
NORMAL CANCELLED           .    .    .    R    R    R    R    R    R    P    P    R    R    .
EMERGENCY DRAFT           ok   ok   ok    R    R    R    R    R    R    P    P    R    R   ok
EMERGENCY ASSESSMENT      ok   ok    .    R    R    R    R    R    R    P    P    R    R   ok
EMERGENCY CAB_REVIEW       .    .    .    R    R    R    R    R    R    P    P    R    R   ok
EMERGENCY AUTHORIZED       .    .    .    R    R    R    R    R    R    P    P    R    R   ok
EMERGENCY SCHEDULED        .    .    .    R    R    R    R    R    R    P    P    R    R   ok
EMERGENCY IMPLEMENTING     .    .    .    R    R    R    R    R    R    P    P    R    R    .
EMERGENCY REVIEW           .    .    .    R    R    R    R    R    R    P    P    R    R    .
EMERGENCY CLOSED           .    .    .    R    R    R    R    R    R    P    P    R    R    .
EMERGENCY REJECTED         .    .    .    R    R    R    R    R    R    P    P    R    R    .
EMERGENCY CANCELLED        .    .    .    R    R    R    R    R    R    P    P    R    R    .

ENGINEER, the assignee
                         upd edit subm asss auth refr  rej vote schd strt cmpl revw clos cncl
STANDARD DRAFT             P    P    P    R    R    R    R    R    R    .    .    R    R    P
STANDARD ASSESSMENT        P    P    P    R    R    R    R    R    R    .    .    R    R    P
STANDARD CAB_REVIEW        P    P    P    R    R    R    R    R    R    .    .    R    R    P
STANDARD AUTHORIZED        P    P    P    R    R    R    R    R    R    .    .    R    R    P
STANDARD SCHEDULED         P    P    P    R    R    R    R    R    R   ok    .    R    R    P
STANDARD IMPLEMENTING      P    P    P    R    R    R    R    R    R    .   ok    R    R    P
STANDARD REVIEW            P    P    P    R    R    R    R    R    R    .    .    R    R    P
STANDARD CLOSED            P    P    P    R    R    R    R    R    R    .    .    R    R    P
STANDARD REJECTED          P    P    P    R    R    R    R    R    R    .    .    R    R    P
STANDARD CANCELLED         P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL DRAFT               P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL ASSESSMENT          P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL CAB_REVIEW          P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL AUTHORIZED          P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL SCHEDULED           P    P    P    R    R    R    R    R    R   ok    .    R    R    P
NORMAL IMPLEMENTING        P    P    P    R    R    R    R    R    R    .   ok    R    R    P
NORMAL REVIEW              P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL CLOSED              P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL REJECTED            P    P    P    R    R    R    R    R    R    .    .    R    R    P
NORMAL CANCELLED           P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY DRAFT            P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY ASSESSMENT       P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY CAB_REVIEW       P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY AUTHORIZED       P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY SCHEDULED        P    P    P    R    R    R    R    R    R   ok    .    R    R    P
EMERGENCY IMPLEMENTING     P    P    P    R    R    R    R    R    R    .   ok    R    R    P
EMERGENCY REVIEW           P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY CLOSED           P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY REJECTED         P    P    P    R    R    R    R    R    R    .    .    R    R    P
EMERGENCY CANCELLED        P    P    P    R    R    R    R    R    R    .    .    R    R    P

ENGINEER, neither requester nor assignee
                         upd edit subm asss auth refr  rej vote schd strt cmpl revw clos cncl
STANDARD DRAFT             P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD ASSESSMENT        P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD CAB_REVIEW        P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD AUTHORIZED        P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD SCHEDULED         P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD IMPLEMENTING      P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD REVIEW            P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD CLOSED            P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD REJECTED          P    P    P    R    R    R    R    R    R    P    P    R    R    P
STANDARD CANCELLED         P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL DRAFT               P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL ASSESSMENT          P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL CAB_REVIEW          P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL AUTHORIZED          P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL SCHEDULED           P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL IMPLEMENTING        P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL REVIEW              P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL CLOSED              P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL REJECTED            P    P    P    R    R    R    R    R    R    P    P    R    R    P
NORMAL CANCELLED           P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY DRAFT            P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY ASSESSMENT       P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY CAB_REVIEW       P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY AUTHORIZED       P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY SCHEDULED        P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY IMPLEMENTING     P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY REVIEW           P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY CLOSED           P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY REJECTED         P    P    P    R    R    R    R    R    R    P    P    R    R    P
EMERGENCY CANCELLED        P    P    P    R    R    R    R    R    R    P    P    R    R    P
";

#[test]
fn a_change_manager_moves_every_change_but_never_authorizes_or_reviews_their_own() {
    let policy = policy();
    let grids = [
        grid(
            "CHANGE_MANAGER",
            &actor("max", &[Role::ChangeManager]),
            &policy,
        ),
        grid(
            "CHANGE_MANAGER, the requester",
            &actor(REQUESTER, &[Role::ChangeManager]),
            &policy,
        ),
    ];
    assert_table(&grids.join("\n\n"), MANAGER_GRIDS);
}

const MANAGER_GRIDS: &str = "
CHANGE_MANAGER
                         upd edit subm asss auth refr  rej vote schd strt cmpl revw clos cncl
STANDARD DRAFT            ok   ok   ok    .    .    .    .    .    .    .    .    .    .   ok
STANDARD ASSESSMENT       ok   ok    .    .    .    .   ok    .    .    .    .    .    .   ok
STANDARD CAB_REVIEW        .    .    .    .    .    .    .    .    .    .    .    .    .   ok
STANDARD AUTHORIZED        .    .    .    .    .    .    .    .   ok    .    .    .    .   ok
STANDARD SCHEDULED         .    .    .    .    .    .    .    .   ok   ok    .    .    .   ok
STANDARD IMPLEMENTING      .    .    .    .    .    .    .    .    .    .   ok    .    .    .
STANDARD REVIEW            .    .    .    .    .    .    .    .    .    .    .   ok   ok    .
STANDARD CLOSED            .    .    .    .    .    .    .    .    .    .    .    .    .    .
STANDARD REJECTED          .    .    .    .    .    .    .    .    .    .    .    .    .    .
STANDARD CANCELLED         .    .    .    .    .    .    .    .    .    .    .    .    .    .
NORMAL DRAFT              ok   ok   ok    .    .    .    .    P    .    .    .    .    .   ok
NORMAL ASSESSMENT         ok   ok    .   ok   ok   ok   ok    P    .    .    .    .    .   ok
NORMAL CAB_REVIEW          .    .    .    .    .    .    .    P    .    .    .    .    .   ok
NORMAL AUTHORIZED          .    .    .    .    .    .    .    P   ok    .    .    .    .   ok
NORMAL SCHEDULED           .    .    .    .    .    .    .    P   ok   ok    .    .    .   ok
NORMAL IMPLEMENTING        .    .    .    .    .    .    .    P    .    .   ok    .    .    .
NORMAL REVIEW              .    .    .    .    .    .    .    P    .    .    .   ok   ok    .
NORMAL CLOSED              .    .    .    .    .    .    .    P    .    .    .    .    .    .
NORMAL REJECTED            .    .    .    .    .    .    .    P    .    .    .    .    .    .
NORMAL CANCELLED           .    .    .    .    .    .    .    P    .    .    .    .    .    .
EMERGENCY DRAFT           ok   ok   ok    .    .    .    .    .    .    .    .    .    .   ok
EMERGENCY ASSESSMENT      ok   ok    .    .    .    .   ok    .    .    .    .    .    .   ok
EMERGENCY CAB_REVIEW       .    .    .   ok    .    .    .   ok    .    .    .    .    .   ok
EMERGENCY AUTHORIZED       .    .    .    .    .    .    .    .   ok    .    .    .    .   ok
EMERGENCY SCHEDULED        .    .    .    .    .    .    .    .   ok   ok    .    .    .   ok
EMERGENCY IMPLEMENTING     .    .    .    .    .    .    .    .    .    .   ok    .    .    .
EMERGENCY REVIEW           .    .    .    .    .    .    .    .    .    .    .   ok   ok    .
EMERGENCY CLOSED           .    .    .    .    .    .    .    .    .    .    .    .    .    .
EMERGENCY REJECTED         .    .    .    .    .    .    .    .    .    .    .    .    .    .
EMERGENCY CANCELLED        .    .    .    .    .    .    .    .    .    .    .    .    .    .

CHANGE_MANAGER, the requester
                         upd edit subm asss auth refr  rej vote schd strt cmpl revw clos cncl
STANDARD DRAFT            ok   ok   ok    .    P    .    .    .    .    .    .    P    .   ok
STANDARD ASSESSMENT       ok   ok    .    .    P    .   ok    .    .    .    .    P    .   ok
STANDARD CAB_REVIEW        .    .    .    .    P    .    .    .    .    .    .    P    .   ok
STANDARD AUTHORIZED        .    .    .    .    P    .    .    .   ok    .    .    P    .   ok
STANDARD SCHEDULED         .    .    .    .    P    .    .    .   ok   ok    .    P    .   ok
STANDARD IMPLEMENTING      .    .    .    .    P    .    .    .    .    .   ok    P    .    .
STANDARD REVIEW            .    .    .    .    P    .    .    .    .    .    .    P   ok    .
STANDARD CLOSED            .    .    .    .    P    .    .    .    .    .    .    P    .    .
STANDARD REJECTED          .    .    .    .    P    .    .    .    .    .    .    P    .    .
STANDARD CANCELLED         .    .    .    .    P    .    .    .    .    .    .    P    .    .
NORMAL DRAFT              ok   ok   ok    .    P    .    .    P    .    .    .    P    .   ok
NORMAL ASSESSMENT         ok   ok    .   ok    P   ok   ok    P    .    .    .    P    .   ok
NORMAL CAB_REVIEW          .    .    .    .    P    .    .    P    .    .    .    P    .   ok
NORMAL AUTHORIZED          .    .    .    .    P    .    .    P   ok    .    .    P    .   ok
NORMAL SCHEDULED           .    .    .    .    P    .    .    P   ok   ok    .    P    .   ok
NORMAL IMPLEMENTING        .    .    .    .    P    .    .    P    .    .   ok    P    .    .
NORMAL REVIEW              .    .    .    .    P    .    .    P    .    .    .    P   ok    .
NORMAL CLOSED              .    .    .    .    P    .    .    P    .    .    .    P    .    .
NORMAL REJECTED            .    .    .    .    P    .    .    P    .    .    .    P    .    .
NORMAL CANCELLED           .    .    .    .    P    .    .    P    .    .    .    P    .    .
EMERGENCY DRAFT           ok   ok   ok    .    P    .    .    P    .    .    .    P    .   ok
EMERGENCY ASSESSMENT      ok   ok    .    .    P    .   ok    P    .    .    .    P    .   ok
EMERGENCY CAB_REVIEW       .    .    .   ok    P    .    .    P    .    .    .    P    .   ok
EMERGENCY AUTHORIZED       .    .    .    .    P    .    .    P   ok    .    .    P    .   ok
EMERGENCY SCHEDULED        .    .    .    .    P    .    .    P   ok   ok    .    P    .   ok
EMERGENCY IMPLEMENTING     .    .    .    .    P    .    .    P    .    .   ok    P    .    .
EMERGENCY REVIEW           .    .    .    .    P    .    .    P    .    .    .    P   ok    .
EMERGENCY CLOSED           .    .    .    .    P    .    .    P    .    .    .    P    .    .
EMERGENCY REJECTED         .    .    .    .    P    .    .    P    .    .    .    P    .    .
EMERGENCY CANCELLED        .    .    .    .    P    .    .    P    .    .    .    P    .    .
";

#[test]
fn cab_members_only_vote_on_normal_changes_and_service_heads_only_on_emergency_ones() {
    let policy = policy();
    let grids = [
        grid("CAB_MEMBER", &actor("cab1", &[Role::CabMember]), &policy),
        grid(
            "SERVICE_HEAD",
            &actor("hana", &[Role::ServiceHead]),
            &policy,
        ),
    ];
    assert_table(&grids.join("\n\n"), BOARD_GRIDS);
}

const BOARD_GRIDS: &str = "
CAB_MEMBER
                         upd edit subm asss auth refr  rej vote schd strt cmpl revw clos cncl
STANDARD DRAFT             R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD ASSESSMENT        R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD CAB_REVIEW        R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD AUTHORIZED        R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD SCHEDULED         R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD IMPLEMENTING      R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD REVIEW            R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD CLOSED            R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD REJECTED          R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD CANCELLED         R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL DRAFT               R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL ASSESSMENT          R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL CAB_REVIEW          R    R    R    R    R    R    R   ok    R    R    R    R    R    R
NORMAL AUTHORIZED          R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL SCHEDULED           R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL IMPLEMENTING        R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL REVIEW              R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL CLOSED              R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL REJECTED            R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL CANCELLED           R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY DRAFT            R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY ASSESSMENT       R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY CAB_REVIEW       R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY AUTHORIZED       R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY SCHEDULED        R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY IMPLEMENTING     R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY REVIEW           R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY CLOSED           R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY REJECTED         R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY CANCELLED        R    R    R    R    R    R    R    P    R    R    R    R    R    R

SERVICE_HEAD
                         upd edit subm asss auth refr  rej vote schd strt cmpl revw clos cncl
STANDARD DRAFT             R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD ASSESSMENT        R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD CAB_REVIEW        R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD AUTHORIZED        R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD SCHEDULED         R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD IMPLEMENTING      R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD REVIEW            R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD CLOSED            R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD REJECTED          R    R    R    R    R    R    R    .    R    R    R    R    R    R
STANDARD CANCELLED         R    R    R    R    R    R    R    .    R    R    R    R    R    R
NORMAL DRAFT               R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL ASSESSMENT          R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL CAB_REVIEW          R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL AUTHORIZED          R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL SCHEDULED           R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL IMPLEMENTING        R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL REVIEW              R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL CLOSED              R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL REJECTED            R    R    R    R    R    R    R    P    R    R    R    R    R    R
NORMAL CANCELLED           R    R    R    R    R    R    R    P    R    R    R    R    R    R
EMERGENCY DRAFT            R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY ASSESSMENT       R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY CAB_REVIEW       R    R    R    R    R    R    R   ok    R    R    R    R    R    R
EMERGENCY AUTHORIZED       R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY SCHEDULED        R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY IMPLEMENTING     R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY REVIEW           R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY CLOSED           R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY REJECTED         R    R    R    R    R    R    R    .    R    R    R    R    R    R
EMERGENCY CANCELLED        R    R    R    R    R    R    R    .    R    R    R    R    R    R
";

/// What a refusal says: its code and its words.
type Said = Result<(), (TransitionBlock, &'static str)>;

/// One case of [`every_kind_of_refusal_says_why_in_its_own_words`].
struct Case {
    /// What the case shows.
    what: &'static str,
    actor: Actor,
    change: Model,
    policy: Policy,
    facts: Facts,
    action: ChangeAction,
    said: Said,
}

fn case(what: &'static str, actor: Actor, change: Model, action: ChangeAction, said: Said) -> Case {
    Case {
        what,
        actor,
        change,
        policy: policy(),
        facts: Facts::default(),
        action,
        said,
    }
}

fn with(mut model: Model, edit: impl FnOnce(&mut Model)) -> Model {
    edit(&mut model);
    model
}

const NOT_ASSESSED: &str = "CHG0000001 has not been assessed; assess its risk first";

#[test]
fn every_kind_of_refusal_says_why_in_its_own_words() {
    use ChangeAction as A;
    use ChangeState as S;
    use ChangeType as T;
    use TransitionBlock::{Person, Prerequisite, Role as ByRole, State};
    let engineer = actor(REQUESTER, &[Role::Engineer]);
    let other = actor("otto", &[Role::Engineer]);
    let manager = actor("max", &[Role::ChangeManager]);
    let own_manager = actor(REQUESTER, &[Role::ChangeManager]);
    let cab = actor("cab1", &[Role::CabMember]);
    let own_cab = actor(REQUESTER, &[Role::CabMember]);
    let head = actor("hana", &[Role::ServiceHead]);
    let own_head = actor(REQUESTER, &[Role::ServiceHead]);
    let blank_draft = with(change(T::Normal, S::Draft), |change| {
        change.justification = None;
        change.implementation_plan = Some("   ".to_owned());
        change.backout_plan = None;
    });
    let unassessed = with(change(T::Normal, S::Assessment), |change| {
        change.risk_level = None;
        change.risk_score = None;
    });
    let high = with(change(T::Normal, S::Assessment), |change| {
        change.risk_level = Some(RiskLevel::High);
    });
    let medium = with(change(T::Normal, S::Assessment), |change| {
        change.risk_level = Some(RiskLevel::Medium);
    });
    let unreviewed = |change_type, outcome| {
        with(change(change_type, S::Review), |change| {
            change.review = None;
            change.outcome = Some(outcome);
        })
    };
    let mut cases = vec![
        // The role, first of all, whatever the change.
        case(
            "an engineer does not assess",
            engineer.clone(),
            change(T::Normal, S::Assessment),
            A::Assess,
            Err((ByRole, "you are not allowed to assess changes")),
        ),
        case(
            "a CAB member does not edit, even a closed change",
            cab.clone(),
            change(T::Normal, S::Closed),
            A::Update,
            Err((ByRole, "you are not allowed to update changes")),
        ),
        case(
            "a service head does not close",
            head.clone(),
            change(T::Normal, S::Review),
            A::Close,
            Err((ByRole, "you are not allowed to close changes")),
        ),
        // Then the person, before the state.
        case(
            "another engineer does not update",
            other.clone(),
            change(T::Normal, S::Draft),
            A::Update,
            Err((
                Person,
                "only the requester of CHG0000001 or a change manager may update it",
            )),
        ),
        case(
            "another engineer does not edit the CIs",
            other.clone(),
            change(T::Normal, S::Draft),
            A::EditAffectedItems,
            Err((
                Person,
                "only the requester of CHG0000001 or a change manager may change its affected items",
            )),
        ),
        case(
            "another engineer does not submit",
            other.clone(),
            change(T::Normal, S::Draft),
            A::Submit,
            Err((
                Person,
                "only the requester of CHG0000001 or a change manager may submit it",
            )),
        ),
        case(
            "another engineer does not cancel, even once the state would refuse",
            other.clone(),
            change(T::Normal, S::Closed),
            A::Cancel,
            Err((
                Person,
                "only the requester of CHG0000001 or a change manager may cancel it",
            )),
        ),
        case(
            "the requester does not implement a change assigned to someone else",
            engineer.clone(),
            change(T::Normal, S::Scheduled),
            A::StartImplementation,
            Err((
                Person,
                "only the assignee of CHG0000001 or a change manager may implement it",
            )),
        ),
        case(
            "an unassigned change is implemented by a change manager only",
            actor(ASSIGNEE, &[Role::Engineer]),
            with(change(T::Normal, S::Implementing), |change| {
                change.assignee = None;
            }),
            A::CompleteImplementation,
            Err((
                Person,
                "only the assignee of CHG0000001 or a change manager may implement it",
            )),
        ),
        case(
            "the requester does not authorize their own change",
            own_manager.clone(),
            change(T::Normal, S::Assessment),
            A::Authorize,
            Err((
                Person,
                "you requested CHG0000001, so someone else must authorize it (separation of \
                 duties; the policy's requesterMayAuthorize allows it for small teams)",
            )),
        ),
        case(
            "the requester does not review their own change",
            own_manager.clone(),
            change(T::Normal, S::Review),
            A::RecordReview,
            Err((
                Person,
                "you requested CHG0000001, so someone else must review it (separation of \
                 duties; the policy's requesterMayAuthorize allows it for small teams)",
            )),
        ),
        case(
            "the requester may reject their own change: only authorizing and reviewing are apart",
            own_manager.clone(),
            change(T::Normal, S::Assessment),
            A::Reject,
            Ok(()),
        ),
        case(
            "a service head does not vote on a NORMAL change",
            head.clone(),
            change(T::Normal, S::CabReview),
            A::Vote,
            Err((Person, "only CAB members vote on NORMAL changes")),
        ),
        case(
            "a change manager does not vote on a NORMAL change",
            manager.clone(),
            change(T::Normal, S::CabReview),
            A::Vote,
            Err((Person, "only CAB members vote on NORMAL changes")),
        ),
        case(
            "a CAB member does not vote on an EMERGENCY change",
            cab.clone(),
            change(T::Emergency, S::CabReview),
            A::Vote,
            Err((
                Person,
                "only change managers and service heads (the ECAB) vote on EMERGENCY changes",
            )),
        ),
        case(
            "a CAB member does not vote on their own change",
            own_cab.clone(),
            change(T::Normal, S::CabReview),
            A::Vote,
            Err((
                Person,
                "you requested CHG0000001, so you may not vote on it",
            )),
        ),
        case(
            "a service head does not vote on their own EMERGENCY change",
            own_head.clone(),
            change(T::Emergency, S::CabReview),
            A::Vote,
            Err((
                Person,
                "you requested CHG0000001, so you may not vote on it",
            )),
        ),
        case(
            "the wrong board is told so even outside CAB_REVIEW",
            cab.clone(),
            change(T::Emergency, S::Draft),
            A::Vote,
            Err((
                Person,
                "only change managers and service heads (the ECAB) vote on EMERGENCY changes",
            )),
        ),
        // Then the state, in the words of the API suite's state refusals.
        case(
            "assess in DRAFT",
            manager.clone(),
            change(T::Normal, S::Draft),
            A::Assess,
            Err((
                State,
                "CHG0000001 is NORMAL DRAFT; it can be assessed only in ASSESSMENT (NORMAL) or \
                 CAB_REVIEW (EMERGENCY)",
            )),
        ),
        case(
            "authorize in DRAFT",
            manager.clone(),
            change(T::Normal, S::Draft),
            A::Authorize,
            Err((
                State,
                "CHG0000001 is NORMAL DRAFT; it can be authorized by the change manager only \
                 when NORMAL and in ASSESSMENT",
            )),
        ),
        case(
            "schedule in DRAFT",
            manager.clone(),
            change(T::Normal, S::Draft),
            A::Schedule,
            Err((
                State,
                "CHG0000001 is NORMAL DRAFT; it can be scheduled only when AUTHORIZED or SCHEDULED",
            )),
        ),
        case(
            "start in DRAFT",
            manager.clone(),
            change(T::Normal, S::Draft),
            A::StartImplementation,
            Err((
                State,
                "CHG0000001 is NORMAL DRAFT; it can start implementation only when SCHEDULED",
            )),
        ),
        case(
            "close in DRAFT",
            manager.clone(),
            change(T::Normal, S::Draft),
            A::Close,
            Err((
                State,
                "CHG0000001 is NORMAL DRAFT; it can be closed only in REVIEW",
            )),
        ),
        case(
            "authorize an EMERGENCY change: its votes do",
            manager.clone(),
            change(T::Emergency, S::CabReview),
            A::Authorize,
            Err((
                State,
                "CHG0000001 is EMERGENCY CAB_REVIEW; it can be authorized by the change manager \
                 only when NORMAL and in ASSESSMENT",
            )),
        ),
        case(
            "vote on a STANDARD change: no board votes on one",
            cab.clone(),
            change(T::Standard, S::CabReview),
            A::Vote,
            Err((
                State,
                "CHG0000001 is STANDARD CAB_REVIEW; it can be voted on only in CAB_REVIEW",
            )),
        ),
        case(
            "cancel once implementing",
            engineer.clone(),
            change(T::Normal, S::Implementing),
            A::Cancel,
            Err((
                State,
                "CHG0000001 is NORMAL IMPLEMENTING; it can be cancelled only before IMPLEMENTING",
            )),
        ),
        // Last, the prerequisites of a move the state allows.
        case(
            "submit without a justification or plans (blank is missing)",
            engineer.clone(),
            blank_draft.clone(),
            A::Submit,
            Err((
                Prerequisite,
                "CHG0000001 cannot be submitted without: justification, implementationPlan, \
                 backoutPlan",
            )),
        ),
        case(
            "a STANDARD change needs no justification",
            engineer.clone(),
            with(change(T::Standard, S::Draft), |change| {
                change.justification = None;
            }),
            A::Submit,
            Ok(()),
        ),
        case(
            "authorize before the assessment",
            manager.clone(),
            unassessed.clone(),
            A::Authorize,
            Err((Prerequisite, NOT_ASSESSED)),
        ),
        case(
            "refer before the assessment",
            manager.clone(),
            unassessed.clone(),
            A::ReferToCab,
            Err((Prerequisite, NOT_ASSESSED)),
        ),
        case(
            "a change assessed MEDIUM is authorized under the HIGH threshold",
            manager.clone(),
            medium.clone(),
            A::Authorize,
            Ok(()),
        ),
        case(
            "a change assessed HIGH goes to the CAB",
            manager.clone(),
            high.clone(),
            A::Authorize,
            Err((
                Prerequisite,
                "CHG0000001 is HIGH risk, at or above the CAB threshold HIGH: refer it to the CAB",
            )),
        ),
        case(
            "a LOW change may still be referred",
            manager.clone(),
            change(T::Normal, S::Assessment),
            A::ReferToCab,
            Ok(()),
        ),
        case(
            "an EMERGENCY change closes only after its review",
            manager.clone(),
            unreviewed(T::Emergency, ChangeOutcome::Successful),
            A::Close,
            Err((
                Prerequisite,
                "CHG0000001 needs a post-implementation review before it closes (every \
                 EMERGENCY change is reviewed)",
            )),
        ),
        case(
            "a FAILED change closes only after its review",
            manager.clone(),
            unreviewed(T::Normal, ChangeOutcome::Failed),
            A::Close,
            Err((
                Prerequisite,
                "CHG0000001 needs a post-implementation review before it closes (its outcome \
                 was FAILED)",
            )),
        ),
        case(
            "a BACKED_OUT change closes only after its review",
            manager.clone(),
            unreviewed(T::Normal, ChangeOutcome::BackedOut),
            A::Close,
            Err((
                Prerequisite,
                "CHG0000001 needs a post-implementation review before it closes (its outcome \
                 was BACKED_OUT)",
            )),
        ),
        case(
            "a change SUCCESSFUL_WITH_ISSUES closes without a review",
            manager.clone(),
            unreviewed(T::Normal, ChangeOutcome::SuccessfulWithIssues),
            A::Close,
            Ok(()),
        ),
    ];
    // The facts a caller knows: the CIs and the template.
    cases.extend([
        Case {
            facts: Facts {
                affected_items: Some(0),
                template_active: None,
            },
            ..case(
                "submit without a justification, plans or a CI",
                engineer.clone(),
                blank_draft,
                A::Submit,
                Err((
                    Prerequisite,
                    "CHG0000001 cannot be submitted without: justification, implementationPlan, \
                     backoutPlan, affectedItemIds",
                )),
            )
        },
        Case {
            facts: Facts {
                affected_items: Some(1),
                template_active: Some(false),
            },
            ..case(
                "submit a STANDARD draft from a retired template",
                engineer.clone(),
                change(T::Standard, S::Draft),
                A::Submit,
                Err((
                    Prerequisite,
                    "CHG0000001 comes from a template that is retired; raise it as a NORMAL change",
                )),
            )
        },
        Case {
            facts: Facts {
                affected_items: Some(1),
                template_active: Some(false),
            },
            ..case(
                "a NORMAL change's template does not matter",
                engineer.clone(),
                change(T::Normal, S::Draft),
                A::Submit,
                Ok(()),
            )
        },
    ]);
    // The API suite's threshold case: the service head lowers it to MEDIUM.
    cases.push(Case {
        policy: Policy {
            cab_threshold: RiskLevel::Medium,
            ..policy()
        },
        ..case(
            "a change assessed MEDIUM goes to the CAB under the MEDIUM threshold",
            manager.clone(),
            medium.clone(),
            A::Authorize,
            Err((
                Prerequisite,
                "CHG0000001 is MEDIUM risk, at or above the CAB threshold MEDIUM: refer it to \
                 the CAB",
            )),
        )
    });
    // The policy's requesterMayAuthorize lifts separation of duties, and nothing else.
    let small_team = Policy {
        requester_may_authorize: true,
        ..policy()
    };
    for (what, actor, change, action) in [
        (
            "a small team's requester authorizes",
            own_manager.clone(),
            change(T::Normal, S::Assessment),
            A::Authorize,
        ),
        (
            "a small team's requester reviews",
            own_manager.clone(),
            change(T::Normal, S::Review),
            A::RecordReview,
        ),
        (
            "a small team's requester votes on the CAB",
            own_cab.clone(),
            change(T::Normal, S::CabReview),
            A::Vote,
        ),
        (
            "a small team's requester votes on the ECAB",
            own_head.clone(),
            change(T::Emergency, S::CabReview),
            A::Vote,
        ),
    ] {
        cases.push(Case {
            policy: small_team.clone(),
            ..case(what, actor, change, action, Ok(()))
        });
    }
    cases.push(Case {
        policy: small_team,
        ..case(
            "a small team's CAB member still does not vote on an EMERGENCY change",
            own_cab,
            change(T::Emergency, S::CabReview),
            A::Vote,
            Err((
                Person,
                "only change managers and service heads (the ECAB) vote on EMERGENCY changes",
            )),
        )
    });

    for case in cases {
        let checked = check_with(
            case.action,
            &case.change,
            &case.actor,
            &case.policy,
            case.facts,
        );
        let offered =
            available_transitions_with(&case.change, &case.actor, &case.policy, case.facts)
                .into_iter()
                .find(|transition| transition.action == case.action)
                .expect("every action is offered or refused");
        let said: Result<(), (TransitionBlock, String)> = match (&checked, offered.code) {
            (Ok(()), None) => Ok(()),
            (Err(error), Some(code)) => Err((code, error.to_string())),
            (checked, code) => panic!("{}: check says {checked:?}, the button {code:?}", case.what),
        };
        assert_eq!(
            said,
            case.said.map_err(|(code, words)| (code, words.to_owned())),
            "{}",
            case.what
        );
        assert_eq!(offered.reason, checked.err().map(|error| error.to_string()));
    }
}

/// The API suite's `every_mutation_a_state_does_not_allow_is_an_invalid_transition_that_writes_nothing`
/// parks a change in each state and offers a change manager who sits on the CAB exactly these
/// moves; the rule says the same.
#[test]
fn a_board_manager_is_offered_exactly_the_legal_moves_of_each_parked_change() {
    use ChangeAction as A;
    use ChangeState as S;
    use ChangeType as T;
    let cora = actor("cora", &[Role::ChangeManager, Role::CabMember]);
    let policy = policy();
    const EDITS_SUBMIT_CANCEL: &[ChangeAction] =
        &[A::Update, A::EditAffectedItems, A::Submit, A::Cancel];
    let from_template = |state| {
        with(change(T::Standard, state), |change| {
            change.justification = None;
            change.template_id = Some("template".to_owned());
        })
    };
    let fresh = |change_type, state| {
        with(change(change_type, state), |change| {
            change.risk_level = None;
            change.risk_score = None;
            change.outcome = None;
            change.review = None;
        })
    };
    let assessed = |change_type, state, level| {
        with(fresh(change_type, state), |change| {
            change.risk_level = Some(level);
        })
    };
    let completed = |outcome| {
        with(assessed(T::Normal, S::Review, RiskLevel::Low), |change| {
            change.outcome = Some(outcome);
        })
    };
    let parked: Vec<(&str, Model, &[ChangeAction])> = vec![
        (
            "NORMAL DRAFT",
            fresh(T::Normal, S::Draft),
            EDITS_SUBMIT_CANCEL,
        ),
        (
            "STANDARD DRAFT",
            from_template(S::Draft),
            EDITS_SUBMIT_CANCEL,
        ),
        (
            "STANDARD AUTHORIZED",
            from_template(S::Authorized),
            &[A::Schedule, A::Cancel],
        ),
        (
            "NORMAL ASSESSMENT, not yet assessed",
            fresh(T::Normal, S::Assessment),
            &[
                A::Update,
                A::EditAffectedItems,
                A::Assess,
                A::Reject,
                A::Cancel,
            ],
        ),
        (
            "NORMAL CAB_REVIEW",
            assessed(T::Normal, S::CabReview, RiskLevel::High),
            &[A::Vote, A::Cancel],
        ),
        (
            "EMERGENCY CAB_REVIEW",
            fresh(T::Emergency, S::CabReview),
            &[A::Assess, A::Vote, A::Cancel],
        ),
        (
            "NORMAL AUTHORIZED",
            assessed(T::Normal, S::Authorized, RiskLevel::Low),
            &[A::Schedule, A::Cancel],
        ),
        (
            "NORMAL SCHEDULED",
            assessed(T::Normal, S::Scheduled, RiskLevel::Low),
            &[A::Schedule, A::StartImplementation, A::Cancel],
        ),
        (
            "NORMAL IMPLEMENTING",
            assessed(T::Normal, S::Implementing, RiskLevel::Low),
            &[A::CompleteImplementation],
        ),
        (
            "NORMAL REVIEW (SUCCESSFUL)",
            completed(ChangeOutcome::Successful),
            &[A::RecordReview, A::Close],
        ),
        (
            "NORMAL REVIEW (FAILED)",
            completed(ChangeOutcome::Failed),
            &[A::RecordReview],
        ),
        (
            "NORMAL CLOSED",
            assessed(T::Normal, S::Closed, RiskLevel::Low),
            &[],
        ),
        ("NORMAL REJECTED", fresh(T::Normal, S::Rejected), &[]),
        ("NORMAL CANCELLED", fresh(T::Normal, S::Cancelled), &[]),
    ];
    for (label, change, legal) in parked {
        let offered: Vec<ChangeAction> = available_transitions(&change, &cora, &policy)
            .into_iter()
            .filter(|transition| transition.allowed)
            .map(|transition| transition.action)
            .collect();
        assert_eq!(offered, legal, "{label}");
    }
}
