//! Reading incidents: one by id or number, filtered pages (breach judged at the injected
//! clock's now), and incidents by CI, change or problem for DataLoaders.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use quorum_core::event;
use quorum_core::pagination::{self, Page, PageRequest, SortOrder};
use quorum_core::text::{Search, search};
use quorum_core::{Actor, DomainResult, Permission};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::INCIDENT_EVENT_KIND;
use crate::entity::incident::{self, Column, Model};
use crate::entity::{IncidentState, Priority, affected_item};

/// How a single incident is named in a lookup.
#[derive(Debug, Clone)]
pub enum IncidentKey {
    Id(String),
    Number(String),
}

pub async fn find_incident<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    key: &IncidentKey,
) -> DomainResult<Option<Model>> {
    actor.authorize(Permission::ReadIncidents)?;
    let query = match key {
        IncidentKey::Id(id) => incident::Entity::find_by_id(id.as_str()),
        IncidentKey::Number(number) => {
            incident::Entity::find().filter(Column::Number.eq(number.trim().to_uppercase()))
        }
    };
    Ok(query.one(db).await?)
}

/// Narrows a list of incidents; every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub states: Option<Vec<IncidentState>>,
    pub priorities: Option<Vec<Priority>>,
    /// With `true`, incidents whose response or resolution is (or was) late; with `false`, the
    /// others.
    pub breached: Option<bool>,
    pub major: Option<bool>,
    pub affected_item_id: Option<String>,
    pub caused_by_change_id: Option<String>,
    pub problem_id: Option<String>,
    pub assignee: Option<String>,
    pub assignment_group: Option<String>,
    pub opened_from: Option<DateTime<Utc>>,
    pub opened_to: Option<DateTime<Utc>>,
    /// Case-insensitive part of the title or description, or the exact number.
    pub text: Option<String>,
}

/// The orders an incident list can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum IncidentOrderField {
    /// By number, that is by opening.
    #[default]
    Number,
    /// P1 first, then by number.
    Priority,
    /// The nearest resolution due time first.
    ResolutionDue,
    UpdatedAt,
}

/// Whether an incident is late at `now`: its response (`responded_at`, or now, after the
/// response due time) or its resolution (resolved, on hold since, or now, after the resolution
/// due time). The same rule as [`crate::sla::status`], as SQL.
pub fn breached_expr(now: DateTime<Utc>) -> SimpleExpr {
    let col = |column: Column| Expr::col((incident::Entity, column));
    let response = Expr::expr(Func::coalesce([col(Column::RespondedAt), Expr::val(now)]))
        .gt(col(Column::ResponseDue));
    let resolution = Expr::expr(Func::coalesce([
        col(Column::ResolvedAt),
        col(Column::OnHoldSince),
        Expr::val(now),
    ]))
    .gt(col(Column::ResolutionDue));
    response.or(resolution)
}

