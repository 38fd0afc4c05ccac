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

/// What a write did, as its event records it: one closed set for every kind of record, so
/// clients can switch on it. The values are the verbs the event table stores (`created`,
/// `fixChangeLinked`…), unchanged from when they were free strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(rename_items = "camelCase")]
pub enum EventAction {
    /// A record was created (a CI, a relationship, a change, an incident, a problem, a
    /// template, a freeze window).
    Created,
    /// A record's fields were edited, or a policy changed.
    Updated,
    /// A CI or a template was retired.
    Retired,
    /// A relationship or a freeze window was removed.
    Removed,
    /// A change was submitted.
    Submitted,
    /// A change's risk was assessed.
    Assessed,
    /// A change was authorized (by a change manager, or by its board's votes).
    Authorized,
    /// A change was referred to the CAB.
    ReferredToCab,
    /// A change was rejected (by a change manager, or by its board's votes).
    Rejected,
    /// A CAB or ECAB member voted.
    Voted,
    /// A change was scheduled (or rescheduled).
    Scheduled,
    /// A change's implementation started.
    ImplementationStarted,
    /// A change's implementation ended with an outcome.
    ImplementationCompleted,
    /// A change's post-implementation review was recorded.
    Reviewed,
    /// A change's CIs were added or removed.
    AffectedItemsChanged,
    /// A change, incident or problem was closed.
    Closed,
    /// A change was cancelled.
    Cancelled,
    /// An incident was assigned.
    Assigned,
    /// An incident was acknowledged (its response).
    Acknowledged,
    /// An incident was put on hold.
    PutOnHold,
    /// An incident came off hold.
    Resumed,
    /// An incident was resolved.
    Resolved,
    /// A resolved incident was reopened.
    Reopened,
    /// An incident was raised to a major incident.
    RaisedMajor,
    /// A major incident was lowered back.
    LoweredMajor,
    /// An incident's causing change was set or cleared.
    CauseSet,
    /// An incident was linked to a problem.
    LinkedToProblem,
    /// An incident was unlinked from its problem.
    UnlinkedFromProblem,
    /// A problem's root cause was recorded.
    RootCauseRecorded,
    /// A problem's workaround was recorded.
    WorkaroundRecorded,
    /// A problem was marked a known error.
    MarkedKnownError,
    /// Incidents were linked to a problem.
    IncidentsLinked,
    /// An incident was unlinked from a problem.
    IncidentUnlinked,
    /// Incidents left a problem for another one.
    IncidentsMovedOut,
    /// A change was linked to a problem as its fix.
    FixChangeLinked,
}

impl EventAction {
    /// The verb as the event table stores it.
    pub fn as_str(self) -> &'static str {
        use async_graphql::resolver_utils::EnumType;
        Self::items()
            .iter()
            .find(|item| item.value == self)
            .map_or("", |item| item.name)
    }

    /// The action a stored verb names, if it is one.
    pub fn from_stored(verb: &str) -> Option<Self> {
        use async_graphql::resolver_utils::EnumType;
        Self::items()
            .iter()
            .find(|item| item.name == verb)
            .map(|item| item.value)
    }
}

/// The kinds of record the event table holds, for clients to switch on; the values are the
/// names the table stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(rename_items = "PascalCase")]
pub enum EntityKind {
    ConfigurationItem,
    ConfigurationItemRelationship,
    Change,
    Incident,
    Problem,
    FreezeWindow,
    StandardChangeTemplate,
    ChangePolicy,
    SlaTarget,
}

impl EntityKind {
    /// The name as the event table stores it (and clients see it: a test holds the two equal).
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityKind::ConfigurationItem => "ConfigurationItem",
            EntityKind::ConfigurationItemRelationship => "ConfigurationItemRelationship",
            EntityKind::Change => "Change",
            EntityKind::Incident => "Incident",
            EntityKind::Problem => "Problem",
            EntityKind::FreezeWindow => "FreezeWindow",
            EntityKind::StandardChangeTemplate => "StandardChangeTemplate",
            EntityKind::ChangePolicy => "ChangePolicy",
            EntityKind::SlaTarget => "SlaTarget",
        }
    }

    /// The kind a stored name names, if it is one.
    pub fn from_stored(name: &str) -> Option<Self> {
        use async_graphql::resolver_utils::EnumType;
        Self::items()
            .iter()
            .find(|item| item.name == name)
            .map(|item| item.value)
    }
}

