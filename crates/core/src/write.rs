//! The one versioned write every record type plugs into: load the record locked and check the
//! version the writer read, check the move, apply it, skip it if it is an edit that changes
//! nothing, write one version on (refused if someone else wrote meanwhile), append its event,
//! commit, then log one line per record written ([`WriteTransaction::commit`]).
//!
//! A record type implements [`Record`]; its domain crate then writes a move as
//! [`act`]`(cx, permission, id, version, step, apply)`, where `apply` checks the life cycle and
//! returns the next version. Moves that write more than one record in a transaction (a vote
//! that decides a change, an assessment that completes one) use the parts: [`load_for_write`],
//! [`save`] and [`create`].

use std::future::Future;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{CommonTableExpression, InsertStatement, WithClause};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, QueryTrait,
};
use serde_json::Value as Json;

use crate::event::{self, EntityKind, EventAction, NewEvent};
use crate::store::Written;
use crate::{Actor, Clock, DomainError, DomainResult, Permission, WriteTransaction, begin_write};

/// Who acts, on which database, at what time: what every domain operation that writes takes
/// first, instead of the same three leading arguments.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub db: &'a DatabaseConnection,
    pub clock: &'a dyn Clock,
    pub actor: &'a Actor,
}

impl<'a> Context<'a> {
    pub fn new(db: &'a DatabaseConnection, clock: &'a dyn Clock, actor: &'a Actor) -> Self {
        Self { db, clock, actor }
    }
}

/// A record written one version at a time: a change, an incident, a problem, a CI.
pub trait Record: Clone + PartialEq + Send + Sync + Sized + 'static
where
    Self: IntoActiveModel<<Self::Entity as EntityTrait>::ActiveModel>,
{
    type Entity: EntityTrait<Model = Self>;
    /// What the record's event snapshot carries beside its row, read with the row for a write
    /// (a change's CI ids); `()` for nothing.
    type Extra: Clone + PartialEq + Send + Sync;
    /// The kind events name it by; also how NOT_FOUND names it.
    const KIND: EntityKind;

    fn id_column() -> <Self::Entity as EntityTrait>::Column;
    fn version_column() -> <Self::Entity as EntityTrait>::Column;
    fn id(&self) -> &str;
    /// The human number (CHG0000042) errors and logs name it by.
    fn number(&self) -> &str;
    fn version(&self) -> i32;
    /// This version stamped as the next one, written at `now`.
    fn next_version(self, now: DateTime<Utc>) -> Self;
    /// Whether `actor` may see the record at all: one they may not is NOT_FOUND to them.
    fn visible_to(&self, _actor: &Actor) -> bool {
        true
    }
    /// Reads the [`Record::Extra`] of record `id` inside the write.
    fn read_extra(
        txn: &DatabaseTransaction,
        id: &str,
    ) -> impl Future<Output = DomainResult<Self::Extra>> + Send;
    /// The record's shape in the event log ([`snapshot_type!`]).
    type Snapshot: serde::Serialize + serde::de::DeserializeOwned;
    /// The event snapshot of this version.
    fn snapshot(&self, extra: &Self::Extra) -> Self::Snapshot;
}

/// The parts of [`Record`] that every versioned table spells the same way, for a model with
/// `id`, `number`, `version` and `updated_at` fields whose entity module (`$table`) has
/// `Column::Id` and `Column::Version`: write it inside the `impl Record`. A record without a
/// number names the field people know it by instead: `versioned_row!(template, number = name)`.
#[macro_export]
macro_rules! versioned_row {
    ($table:ident) => {
        $crate::versioned_row!($table, number = number);
    };
    ($table:ident, number = $number:ident) => {
        fn id_column() -> $table::Column {
            $table::Column::Id
        }

        fn version_column() -> $table::Column {
            $table::Column::Version
        }

        fn id(&self) -> &str {
            &self.id
        }

        fn number(&self) -> &str {
            &self.$number
        }

        fn version(&self) -> i32 {
            self.version
        }

        fn next_version(self, now: ::chrono::DateTime<::chrono::Utc>) -> Self {
            Self {
                version: self.version + 1,
                updated_at: now,
                ..self
            }
        }
    };
}

