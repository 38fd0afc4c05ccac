//! Configuration items: create, update, retire, read (now or at a past instant), list, history.

use quorum_core::event::EventAction;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use quorum_core::event;
use quorum_core::event::EntityKind;
use quorum_core::numbering::next_number;
use quorum_core::pagination::{self, Page, PageRequest, SortOrder};
use quorum_core::text::{Search, search};
use quorum_core::write::{self, Loaded, Record, Step};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission};
use sea_orm::sea_query::{ExprTrait, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde_json::Value as Json;

use crate::entity::configuration_item::{self as ci, Model};
use crate::entity::relationship;
use crate::entity::{CiClass, CiStatus, Environment};
use crate::validate::{ItemFields, name_key};
use crate::{CI_EVENT_KIND, CI_NUMBER_PREFIX, RELATIONSHIP_EVENT_KIND};

/// What `createConfigurationItem` takes.
#[derive(Debug, Clone)]
pub struct NewConfigurationItem {
    pub class: CiClass,
    pub name: String,
    /// IN_SERVICE when not given.
    pub status: Option<CiStatus>,
    pub environment: Environment,
    pub criticality: i32,
    pub owner_team: Option<String>,
    pub description: Option<String>,
    /// A JSON object; `{}` when not given.
    pub attributes: Option<Json>,
}

/// What `updateConfigurationItem` changes: fields left `None` stay as they are; for the
/// optional texts, `Some(None)` clears them.
#[derive(Debug, Clone, Default)]
pub struct ConfigurationItemChanges {
    pub class: Option<CiClass>,
    pub name: Option<String>,
    pub status: Option<CiStatus>,
    pub environment: Option<Environment>,
    pub criticality: Option<i32>,
    pub owner_team: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub attributes: Option<Json>,
}

/// Narrows a list of configuration items; every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct CiFilter {
    pub classes: Option<Vec<CiClass>>,
    pub statuses: Option<Vec<CiStatus>>,
    pub environments: Option<Vec<Environment>>,
    pub criticality_at_most: Option<i32>,
    pub criticality_at_least: Option<i32>,
    pub owner_team: Option<String>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, async_graphql::Enum)]
#[graphql(name = "CiOrderField", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum CiOrderField {
    /// By name, ignoring case.
    #[default]
    Name,
    Number,
    Criticality,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CiOrder {
    pub field: CiOrderField,
    pub direction: SortDirection,
}

impl ItemFields {
    pub(crate) fn of(model: &Model) -> Self {
        ItemFields {
            class: model.class,
            name: model.name.clone(),
            status: model.status,
            environment: model.environment,
            criticality: model.criticality,
            owner_team: model.owner_team.clone(),
            description: model.description.clone(),
            attributes: model.attributes.clone(),
        }
    }

    /// `model` with these fields; [`Record::next_version`] stamps it.
    pub(crate) fn applied_to(self, model: &Model) -> Model {
        Model {
            name_key: name_key(&self.name),
            class: self.class,
            name: self.name,
            status: self.status,
            environment: self.environment,
            criticality: self.criticality,
            owner_team: self.owner_team,
            description: self.description,
            attributes: self.attributes,
            ..model.clone()
        }
    }

    pub(crate) fn into_new_model(self, number: String, now: DateTime<Utc>) -> Model {
        Model {
            id: uuid::Uuid::now_v7().to_string(),
            number,
            name_key: name_key(&self.name),
            class: self.class,
            name: self.name,
            status: self.status,
            environment: self.environment,
            criticality: self.criticality,
            owner_team: self.owner_team,
            description: self.description,
            attributes: self.attributes,
            version: 1,
            created_at: now,
            updated_at: now,
            retired_at: None,
        }
    }
}

impl Record for Model {
    type Entity = ci::Entity;
    type Extra = ();
    const KIND: EntityKind = EntityKind::ConfigurationItem;

    quorum_core::versioned_row!(ci);

