//! The incident domain's tables and the enums stored in them (also the GraphQL enums).

pub mod affected_item;
pub mod incident;
pub mod sla_target;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// How far an incident reaches (impact) or how soon it hurts (urgency).
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
pub enum Level {
    High,
    Medium,
    Low,
}

/// P1 (most urgent) to P5, from impact and urgency by the ITIL matrix; never set by clients.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[graphql(rename_items = "UPPERCASE")]
pub enum Priority {
    #[sea_orm(string_value = "P1")]
    P1,
    #[sea_orm(string_value = "P2")]
    P2,
    #[sea_orm(string_value = "P3")]
    P3,
    #[sea_orm(string_value = "P4")]
    P4,
    #[sea_orm(string_value = "P5")]
    P5,
}

impl Priority {
    pub const ALL: [Priority; 5] = [
        Priority::P1,
        Priority::P2,
        Priority::P3,
        Priority::P4,
        Priority::P5,
    ];

    /// The ITIL matrix: H/H P1; H/M, M/H P2; H/L, M/M, L/H P3; M/L, L/M P4; L/L P5.
    pub fn of(impact: Level, urgency: Level) -> Self {
        let rank = |level: Level| match level {
            Level::High => 0,
            Level::Medium => 1,
            Level::Low => 2,
        };
        match rank(impact) + rank(urgency) {
            0 => Priority::P1,
            1 => Priority::P2,
            2 => Priority::P3,
            3 => Priority::P4,
            _ => Priority::P5,
        }
    }
}

/// Where an incident is in its life.
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
pub enum IncidentState {
    New,
    InProgress,
    /// Waiting on someone else; the resolution clock stops.
    OnHold,
    Resolved,
    Closed,
}

/// How an incident was resolved.
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
pub enum ResolutionCode {
    /// The cause was removed.
    Fixed,
    /// Service restored by a workaround; the cause remains (see the problem).
    Workaround,
    NotReproducible,
    /// Another incident tracks it.
    Duplicate,
    /// Not a fault: a question, a misuse, a request.
    NotAnIncident,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_has_its_nine_cells() {
        use Level::*;
        let expected = [
            (High, High, Priority::P1),
            (High, Medium, Priority::P2),
            (Medium, High, Priority::P2),
            (High, Low, Priority::P3),
            (Medium, Medium, Priority::P3),
            (Low, High, Priority::P3),
            (Medium, Low, Priority::P4),
            (Low, Medium, Priority::P4),
            (Low, Low, Priority::P5),
        ];
        for (impact, urgency, priority) in expected {
            assert_eq!(
                Priority::of(impact, urgency),
                priority,
                "{impact:?}/{urgency:?}"
            );
        }
    }
}
