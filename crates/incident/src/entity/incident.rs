//! The `incident` table. Its events record it as an `IncidentSnapshot` (`snapshot.rs`).

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::{IncidentState, Level, Priority, ResolutionCode};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `INC0000001`.
    pub number: String,
    pub title: String,
    pub description: Option<String>,
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
    pub state: IncidentState,
    /// Who reported it.
    pub caller: Option<String>,
    pub assignment_group: Option<String>,
    pub assignee: Option<String>,
    pub caused_by_change_id: Option<String>,
    pub problem_id: Option<String>,
    pub major_incident: bool,
    pub resolution_code: Option<ResolutionCode>,
    pub resolution_notes: Option<String>,
    pub reopen_count: i32,
    pub hold_reason: Option<String>,
    /// Subject of who logged it.
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    /// First assignment or acknowledgement.
    pub responded_at: Option<DateTime<Utc>>,
    pub response_target_minutes: i32,
    pub resolution_target_minutes: i32,
    /// `opened_at` + the response target.
    pub response_due: DateTime<Utc>,
    /// `opened_at` + the resolution target + the time paused so far (on hold, or resolved
    /// before a reopen).
    pub resolution_due: DateTime<Utc>,
    /// Set while the resolution clock is stopped (ON_HOLD).
    pub on_hold_since: Option<DateTime<Utc>>,
    /// Seconds the resolution clock stood still, closed pauses only.
    pub paused_seconds: i64,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
