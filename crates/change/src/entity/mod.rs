//! The change domain's tables and the enums stored in them. The enums are also the GraphQL
//! enums: one definition, stored and served by the same SCREAMING_SNAKE_CASE names.

pub mod affected_item;
pub mod cab_vote;
pub mod change_request;
pub mod freeze_window;
pub mod freeze_window_item;
pub mod policy;
pub mod template;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// How a change is authorized.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChangeType {
    /// Pre-authorized, from an active standard change template: submit authorizes it.
    Standard,
    /// Assessed by the change manager; at or above the policy's CAB threshold, the CAB decides.
    Normal,
    /// Decided by the emergency CAB (change managers and service heads); not held by freezes.
    Emergency,
}

/// Where a change is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChangeState {
    Draft,
    Assessment,
    CabReview,
    Authorized,
    Scheduled,
    Implementing,
    Review,
    Closed,
    Rejected,
    Cancelled,
}

impl ChangeState {
    /// The states whose window counts for conflicts: authorized and not yet done.
    pub const IN_FLIGHT: [ChangeState; 3] = [
        ChangeState::Authorized,
        ChangeState::Scheduled,
        ChangeState::Implementing,
    ];

    /// Whether the change's life is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ChangeState::Closed | ChangeState::Rejected | ChangeState::Cancelled
        )
    }
}

/// How an implementation ended.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChangeOutcome {
    Successful,
    SuccessfulWithIssues,
    /// Needs a post-implementation review before the change closes.
    Failed,
    /// Needs a post-implementation review before the change closes.
    BackedOut,
}

impl ChangeOutcome {
    /// FAILED or BACKED_OUT.
    pub fn is_failure(self) -> bool {
        matches!(self, ChangeOutcome::Failed | ChangeOutcome::BackedOut)
    }
}

/// A risk band of the 0–100 score: LOW below 25, MEDIUM below 50, HIGH below 75, VERY_HIGH
/// from 75.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    VeryHigh,
}

impl RiskLevel {
    pub fn of_score(score: i32) -> Self {
        match score {
            ..25 => RiskLevel::Low,
            25..50 => RiskLevel::Medium,
            50..75 => RiskLevel::High,
            _ => RiskLevel::VeryHigh,
        }
    }
}

/// A CAB member's decision on a change.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum VoteDecision {
    Approve,
    Reject,
    Abstain,
}

/// Which board a vote was cast on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Board {
    /// The change advisory board: CAB members, on NORMAL changes.
    Cab,
    /// The emergency CAB: change managers and service heads, on EMERGENCY changes.
    Ecab,
}

/// How many users a change can disturb, as the requester's risk questionnaire answers it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum UserImpact {
    None,
    Low,
    Medium,
    High,
}
