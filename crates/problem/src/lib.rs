//! Problems: the causes behind incidents, from NEW through investigation to a known error
//! (root cause and workaround), resolved by a successful fix change (or a stated reason) and
//! closed; and the known error database the service desk searches.

pub mod entity;
mod problem;
mod query;
pub mod snapshot;

pub use entity::ProblemState;
pub use entity::problem::Model as Problem;
pub use problem::{
    IncidentsElsewhere, NewProblem, ProblemAction, ProblemTransition, available_transitions, check,
    close_problem, create_problem, fix_changes_of, link_fix_change, link_incidents_to_problem,
    mark_known_error, problems_fixed_by, record_root_cause, record_workaround, resolve_problem,
    unlink_incident_from_problem,
};
pub use query::{
    ProblemFilter, ProblemKey, affected_items_of, find_problem, find_problems, known_errors,
    list_problems, problem_history,
};

/// The `entity_kind` of problem events.
pub const PROBLEM_EVENT_KIND: &str = quorum_core::event::EntityKind::Problem.as_str();
/// Prefix of problem numbers: `PRB0000001`.
pub const PROBLEM_NUMBER_PREFIX: &str = "PRB";
pub use snapshot::ProblemSnapshot;
