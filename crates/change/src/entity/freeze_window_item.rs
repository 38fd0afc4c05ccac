//! `freeze_window_item`: the CIs a freeze window holds; none means every CI.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "freeze_window_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ci_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