/// What a write says about itself.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub entity_kind: &'static str,
    pub entity_id: String,
    pub action: EventAction,
    pub reason: Option<String>,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

/// Appends `event` inside `txn`: it is committed with the write or not at all.
#[tracing::instrument(skip_all, fields(event.entity_kind = event.entity_kind, event.action = event.action.as_str()))]
pub async fn append(
    txn: &DatabaseTransaction,
    actor: &Actor,
    occurred_at: DateTime<Utc>,
    event: NewEvent,
) -> Result<Model, DbErr> {
    row(actor, occurred_at, event).insert(txn).await
}

/// The statement that appends `event`, for a caller that runs it with others
/// ([`crate::write::create_linked`]).
pub fn insert_statement(
    actor: &Actor,
    occurred_at: DateTime<Utc>,
    event: NewEvent,
) -> sea_orm::sea_query::InsertStatement {
    sea_orm::QueryTrait::into_query(Entity::insert(row(actor, occurred_at, event)))
}

fn row(actor: &Actor, occurred_at: DateTime<Utc>, event: NewEvent) -> ActiveModel {
    ActiveModel {
        id: NotSet,
        occurred_at: Set(occurred_at),
        actor: Set(actor.subject().to_owned()),
        entity_kind: Set(event.entity_kind.to_owned()),
        entity_id: Set(event.entity_id),
        action: Set(event.action.as_str().to_owned()),
        reason: Set(event.reason),
        before: Set(event.before),
        after: Set(event.after),
    }
}

/// Appends many events inside `txn` with multi-row inserts: what bulk writers (imports) use
/// instead of one statement per event.
pub async fn append_many(
    txn: &DatabaseTransaction,
    actor: &Actor,
    occurred_at: DateTime<Utc>,
    events: Vec<NewEvent>,
) -> Result<(), DbErr> {
    /// Rows per statement: 9 columns each stays far below SQLite's and PostgreSQL's limits
    /// on bound parameters.
    const CHUNK: usize = 1_000;
    let mut rows = events
        .into_iter()
        .map(|event| row(actor, occurred_at, event));
    loop {
        let chunk: Vec<ActiveModel> = rows.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
}

/// A page of the events matching `condition`, newest first. Callers authorize: the audit log
/// needs [`Permission::ReadAuditLog`], a record's own history what reading the record needs.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    condition: sea_orm::Condition,
    page: &PageRequest,
) -> DomainResult<Page<Model>> {
    pagination::paginate(
        db,
        Entity::find().filter(condition),
        Column::Id,
        pagination::SortOrder::Descending,
        |event: &Model| event.id,
        page,
    )
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
    let condition = sea_orm::Condition::all()
        .add_option(
            filter
                .entity_kind
                .as_deref()
                .map(|kind| Column::EntityKind.eq(kind)),
        )
        .add_option(
            filter
                .entity_id
                .as_deref()
                .map(|id| Column::EntityId.eq(id)),
        )
        .add_option(
            filter
                .actor
                .as_deref()
                .map(|subject| Column::Actor.eq(subject)),
        )
        .add_option(
            filter
                .occurred_from
                .map(|from| Column::OccurredAt.gte(from)),
        )
        .add_option(filter.occurred_to.map(|to| Column::OccurredAt.lt(to)));
    self::page(db, condition, page).await
}

/// What kind of thing an event tells, for live subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum EventKind {
    /// The record was created.
    Created,
    /// The record moved from one state to another (`fromState` → `toState`).
    Transitioned,
    /// A CAB or ECAB member voted on the change.
    Voted,
    /// The record changed and kept its state (edits, assignment, notes, links).
    Updated,
}

impl EventKind {
    /// From an event's action and the states it went from and to.
    pub fn of<S: PartialEq>(action: &str, from: Option<&S>, to: Option<&S>) -> Self {
        match action {
            "created" => EventKind::Created,
            "voted" => EventKind::Voted,
            _ if from.is_some() && to.is_some() && from != to => EventKind::Transitioned,
            _ => EventKind::Updated,
        }
    }
}

