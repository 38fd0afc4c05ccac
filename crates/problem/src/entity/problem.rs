//! The `problem` table. Its events record it as a `ProblemSnapshot` (`snapshot.rs`).

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::ProblemState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "problem")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `PRB0000001`.
    pub number: String,
    pub title: String,
    pub description: Option<String>,
    pub state: ProblemState,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    pub known_error_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Why it was resolved without a successful fix change, when it was.
    pub resolution_reason: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub created_by: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
