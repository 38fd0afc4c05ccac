//! The change, its votes, templates, policy and freeze windows as the event log records them
//! (version 1: the shapes since the first migration).

use chrono::{DateTime, Utc};

use crate::entity::{ChangeOutcome, ChangeState, ChangeType, RiskLevel};
use serde_json::Value as Json;

type Row = crate::entity::change_request::Model;

quorum_core::snapshot_type! {
    /// A change in an event's `before` or `after`.
    pub struct ChangeSnapshot of Row {
        id: String,
        number: String,
        change_type: ChangeType,
        state: ChangeState,
        title: String,
        description: Option<String>,
        justification: Option<String>,
        implementation_plan: Option<String>,
        backout_plan: Option<String>,
        test_plan: Option<String>,
        requested_by: String,
        assignee: Option<String>,
        template_id: Option<String>,
        planned_start: Option<DateTime<Utc>>,
        planned_end: Option<DateTime<Utc>>,
        actual_start: Option<DateTime<Utc>>,
        actual_end: Option<DateTime<Utc>>,
        started_outside_window: bool,
        outcome: Option<ChangeOutcome>,
        completion_notes: Option<String>,
        review: Option<Json>,
        risk: Option<Json>,
        risk_score: Option<i32>,
        risk_level: Option<RiskLevel>,
        schedule_override_reason: Option<String>,
        submitted_at: Option<DateTime<Utc>>,
        referred_at: Option<DateTime<Utc>>,
        decided_at: Option<DateTime<Utc>>,
        completed_at: Option<DateTime<Utc>>,
        closed_at: Option<DateTime<Utc>>,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
    extra {
        /// The CIs it named, sorted.
        affected_item_ids: Vec<String>,
    }
}

type VoteRow = crate::entity::cab_vote::Model;

quorum_core::snapshot_type! {
    /// A CAB or ECAB vote in a change's `voted` event (`before`: the vote it replaced).
    pub struct VoteSnapshot of VoteRow {
        change_id: String,
        voter: String,
        board: crate::entity::Board,
        decision: crate::entity::VoteDecision,
        comment: Option<String>,
        cast_at: DateTime<Utc>,
    }
}

type TemplateRow = crate::entity::template::Model;

quorum_core::snapshot_type! {
    /// A standard change template in an event's `before` or `after`.
    pub struct TemplateSnapshot of TemplateRow {
        id: String,
        name: String,
        description: Option<String>,
        implementation_plan: Option<String>,
        backout_plan: Option<String>,
        test_plan: Option<String>,
        active: bool,
        version: i32,
        created_by: String,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

type PolicyRow = crate::entity::policy::Model;

quorum_core::snapshot_type! {
    /// The change policy in an event's `before` or `after`.
    pub struct ChangePolicySnapshot of PolicyRow {
        id: i32,
        cab_quorum: i32,
        reject_vetoes: bool,
        cab_threshold: RiskLevel,
        ecab_quorum: i32,
        conflict_depth: i32,
        requester_may_authorize: bool,
        max_window_hours: i32,
        version: i32,
        updated_by: Option<String>,
        updated_at: Option<DateTime<Utc>>,
    }
}

type FreezeWindowRow = crate::entity::freeze_window::Model;

quorum_core::snapshot_type! {
    /// A freeze window in its `created` event's `after` and its `removed` event's `before`.
    pub struct FreezeWindowSnapshot of FreezeWindowRow {
        id: String,
        name: String,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        reason: Option<String>,
        created_by: String,
        created_at: DateTime<Utc>,
    }
    extra {
        /// The CIs it holds, sorted; none: every CI.
        ci_ids: Vec<String>,
    }
}
