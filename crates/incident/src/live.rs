//! Incident events for live subscribers: what one event row says about an incident, read from
//! the row itself (the incident as the write left it).

use chrono::{DateTime, Utc};
use quorum_core::event::{self, EventKind};
use quorum_core::{Actor, DomainResult, Permission};
use serde_json::Value as Json;

use crate::entity::{IncidentState, Priority};
use crate::{INCIDENT_EVENT_KIND, Incident};

/// One incident event, decoded.
#[derive(Debug, Clone)]
pub struct IncidentNews {
    pub event_id: i64,
    pub incident_id: String,
    pub kind: EventKind,
    /// The event's own verb: `created`, `assigned`, `resolved`…
    pub action: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub from_state: Option<IncidentState>,
    pub to_state: Option<IncidentState>,
    /// The incident as the write left it.
    pub incident: Option<Incident>,
    pub affected_item_ids: Vec<String>,
}

fn state_of(snapshot: Option<&Json>) -> Option<IncidentState> {
    event::snapshot_field(snapshot, "state")
}

/// The incident event in `event`; none for events of other records.
pub fn read(event: &event::Model) -> Option<IncidentNews> {
    if event.entity_kind != INCIDENT_EVENT_KIND {
        return None;
    }
    let from_state = state_of(event.before.as_ref());
    let to_state = state_of(event.after.as_ref());
    Some(IncidentNews {
        event_id: event.id,
        incident_id: event.entity_id.clone(),
        kind: EventKind::of(&event.action, from_state.as_ref(), to_state.as_ref()),
        action: event.action.clone(),
        actor: event.actor.clone(),
        occurred_at: event.occurred_at,
        reason: event.reason.clone(),
        from_state,
        to_state,
        incident: event
            .after
            .clone()
            .and_then(|after| serde_json::from_value(after).ok()),
        affected_item_ids: event::snapshot_field(event.after.as_ref(), "affectedItemIds")
            .unwrap_or_default(),
    })
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
            && self
                .affected_ci_ids
                .as_ref()
                .is_none_or(|wanted| news.affected_item_ids.iter().any(|id| wanted.contains(id)))
    }
}