/// Field `name` of `event`'s `before` or `after` snapshot, decoded; none when the snapshot or
/// the field is absent (a creation has no `before`, a vote no `state`). A field that is there
/// and does not decode is an INTERNAL error naming the event, as in [`decode_after`].
fn snapshot_field<T: serde::de::DeserializeOwned>(
    event: &Model,
    snapshot: Option<&Json>,
    name: &str,
) -> crate::DomainResult<Option<T>> {
    snapshot
        .and_then(|value| value.get(name))
        .map(|field| decode(event, field, &format!("a `{name}`")))
        .transpose()
}

/// The `after` snapshot of `event` decoded as `T`; none for an event without one (a removal).
/// A snapshot that does not decode is an INTERNAL error naming the event, never a silent none:
/// a reader would otherwise lose what the event says without anyone knowing.
pub fn decode_after<T: serde::de::DeserializeOwned>(event: &Model) -> DomainResult<Option<T>> {
    event
        .after
        .as_ref()
        .map(|after| decode(event, after, "a snapshot"))
        .transpose()
}

/// `value`, part of `event` (`what` it is, for the error), decoded as `T`.
fn decode<T: serde::de::DeserializeOwned>(
    event: &Model,
    value: &Json,
    what: &str,
) -> DomainResult<T> {
    T::deserialize(value).map_err(|error| {
        crate::DomainError::Internal(format!(
            "event {} ({} {}) holds {what} that does not decode: {error}",
            event.id, event.entity_kind, event.action
        ))
    })
}

/// What any event says to live subscribers about a record whose snapshots carry a `state` of
/// type `S` (and, for records on CIs, `affectedItemIds`): who did what and when, and the state
/// before and after the write.
#[derive(Debug, Clone)]
pub struct EventNews<S> {
    pub event_id: i64,
    /// The record written.
    pub entity_id: String,
    pub kind: EventKind,
    /// The event's own verb: `created`, `submitted`, `voted`, `resolved`…
    pub action: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// The state before the write; none for a creation or a snapshot without one (a vote).
    pub from_state: Option<S>,
    /// The state after the write; none for a snapshot without one (a vote).
    pub to_state: Option<S>,
    pub affected_item_ids: Vec<String>,
}

impl<S: serde::de::DeserializeOwned + PartialEq> EventNews<S> {
    /// The news of `event`; a state or CI list there that does not decode is an error.
    pub fn read(event: &Model) -> crate::DomainResult<Self> {
        let from_state: Option<S> = snapshot_field(event, event.before.as_ref(), "state")?;
        let to_state: Option<S> = snapshot_field(event, event.after.as_ref(), "state")?;
        Ok(Self {
            event_id: event.id,
            entity_id: event.entity_id.clone(),
            kind: EventKind::of(&event.action, from_state.as_ref(), to_state.as_ref()),
            action: event.action.clone(),
            actor: event.actor.clone(),
            occurred_at: event.occurred_at,
            reason: event.reason.clone(),
            from_state,
            to_state,
            affected_item_ids: snapshot_field(event, event.after.as_ref(), "affectedItemIds")?
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_kinds_keep_the_names_the_table_stores() {
        assert_eq!(EventAction::Created.as_str(), "created");
        assert_eq!(EventAction::FixChangeLinked.as_str(), "fixChangeLinked");
        assert_eq!(
            EventAction::from_stored("referredToCab"),
            Some(EventAction::ReferredToCab)
        );
        assert_eq!(EventAction::from_stored("nonsense"), None);
        use async_graphql::resolver_utils::EnumType;
        for item in EntityKind::items() {
            assert_eq!(item.value.as_str(), item.name);
        }
        assert_eq!(
            EntityKind::from_stored("SlaTarget"),
            Some(EntityKind::SlaTarget)
        );
    }

    #[test]
    fn every_kind_a_domain_writes_is_an_entity_kind() {
        for kind in [
            "ConfigurationItem",
            "ConfigurationItemRelationship",
            "Change",
            "Incident",
            "Problem",
            "FreezeWindow",
            "StandardChangeTemplate",
            "ChangePolicy",
            "SlaTarget",
        ] {
            assert!(EntityKind::from_stored(kind).is_some(), "{kind}");
        }
    }
}
