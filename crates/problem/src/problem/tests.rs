//! The problem life cycle ([`crate::check`]) as tables: every action in every state, with and
//! without a root cause or workaround recorded, for each role; then the words of each kind of
//! refusal. The API suites prove the wiring.

use chrono::{TimeZone, Utc};
use quorum_core::{Actor, Role, TransitionBlock};

use crate::{
    Problem, ProblemAction, ProblemState, ProblemTransition, available_transitions, check,
};

const STATES: [(ProblemState, &str); 5] = [
    (ProblemState::New, "NEW"),
    (ProblemState::UnderInvestigation, "UNDER_INVESTIGATION"),
    (ProblemState::KnownError, "KNOWN_ERROR"),
    (ProblemState::Resolved, "RESOLVED"),
    (ProblemState::Closed, "CLOSED"),
];

/// PRB0000001 in `state`, with a root cause recorded or nothing known yet.
fn problem(state: ProblemState, root_cause: bool) -> Problem {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid instant");
    Problem {
        id: "0190c0de-0000-7000-8000-000000000003".to_owned(),
        number: "PRB0000001".to_owned(),
        title: "Connection pool exhaustion".to_owned(),
        description: None,
        state,
        root_cause: root_cause.then(|| "pool.max too low".to_owned()),
        workaround: None,
        known_error_at: None,
        resolved_at: None,
        resolution_reason: None,
        closed_at: None,
        close_reason: None,
        created_by: "eve".to_owned(),
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

fn heading(action: ProblemAction) -> &'static str {
    match action {
        ProblemAction::RecordRootCause => "root",
        ProblemAction::RecordWorkaround => "work",
        ProblemAction::MarkKnownError => "know",
        ProblemAction::LinkIncidents => "link",
        ProblemAction::UnlinkIncident => "unln",
        ProblemAction::LinkFixChange => "fix",
        ProblemAction::Resolve => "rslv",
        ProblemAction::Close => "clos",
    }
}

/// `ok` allowed; `R` the role does not grant it (FORBIDDEN); `.` refused as INVALID_TRANSITION,
/// which for problems is also the code of a missing root cause or workaround (changes say
/// PREREQUISITE for theirs).
fn cell(transition: &ProblemTransition) -> &'static str {
    match (transition.allowed, transition.code) {
        (true, _) => "ok",
        (false, Some(TransitionBlock::Role)) => "R",
        (false, Some(TransitionBlock::State)) => ".",
        (false, _) => "?",
    }
}

fn grid(role: Role) -> String {
    let actor = Actor::new("someone", [role]);
    let mut rows = vec![role.to_string()];
    let mut heading_row = format!("{:<32}", "");
    for action in ProblemAction::ALL {
        heading_row.push_str(&format!("{:>5}", heading(action)));
    }
    rows.push(heading_row);
    for root_cause in [false, true] {
        for (state, name) in STATES {
            let problem = problem(state, root_cause);
            let label = format!("{name}{}", if root_cause { " (root cause)" } else { "" });
            let mut row = format!("{label:<32}");
            for transition in available_transitions(&problem, &actor) {
                let checked = check(transition.action, &problem, &actor);
                assert_eq!(
                    checked.as_ref().err().map(ToString::to_string),
                    transition.reason,
                    "{role}: {:?} on {label}",
                    transition.action
                );
                row.push_str(&format!("{:>5}", cell(&transition)));
            }
            rows.push(row.trim_end().to_owned());
        }
    }
    rows.join("\n")
}

#[test]
fn every_action_in_every_state_for_every_role() {
    let grids: Vec<String> = Role::ALL.into_iter().map(grid).collect();
    let actual = grids.join("\n\n");
    assert_eq!(
        actual,
        GRIDS.trim_matches('\n'),
        "the whole table is:\n{actual}\n"
    );
}

const GRIDS: &str = "
ENGINEER
                                 root work know link unln  fix rslv clos
NEW                                ok   ok    .   ok   ok   ok    .   ok
UNDER_INVESTIGATION                ok   ok    .   ok   ok   ok   ok   ok
KNOWN_ERROR                        ok   ok    .   ok   ok   ok   ok    .
RESOLVED                            .    .    .    .    .    .    .   ok
CLOSED                              .    .    .    .    .    .    .    .
NEW (root cause)                   ok   ok   ok   ok   ok   ok    .   ok
UNDER_INVESTIGATION (root cause)   ok   ok   ok   ok   ok   ok   ok   ok
KNOWN_ERROR (root cause)           ok   ok    .   ok   ok   ok   ok    .
RESOLVED (root cause)               .    .    .    .    .    .    .   ok
CLOSED (root cause)                 .    .    .    .    .    .    .    .

