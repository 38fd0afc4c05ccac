//! Relationships between configuration items: relate, remove, read (now or at a past instant).

use chrono::{DateTime, Utc};
use quorum_core::event::{self, EventAction, NewEvent};
use quorum_core::write::encode_json;
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::RELATIONSHIP_EVENT_KIND;
use crate::entity::configuration_item as ci;
use crate::entity::relationship::{self, Model, live_at};
use crate::entity::{CiStatus, RelationshipType};
use crate::snapshot::RelationshipSnapshot;

/// What `relateConfigurationItems` takes.
#[derive(Debug, Clone)]
pub struct NewRelationship {
    pub source_id: String,
    pub target_id: String,
    pub relationship_type: RelationshipType,
}

/// Which relationships of a CI to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum RelationshipDirection {
    /// Relationships from this CI to others.
    Outgoing,
    /// Relationships from others to this CI.
    Incoming,
    #[default]
    Both,
}

pub(crate) fn relationship_event(
    action: EventAction,
    before: Option<&Model>,
    after: &Model,
) -> DomainResult<NewEvent> {
    let snapshot = |model: &Model| encode_json(&RelationshipSnapshot::of_row(model));
    Ok(NewEvent {
        entity_kind: RELATIONSHIP_EVENT_KIND,
        entity_id: after.id.clone(),
        action,
        reason: None,
        before: before.map(snapshot).transpose()?,
        after: Some(snapshot(after)?),
    })
}

#[tracing::instrument(skip(cx))]
pub async fn relate_configuration_items(
    cx: Context<'_>,
    input: NewRelationship,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::RelateConfigurationItems)?;
    if input.source_id == input.target_id {
        return Err(DomainError::bad_input(
            "input.targetId",
            "a configuration item cannot be related to itself",
        ));
    }
    let txn = quorum_core::begin_write(db).await?;
    for (field, id) in [
        ("input.sourceId", &input.source_id),
        ("input.targetId", &input.target_id),
    ] {
        // FOR SHARE (PostgreSQL): a retirement committing meanwhile is waited for and seen.
        let item = ci::Entity::find_by_id(id.as_str())
            .lock_shared()
            .one(&txn)
            .await?
            .ok_or_else(|| {
                DomainError::bad_input(field, format!("no configuration item has id `{id}`"))
            })?;
        if item.status == CiStatus::Retired {
            return Err(DomainError::bad_input(
                field,
                format!(
                    "{} is retired: retired configuration items take no new relationships",
                    item.number
                ),
            ));
        }
    }
    let duplicate = relationship::Entity::find()
        .filter(relationship::Column::SourceId.eq(input.source_id.as_str()))
        .filter(relationship::Column::TargetId.eq(input.target_id.as_str()))
        .filter(relationship::Column::RelationshipType.eq(input.relationship_type))
        .filter(relationship::Column::RemovedAt.is_null())
        .one(&txn)
        .await?;
    if let Some(existing) = duplicate {
        return Err(DomainError::conflict(format!(
            "these configuration items are already related this way (relationship {})",
            existing.id
        )));
    }
    let now = clock.now();
    let model = Model {
        id: uuid::Uuid::now_v7().to_string(),
        source_id: input.source_id,
        target_id: input.target_id,
        relationship_type: input.relationship_type,
        created_at: now,
        created_by: actor.subject().to_owned(),
        removed_at: None,
        removed_by: None,
    };
    relationship::Entity::insert(relationship::ActiveModel::from(model.clone()).reset_all())
        .exec_without_returning(&txn)
        .await
        .map_err(|error| {
            if quorum_core::error::is_unique_violation(&error) {
                DomainError::conflict("these configuration items were just related this way")
            } else {
                DomainError::Database(error)
            }
        })?;
    event::append(
        &txn,
        actor,
        now,
        relationship_event(EventAction::Created, None, &model)?,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

#[tracing::instrument(skip(cx))]
pub async fn remove_relationship(cx: Context<'_>, id: &str) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::RemoveRelationship)?;
    let txn = quorum_core::begin_write(db).await?;
    let current = relationship::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| DomainError::not_found("Relationship", id))?;
    if current.removed_at.is_some() {
        return Err(DomainError::InvalidTransition {
            message: format!("relationship {id} was already removed"),
        });
    }
    let now = clock.now();
    let removed = Model {
        removed_at: Some(now),
        removed_by: Some(actor.subject().to_owned()),
        ..current.clone()
    };
    // Only a live relationship is removed: of two removals racing, the second changes nothing
    // and is refused, so `removed_at` (and reads as of an instant) keep the first.
    let result = relationship::Entity::update_many()
        .set(relationship::ActiveModel::from(removed.clone()).reset_all())
        .filter(relationship::Column::Id.eq(id))
        .filter(relationship::Column::RemovedAt.is_null())
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(DomainError::InvalidTransition {
            message: format!("relationship {id} was already removed"),
        });
    }
    event::append(
        &txn,
        actor,
        now,
        relationship_event(EventAction::Removed, Some(&current), &removed)?,
    )
    .await?;
    txn.commit().await?;
    Ok(removed)
}

/// Every relationship that touches one of `ci_ids` (either end), live at `as_of` (now when
/// none), oldest first. One statement per 500 ids: what a DataLoader calls for a page of CIs.
pub async fn relationships_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ci_ids: &[String],
    as_of: Option<DateTime<Utc>>,
) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadCmdb)?;
    let mut found = Vec::new();
    for batch in quorum_core::ids::batches(db, ci_ids) {
        let rows = relationship::Entity::find()
            .filter(
                Condition::any()
                    .add(quorum_core::ids::one_of(
                        db,
                        relationship::Column::SourceId,
                        batch,
                    ))
                    .add(quorum_core::ids::one_of(
                        db,
                        relationship::Column::TargetId,
                        batch,
                    )),
            )
            .filter(live_at(as_of))
            .order_by_asc(relationship::Column::Id)
            .all(db)
            .await?;
        found.extend(rows);
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    Ok(found)
}
