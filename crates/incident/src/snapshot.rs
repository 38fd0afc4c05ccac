//! The incident and the SLA targets as the event log records them (version 1: the shapes since
//! the first migration).

use chrono::{DateTime, Utc};

use crate::entity::{IncidentState, Level, Priority, ResolutionCode};

type Row = crate::entity::incident::Model;

quorum_core::snapshot_type! {
    /// An incident in an event's `before` or `after`.
    pub struct IncidentSnapshot of Row {
        id: String,
        number: String,
        title: String,
        description: Option<String>,
        impact: Level,
        urgency: Level,
        priority: Priority,
        state: IncidentState,
        caller: Option<String>,
        assignment_group: Option<String>,
        assignee: Option<String>,
        caused_by_change_id: Option<String>,
        problem_id: Option<String>,
        major_incident: bool,
        resolution_code: Option<ResolutionCode>,
        resolution_notes: Option<String>,
        reopen_count: i32,
        hold_reason: Option<String>,
        opened_by: String,
        opened_at: DateTime<Utc>,
        responded_at: Option<DateTime<Utc>>,
        response_target_minutes: i32,
        resolution_target_minutes: i32,
        response_due: DateTime<Utc>,
        resolution_due: DateTime<Utc>,
        on_hold_since: Option<DateTime<Utc>>,
        paused_seconds: i64,
        resolved_at: Option<DateTime<Utc>>,
        closed_at: Option<DateTime<Utc>>,
        version: i32,
        updated_at: DateTime<Utc>,
    }
    extra {
        /// The CIs it named, sorted.
        affected_item_ids: Vec<String>,
    }
}

type SlaTargetRow = crate::entity::sla_target::Model;

quorum_core::snapshot_type! {
    /// The SLA targets of one priority in an event's `before` or `after`.
    pub struct SlaTargetSnapshot of SlaTargetRow {
        priority: Priority,
        response_minutes: i32,
        resolution_minutes: i32,
        version: i32,
        updated_by: Option<String>,
        updated_at: Option<DateTime<Utc>>,
    }
}
