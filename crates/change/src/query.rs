//! Reading changes: one by id or number, filtered pages, the CIs of many changes at once (for
//! DataLoaders) and a change's history. Drafts stay hidden from those who may not read them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use quorum_core::event;
use quorum_core::pagination::{self, Page, PageRequest, SortOrder};
use quorum_core::tally::{self, States};
use quorum_core::text::{Search, search};
use quorum_core::{Actor, DomainResult, Permission};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::CHANGE_EVENT_KIND;
use crate::entity::change_request::{self, Column, Model};
use crate::entity::{ChangeState, ChangeType, RiskLevel, affected_item};

/// How a single change is named in a lookup.
#[derive(Debug, Clone)]
pub enum ChangeKey {
    Id(String),
    Number(String),
}

/// The change by id or number; `None` when there is none or the actor may not see it.
pub async fn find_change<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    key: &ChangeKey,
) -> DomainResult<Option<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    let query = match key {
        ChangeKey::Id(id) => change_request::Entity::find_by_id(id.as_str()),
        ChangeKey::Number(number) => {
            change_request::Entity::find().filter(Column::Number.eq(number.trim().to_uppercase()))
        }
    };
    Ok(query
        .one(db)
        .await?
        .filter(|change| crate::change::visible(actor, change)))
}

/// Changes by id (those the actor may see), for loaders.
pub async fn find_changes<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[String],
) -> DomainResult<HashMap<String, Model>> {
    actor.authorize(Permission::ReadChanges)?;
    let mut found = HashMap::with_capacity(ids.len());
    for batch in quorum_core::ids::batches(db, ids) {
        for change in change_request::Entity::find()
            .filter(quorum_core::ids::one_of(db, Column::Id, batch))
            .all(db)
            .await?
        {
            if crate::change::visible(actor, &change) {
                found.insert(change.id.clone(), change);
            }
        }
    }
    Ok(found)
}

/// The CIs of each of `change_ids` that has any, by number: the links and the CIs in one
/// statement (a join), so that a page's CIs cost one round trip, not two.
pub async fn affected_configuration_items_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change_ids: &[String],
) -> DomainResult<HashMap<String, Vec<quorum_cmdb::ConfigurationItem>>> {
    actor.authorize(Permission::ReadChanges)?;
    quorum_cmdb::linked_configuration_items::<_, affected_item::Entity>(
        db,
        actor,
        affected_item::Column::ChangeId,
        change_ids,
    )
    .await
}

/// Narrows a list of changes; every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    pub states: Option<Vec<ChangeState>>,
    pub types: Option<Vec<ChangeType>>,
    pub risk_levels: Option<Vec<RiskLevel>>,
    /// Changes touching this CI.
    pub affected_item_id: Option<String>,
    pub requested_by: Option<String>,
    pub assignee: Option<String>,
    /// Changes whose planned window overlaps `[planned_from, planned_to)`.
    pub planned_from: Option<DateTime<Utc>>,
    pub planned_to: Option<DateTime<Utc>>,
    /// Case-insensitive part of the title or description, or the exact number.
    pub text: Option<String>,
}

/// The orders a change list can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChangeOrderField {
    /// By number, that is by creation.
    #[default]
    Number,
    UpdatedAt,
}