fn filter_condition(
    filter: &IncidentFilter,
    now: impl FnOnce() -> DateTime<Utc>,
) -> DomainResult<Condition> {
    let mut condition = Condition::all()
        .add_option(
            filter
                .states
                .as_ref()
                .map(|states| Column::State.is_in(states.iter().copied())),
        )
        .add_option(
            filter
                .priorities
                .as_ref()
                .map(|priorities| Column::Priority.is_in(priorities.iter().copied())),
        )
        .add_option(filter.major.map(|major| Column::MajorIncident.eq(major)))
        .add_option(
            filter
                .caused_by_change_id
                .as_deref()
                .map(|id| Column::CausedByChangeId.eq(id)),
        )
        .add_option(
            filter
                .problem_id
                .as_deref()
                .map(|id| Column::ProblemId.eq(id)),
        )
        .add_option(
            filter
                .assignee
                .as_deref()
                .map(|who| Column::Assignee.eq(who)),
        )
        .add_option(
            filter
                .assignment_group
                .as_deref()
                .map(|group| Column::AssignmentGroup.eq(group)),
        )
        .add_option(filter.opened_from.map(|from| Column::OpenedAt.gte(from)))
        .add_option(filter.opened_to.map(|to| Column::OpenedAt.lt(to)));
    if let Some(breached) = filter.breached {
        let late = breached_expr(now());
        condition = condition.add(if breached { late } else { late.not() });
    }
    if let Some(ci_id) = &filter.affected_item_id {
        let mut hitting = Query::select();
        hitting
            .column(affected_item::Column::IncidentId)
            .from(affected_item::Entity)
            .and_where(affected_item::Column::CiId.eq(ci_id.as_str()));
        condition = condition.add(Column::Id.in_subquery(hitting));
    }
    if let Some(Search { text, pattern }) = search("text", filter.text.as_deref())? {
        let like = |column: Column| {
            Expr::expr(Func::lower(Expr::col((incident::Entity, column))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        condition = condition.add(
            Condition::any()
                .add(Column::Number.eq(text.to_uppercase()))
                .add(like(Column::Title))
                .add(like(Column::Description)),
        );
    }
    Ok(condition)
}

/// A page of the incidents matching `filter` (breach judged at `now`, asked only when the
/// filter asks about breaches: a list that does not depends on the data alone), in `order`.
pub async fn list_incidents<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &IncidentFilter,
    order: IncidentOrderField,
    descending: bool,
    now: impl FnOnce() -> DateTime<Utc>,
    page: &PageRequest,
) -> DomainResult<Page<Model>> {
    actor.authorize(Permission::ReadIncidents)?;
    let select = incident::Entity::find().filter(filter_condition(filter, now)?);
    let sort = if descending {
        SortOrder::Descending
    } else {
        SortOrder::Ascending
    };
    match order {
        IncidentOrderField::Number => {
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
        IncidentOrderField::Priority => {
            pagination::paginate(
                db,
                select,
                (Column::Priority, Column::Number),
                sort,
                |m: &Model| (m.priority, m.number.clone()),
                page,
            )
            .await
        }
        IncidentOrderField::ResolutionDue => {
            pagination::paginate(
                db,
                select,
                (Column::ResolutionDue, Column::Id),
                sort,
                |m: &Model| (m.resolution_due, m.id.clone()),
                page,
            )
            .await
        }
        IncidentOrderField::UpdatedAt => {
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

/// The CIs of each of `incident_ids`, by number, read with their links in one statement.
pub async fn affected_configuration_items_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    incident_ids: &[String],
) -> DomainResult<HashMap<String, Vec<quorum_cmdb::ConfigurationItem>>> {
    actor.authorize(Permission::ReadIncidents)?;
    quorum_cmdb::linked_configuration_items::<_, affected_item::Entity>(
        db,
        actor,
        affected_item::Column::IncidentId,
        incident_ids,
    )
    .await
}

/// The incidents whose `column` is one of `keys` (change ids for causes, problem ids), grouped
/// by that key, by number.
pub async fn incidents_by<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    column: Column,
    keys: &[String],
) -> DomainResult<HashMap<String, Vec<Model>>> {
    actor.authorize(Permission::ReadIncidents)?;
    let mut found: HashMap<String, Vec<Model>> = HashMap::new();
    for batch in quorum_core::ids::batches(db, keys) {
        for incident in incident::Entity::find()
            .filter(quorum_core::ids::one_of(db, column, batch))
            .order_by_asc(Column::Number)
            .all(db)
            .await?
        {
            let key = match column {
                Column::CausedByChangeId => incident.caused_by_change_id.clone(),
                Column::ProblemId => incident.problem_id.clone(),
                _ => None,
            };
            if let Some(key) = key {
                found.entry(key).or_default().push(incident);
            }
        }
    }
    Ok(found)
}

/// The events of an incident, newest first.
pub async fn incident_history<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    incident_id: &str,
    page: &PageRequest,
) -> DomainResult<Page<event::Model>> {
    actor.authorize(Permission::ReadIncidents)?;
    event::page(
        db,
        Condition::all()
            .add(event::Column::EntityKind.eq(INCIDENT_EVENT_KIND))
            .add(event::Column::EntityId.eq(incident_id)),
        page,
    )
    .await
}
