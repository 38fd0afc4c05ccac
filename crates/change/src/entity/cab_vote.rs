//! `cab_vote`: each voter's standing vote on a change. A second vote replaces the first here;
//! both stay in the change's events.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::{Board, VoteDecision};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cab_vote")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: String,
    /// Subject of the voter.
    #[sea_orm(primary_key, auto_increment = false)]
    pub voter: String,
    pub board: Board,
    pub decision: VoteDecision,
    pub comment: Option<String>,
    pub cast_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