/// Declares the shape a record has in the event log: a type of its own, apart from the table
/// row (as crates.io keeps its `Encodable*` views apart from its models), with `of_row` and
/// `into_row`. A column added to the row changes no event until it is added here, and then
/// `into_row` must say what old snapshots, which lack it, mean. Fields listed after `extra`
/// are not columns (a change's CI ids); old snapshots without them read as their default.
/// `tests/tests/api/event_shapes.rs` decodes every shape the log ever held with these types.
#[macro_export]
macro_rules! snapshot_type {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident of $row:ident {
            $( $(#[$fmeta:meta])* $field:ident: $ty:ty ),* $(,)?
        }
        $( extra { $( $(#[$xmeta:meta])* $xfield:ident: $xty:ty ),* $(,)? } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $( $( $(#[$xmeta])* #[serde(default)] pub $xfield: $xty, )* )?
        }

        impl $name {
            /// The snapshot of `row` (with what it carries beside the row).
            pub fn of_row(row: &$row $( $(, $xfield: $xty)* )?) -> Self {
                Self {
                    $( $field: row.$field.clone(), )*
                    $( $( $xfield, )* )?
                }
            }

            /// The row this snapshot records.
            pub fn into_row(self) -> $row {
                $row { $( $field: self.$field, )* }
            }
        }
    };
}

/// A snapshot as the event table stores it, or a record's JSON column (a change's risk): one
/// that does not encode is an INTERNAL error, never a silent null.
pub fn encode_json(value: &impl serde::Serialize) -> DomainResult<Json> {
    serde_json::to_value(value)
        .map_err(|error| DomainError::Internal(format!("a value does not encode as JSON: {error}")))
}

/// A record as a write holds it: its row and what its snapshot carries besides.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<R: Record> {
    pub record: R,
    pub extra: R::Extra,
}

/// What a write says about itself in the event log.
#[derive(Debug, Clone)]
pub struct Step {
    pub event: EventAction,
    pub reason: Option<String>,
    pub when_unchanged: WhenUnchanged,
}

/// What a step that leaves the record's row and extra as they were does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnchanged {
    /// Still takes a version and records its event: a move is something someone did, even when
    /// its effect lives in other tables (a problem's links) or repeats the last one.
    Records,
    /// Writes nothing: no version, no event (an edit that changes nothing).
    WritesNothing,
}

impl Step {
    /// A move: recorded even when the record's row comes out the same.
    pub fn new(event: EventAction) -> Self {
        Self {
            event,
            reason: None,
            when_unchanged: WhenUnchanged::Records,
        }
    }

    /// An edit of the record's fields: one that changes nothing writes nothing.
    pub fn edit() -> Self {
        Self {
            when_unchanged: WhenUnchanged::WritesNothing,
            ..Self::new(EventAction::Updated)
        }
    }

    pub fn with_reason(self, reason: Option<String>) -> Self {
        Self { reason, ..self }
    }
}

/// Loads record `id` for a write, locked (PostgreSQL) until the transaction ends, and checks
/// `version` when given: a stale one is a CONFLICT naming both versions.
pub async fn load_for_write<R: Record>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: &str,
    version: Option<i32>,
) -> DomainResult<Loaded<R>> {
    let record = load_row_for_write::<R>(txn, actor, id, version).await?;
    with_extra(txn, record).await
}

/// [`load_for_write`] without the [`Record::Extra`], for a write that may not need it (read it
/// with [`with_extra`] once it does).
pub async fn load_row_for_write<R: Record>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: &str,
    version: Option<i32>,
) -> DomainResult<R> {
    let record = R::Entity::find()
        .filter(R::id_column().eq(id))
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|record| record.visible_to(actor))
        .ok_or_else(|| DomainError::not_found(R::KIND.as_str(), id))?;
    if let Some(version) = version
        && record.version() != version
    {
        return Err(DomainError::stale_version(
            record.number(),
            record.version(),
            version,
        ));
    }
    Ok(record)
}

/// `record` with its [`Record::Extra`], read inside the write.
pub async fn with_extra<R: Record>(
    txn: &DatabaseTransaction,
    record: R,
) -> DomainResult<Loaded<R>> {
    let extra = R::read_extra(txn, record.id()).await?;
    Ok(Loaded { record, extra })
}

/// Writes `after` one version on over `before` and appends the step's event; a step that
/// [`WhenUnchanged::WritesNothing`] and changes nothing returns `before` as it was. Refused
/// (CONFLICT) if another writer wrote the record since it was loaded.
pub async fn save<R: Record>(
    txn: &WriteTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    step: Step,
    before: &Loaded<R>,
    after: Loaded<R>,
) -> DomainResult<R> {
    if step.when_unchanged == WhenUnchanged::WritesNothing && after == *before {
        return Ok(before.record.clone());
    }
    let current = &before.record;
    let updated = after.record.next_version(now);
    let result = R::Entity::update_many()
        .set(updated.clone().into_active_model().reset_all())
        .filter(R::id_column().eq(current.id()))
        .filter(R::version_column().eq(current.version()))
        .exec(txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(DomainError::lost_race(current.number()));
    }
    let event = event_of(
        step.event,
        step.reason,
        Some((current, &before.extra)),
        (&updated, &after.extra),
    )?;
    event::append(txn, actor, now, event).await?;
    note_written(txn, &updated, step.event);
    Ok(updated)
}

