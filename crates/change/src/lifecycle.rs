//! The change life cycle as one pure function: [`check`] says whether an actor may take an
//! action on a change now, and why not. Every mutation calls it inside its transaction, and
//! `availableTransitions` calls it for each action, so buttons and rules cannot disagree.

use quorum_core::{Actor, DomainError, DomainResult, Permission, Role, TransitionBlock};

use crate::entity::change_request::Model;
use crate::entity::policy::Model as Policy;
use crate::entity::{Board, ChangeOutcome, ChangeState, ChangeType};

/// What can be done to a change: one action per mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "ChangeAction", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChangeAction {
    /// `updateChange`.
    Update,
    /// `addChangeAffectedItems`, `removeChangeAffectedItems`.
    EditAffectedItems,
    /// `submitChange`.
    Submit,
    /// `assessChange`.
    Assess,
    /// `authorizeChange`.
    Authorize,
    /// `referChangeToCab`.
    ReferToCab,
    /// `rejectChange`.
    Reject,
    /// `castCabVote`.
    Vote,
    /// `scheduleChange`.
    Schedule,
    /// `startImplementation`.
    StartImplementation,
    /// `completeImplementation`.
    CompleteImplementation,
    /// `recordReview`.
    RecordReview,
    /// `closeChange`.
    Close,
    /// `cancelChange`.
    Cancel,
}

impl ChangeAction {
    pub const ALL: [ChangeAction; 14] = [
        ChangeAction::Update,
        ChangeAction::EditAffectedItems,
        ChangeAction::Submit,
        ChangeAction::Assess,
        ChangeAction::Authorize,
        ChangeAction::ReferToCab,
        ChangeAction::Reject,
        ChangeAction::Vote,
        ChangeAction::Schedule,
        ChangeAction::StartImplementation,
        ChangeAction::CompleteImplementation,
        ChangeAction::RecordReview,
        ChangeAction::Close,
        ChangeAction::Cancel,
    ];

    pub fn permission(self) -> Permission {
        match self {
            ChangeAction::Update | ChangeAction::EditAffectedItems => Permission::UpdateChange,
            ChangeAction::Submit => Permission::SubmitChange,
            ChangeAction::Assess => Permission::AssessChange,
            ChangeAction::Authorize => Permission::AuthorizeChange,
            ChangeAction::ReferToCab => Permission::ReferChangeToCab,
            ChangeAction::Reject => Permission::RejectChange,
            ChangeAction::Vote => Permission::CastCabVote,
            ChangeAction::Schedule => Permission::ScheduleChange,
            ChangeAction::StartImplementation | ChangeAction::CompleteImplementation => {
                Permission::ImplementChange
            }
            ChangeAction::RecordReview => Permission::RecordReview,
            ChangeAction::Close => Permission::CloseChange,
            ChangeAction::Cancel => Permission::CancelChange,
        }
    }

    /// The verb, as messages use it.
    fn verb(self) -> &'static str {
        match self {
            ChangeAction::Update => "be updated",
            ChangeAction::EditAffectedItems => "have its affected items changed",
            ChangeAction::Submit => "be submitted",
            ChangeAction::Assess => "be assessed",
            ChangeAction::Authorize => "be authorized by the change manager",
            ChangeAction::ReferToCab => "be referred to the CAB",
            ChangeAction::Reject => "be rejected by the change manager",
            ChangeAction::Vote => "be voted on",
            ChangeAction::Schedule => "be scheduled",
            ChangeAction::StartImplementation => "start implementation",
            ChangeAction::CompleteImplementation => "complete implementation",
            ChangeAction::RecordReview => "be reviewed",
            ChangeAction::Close => "be closed",
            ChangeAction::Cancel => "be cancelled",
        }
    }

    /// What the actor may do, after "may": `update it`.
    fn infinitive(self) -> &'static str {
        match self {
            ChangeAction::Update => "update it",
            ChangeAction::EditAffectedItems => "change its affected items",
            ChangeAction::Submit => "submit it",
            ChangeAction::Assess => "assess it",
            ChangeAction::Authorize => "authorize it",
            ChangeAction::ReferToCab => "refer it to the CAB",
            ChangeAction::Reject => "reject it",
            ChangeAction::Vote => "vote on it",
            ChangeAction::Schedule => "schedule it",
            ChangeAction::StartImplementation => "start implementing it",
            ChangeAction::CompleteImplementation => "complete its implementation",
            ChangeAction::RecordReview => "review it",
            ChangeAction::Close => "close it",
            ChangeAction::Cancel => "cancel it",
        }
    }

    /// The states (and types) the action is possible in, for messages.
    fn when(self) -> &'static str {
        match self {
            ChangeAction::Update | ChangeAction::EditAffectedItems => "in DRAFT or ASSESSMENT",
            ChangeAction::Submit => "in DRAFT",
            ChangeAction::Assess => "in ASSESSMENT (NORMAL) or CAB_REVIEW (EMERGENCY)",
            ChangeAction::Authorize | ChangeAction::ReferToCab => "when NORMAL and in ASSESSMENT",
            ChangeAction::Reject => "in ASSESSMENT",
            ChangeAction::Vote => "in CAB_REVIEW",
            ChangeAction::Schedule => "when AUTHORIZED or SCHEDULED",
            ChangeAction::StartImplementation => "when SCHEDULED",
            ChangeAction::CompleteImplementation => "when IMPLEMENTING",
            ChangeAction::RecordReview | ChangeAction::Close => "in REVIEW",
            ChangeAction::Cancel => "before IMPLEMENTING",
        }
    }
}

