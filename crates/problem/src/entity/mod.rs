//! The problem domain's tables and the state enum (also the GraphQL enum).

pub mod affected_item;
pub mod fix_change;
pub mod problem;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a problem is in its life.
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
pub enum ProblemState {
    New,
    UnderInvestigation,
    /// The root cause or a workaround is known: the service desk can use it.
    KnownError,
    Resolved,
    Closed,
}