    async fn read_extra(_: &DatabaseTransaction, _: &str) -> DomainResult<()> {
        Ok(())
    }

    type Snapshot = crate::ConfigurationItemSnapshot;

    /// The whole row, so any past state can be read back.
    fn snapshot(&self, _: &()) -> crate::ConfigurationItemSnapshot {
        crate::ConfigurationItemSnapshot::of_row(self)
    }
}

fn name_taken(class: CiClass, name: &str, number: &str) -> DomainError {
    DomainError::bad_input(
        "input.name",
        format!(
            "a {class:?} named `{name}` already exists ({number}); names are unique per class, ignoring case"
        ),
    )
}

/// Refuses a name another live or retired CI of the class already has.
async fn ensure_name_free<C: ConnectionTrait>(
    db: &C,
    class: CiClass,
    name: &str,
    except_id: Option<&str>,
) -> DomainResult<()> {
    let existing = ci::Entity::find()
        .filter(ci::Column::Class.eq(class))
        .filter(ci::Column::NameKey.eq(name_key(name)))
        .apply_if(except_id, |query, id| query.filter(ci::Column::Id.ne(id)))
        .one(db)
        .await?;
    match existing {
        Some(other) => Err(name_taken(class, &other.name, &other.number)),
        None => Ok(()),
    }
}

/// A duplicate-key error from the insert or update itself: another writer took the name
/// between our check and our write.
fn name_race(error: DomainError, class: CiClass, name: &str) -> DomainError {
    match error {
        DomainError::Database(error) if quorum_core::error::is_unique_violation(&error) => {
            name_taken(class, name, "just created")
        }
        other => other,
    }
}

#[tracing::instrument(skip_all, fields(ci.class = ?input.class))]
pub async fn create_configuration_item(
    cx: Context<'_>,
    input: NewConfigurationItem,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::CreateConfigurationItem)?;
    let fields = ItemFields {
        class: input.class,
        name: input.name,
        status: input.status.unwrap_or(CiStatus::InService),
        environment: input.environment,
        criticality: input.criticality,
        owner_team: input.owner_team,
        description: input.description,
        attributes: input.attributes.unwrap_or(Json::Null),
    }
    .validated("input")?;

    let txn = quorum_core::begin_write(db).await?;
    let now = clock.now();
    ensure_name_free(&txn, fields.class, &fields.name, None).await?;
    let number = next_number(&txn, CI_NUMBER_PREFIX).await?;
    let (class, name) = (fields.class, fields.name.clone());
    let created = Loaded {
        record: fields.into_new_model(number, now),
        extra: (),
    };
    write::create(&txn, actor, now, None, &created)
        .await
        .map_err(|error| name_race(error, class, &name))?;
    txn.commit().await?;
    Ok(created.record)
}

/// Refuses any write to a retired CI.
fn check_live(current: &Model) -> DomainResult<()> {
    if current.status == CiStatus::Retired {
        return Err(DomainError::InvalidTransition {
            message: format!("{} is retired and can no longer change", current.number),
        });
    }
    Ok(())
}

#[tracing::instrument(skip(cx, changes))]
pub async fn update_configuration_item(
    cx: Context<'_>,
    id: &str,
    version: i32,
    changes: ConfigurationItemChanges,
) -> DomainResult<Model> {
    // The class and name written, for a unique violation lost to a concurrent writer.
    let mut written: Option<(CiClass, String)> = None;
    write::act(
        cx,
        Permission::UpdateConfigurationItem,
        id,
        version,
        Step::edit(),
        async |txn, current: &Loaded<Model>, _| {
            let current = &current.record;
            check_live(current)?;
            let before = ItemFields::of(current);
            let fields = ItemFields {
                class: changes.class.unwrap_or(before.class),
                name: changes.name.unwrap_or_else(|| before.name.clone()),
                status: changes.status.unwrap_or(before.status),
                environment: changes.environment.unwrap_or(before.environment),
                criticality: changes.criticality.unwrap_or(before.criticality),
                owner_team: changes
                    .owner_team
                    .unwrap_or_else(|| before.owner_team.clone()),
                description: changes
                    .description
                    .unwrap_or_else(|| before.description.clone()),
                attributes: changes
                    .attributes
                    .unwrap_or_else(|| before.attributes.clone()),
            }
            .validated("input")?;
            if name_key(&fields.name) != current.name_key || fields.class != current.class {
                ensure_name_free(txn, fields.class, &fields.name, Some(id)).await?;
            }
            written = Some((fields.class, fields.name.clone()));
            Ok(fields.applied_to(current))
        },
    )
    .await
    .map_err(|error| match &written {
        Some((class, name)) => name_race(error, *class, name),
        None => error,
    })
}

