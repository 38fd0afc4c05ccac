//! Change events for live subscribers: what one event row says about a change, who may receive
//! it and whether it touches the CAB's agenda. Everything is read from the row itself (the
//! change as the write left it), so delivering one event to many subscribers reads nothing.

use std::sync::Arc;

use quorum_core::event::{self, EventKind, EventNews};
use quorum_core::{Actor, DomainResult, Permission};

use crate::entity::{ChangeState, RiskLevel};
use crate::{CHANGE_EVENT_KIND, Change};

/// One change event, decoded.
#[derive(Debug, Clone)]
pub struct ChangeNews {
    pub event: EventNews<ChangeState>,
    /// The change as the write left it; none for a vote, whose event carries the vote.
    pub change: Option<Arc<Change>>,
    /// The vote as cast, for a vote.
    pub vote: Option<crate::Vote>,
}

/// The change event in `event`; none for events of other records. A snapshot that does not
/// decode is an error ([`event::decode_after`], [`EventNews::read`]).
pub fn read(event: &event::Model) -> Option<DomainResult<ChangeNews>> {
    if event.entity_kind != CHANGE_EVENT_KIND {
        return None;
    }
    let news = match EventNews::read(event) {
        Ok(news) => news,
        Err(error) => return Some(Err(error)),
    };
    let decoded = match news.kind {
        EventKind::Voted => event::decode_after::<crate::VoteSnapshot>(event)
            .map(|vote| (None, vote.map(crate::VoteSnapshot::into_row))),
        _ => event::decode_after::<crate::ChangeSnapshot>(event)
            .map(|change| (change.map(|change| Arc::new(change.into_row())), None)),
    };
    Some(decoded.map(|(change, vote)| ChangeNews {
        event: news,
        change,
        vote,
    }))
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
        self.event.kind == EventKind::Voted
            || on_agenda(self.event.from_state)
            || on_agenda(self.event.to_state)
    }
}
