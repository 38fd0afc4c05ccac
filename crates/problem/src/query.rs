//! Reading problems: by id or number, filtered pages, the known error database, and the CIs
//! of many problems at once (their own and their incidents').

use std::collections::HashMap;

use quorum_core::event;
use quorum_core::pagination::{self, Page, PageRequest, SortOrder};
use quorum_core::text::{Search, search};
use quorum_core::{Actor, DomainResult, Permission};
use quorum_incident::entity::{affected_item as incident_item, incident};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use quorum_change::ChangeState;
use quorum_change::entity::change_request;

use crate::PROBLEM_EVENT_KIND;
use crate::entity::problem::{self, Column, Model};
use crate::entity::{ProblemState, affected_item, fix_change};

/// How a single problem is named in a lookup.
#[derive(Debug, Clone)]
pub enum ProblemKey {
    Id(String),
    Number(String),
}

pub async fn find_problem<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    key: &ProblemKey,
) -> DomainResult<Option<Model>> {
    actor.authorize(Permission::ReadProblems)?;
    let query = match key {
        ProblemKey::Id(id) => problem::Entity::find_by_id(id.as_str()),
        ProblemKey::Number(number) => {
            problem::Entity::find().filter(Column::Number.eq(number.trim().to_uppercase()))
        }
    };
    Ok(query.one(db).await?)
}

pub async fn find_problems<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[String],
) -> DomainResult<HashMap<String, Model>> {
    actor.authorize(Permission::ReadProblems)?;
    let mut found = HashMap::with_capacity(ids.len());
    for batch in quorum_core::ids::batches(db, ids) {
        for problem in problem::Entity::find()
            .filter(quorum_core::ids::one_of(db, Column::Id, batch))
            .all(db)
            .await?
        {
            found.insert(problem.id.clone(), problem);
        }
    }
    Ok(found)
}

/// Narrows a list of problems.
#[derive(Debug, Clone, Default)]
pub struct ProblemFilter {
    pub states: Option<Vec<ProblemState>>,
    /// Problems naming this CI, or with an incident on it.
    pub affected_item_id: Option<String>,
    /// Case-insensitive part of the title, description, root cause or workaround, or the exact
    /// number.
    pub text: Option<String>,
}

