//! Change events for live subscribers: what one event row says about a change, who may receive
//! it and whether it touches the CAB's agenda. Everything is read from the row itself (the
//! change as the write left it), so delivering one event to many subscribers reads nothing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use quorum_core::event::{self, EventKind};
use quorum_core::{Actor, DomainResult, Permission};
use serde_json::Value as Json;

use crate::entity::{ChangeState, RiskLevel};
use crate::{CHANGE_EVENT_KIND, Change};

/// One change event, decoded.
#[derive(Debug, Clone)]
pub struct ChangeNews {
    pub event_id: i64,
    pub change_id: String,
    pub kind: EventKind,
    /// The event's own verb: `created`, `submitted`, `voted`, `authorized`, `updated`…
    pub action: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub from_state: Option<ChangeState>,
    pub to_state: Option<ChangeState>,
    /// The change as the write left it; none for a vote, whose event carries the vote.
    pub change: Option<Arc<Change>>,
    /// The vote as cast, for a vote.
    pub vote: Option<crate::Vote>,
    pub affected_item_ids: Vec<String>,
}

fn state_of(snapshot: Option<&Json>) -> Option<ChangeState> {
    event::snapshot_field(snapshot, "state")
}

/// The change event in `event`; none for events of other records.
pub fn read(event: &event::Model) -> Option<ChangeNews> {
    if event.entity_kind != CHANGE_EVENT_KIND {
        return None;
    }
    let is_vote = event.action == "voted";
    let from_state = state_of(event.before.as_ref()).filter(|_| !is_vote);
    let to_state = state_of(event.after.as_ref()).filter(|_| !is_vote);
    let change = (!is_vote)
        .then(|| {
            event
                .after
                .clone()
                .and_then(|after| serde_json::from_value::<Change>(after).ok())
        })
        .flatten()
        .map(Arc::new);
    let vote = is_vote
        .then(|| {
            event
                .after
                .clone()
                .and_then(|after| serde_json::from_value::<crate::Vote>(after).ok())
        })
        .flatten();
    let affected_item_ids =
        event::snapshot_field(event.after.as_ref(), "affectedItemIds").unwrap_or_default();
    Some(ChangeNews {
        event_id: event.id,
        change_id: event.entity_id.clone(),
        kind: EventKind::of(&event.action, from_state.as_ref(), to_state.as_ref()),
        action: event.action.clone(),
        actor: event.actor.clone(),
        occurred_at: event.occurred_at,
        reason: event.reason.clone(),
        from_state,
        to_state,
        change,
        vote,
        affected_item_ids,
    })
}

/// Whether `actor` may subscribe to change events at all.
pub fn authorize_change_events(actor: &Actor) -> DomainResult<()> {
    actor.authorize(Permission::ReadChanges)
}

/// Whether `actor` may subscribe to the CAB agenda's updates.
pub fn authorize_agenda_events(actor: &Actor) -> DomainResult<()> {
    actor.authorize(Permission::ReadCabAgenda)
}

impl ChangeNews {
    /// Whether `actor` may receive this event: the rule of queries, so whoever may not read
    /// drafts never receives a change that the write left a draft.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        match &self.change {
            Some(change) => crate::change::visible(actor, change),
            // Votes are cast only on changes under CAB review, never on drafts.
            None => true,
        }
    }

    /// Whether the event changes what `cabAgenda` shows: a change entering or leaving CAB
    /// review, a vote, or a HIGH or VERY_HIGH risk change that is (or was) authorized or
    /// scheduled.
    pub fn touches_agenda(&self) -> bool {
        let on_agenda = |state: Option<ChangeState>| {
            matches!(state, Some(ChangeState::CabReview))
                || (matches!(
                    state,
                    Some(ChangeState::Authorized | ChangeState::Scheduled)
                ) && self
                    .change
                    .as_ref()
                    .and_then(|change| change.risk_level)
                    .is_some_and(|level| level >= RiskLevel::High))
        };
        self.kind == EventKind::Voted || on_agenda(self.from_state) || on_agenda(self.to_state)
    }
}
