//! The `ci_relationship` table. Rows are never deleted: removal stamps `removed_at`, so the
//! graph at a past instant is the rows created by then and not yet removed.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

use super::RelationshipType;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ci_relationship")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source_id: String,
    pub target_id: String,
    #[sea_orm(column_name = "type")]
    pub relationship_type: RelationshipType,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Rows live at `as_of` (now, when none): created by then and not removed by then.
pub fn live_at(as_of: Option<DateTime<Utc>>) -> sea_orm::Condition {
    use sea_orm::Condition;
    match as_of {
        None => Condition::all().add(Column::RemovedAt.is_null()),
        Some(instant) => Condition::all().add(Column::CreatedAt.lte(instant)).add(
            Condition::any()
                .add(Column::RemovedAt.is_null())
                .add(Column::RemovedAt.gt(instant)),
        ),
    }
}
