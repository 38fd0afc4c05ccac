//! The problem as the event log records it (version 1: the shape since the first migration).

use chrono::{DateTime, Utc};

use crate::entity::ProblemState;

type Row = crate::entity::problem::Model;

quorum_core::snapshot_type! {
    /// A problem in an event's `before` or `after`.
    pub struct ProblemSnapshot of Row {
        id: String,
        number: String,
        title: String,
        description: Option<String>,
        state: ProblemState,
        root_cause: Option<String>,
        workaround: Option<String>,
        known_error_at: Option<DateTime<Utc>>,
        resolved_at: Option<DateTime<Utc>>,
        resolution_reason: Option<String>,
        closed_at: Option<DateTime<Utc>>,
        close_reason: Option<String>,
        created_by: String,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}
