//! Incidents: priority from the ITIL matrix, SLA clocks that stop on hold, the life cycle from
//! NEW to CLOSED (with reopening), and links to the CIs they hit, the change that caused them
//! and the problem behind them.
//!
//! Every operation takes the caller's [`quorum_core::Actor`] and checks its permission first;
//! the life cycle is one pure function ([`lifecycle::check`]); every write runs in one
//! transaction that appends its event.

pub mod entity;
mod incident;
pub mod lifecycle;
pub mod live;
mod query;
pub mod queue;
pub mod sla;
pub mod snapshot;

pub use entity::incident::Column as IncidentColumn;
pub use entity::incident::Model as Incident;
pub use entity::sla_target::Model as SlaTarget;
pub use entity::{IncidentState, Level, Priority, ResolutionCode};
pub use incident::{
    IncidentEdits, MAX_AFFECTED_ITEMS, NewIncident, SlaTargetInput, acknowledge_incident,
    affected_item_ids, assign_incident, close_incident, create_incident,
    create_incident_with_items, lower_major_incident, open_incidents_on, put_incident_on_hold,
    raise_major_incident, reopen_incident, resolve_incident, resume_incident,
    retire_configuration_item, set_incident_cause, set_problem, sla_targets, update_incident,
    update_sla_targets,
};
pub use lifecycle::{IncidentAction, IncidentTransition, available_transitions};
pub use query::{
    IncidentFilter, IncidentKey, IncidentOrderField, affected_configuration_items_of,
    breached_expr, find_incident, incident_history, incidents_by, list_incidents,
};
pub use sla::SlaStatus;

/// The `entity_kind` of incident events.
pub const INCIDENT_EVENT_KIND: &str = quorum_core::event::EntityKind::Incident.as_str();
/// Prefix of incident numbers: `INC0000001`.
pub const INCIDENT_NUMBER_PREFIX: &str = "INC";
pub use snapshot::{IncidentSnapshot, SlaTargetSnapshot};
