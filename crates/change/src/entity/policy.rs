//! `change_policy`: the one row (id 1) of rules the service head sets.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::RiskLevel;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_policy")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// CAB approvals that authorize a NORMAL change.
    pub cab_quorum: i32,
    /// Whether one REJECT rejects the change.
    pub reject_vetoes: bool,
    /// NORMAL changes of this risk level and above go to the CAB.
    pub cab_threshold: RiskLevel,
    /// ECAB approvals that authorize an EMERGENCY change.
    pub ecab_quorum: i32,
    /// Hops through relationships within which two changes' CIs conflict (and within which a
    /// freeze on a CI holds what it depends on).
    pub conflict_depth: i32,
    /// Whether a change's requester may also authorize it, vote on it and review it (small
    /// teams); off, someone else must.
    pub requester_may_authorize: bool,
    /// Longest planned window of a change, in hours.
    pub max_window_hours: i32,
    pub version: i32,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