CHANGE_MANAGER
                                 root work know link unln  fix rslv clos
NEW                                ok   ok    .   ok   ok   ok    .   ok
UNDER_INVESTIGATION                ok   ok    .   ok   ok   ok   ok   ok
KNOWN_ERROR                        ok   ok    .   ok   ok   ok   ok    .
RESOLVED                            .    .    .    .    .    .    .   ok
CLOSED                              .    .    .    .    .    .    .    .
NEW (root cause)                   ok   ok   ok   ok   ok   ok    .   ok
UNDER_INVESTIGATION (root cause)   ok   ok   ok   ok   ok   ok   ok   ok
KNOWN_ERROR (root cause)           ok   ok    .   ok   ok   ok   ok    .
RESOLVED (root cause)               .    .    .    .    .    .    .   ok
CLOSED (root cause)                 .    .    .    .    .    .    .    .

CAB_MEMBER
                                 root work know link unln  fix rslv clos
NEW                                 R    R    R    R    R    R    R    R
UNDER_INVESTIGATION                 R    R    R    R    R    R    R    R
KNOWN_ERROR                         R    R    R    R    R    R    R    R
RESOLVED                            R    R    R    R    R    R    R    R
CLOSED                              R    R    R    R    R    R    R    R
NEW (root cause)                    R    R    R    R    R    R    R    R
UNDER_INVESTIGATION (root cause)    R    R    R    R    R    R    R    R
KNOWN_ERROR (root cause)            R    R    R    R    R    R    R    R
RESOLVED (root cause)               R    R    R    R    R    R    R    R
CLOSED (root cause)                 R    R    R    R    R    R    R    R

SERVICE_HEAD
                                 root work know link unln  fix rslv clos
NEW                                 R    R    R    R    R    R    R    R
UNDER_INVESTIGATION                 R    R    R    R    R    R    R    R
KNOWN_ERROR                         R    R    R    R    R    R    R    R
RESOLVED                            R    R    R    R    R    R    R    R
CLOSED                              R    R    R    R    R    R    R    R
NEW (root cause)                    R    R    R    R    R    R    R    R
UNDER_INVESTIGATION (root cause)    R    R    R    R    R    R    R    R
KNOWN_ERROR (root cause)            R    R    R    R    R    R    R    R
RESOLVED (root cause)               R    R    R    R    R    R    R    R
CLOSED (root cause)                 R    R    R    R    R    R    R    R
";

#[test]
fn a_refusal_names_the_state_and_when_the_move_is_possible() {
    let engineer = Actor::new("eve", [Role::Engineer]);
    let head = Actor::new("hana", [Role::ServiceHead]);
    let cases: [(ProblemAction, Problem, &Actor, &str); 5] = [
        (
            ProblemAction::MarkKnownError,
            problem(ProblemState::New, false),
            &engineer,
            "PRB0000001 has neither a root cause nor a workaround yet; record one first",
        ),
        (
            ProblemAction::RecordRootCause,
            problem(ProblemState::Closed, true),
            &engineer,
            "PRB0000001 is CLOSED; RecordRootCause is possible only before it is resolved",
        ),
        (
            ProblemAction::Resolve,
            problem(ProblemState::New, false),
            &engineer,
            "PRB0000001 is NEW; Resolve is possible only when UNDER_INVESTIGATION or KNOWN_ERROR",
        ),
        (
            ProblemAction::Close,
            problem(ProblemState::KnownError, true),
            &engineer,
            "PRB0000001 is KNOWN_ERROR; Close is possible only when RESOLVED (or, with a \
             reason, NEW or UNDER_INVESTIGATION)",
        ),
        (
            ProblemAction::LinkIncidents,
            problem(ProblemState::New, false),
            &head,
            "you are not allowed to investigate problems",
        ),
    ];
    for (action, problem, actor, words) in cases {
        let refused = check(action, &problem, actor).expect_err("refused");
        assert_eq!(refused.to_string(), words, "{action:?}");
    }
}
