//! Incident events for live subscribers: what one event row says about an incident, read from
//! the row itself (the incident as the write left it).

use quorum_core::event::{self, EventNews};
use quorum_core::{Actor, DomainResult, Permission};

use crate::entity::{IncidentState, Priority};
use crate::{INCIDENT_EVENT_KIND, Incident};

/// One incident event, decoded.
#[derive(Debug, Clone)]
pub struct IncidentNews {
    pub event: EventNews<IncidentState>,
    /// The incident as the write left it (shared by every subscriber that receives it).
    pub incident: Option<std::sync::Arc<Incident>>,
}

/// The incident event in `event`; none for events of other records. A snapshot that does not
/// decode is an error ([`event::decode_after`], [`EventNews::read`]).
pub fn read(event: &event::Model) -> Option<DomainResult<IncidentNews>> {
    if event.entity_kind != INCIDENT_EVENT_KIND {
        return None;
    }
    let read = || {
        Ok(IncidentNews {
            event: EventNews::read(event)?,
            incident: event::decode_after::<crate::IncidentSnapshot>(event)?
                .map(|incident| std::sync::Arc::new(incident.into_row())),
        })
    };
    Some(read())
}

/// Whether `actor` may subscribe to incident events.
pub fn authorize_incident_events(actor: &Actor) -> DomainResult<()> {
    actor.authorize(Permission::ReadIncidents)
}

/// Narrows incident events; unset fields match everything.
#[derive(Debug, Clone, Default)]
pub struct IncidentNewsFilter {
    pub priorities: Option<Vec<Priority>>,
    pub major_only: bool,
    pub affected_ci_ids: Option<Vec<String>>,
}

impl IncidentNewsFilter {
    pub fn matches(&self, news: &IncidentNews) -> bool {
        let Some(incident) = &news.incident else {
            return false;
        };
        self.priorities
            .as_ref()
            .is_none_or(|priorities| priorities.contains(&incident.priority))
            && (!self.major_only || incident.major_incident)
            && self.affected_ci_ids.as_ref().is_none_or(|wanted| {
                news.event
                    .affected_item_ids
                    .iter()
                    .any(|id| wanted.contains(id))
            })
    }
}
