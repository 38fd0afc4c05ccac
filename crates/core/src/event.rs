//! The event table: one append-only row per write, written in the same transaction as the
//! write. It is the audit log, the history of every record and (later) the outbox that feeds
//! subscriptions. Appending takes a [`DatabaseTransaction`], so a write cannot record itself
//! outside the transaction that makes it.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::NotSet, DatabaseTransaction, Set};
use serde_json::Value as Json;

use crate::actor::Actor;
use crate::error::DomainResult;
use crate::pagination::{self, Page, PageRequest};
use crate::permission::Permission;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "event")]
pub struct Model {
    /// Increases with every append; the order of events is the order of their ids.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// The subject of the actor who made the write.
    pub actor: String,
    /// The kind of record written, e.g. `ConfigurationItem`.
    pub entity_kind: String,
    /// The id of the record written.
    pub entity_id: String,
    /// What happened, e.g. `created`, `updated`, `transitioned`.
    pub action: String,
    /// Why, when the operation asks for a reason.
    pub reason: Option<String>,
    /// The record before the write; none for a creation.
    pub before: Option<Json>,
    /// The record after the write; none for a removal.
    pub after: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a write says about itself.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub entity_kind: &'static str,
    pub entity_id: String,
    pub action: &'static str,
    pub reason: Option<String>,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

/// Appends `event` inside `txn`: it is committed with the write or not at all.
#[tracing::instrument(skip_all, fields(event.entity_kind = event.entity_kind, event.action = event.action))]
pub async fn append(
    txn: &DatabaseTransaction,
    actor: &Actor,
    occurred_at: DateTime<Utc>,
    event: NewEvent,
) -> Result<Model, DbErr> {
    ActiveModel {
        id: NotSet,
        occurred_at: Set(occurred_at),
        actor: Set(actor.subject().to_owned()),
        entity_kind: Set(event.entity_kind.to_owned()),
        entity_id: Set(event.entity_id),
        action: Set(event.action.to_owned()),
        reason: Set(event.reason),
        before: Set(event.before),
        after: Set(event.after),
    }
    .insert(txn)
    .await
}

/// Narrows the audit log. Every field is optional; set ones must all match.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub entity_kind: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub occurred_from: Option<DateTime<Utc>>,
    pub occurred_to: Option<DateTime<Utc>>,
}

/// The audit log, newest first.
#[tracing::instrument(skip(db, actor))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &EventFilter,
    page: &PageRequest,
) -> DomainResult<Page<Model>> {
    actor.authorize(Permission::ReadAuditLog)?;
    let mut select = Entity::find();
    if let Some(kind) = &filter.entity_kind {
        select = select.filter(Column::EntityKind.eq(kind.as_str()));
    }
    if let Some(id) = &filter.entity_id {
        select = select.filter(Column::EntityId.eq(id.as_str()));
    }
    if let Some(subject) = &filter.actor {
        select = select.filter(Column::Actor.eq(subject.as_str()));
    }
    if let Some(from) = filter.occurred_from {
        select = select.filter(Column::OccurredAt.gte(from));
    }
    if let Some(to) = filter.occurred_to {
        select = select.filter(Column::OccurredAt.lt(to));
    }
    pagination::paginate(
        db,
        select,
        Column::Id,
        pagination::SortOrder::Descending,
        |event: &Model| event.id,
        page,
    )
    .await
}
