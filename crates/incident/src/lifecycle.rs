//! The incident life cycle as one pure function, [`check`], shared by every mutation and by
//! `availableTransitions`.

use quorum_core::{Actor, DomainError, DomainResult, Permission};

use crate::entity::IncidentState;
use crate::entity::incident::Model;

/// What can be done to an incident: one action per mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "IncidentAction", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum IncidentAction {
    Update,
    Assign,
    Acknowledge,
    PutOnHold,
    Resume,
    Resolve,
    Close,
    Reopen,
    SetCause,
    RaiseMajor,
    LowerMajor,
}

impl IncidentAction {
    pub const ALL: [IncidentAction; 11] = [
        IncidentAction::Update,
        IncidentAction::Assign,
        IncidentAction::Acknowledge,
        IncidentAction::PutOnHold,
        IncidentAction::Resume,
        IncidentAction::Resolve,
        IncidentAction::Close,
        IncidentAction::Reopen,
        IncidentAction::SetCause,
        IncidentAction::RaiseMajor,
        IncidentAction::LowerMajor,
    ];

    pub fn permission(self) -> Permission {
        match self {
            IncidentAction::Update => Permission::UpdateIncident,
            IncidentAction::Assign
            | IncidentAction::Acknowledge
            | IncidentAction::PutOnHold
            | IncidentAction::Resume
            | IncidentAction::Resolve => Permission::WorkIncident,
            IncidentAction::Close => Permission::CloseIncident,
            IncidentAction::Reopen => Permission::ReopenIncident,
            IncidentAction::SetCause => Permission::LinkIncidentToChange,
            IncidentAction::RaiseMajor => Permission::RaiseMajorIncident,
            IncidentAction::LowerMajor => Permission::LowerMajorIncident,
        }
    }

    fn describe(self) -> (&'static str, &'static str) {
        match self {
            IncidentAction::Update => ("be updated", "before it is resolved"),
            IncidentAction::Assign => ("be assigned", "before it is resolved"),
            IncidentAction::Acknowledge => ("be acknowledged", "when NEW"),
            IncidentAction::PutOnHold => ("be put on hold", "when IN_PROGRESS"),
            IncidentAction::Resume => ("resume", "when ON_HOLD"),
            IncidentAction::Resolve => ("be resolved", "before it is resolved"),
            IncidentAction::Close => ("be closed", "when RESOLVED"),
            IncidentAction::Reopen => ("be reopened", "when RESOLVED"),
            IncidentAction::SetCause => ("have its cause set", "before it is closed"),
            IncidentAction::RaiseMajor => (
                "be raised to a major incident",
                "before it is resolved, and when it is not one already",
            ),
            IncidentAction::LowerMajor => (
                "be lowered from a major incident",
                "when it is one and not closed",
            ),
        }
    }
}

fn state_name(state: IncidentState) -> &'static str {
    match state {
        IncidentState::New => "NEW",
        IncidentState::InProgress => "IN_PROGRESS",
        IncidentState::OnHold => "ON_HOLD",
        IncidentState::Resolved => "RESOLVED",
        IncidentState::Closed => "CLOSED",
    }
}

fn allowed(action: IncidentAction, incident: &Model) -> bool {
    use IncidentState as S;
    let open = matches!(incident.state, S::New | S::InProgress | S::OnHold);
    match action {
        IncidentAction::Update | IncidentAction::Assign | IncidentAction::Resolve => open,
        IncidentAction::Acknowledge => incident.state == S::New,
        IncidentAction::PutOnHold => incident.state == S::InProgress,
        IncidentAction::Resume => incident.state == S::OnHold,
        IncidentAction::Close | IncidentAction::Reopen => incident.state == S::Resolved,
        IncidentAction::SetCause => incident.state != S::Closed,
        IncidentAction::RaiseMajor => open && !incident.major_incident,
        IncidentAction::LowerMajor => incident.major_incident && incident.state != S::Closed,
    }
}

/// Whether `actor` may take `action` on `incident` now: FORBIDDEN for a role that may not,
/// INVALID_TRANSITION for a state that does not allow it.
pub fn check(action: IncidentAction, incident: &Model, actor: &Actor) -> DomainResult<()> {
    actor.authorize(action.permission())?;
    if !allowed(action, incident) {
        let (verb, when) = action.describe();
        return Err(DomainError::InvalidTransition {
            message: format!(
                "{} is {}{}; it can {verb} only {when}",
                incident.number,
                state_name(incident.state),
                if incident.major_incident {
                    " (major)"
                } else {
                    ""
                }
            ),
        });
    }
    Ok(())
}

/// Whether an action is open to the viewer, and why not.
#[derive(Debug, Clone)]
pub struct IncidentTransition {
    pub action: IncidentAction,
    pub allowed: bool,
    pub reason: Option<String>,
    pub code: Option<quorum_core::TransitionBlock>,
}

/// Every action, with whether `actor` may take it on `incident` now.
pub fn available_transitions(incident: &Model, actor: &Actor) -> Vec<IncidentTransition> {
    IncidentAction::ALL
        .into_iter()
        .map(|action| {
            let result = check(action, incident, actor);
            IncidentTransition {
                action,
                allowed: result.is_ok(),
                code: result
                    .as_ref()
                    .err()
                    .and_then(quorum_core::TransitionBlock::of),
                reason: result.err().map(|error| error.to_string()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