/// Retires a CI unless `holders` (other domains' records that still need it, by number) name
/// any.
#[tracing::instrument(skip(cx, holders))]
pub async fn retire_configuration_item(
    cx: Context<'_>,
    id: &str,
    version: i32,
    holders: impl AsyncFnOnce(&DatabaseTransaction, &Model) -> DomainResult<Vec<String>>,
) -> DomainResult<Model> {
    write::act(
        cx,
        Permission::RetireConfigurationItem,
        id,
        version,
        Step::new(EventAction::Retired),
        async |txn, current: &Loaded<Model>, now| {
            let current = &current.record;
            check_live(current)?;
            // Records of other domains that still need the CI (changes in flight, open
            // incidents) hold it in service: retiring it under them would leave them pointing
            // at nothing live.
            let holding = holders(txn, current).await?;
            if !holding.is_empty() {
                return Err(DomainError::InvalidTransition {
                    message: format!(
                        "{} is still in use by {}: close them or take the CI off them first",
                        current.number,
                        holding.join(", ")
                    ),
                });
            }
            Ok(Model {
                status: CiStatus::Retired,
                retired_at: Some(now),
                ..current.clone()
            })
        },
    )
    .await
}

/// How a single CI is named in a lookup.
#[derive(Debug, Clone)]
pub enum CiKey {
    Id(String),
    Number(String),
}

/// The CI by id or number as it is now; `None` when there is none.
pub async fn find_configuration_item<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    key: &CiKey,
) -> DomainResult<Option<Model>> {
    actor.authorize(Permission::ReadCmdb)?;
    let query = match key {
        CiKey::Id(id) => ci::Entity::find_by_id(id.as_str()),
        CiKey::Number(number) => {
            ci::Entity::find().filter(ci::Column::Number.eq(number.trim().to_uppercase()))
        }
    };
    Ok(query.one(db).await?)
}

/// The CI by id or number as it was at `as_of`; `None` when it did not exist yet.
pub async fn find_configuration_item_as_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    key: &CiKey,
    as_of: DateTime<Utc>,
) -> DomainResult<Option<Model>> {
    // Numbers and ids never change, so today's row names the CI whose past is wanted.
    let Some(current) = find_configuration_item(db, actor, key).await? else {
        return Ok(None);
    };
    let mut found =
        find_configuration_items_as_of(db, actor, std::slice::from_ref(&current.id), as_of).await?;
    Ok(found.remove(&current.id))
}

/// The CIs with these ids as they are now (missing ids are left out).
pub async fn find_configuration_items<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[String],
) -> DomainResult<HashMap<String, Model>> {
    actor.authorize(Permission::ReadCmdb)?;
    let mut found = HashMap::with_capacity(ids.len());
    for batch in quorum_core::ids::batches(db, ids) {
        let rows = ci::Entity::find()
            .filter(quorum_core::ids::one_of(db, ci::Column::Id, batch))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|row| (row.id.clone(), row)));
    }
    Ok(found)
}

/// The alias of the link's key beside a CI's columns, in [`linked_configuration_items`].
const LINK_KEY: &str = "link_key";

/// A CI read with the key of the link that named it.
struct Linked {
    key: String,
    item: Model,
}

