//! `problem_fix_change`: the changes raised to fix a problem.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "problem_fix_change")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub problem_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: String,
    pub linked_by: String,
    pub linked_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