/// The SCREAMING_SNAKE_CASE name of a stored enum value, as clients see it.
pub(crate) fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn invalid(message: String) -> DomainError {
    DomainError::InvalidTransition { message }
}

/// The board that votes on a change of this type, if any.
pub fn board_of(change_type: ChangeType) -> Option<Board> {
    match change_type {
        ChangeType::Normal => Some(Board::Cab),
        ChangeType::Emergency => Some(Board::Ecab),
        ChangeType::Standard => None,
    }
}

/// Whether closing `change` needs a post-implementation review first.
pub fn review_required(change: &Model) -> bool {
    change.change_type == ChangeType::Emergency
        || change.outcome.is_some_and(ChangeOutcome::is_failure)
}

/// Who, beyond the role, may act: the requester or assignee for engineers; the right board
/// for votes; and, unless the policy allows it, never the requester to authorize, vote on or
/// review their own change (separation of duties).
fn check_actor(
    action: ChangeAction,
    change: &Model,
    actor: &Actor,
    policy: &Policy,
) -> DomainResult<()> {
    let manager = actor.has_role(Role::ChangeManager);
    let own = actor.subject() == change.requested_by && !policy.requester_may_authorize;
    match action {
        ChangeAction::Authorize | ChangeAction::RecordReview if own => Err(DomainError::Refused {
            message: format!(
                "you requested {}, so someone else must {} (separation of duties; the policy's \
                     requesterMayAuthorize allows it for small teams)",
                change.number,
                action.infinitive()
            ),
        }),
        ChangeAction::Update
        | ChangeAction::EditAffectedItems
        | ChangeAction::Submit
        | ChangeAction::Cancel
            if !manager && actor.subject() != change.requested_by =>
        {
            Err(DomainError::Refused {
                message: format!(
                    "only the requester of {} or a change manager may {}",
                    change.number,
                    action.infinitive()
                ),
            })
        }
        ChangeAction::StartImplementation | ChangeAction::CompleteImplementation
            if !manager && change.assignee.as_deref() != Some(actor.subject()) =>
        {
            Err(DomainError::Refused {
                message: format!(
                    "only the assignee of {} or a change manager may implement it",
                    change.number
                ),
            })
        }
        ChangeAction::Vote => {
            let eligible = match board_of(change.change_type) {
                Some(Board::Cab) => actor.has_role(Role::CabMember),
                Some(Board::Ecab) => {
                    actor.has_role(Role::ChangeManager) || actor.has_role(Role::ServiceHead)
                }
                // No board votes on a STANDARD change: that is the state check's to say (a
                // CAB member told "only CAB members vote on NORMAL changes" would be lost).
                None => return Ok(()),
            };
            if !eligible {
                let who = match change.change_type {
                    ChangeType::Emergency => {
                        "only change managers and service heads (the ECAB) vote on EMERGENCY changes"
                    }
                    _ => "only CAB members vote on NORMAL changes",
                };
                return Err(DomainError::Refused {
                    message: who.to_owned(),
                });
            }
            if own {
                return Err(DomainError::Refused {
                    message: format!("you requested {}, so you may not vote on it", change.number),
                });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn state_allows(action: ChangeAction, change: &Model) -> bool {
    use ChangeState as S;
    let state = change.state;
    match action {
        ChangeAction::Update | ChangeAction::EditAffectedItems => {
            matches!(state, S::Draft | S::Assessment)
        }
        ChangeAction::Submit => state == S::Draft,
        ChangeAction::Assess => match change.change_type {
            ChangeType::Normal => state == S::Assessment,
            ChangeType::Emergency => state == S::CabReview,
            ChangeType::Standard => false,
        },
        ChangeAction::Authorize | ChangeAction::ReferToCab => {
            change.change_type == ChangeType::Normal && state == S::Assessment
        }
        ChangeAction::Reject => state == S::Assessment,
        ChangeAction::Vote => change.change_type != ChangeType::Standard && state == S::CabReview,
        ChangeAction::Schedule => matches!(state, S::Authorized | S::Scheduled),
        ChangeAction::StartImplementation => state == S::Scheduled,
        ChangeAction::CompleteImplementation => state == S::Implementing,
        ChangeAction::RecordReview | ChangeAction::Close => state == S::Review,
        ChangeAction::Cancel => matches!(
            state,
            S::Draft | S::Assessment | S::CabReview | S::Authorized | S::Scheduled
        ),
    }
}

/// What a submitted change must carry.
fn missing_for_submit(change: &Model) -> Vec<&'static str> {
    let blank = |text: &Option<String>| text.as_deref().is_none_or(|text| text.trim().is_empty());
    let mut missing = Vec::new();
    if blank(&change.justification) && change.change_type != ChangeType::Standard {
        missing.push("justification");
    }
    if blank(&change.implementation_plan) {
        missing.push("implementationPlan");
    }
    if blank(&change.backout_plan) {
        missing.push("backoutPlan");
    }
    missing
}

/// What some checks need to know beyond the change's row, when the caller knows it. Unknown
/// facts (`None`) are not checked: `submitChange` always knows them; a caller of
/// [`available_transitions_with`] that passes them gets buttons that agree with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// How many CIs the change touches (a change is submitted with at least one).
    pub affected_items: Option<usize>,
    /// Whether the template a STANDARD change was raised from is still active (a draft from
    /// a retired template cannot be submitted).
    pub template_active: Option<bool>,
}

/// Whether `actor` may take `action` on `change` now, under `policy`: FORBIDDEN for a role or
/// person who may not, INVALID_TRANSITION for a state (or missing prerequisite) that does not
/// allow it.
pub fn check(
    action: ChangeAction,
    change: &Model,
    actor: &Actor,
    policy: &Policy,
) -> DomainResult<()> {
    check_with(action, change, actor, policy, Facts::default())
}

/// [`check`], also checking the prerequisites that depend on `facts`.
pub fn check_with(
    action: ChangeAction,
    change: &Model,
    actor: &Actor,
    policy: &Policy,
    facts: Facts,
) -> DomainResult<()> {
    actor.authorize(action.permission())?;
    check_actor(action, change, actor, policy)?;
    if !state_allows(action, change) {
        return Err(invalid(format!(
            "{} is {} {}; it can {} only {}",
            change.number,
            name_of(&change.change_type),
            name_of(&change.state),
            action.verb(),
            action.when()
        )));
    }
    match action {
        ChangeAction::Submit => {
            if change.change_type == ChangeType::Standard && facts.template_active == Some(false) {
                return Err(invalid(format!(
                    "{} comes from a template that is retired; raise it as a NORMAL change",
                    change.number
                )));
            }
            let mut missing = missing_for_submit(change);
            if facts.affected_items == Some(0) {
                missing.push("affectedItemIds");
            }
            if !missing.is_empty() {
                return Err(invalid(format!(
                    "{} cannot be submitted without: {}",
                    change.number,
                    missing.join(", ")
                )));
            }
        }
        ChangeAction::Authorize => match change.risk_level {
            None => {
                return Err(invalid(format!(
                    "{} has not been assessed; assess its risk first",
                    change.number
                )));
            }
            Some(level) if level >= policy.cab_threshold => {
                return Err(invalid(format!(
                    "{} is {} risk, at or above the CAB threshold {}: refer it to the CAB",
                    change.number,
                    name_of(&level),
                    name_of(&policy.cab_threshold)
                )));
            }
            Some(_) => {}
        },
        ChangeAction::ReferToCab if change.risk_level.is_none() => {
            return Err(invalid(format!(
                "{} has not been assessed; assess its risk first",
                change.number
            )));
        }
        ChangeAction::Close if review_required(change) && change.review.is_none() => {
            return Err(invalid(format!(
                "{} needs a post-implementation review before it closes ({})",
                change.number,
                if change.change_type == ChangeType::Emergency {
                    "every EMERGENCY change is reviewed".to_owned()
                } else {
                    format!(
                        "its outcome was {}",
                        change.outcome.as_ref().map(name_of).unwrap_or_default()
                    )
                }
            )));
        }
        _ => {}
    }
    Ok(())
}

/// Whether an action is open to the viewer, and why not.
#[derive(Debug, Clone)]
pub struct Transition {
    pub action: ChangeAction,
    pub allowed: bool,
    /// Why not, when not allowed.
    pub reason: Option<String>,
    /// Why not, as a code.
    pub code: Option<TransitionBlock>,
}

/// Every action, with whether `actor` may take it on `change` now (prerequisites that need
/// [`Facts`] unchecked: prefer [`available_transitions_with`]).
pub fn available_transitions(change: &Model, actor: &Actor, policy: &Policy) -> Vec<Transition> {
    available_transitions_with(change, actor, policy, Facts::default())
}

/// Every action, with whether `actor` may take it on `change` now, given `facts`.
pub fn available_transitions_with(
    change: &Model,
    actor: &Actor,
    policy: &Policy,
    facts: Facts,
) -> Vec<Transition> {
    ChangeAction::ALL
        .into_iter()
        .map(
            |action| match check_with(action, change, actor, policy, facts) {
                Ok(()) => Transition {
                    action,
                    allowed: true,
                    reason: None,
                    code: None,
                },
                Err(error) => Transition {
                    action,
                    allowed: false,
                    code: TransitionBlock::of(&error).map(|code| match code {
                        // The state allows it: what is missing is a prerequisite.
                        TransitionBlock::State if state_allows(action, change) => {
                            TransitionBlock::Prerequisite
                        }
                        code => code,
                    }),
                    reason: Some(error.to_string()),
                },
            },
        )
        .collect()
}

#[cfg(test)]
mod tests;
