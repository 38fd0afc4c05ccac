//! The configuration item and its relationships as the event log records them (version 1: the
//! shapes since the first migration).

use chrono::{DateTime, Utc};

use crate::entity::{CiClass, CiStatus, Environment};
use serde_json::Value as Json;

type Row = crate::entity::configuration_item::Model;

quorum_core::snapshot_type! {
    /// A configuration item in an event's `before` or `after`.
    pub struct ConfigurationItemSnapshot of Row {
        id: String,
        number: String,
        class: CiClass,
        name: String,
        name_key: String,
        status: CiStatus,
        environment: Environment,
        criticality: i32,
        owner_team: Option<String>,
        description: Option<String>,
        attributes: Json,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        retired_at: Option<DateTime<Utc>>,
    }
}

type RelationshipRow = crate::entity::relationship::Model;

quorum_core::snapshot_type! {
    /// A relationship between two CIs in an event's `before` or `after`.
    pub struct RelationshipSnapshot of RelationshipRow {
        id: String,
        source_id: String,
        target_id: String,
        relationship_type: crate::entity::RelationshipType,
        created_at: DateTime<Utc>,
        created_by: String,
        removed_at: Option<DateTime<Utc>>,
        removed_by: Option<String>,
    }
}
