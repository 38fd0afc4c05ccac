//! The `change_request` table: one row per change, its current state. Its events record it
//! as a `ChangeSnapshot` (`snapshot.rs`), a type of its own.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::{ChangeOutcome, ChangeState, ChangeType, RiskLevel};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The human number, `CHG0000001`.
    pub number: String,
    pub change_type: ChangeType,
    pub state: ChangeState,
    pub title: String,
    pub description: Option<String>,
    pub justification: Option<String>,
    pub implementation_plan: Option<String>,
    pub backout_plan: Option<String>,
    pub test_plan: Option<String>,
    /// Subject of the requester.
    pub requested_by: String,
    /// Subject of who implements it.
    pub assignee: Option<String>,
    pub template_id: Option<String>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    pub actual_start: Option<DateTime<Utc>>,
    pub actual_end: Option<DateTime<Utc>>,
    pub started_outside_window: bool,
    pub outcome: Option<ChangeOutcome>,
    pub completion_notes: Option<String>,
    /// The post-implementation review (`crate::Review`), once recorded.
    pub review: Option<Json>,
    /// The risk assessment (`crate::RiskAssessment`), once assessed.
    pub risk: Option<Json>,
    pub risk_score: Option<i32>,
    pub risk_level: Option<RiskLevel>,
    /// Why the window was scheduled over its conflicts, when it was.
    pub schedule_override_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it went to the CAB (or ECAB).
    pub referred_at: Option<DateTime<Utc>>,
    /// When it was authorized or rejected.
    pub decided_at: Option<DateTime<Utc>>,
    /// When its implementation completed.
    pub completed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