fn filter_condition(actor: &Actor, filter: &ChangeFilter) -> DomainResult<Condition> {
    let mut condition = Condition::all()
        .add_option(
            filter
                .states
                .as_ref()
                .map(|states| Column::State.is_in(states.iter().copied())),
        )
        .add_option(
            filter
                .types
                .as_ref()
                .map(|types| Column::ChangeType.is_in(types.iter().copied())),
        )
        .add_option(
            filter
                .risk_levels
                .as_ref()
                .map(|levels| Column::RiskLevel.is_in(levels.iter().copied())),
        )
        .add_option(
            filter
                .requested_by
                .as_deref()
                .map(|who| Column::RequestedBy.eq(who)),
        )
        .add_option(
            filter
                .assignee
                .as_deref()
                .map(|who| Column::Assignee.eq(who)),
        )
        .add_option(filter.planned_to.map(|to| Column::PlannedStart.lt(to)))
        .add_option(filter.planned_from.map(|from| Column::PlannedEnd.gt(from)));
    if let Some(ci_id) = &filter.affected_item_id {
        let mut touching = Query::select();
        touching
            .column(affected_item::Column::ChangeId)
            .from(affected_item::Entity)
            .and_where(affected_item::Column::CiId.eq(ci_id.as_str()));
        condition = condition.add(Column::Id.in_subquery(touching));
    }
    if let Some(Search { text, pattern }) = search("text", filter.text.as_deref())? {
        let like = |column: Column| {
            Expr::expr(Func::lower(Expr::col((change_request::Entity, column))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        condition = condition.add(
            Condition::any()
                .add(Column::Number.eq(text.to_uppercase()))
                .add(like(Column::Title))
                .add(like(Column::Description)),
        );
    }
    if !actor.can(Permission::ReadDraftChanges) {
        condition = condition.add(Column::State.ne(ChangeState::Draft));
    }
    Ok(condition)
}

/// The states counted for `filter`'s total when nothing but states narrows it, so that the
/// database's tally of changes per state answers it ([`quorum_core::tally`]): those the filter
/// names (all when none), less drafts for those who may not see them. `None` when anything
/// else narrows the list; its rows are counted then. The pattern names every criterion, so a
/// new one is not counted from the tally by mistake.
fn tallied_states(
    actor: &Actor,
    filter: &ChangeFilter,
) -> Option<(Option<Vec<String>>, Vec<String>)> {
    let ChangeFilter {
        states,
        types: None,
        risk_levels: None,
        affected_item_id: None,
        requested_by: None,
        assignee: None,
        planned_from: None,
        planned_to: None,
        text: None,
    } = filter
    else {
        return None;
    };
    let names = |states: &[ChangeState]| states.iter().map(ActiveEnum::to_value).collect();
    let except = if actor.can(Permission::ReadDraftChanges) {
        Vec::new()
    } else {
        names(&[ChangeState::Draft])
    };
    Some((states.as_deref().map(names), except))
}

/// A page of the changes matching `filter` that the actor may see, in `order`; the nullable
/// columns of `unread` come back as `None` ([`quorum_core::columns`]). Its total, when asked
/// for, comes from the tally of changes per state if only states narrow the list.
#[allow(clippy::too_many_arguments)]
pub async fn list_changes<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &ChangeFilter,
    order: ChangeOrderField,
    descending: bool,
    page: &PageRequest,
    unread: &[Column],
) -> DomainResult<Page<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    let matching = change_request::Entity::find().filter(filter_condition(actor, filter)?);
    let tallied = tallied_states(actor, filter);
    // Cloned only for a count of rows that runs (no tally, and `totalCount` asked for).
    let counted = (!page.skip_total && tallied.is_none()).then(|| matching.clone());
    let total = async {
        match (&tallied, counted) {
            (Some((within, except)), _) => {
                let states = States {
                    record: "change_request",
                    within: within.as_deref(),
                    except,
                };
                tally::count(db, states).await
            }
            (None, Some(counted)) => Ok(counted.count(db).await?),
            (None, None) => Ok(0),
        }
    };
    let select = quorum_core::columns::leave_unread(matching, unread);
    let sort = if descending {
        SortOrder::Descending
    } else {
        SortOrder::Ascending
    };
    match order {
        ChangeOrderField::Number => {
            pagination::paginate_counted(
                db,
                select,
                Column::Number,
                sort,
                |m: &Model| m.number.clone(),
                page,
                total,
            )
            .await
        }
        ChangeOrderField::UpdatedAt => {
            pagination::paginate_counted(
                db,
                select,
                (Column::UpdatedAt, Column::Id),
                sort,
                |m: &Model| (m.updated_at, m.id.clone()),
                page,
                total,
            )
            .await
        }
    }
}

/// The events of a change (its moves, edits and votes), newest first.
pub async fn change_history<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change: &Model,
    page: &PageRequest,
) -> DomainResult<Page<event::Model>> {
    actor.authorize(Permission::ReadChanges)?;
    if !crate::change::visible(actor, change) {
        return Err(quorum_core::DomainError::not_found("Change", &change.id));
    }
    event::page(
        db,
        Condition::all()
            .add(event::Column::EntityKind.eq(CHANGE_EVENT_KIND))
            .add(event::Column::EntityId.eq(change.id.as_str())),
        page,
    )
    .await
}