/// Inserts a new record and appends its `created` event (the caller writes its extra).
pub async fn create<R: Record>(
    txn: &WriteTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    reason: Option<String>,
    created: &Loaded<R>,
) -> DomainResult<()> {
    create_linked(txn, actor, now, reason, created, None).await
}

/// [`create`] with `links`: the rows that link the new record to others (a change's or an
/// incident's CIs, its [`Record::Extra`]), inserted with it.
///
/// On PostgreSQL the row, its links and its event are one statement (data-modifying `WITH`
/// clauses, whose foreign keys are checked when the whole statement ends): one round trip
/// instead of three, each of which costs both processes a wake-up and a system call or two.
/// SQLite has no data-modifying `WITH`, and a round trip there is a function call: three
/// statements.
pub async fn create_linked<R: Record>(
    txn: &WriteTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    reason: Option<String>,
    created: &Loaded<R>,
    links: Option<InsertStatement>,
) -> DomainResult<()> {
    let row =
        R::Entity::insert(created.record.clone().into_active_model().reset_all()).into_query();
    let event = event::insert_statement(
        actor,
        now,
        event_of(
            EventAction::Created,
            reason,
            None,
            (&created.record, &created.extra),
        )?,
    );
    if txn.get_database_backend() == DbBackend::Postgres {
        let mut with = WithClause::new();
        with.cte(
            CommonTableExpression::new()
                .query(row)
                .table_name("created_row")
                .to_owned(),
        );
        if let Some(links) = links {
            with.cte(
                CommonTableExpression::new()
                    .query(links)
                    .table_name("created_links")
                    .to_owned(),
            );
        }
        txn.execute(&with.query(event)).await?;
    } else {
        txn.execute(&row).await?;
        if let Some(links) = links {
            txn.execute(&links).await?;
        }
        txn.execute(&event).await?;
    }
    note_written(txn, &created.record, EventAction::Created);
    Ok(())
}

/// Inserts a new record's row, for a creation that links other records to it before its event
/// can say what it did ([`record_creation`]).
pub async fn insert<R: Record>(txn: &DatabaseTransaction, created: &Loaded<R>) -> DomainResult<()> {
    R::Entity::insert(created.record.clone().into_active_model().reset_all())
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Appends the `created` event of a record [`insert`]ed in this transaction.
pub async fn record_creation<R: Record>(
    txn: &WriteTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    reason: Option<String>,
    created: &Loaded<R>,
) -> DomainResult<()> {
    let event = event_of(
        EventAction::Created,
        reason,
        None,
        (&created.record, &created.extra),
    )?;
    event::append(txn, actor, now, event).await?;
    note_written(txn, &created.record, EventAction::Created);
    Ok(())
}

/// The event of `action` on a record, `before` (when it existed) and `after` as their typed
/// snapshots: for [`save`], [`record_creation`] and writers in bulk (imports, seeds).
pub fn event_of<R: Record>(
    action: EventAction,
    reason: Option<String>,
    before: Option<(&R, &R::Extra)>,
    after: (&R, &R::Extra),
) -> DomainResult<NewEvent> {
    let (record, extra) = after;
    Ok(NewEvent {
        entity_kind: R::KIND.as_str(),
        entity_id: record.id().to_owned(),
        action,
        reason,
        before: before
            .map(|(record, extra)| encode_json(&record.snapshot(extra)))
            .transpose()?,
        after: Some(encode_json(&record.snapshot(extra))?),
    })
}

/// Notes the write of `record` for the log line its commit writes.
fn note_written<R: Record>(txn: &WriteTransaction, record: &R, action: EventAction) {
    txn.note(Written {
        kind: R::KIND.as_str(),
        number: record.number().to_owned(),
        version: record.version(),
        action: action.as_str(),
    });
}

/// One move on one record, start to end: `permission`, then in one transaction load the record
/// at `version`, `apply` (which checks the life cycle and returns the next version), [`save`],
/// commit.
pub async fn act<R: Record>(
    cx: Context<'_>,
    permission: Permission,
    id: &str,
    version: i32,
    step: Step,
    apply: impl AsyncFnOnce(&WriteTransaction, &Loaded<R>, DateTime<Utc>) -> DomainResult<R>,
) -> DomainResult<R> {
    cx.actor.authorize(permission)?;
    let txn = begin_write(cx.db).await?;
    let current = load_for_write::<R>(&txn, cx.actor, id, Some(version)).await?;
    let now = cx.clock.now();
    let record = apply(&txn, &current, now).await?;
    let after = Loaded {
        record,
        extra: current.extra.clone(),
    };
    let saved = save(&txn, cx.actor, now, step, &current, after).await?;
    txn.commit().await?;
    Ok(saved)
}
