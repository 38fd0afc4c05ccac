//! `sla_target`: response and resolution targets per priority, set by the service head.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::Priority;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sla_target")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub priority: Priority,
    pub response_minutes: i32,
    pub resolution_minutes: i32,
    pub version: i32,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
