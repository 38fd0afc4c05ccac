//! Change enablement: requests for change (RFCs) from draft to closure, their risk, CAB and
//! ECAB votes, standard-change templates, collision-free scheduling with conflicts and freeze
//! windows, and the change policy.
//!
//! Every operation takes the caller's [`quorum_core::Actor`] and checks its permission first;
//! the life cycle is one pure function ([`lifecycle::check`]) that every write and
//! `availableTransitions` share; every write runs in one transaction that appends its event.

pub mod agenda;
mod change;
mod conflict;
pub mod entity;
pub mod lifecycle;
pub mod live;
mod policy;
mod query;
pub mod risk;
pub mod snapshot;
mod template;
mod vote;

pub use change::{
    ChangeEdits, ItemsEdit, MAX_AFFECTED_ITEMS, NewChange, NewStandardChange, Review,
    affected_item_ids, assess_change, authorize_change, cancel_change, changes_holding,
    close_change, complete_implementation, create_change, create_change_from_template, draft_row,
    edit_affected_items, record_review, refer_change_to_cab, reject_change, start_implementation,
    submit_change, update_change,
};
pub use conflict::{
    Calendar, Conflict, ConflictKind, FreezeWindow, NewFreezeWindow, ScheduleRequest,
    change_calendar, change_conflicts, create_freeze_window, freeze_windows, remove_freeze_window,
    schedule_change,
};
pub use entity::cab_vote::Model as Vote;
pub use entity::change_request::Column as ChangeColumn;
pub use entity::change_request::Model as Change;
pub use entity::policy::Model as ChangePolicy;
pub use entity::template::Model as StandardChangeTemplate;
pub use entity::{
    Board, ChangeOutcome, ChangeState, ChangeType, RiskLevel, UserImpact, VoteDecision,
};
pub use lifecycle::{ChangeAction, Transition, available_transitions};
pub use policy::{PolicyChanges, change_policy, update_change_policy};
pub use query::{
    ChangeFilter, ChangeKey, ChangeOrderField, affected_configuration_items_of, change_history,
    find_change, find_changes, list_changes,
};
pub use risk::{RiskAssessment, RiskFactor, RiskFactorName, RiskQuestionnaire};
pub use template::{NewTemplate, create_template, retire_template, templates, templates_by_id};
pub use vote::{cast_cab_vote, votes_of};

/// The `entity_kind` of change events (moves, edits and votes).
pub const CHANGE_EVENT_KIND: &str = quorum_core::event::EntityKind::Change.as_str();
/// Prefix of change numbers: `CHG0000001`.
pub const CHANGE_NUMBER_PREFIX: &str = "CHG";
pub use snapshot::{
    ChangePolicySnapshot, ChangeSnapshot, FreezeWindowSnapshot, TemplateSnapshot, VoteSnapshot,
};