impl sea_orm::FromQueryResult for Linked {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            key: row.try_get(pre, LINK_KEY)?,
            item: Model::from_query_result(row, pre)?,
        })
    }
}

/// The CIs a link table `L` (a change's, an incident's) names for each of `keys` in its
/// `key` column, by number: each CI's row joined to its link, one statement per batch of keys.
/// The rows are read under their own column names (not prefixed per table, as a two-model
/// select reads them), so decoding a row formats no name.
pub async fn linked_configuration_items<C, L>(
    db: &C,
    actor: &Actor,
    key: L::Column,
    keys: &[String],
) -> DomainResult<HashMap<String, Vec<Model>>>
where
    C: ConnectionTrait,
    L: EntityTrait + sea_orm::Related<ci::Entity>,
{
    actor.authorize(Permission::ReadCmdb)?;
    let mut found: HashMap<String, Vec<Model>> = HashMap::new();
    for batch in quorum_core::ids::batches(db, keys) {
        for linked in ci::Entity::find()
            .column_as(key, LINK_KEY)
            .join(sea_orm::JoinType::InnerJoin, L::to().rev())
            .filter(quorum_core::ids::one_of(db, key, batch))
            .into_model::<Linked>()
            .all(db)
            .await?
        {
            found.entry(linked.key).or_default().push(linked.item);
        }
    }
    for items in found.values_mut() {
        items.sort_by(|a, b| a.number.cmp(&b.number));
    }
    Ok(found)
}

/// The CIs named by `ids` for a record to touch (`holder`: "a change", "an incident"):
/// deduplicated, each existing and not retired, read locked in the caller's transaction, or
/// BAD_USER_INPUT on `field`. FOR SHARE (PostgreSQL), as when relating CIs: a retirement committing meanwhile is
/// waited for and seen, so no record takes on a CI retired under it.
pub async fn live_configuration_items<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    field: &str,
    holder: &str,
    ids: &[String],
) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadCmdb)?;
    let mut unique: Vec<String> = ids.iter().map(|id| id.trim().to_owned()).collect();
    unique.sort();
    unique.dedup();
    let mut found = HashMap::with_capacity(unique.len());
    for batch in quorum_core::ids::batches(db, &unique) {
        let rows = ci::Entity::find()
            .filter(quorum_core::ids::one_of(db, ci::Column::Id, batch))
            .lock_shared()
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|row| (row.id.clone(), row)));
    }
    unique
        .iter()
        .map(|id| match found.remove(id) {
            None => Err(DomainError::bad_input(
                field,
                format!("no configuration item has id `{id}`"),
            )),
            Some(item) if item.status == CiStatus::Retired => Err(DomainError::bad_input(
                field,
                format!("{} is retired; {holder} cannot touch it", item.number),
            )),
            Some(item) => Ok(item),
        })
        .collect()
}

/// The CIs with these ids as they were at `as_of`, read from the last event of each at or
/// before that instant (CIs that did not exist yet are left out).
pub async fn find_configuration_items_as_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[String],
    as_of: DateTime<Utc>,
) -> DomainResult<HashMap<String, Model>> {
    actor.authorize(Permission::ReadCmdb)?;
    let mut found = HashMap::with_capacity(ids.len());
    for batch in quorum_core::ids::batches(db, ids) {
        let events = event::Entity::find()
            .filter(event::Column::EntityKind.eq(CI_EVENT_KIND))
            .filter(quorum_core::ids::one_of(db, event::Column::EntityId, batch))
            .filter(event::Column::OccurredAt.lte(as_of))
            .order_by_asc(event::Column::Id)
            .all(db)
            .await?;
        // Ascending ids: the last event of each CI wins.
        for event in events {
            let Some(snapshot) = event::decode_after::<crate::ConfigurationItemSnapshot>(&event)?
            else {
                continue;
            };
            let model = snapshot.into_row();
            found.insert(model.id.clone(), model);
        }
    }
    Ok(found)
}

