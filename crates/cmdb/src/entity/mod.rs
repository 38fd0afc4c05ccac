//! The CMDB's tables and the enums stored in them. The enums are also the GraphQL enums: one
//! definition, stored and served by the same SCREAMING_SNAKE_CASE names.

pub mod configuration_item;
pub mod relationship;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What kind of thing a configuration item is.
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
#[graphql(name = "CiClass", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum CiClass {
    /// A service the business consumes; impact analysis lists these apart.
    BusinessService,
    Application,
    Database,
    Server,
    VirtualMachine,
    Container,
    NetworkDevice,
    Storage,
    CloudResource,
    Other,
}

/// Where a configuration item is in its life.
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
#[graphql(name = "CiStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum CiStatus {
    Planned,
    InService,
    Maintenance,
    /// Out of service for good; only `retireConfigurationItem` sets it, and it is final.
    Retired,
}

/// The environment a configuration item belongs to.
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
pub enum Environment {
    Production,
    Staging,
    Test,
    Development,
    DisasterRecovery,
}

/// A typed, directed relationship from a source CI to a target CI. Impact flows against the
/// arrow: when A DEPENDS_ON B, a change or outage of B impacts A.
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
pub enum RelationshipType {
    DependsOn,
    RunsOn,
    HostedOn,
    ConnectsTo,
    MemberOf,
}
