//! `problem_affected_item`: CIs named on the problem itself (its incidents' CIs count too).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "problem_affected_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub problem_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ci_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