fn filter_condition(filter: &CiFilter) -> DomainResult<Condition> {
    let name = search("nameContains", filter.name_contains.as_deref())?;
    Ok(Condition::all()
        .add_option(
            filter
                .classes
                .as_ref()
                .map(|classes| ci::Column::Class.is_in(classes.iter().copied())),
        )
        .add_option(
            filter
                .statuses
                .as_ref()
                .map(|statuses| ci::Column::Status.is_in(statuses.iter().copied())),
        )
        .add_option(
            filter
                .environments
                .as_ref()
                .map(|environments| ci::Column::Environment.is_in(environments.iter().copied())),
        )
        .add_option(
            filter
                .criticality_at_most
                .map(|most| ci::Column::Criticality.lte(most)),
        )
        .add_option(
            filter
                .criticality_at_least
                .map(|least| ci::Column::Criticality.gte(least)),
        )
        .add_option(
            filter
                .owner_team
                .as_deref()
                .map(|team| ci::Column::OwnerTeam.eq(team)),
        )
        .add_option(name.map(|Search { pattern, .. }| {
            // Name keys are the lower-cased names, which the pattern already is.
            sea_orm::sea_query::Expr::col((ci::Entity, ci::Column::NameKey))
                .like(LikeExpr::new(pattern).escape('\\'))
        })))
}

/// A page of CIs matching `filter`, in `order`.
pub async fn list_configuration_items<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &CiFilter,
    order: CiOrder,
    page: &PageRequest,
) -> DomainResult<Page<Model>> {
    actor.authorize(Permission::ReadCmdb)?;
    let select = ci::Entity::find().filter(filter_condition(filter)?);
    let sort = match order.direction {
        SortDirection::Asc => SortOrder::Ascending,
        SortDirection::Desc => SortOrder::Descending,
    };
    use ci::Column;
    match order.field {
        CiOrderField::Name => {
            pagination::paginate(
                db,
                select,
                (Column::NameKey, Column::Id),
                sort,
                |m: &Model| (m.name_key.clone(), m.id.clone()),
                page,
            )
            .await
        }
        CiOrderField::Number => {
            pagination::paginate(
                db,
                select,
                Column::Number,
                sort,
                |m: &Model| m.number.clone(),
                page,
            )
            .await
        }
        CiOrderField::Criticality => {
            pagination::paginate(
                db,
                select,
                (Column::Criticality, Column::Id),
                sort,
                |m: &Model| (m.criticality, m.id.clone()),
                page,
            )
            .await
        }
        CiOrderField::UpdatedAt => {
            pagination::paginate(
                db,
                select,
                (Column::UpdatedAt, Column::Id),
                sort,
                |m: &Model| (m.updated_at, m.id.clone()),
                page,
            )
            .await
        }
    }
}

/// The events of a CI and of every relationship it is or was in, newest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ci_id: &str,
    page: &PageRequest,
) -> DomainResult<Page<event::Model>> {
    actor.authorize(Permission::ReadCmdb)?;
    let relationships_of_ci = Query::select()
        .column(relationship::Column::Id)
        .from(relationship::Entity)
        .cond_where(
            Condition::any()
                .add(relationship::Column::SourceId.eq(ci_id))
                .add(relationship::Column::TargetId.eq(ci_id)),
        )
        .to_owned();
    let condition = Condition::any()
        .add(
            Condition::all()
                .add(event::Column::EntityKind.eq(CI_EVENT_KIND))
                .add(event::Column::EntityId.eq(ci_id)),
        )
        .add(
            Condition::all()
                .add(event::Column::EntityKind.eq(RELATIONSHIP_EVENT_KIND))
                .add(event::Column::EntityId.in_subquery(relationships_of_ci)),
        );
    event::page(db, condition, page).await
}

/// Whether the CMDB holds no configuration item at all (the dev seed runs only then).
pub async fn is_empty<C: ConnectionTrait>(db: &C) -> DomainResult<bool> {
    Ok(ci::Entity::find().limit(1).count(db).await? == 0)
}