fn filter_condition(filter: &ProblemFilter) -> DomainResult<Condition> {
    let mut condition = Condition::all().add_option(
        filter
            .states
            .as_ref()
            .map(|states| Column::State.is_in(states.iter().copied())),
    );
    if let Some(ci_id) = &filter.affected_item_id {
        let mut own = Query::select();
        own.column(affected_item::Column::ProblemId)
            .from(affected_item::Entity)
            .and_where(affected_item::Column::CiId.eq(ci_id.as_str()));
        let mut through_incidents = Query::select();
        through_incidents
            .column((incident::Entity, incident::Column::ProblemId))
            .from(incident::Entity)
            .inner_join(
                incident_item::Entity,
                Expr::col((incident_item::Entity, incident_item::Column::IncidentId))
                    .equals((incident::Entity, incident::Column::Id)),
            )
            .and_where(
                Expr::col((incident_item::Entity, incident_item::Column::CiId)).eq(ci_id.as_str()),
            )
            .and_where(Expr::col((incident::Entity, incident::Column::ProblemId)).is_not_null());
        condition = condition.add(
            Condition::any()
                .add(Column::Id.in_subquery(own))
                .add(Column::Id.in_subquery(through_incidents)),
        );
    }
    if let Some(Search { text, pattern }) = search("text", filter.text.as_deref())? {
        let like = |column: Column| {
            Expr::expr(Func::lower(Expr::col((problem::Entity, column))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        condition = condition.add(
            Condition::any()
                .add(Column::Number.eq(text.to_uppercase()))
                .add(like(Column::Title))
                .add(like(Column::Description))
                .add(like(Column::RootCause))
                .add(like(Column::Workaround)),
        );
    }
    Ok(condition)
}

/// A page of problems matching `filter`, newest first.
pub async fn list_problems<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &ProblemFilter,
    page: &PageRequest,
) -> DomainResult<Page<Model>> {
    actor.authorize(Permission::ReadProblems)?;
    let select = problem::Entity::find().filter(filter_condition(filter)?);
    pagination::paginate(
        db,
        select,
        Column::Number,
        SortOrder::Descending,
        |m: &Model| m.number.clone(),
        page,
    )
    .await
}

/// The known error database: problems in KNOWN_ERROR with a workaround, matching `filter`
/// (its states are ignored), newest first.
pub async fn known_errors<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &ProblemFilter,
    page: &PageRequest,
) -> DomainResult<Page<Model>> {
    actor.authorize(Permission::ReadProblems)?;
    let filter = ProblemFilter {
        states: Some(vec![ProblemState::KnownError]),
        ..filter.clone()
    };
    let select = problem::Entity::find()
        .filter(filter_condition(&filter)?)
        .filter(Column::Workaround.is_not_null());
    pagination::paginate(
        db,
        select,
        Column::Number,
        SortOrder::Descending,
        |m: &Model| m.number.clone(),
        page,
    )
    .await
}

/// The CIs of each problem: its own and its incidents', in id order.
pub async fn affected_items_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    problem_ids: &[String],
) -> DomainResult<HashMap<String, Vec<String>>> {
    actor.authorize(Permission::ReadProblems)?;
    let mut found = crate::problem::own_items_of(db, problem_ids).await?;
    for batch in quorum_core::ids::batches(db, problem_ids) {
        let mut select = Query::select();
        select
            .column((incident::Entity, incident::Column::ProblemId))
            .column((incident_item::Entity, incident_item::Column::CiId))
            .from(incident::Entity)
            .inner_join(
                incident_item::Entity,
                Expr::col((incident_item::Entity, incident_item::Column::IncidentId))
                    .equals((incident::Entity, incident::Column::Id)),
            )
            .and_where(quorum_core::ids::one_of(
                db,
                incident::Column::ProblemId,
                batch,
            ));
        for row in db.query_all(&select).await? {
            let problem_id: String = row.try_get("", "problem_id")?;
            let ci_id: String = row.try_get("", "ci_id")?;
            found.entry(problem_id).or_default().push(ci_id);
        }
    }
    for ids in found.values_mut() {
        ids.sort();
        ids.dedup();
    }
    Ok(found)
}

/// The events of a problem, newest first, as far as `actor` may see what they are about: the
/// link of a fix change that is a draft is left out for whoever may not read drafts (the rule
/// of the changes themselves), until the change is submitted.
pub async fn problem_history<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    problem_id: &str,
    page: &PageRequest,
) -> DomainResult<Page<event::Model>> {
    actor.authorize(Permission::ReadProblems)?;
    let mut condition = Condition::all()
        .add(event::Column::EntityKind.eq(PROBLEM_EVENT_KIND))
        .add(event::Column::EntityId.eq(problem_id));
    if !actor.can(Permission::ReadDraftChanges) {
        // A link and its event are written by one transaction at one instant.
        let mut hidden_change = Query::select();
        hidden_change
            .expr(Expr::val(1))
            .from(fix_change::Entity)
            .inner_join(
                change_request::Entity,
                Expr::col((change_request::Entity, change_request::Column::Id))
                    .equals((fix_change::Entity, fix_change::Column::ChangeId)),
            )
            .and_where(
                Expr::col((fix_change::Entity, fix_change::Column::ProblemId))
                    .equals((event::Entity, event::Column::EntityId)),
            )
            .and_where(
                Expr::col((fix_change::Entity, fix_change::Column::LinkedAt))
                    .equals((event::Entity, event::Column::OccurredAt)),
            )
            .and_where(
                Expr::col((change_request::Entity, change_request::Column::State))
                    .eq(ChangeState::Draft),
            );
        condition = condition.add(
            Condition::any()
                .add(event::Column::Action.ne(event::EventAction::FixChangeLinked.as_str()))
                .add(Expr::exists(hidden_change).not()),
        );
    }
    event::page(db, condition, page).await
}
