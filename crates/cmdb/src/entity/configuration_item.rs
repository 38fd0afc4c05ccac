//! The `configuration_item` table. Its events record it as a `ConfigurationItemSnapshot`
//! (`snapshot.rs`), which is how a CI is read back as it was at a past instant.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::{CiClass, CiStatus, Environment};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "configuration_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The human number, `CI0000001`.
    pub number: String,
    pub class: CiClass,
    pub name: String,
    /// The lower-cased name: unique per class.
    pub name_key: String,
    pub status: CiStatus,
    pub environment: Environment,
    /// 1 is the most critical, 4 the least.
    pub criticality: i32,
    pub owner_team: Option<String>,
    pub description: Option<String>,
    /// Free attributes: always a JSON object.
    pub attributes: Json,
    /// Increases with every update; writers must send the version they read.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
