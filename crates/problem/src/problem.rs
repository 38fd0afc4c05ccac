//! Problems: the causes behind incidents. Investigated to a root cause and workaround (a
//! known error), linked to their incidents, CIs and fix changes, resolved and closed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use quorum_change::{ChangeOutcome, ChangeState};
use quorum_core::event::{EntityKind, EventAction};
use quorum_core::numbering::next_number;
use quorum_core::text::{optional_text, required_text};
use quorum_core::write::{self, Loaded, Record, Step};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission, WriteTransaction};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::PROBLEM_NUMBER_PREFIX;
use crate::entity::problem::{self, Model};
use crate::entity::{ProblemState, affected_item, fix_change};

const MAX_TEXT: usize = 20_000;

/// What can be done to a problem: one action per mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "ProblemAction", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ProblemAction {
    RecordRootCause,
    RecordWorkaround,
    MarkKnownError,
    LinkIncidents,
    UnlinkIncident,
    LinkFixChange,
    Resolve,
    Close,
}

impl ProblemAction {
    pub const ALL: [ProblemAction; 8] = [
        ProblemAction::RecordRootCause,
        ProblemAction::RecordWorkaround,
        ProblemAction::MarkKnownError,
        ProblemAction::LinkIncidents,
        ProblemAction::UnlinkIncident,
        ProblemAction::LinkFixChange,
        ProblemAction::Resolve,
        ProblemAction::Close,
    ];

    pub fn permission(self) -> Permission {
        match self {
            ProblemAction::Resolve => Permission::ResolveProblem,
            ProblemAction::Close => Permission::CloseProblem,
            _ => Permission::InvestigateProblem,
        }
    }
}

fn state_name(state: ProblemState) -> &'static str {
    match state {
        ProblemState::New => "NEW",
        ProblemState::UnderInvestigation => "UNDER_INVESTIGATION",
        ProblemState::KnownError => "KNOWN_ERROR",
        ProblemState::Resolved => "RESOLVED",
        ProblemState::Closed => "CLOSED",
    }
}

/// Whether `actor` may take `action` on `problem` now (closing from NEW or
/// UNDER_INVESTIGATION also needs a reason, and resolving a successful fix or a reason: the
/// operations check those).
pub fn check(action: ProblemAction, problem: &Model, actor: &Actor) -> DomainResult<()> {
    use ProblemState as S;
    actor.authorize(action.permission())?;
    let open = matches!(
        problem.state,
        S::New | S::UnderInvestigation | S::KnownError
    );
    let (ok, when) = match action {
        ProblemAction::RecordRootCause
        | ProblemAction::RecordWorkaround
        | ProblemAction::LinkIncidents
        | ProblemAction::UnlinkIncident
        | ProblemAction::LinkFixChange => (open, "before it is resolved"),
        ProblemAction::MarkKnownError => (
            matches!(problem.state, S::New | S::UnderInvestigation),
            "when NEW or UNDER_INVESTIGATION",
        ),
        ProblemAction::Resolve => (
            matches!(problem.state, S::UnderInvestigation | S::KnownError),
            "when UNDER_INVESTIGATION or KNOWN_ERROR",
        ),
        ProblemAction::Close => (
            matches!(problem.state, S::New | S::UnderInvestigation | S::Resolved),
            "when RESOLVED (or, with a reason, NEW or UNDER_INVESTIGATION)",
        ),
    };
    if !ok {
        return Err(DomainError::InvalidTransition {
            message: format!(
                "{} is {}; {action:?} is possible only {when}",
                problem.number,
                state_name(problem.state)
            ),
        });
    }
    if action == ProblemAction::MarkKnownError
        && problem.root_cause.is_none()
        && problem.workaround.is_none()
    {
        return Err(DomainError::InvalidTransition {
            message: format!(
                "{} has neither a root cause nor a workaround yet; record one first",
                problem.number
            ),
        });
    }
    Ok(())
}

/// Whether an action is open to the viewer, and why not.
#[derive(Debug, Clone)]
pub struct ProblemTransition {
    pub action: ProblemAction,
    pub allowed: bool,
    pub reason: Option<String>,
    pub code: Option<quorum_core::TransitionBlock>,
}

pub fn available_transitions(problem: &Model, actor: &Actor) -> Vec<ProblemTransition> {
    ProblemAction::ALL
        .into_iter()
        .map(|action| {
            let result = check(action, problem, actor);
            ProblemTransition {
                action,
                allowed: result.is_ok(),
                code: result
                    .as_ref()
                    .err()
                    .and_then(quorum_core::TransitionBlock::of),
                reason: result.err().map(|error| error.to_string()),
            }
        })
        .collect()
}

/// What `createProblem` takes.
#[derive(Debug, Clone, Default)]
pub struct NewProblem {
    pub title: String,
    pub description: Option<String>,
    pub incident_ids: Vec<String>,
    pub affected_item_ids: Vec<String>,
    /// What to do with an incident that already belongs to another problem.
    pub incidents_elsewhere: IncidentsElsewhere,
}

/// What linking does with an incident that belongs to another problem already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncidentsElsewhere {
    /// Refuse the link (CONFLICT naming the problem): an incident is not moved by accident.
    #[default]
    Refuse,
    /// Move it: the problem it leaves records the move too.
    Move,
}

/// Before `incident_ids` are linked to `problem` (by number, for messages): refuses incidents
/// that belong to another problem, or, when they may move, records on each problem they leave
/// that they left (one version on). Returns what moved, for the linking event's reason.
async fn take_incidents(
    txn: &WriteTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    problem: (&str, &str),
    incident_ids: &[String],
    elsewhere: IncidentsElsewhere,
) -> DomainResult<Option<String>> {
    let (problem_id, problem_number) = problem;
    let mut leaving: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for id in incident_ids {
        let incident = quorum_incident::find_incident(
            txn,
            actor,
            &quorum_incident::IncidentKey::Id(id.clone()),
        )
        .await?;
        if let Some(incident) = incident
            && let Some(other) = incident.problem_id
            && other != problem_id
        {
            leaving.entry(other).or_default().push(incident.number);
        }
    }
    if leaving.is_empty() {
        return Ok(None);
    }
    let mut moves = Vec::new();
    for (other_id, numbers) in leaving {
        let other = write::load_for_write::<Model>(txn, actor, &other_id, None).await?;
        let which = numbers.join(", ");
        if elsewhere == IncidentsElsewhere::Refuse {
            return Err(DomainError::conflict(format!(
                "{which} {} to {} already; link with `moveIncidents: true` to move {} to \
                 {problem_number}",
                if numbers.len() == 1 {
                    "belongs"
                } else {
                    "belong"
                },
                other.record.number,
                if numbers.len() == 1 { "it" } else { "them" },
            )));
        }
        let reason = format!("{which} moved to {problem_number}");
        // The problem's row does not change (what it lost are links on the incidents), and
        // the move is recorded all the same.
        let step = Step::new(EventAction::IncidentsMovedOut).with_reason(Some(reason));
        write::save(txn, actor, now, step, &other, other.clone()).await?;
        moves.push(format!("{which} moved from {}", other.record.number));
    }
    Ok(Some(moves.join("; ")))
}

impl Record for Model {
    type Entity = problem::Entity;
    type Extra = ();
    const KIND: EntityKind = EntityKind::Problem;

    quorum_core::versioned_row!(problem);

    async fn read_extra(_: &DatabaseTransaction, _: &str) -> DomainResult<()> {
        Ok(())
    }

    type Snapshot = crate::ProblemSnapshot;

    fn snapshot(&self, _: &()) -> crate::ProblemSnapshot {
        crate::ProblemSnapshot::of_row(self)
    }
}

async fn add_items(
    txn: &DatabaseTransaction,
    actor: &Actor,
    problem_id: &str,
    field: &str,
    ids: &[String],
) -> DomainResult<()> {
    let mut unique: Vec<String> = ids.iter().map(|id| id.trim().to_owned()).collect();
    unique.sort();
    unique.dedup();
    let found = quorum_cmdb::find_configuration_items(txn, actor, &unique).await?;
    if let Some(missing) = unique.iter().find(|id| !found.contains_key(*id)) {
        return Err(DomainError::bad_input(
            field,
            format!("no configuration item has id `{missing}`"),
        ));
    }
    if unique.is_empty() {
        return Ok(());
    }
    affected_item::Entity::insert_many(unique.iter().map(|ci_id| affected_item::ActiveModel {
        problem_id: sea_orm::Set(problem_id.to_owned()),
        ci_id: sea_orm::Set(ci_id.clone()),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Raises a problem (ENGINEER, CHANGE_MANAGER), linking its incidents and CIs.
pub async fn create_problem(cx: Context<'_>, input: NewProblem) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::CreateProblem)?;
    let title = required_text("input.title", input.title, 200)?;
    let description = optional_text("input.description", input.description, MAX_TEXT)?;
    let txn = quorum_core::begin_write(db).await?;
    let now = clock.now();
    let number = next_number(&txn, PROBLEM_NUMBER_PREFIX).await?;
    let model = Model {
        id: uuid::Uuid::now_v7().to_string(),
        number,
        title,
        description,
        state: ProblemState::New,
        root_cause: None,
        workaround: None,
        known_error_at: None,
        resolved_at: None,
        resolution_reason: None,
        closed_at: None,
        close_reason: None,
        created_by: actor.subject().to_owned(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let created = Loaded {
        record: model,
        extra: (),
    };
    write::insert(&txn, &created).await?;
    let model = &created.record;
    add_items(
        &txn,
        actor,
        &model.id,
        "input.affectedItemIds",
        &input.affected_item_ids,
    )
    .await?;
    let moved = take_incidents(
        &txn,
        actor,
        now,
        (&model.id, &model.number),
        &input.incident_ids,
        input.incidents_elsewhere,
    )
    .await?;
    quorum_incident::set_problem(
        &txn,
        actor,
        now,
        &input.incident_ids,
        Some(&model.id),
        "input.incidentIds",
    )
    .await?;
    write::record_creation(&txn, actor, now, moved, &created).await?;
    txn.commit().await?;
    Ok(created.record)
}

/// Runs one move on a problem: [`check`] it, then `apply` it.
async fn act(
    cx: Context<'_>,
    id: &str,
    version: i32,
    action: ProblemAction,
    step: Step,
    apply: impl AsyncFnOnce(&WriteTransaction, Model, DateTime<Utc>) -> DomainResult<Model>,
) -> DomainResult<Model> {
    write::act(
        cx,
        action.permission(),
        id,
        version,
        step,
        async |txn, current: &Loaded<Model>, now| {
            check(action, &current.record, cx.actor)?;
            apply(txn, current.record.clone(), now).await
        },
    )
    .await
}

/// NEW moves to UNDER_INVESTIGATION with any finding; with both a root cause and a workaround
/// the problem is a KNOWN_ERROR.
fn advance(problem: Model, now: DateTime<Utc>) -> Model {
    let state = match problem.state {
        ProblemState::New | ProblemState::UnderInvestigation
            if problem.root_cause.is_some() && problem.workaround.is_some() =>
        {
            ProblemState::KnownError
        }
        ProblemState::New => ProblemState::UnderInvestigation,
        other => other,
    };
    Model {
        known_error_at: if state == ProblemState::KnownError {
            problem.known_error_at.or(Some(now))
        } else {
            problem.known_error_at
        },
        state,
        ..problem
    }
}

pub async fn record_root_cause(
    cx: Context<'_>,
    id: &str,
    version: i32,
    root_cause: String,
) -> DomainResult<Model> {
    let root_cause = required_text("rootCause", root_cause, MAX_TEXT)?;
    act(
        cx,
        id,
        version,
        ProblemAction::RecordRootCause,
        Step::new(EventAction::RootCauseRecorded),
        async |_, current, now| {
            Ok(advance(
                Model {
                    root_cause: Some(root_cause),
                    ..current
                },
                now,
            ))
        },
    )
    .await
}

pub async fn record_workaround(
    cx: Context<'_>,
    id: &str,
    version: i32,
    workaround: String,
) -> DomainResult<Model> {
    let workaround = required_text("workaround", workaround, MAX_TEXT)?;
    act(
        cx,
        id,
        version,
        ProblemAction::RecordWorkaround,
        Step::new(EventAction::WorkaroundRecorded),
        async |_, current, now| {
            Ok(advance(
                Model {
                    workaround: Some(workaround),
                    ..current
                },
                now,
            ))
        },
    )
    .await
}

/// Marks a problem with a root cause or a workaround as a KNOWN_ERROR.
pub async fn mark_known_error(cx: Context<'_>, id: &str, version: i32) -> DomainResult<Model> {
    act(
        cx,
        id,
        version,
        ProblemAction::MarkKnownError,
        Step::new(EventAction::MarkedKnownError),
        async |_, current, now| {
            Ok(Model {
                state: ProblemState::KnownError,
                known_error_at: Some(now),
                ..current
            })
        },
    )
    .await
}

/// Links incidents to a problem. One that belongs to another problem is refused (CONFLICT
/// naming it) unless `elsewhere` says to move it; the problem it leaves records the move.
pub async fn link_incidents_to_problem(
    cx: Context<'_>,
    id: &str,
    version: i32,
    incident_ids: Vec<String>,
    elsewhere: IncidentsElsewhere,
) -> DomainResult<Model> {
    let Context { actor, .. } = cx;
    if incident_ids.is_empty() {
        return Err(DomainError::bad_input(
            "incidentIds",
            "name at least one incident",
        ));
    }
    let problem_id = id.to_owned();
    act(
        cx,
        id,
        version,
        ProblemAction::LinkIncidents,
        Step::new(EventAction::IncidentsLinked),
        async |txn, current, now| {
            take_incidents(
                txn,
                actor,
                now,
                (&problem_id, &current.number),
                &incident_ids,
                elsewhere,
            )
            .await?;
            quorum_incident::set_problem(
                txn,
                actor,
                now,
                &incident_ids,
                Some(&problem_id),
                "incidentIds",
            )
            .await?;
            Ok(advance(current, now))
        },
    )
    .await
}

pub async fn unlink_incident_from_problem(
    cx: Context<'_>,
    id: &str,
    version: i32,
    incident_id: String,
) -> DomainResult<Model> {
    let Context { actor, .. } = cx;
    let problem_id = id.to_owned();
    act(
        cx,
        id,
        version,
        ProblemAction::UnlinkIncident,
        Step::new(EventAction::IncidentUnlinked),
        async |txn, current, now| {
            let incident = quorum_incident::find_incident(
                txn,
                actor,
                &quorum_incident::IncidentKey::Id(incident_id.clone()),
            )
            .await?
            .filter(|incident| incident.problem_id.as_deref() == Some(problem_id.as_str()))
            .ok_or_else(|| {
                DomainError::bad_input(
                    "incidentId",
                    format!(
                        "incident `{incident_id}` is not linked to {}",
                        current.number
                    ),
                )
            })?;
            quorum_incident::set_problem(txn, actor, now, &[incident.id], None, "incidentId")
                .await?;
            Ok(current)
        },
    )
    .await
}

/// Links a change raised to fix the problem (not a rejected or cancelled one).
pub async fn link_fix_change(
    cx: Context<'_>,
    id: &str,
    version: i32,
    change_id: String,
) -> DomainResult<Model> {
    let Context { actor, .. } = cx;
    let problem_id = id.to_owned();
    act(
        cx,
        id,
        version,
        ProblemAction::LinkFixChange,
        Step::new(EventAction::FixChangeLinked),
        async |txn, current, now| {
            let change = quorum_change::find_change(
                txn,
                actor,
                &quorum_change::ChangeKey::Id(change_id.clone()),
            )
            .await?
            .ok_or_else(|| {
                DomainError::bad_input("changeId", format!("no change has id `{change_id}`"))
            })?;
            if matches!(change.state, ChangeState::Rejected | ChangeState::Cancelled) {
                return Err(DomainError::bad_input(
                    "changeId",
                    format!("{} was {:?}; it fixes nothing", change.number, change.state),
                ));
            }
            let exists = fix_change::Entity::find_by_id((problem_id.clone(), change.id.clone()))
                .one(txn)
                .await?;
            if exists.is_some() {
                return Err(DomainError::bad_input(
                    "changeId",
                    format!("{} is already linked", change.number),
                ));
            }
            fix_change::ActiveModel::from(fix_change::Model {
                problem_id: problem_id.clone(),
                change_id: change.id,
                linked_by: actor.subject().to_owned(),
                linked_at: now,
            })
            .reset_all()
            .insert(txn)
            .await?;
            Ok(advance(current, now))
        },
    )
    .await
}

/// Resolves a problem under investigation or a known error: a linked fix change must have
/// closed SUCCESSFUL or SUCCESSFUL_WITH_ISSUES, or a reason must say why none is needed.
pub async fn resolve_problem(
    cx: Context<'_>,
    id: &str,
    version: i32,
    reason: Option<String>,
) -> DomainResult<Model> {
    let Context { actor, .. } = cx;
    let reason = optional_text("reason", reason, MAX_TEXT)?;
    let problem_id = id.to_owned();
    let event_reason = reason.clone();
    act(cx, id, version, ProblemAction::Resolve, Step::new(EventAction::Resolved).with_reason(event_reason), async |txn, current, now| {
        let fixes = fix_changes_of(txn, actor, std::slice::from_ref(&problem_id)).await?;
        let ids = fixes.get(&problem_id).cloned().unwrap_or_default();
        let changes = quorum_change::find_changes(txn, actor, &ids).await?;
        let fixed = changes.values().any(|change| {
            change.state == ChangeState::Closed
                && matches!(change.outcome, Some(ChangeOutcome::Successful | ChangeOutcome::SuccessfulWithIssues))
        });
        if !fixed && reason.is_none() {
            return Err(DomainError::InvalidTransition {
                message: format!(
                    "{} has no linked fix change closed SUCCESSFUL or SUCCESSFUL_WITH_ISSUES; link one, or give a reason",
                    current.number
                ),
            });
        }
        Ok(Model {
            state: ProblemState::Resolved,
            resolved_at: Some(now),
            resolution_reason: if fixed { None } else { reason },
            ..current
        })
    })
    .await
}

/// Closes a RESOLVED problem, or one NEW or UNDER_INVESTIGATION with a reason (not
/// reproducible, duplicate).
pub async fn close_problem(
    cx: Context<'_>,
    id: &str,
    version: i32,
    reason: Option<String>,
) -> DomainResult<Model> {
    let reason = optional_text("reason", reason, MAX_TEXT)?;
    let event_reason = reason.clone();
    act(
        cx,
        id,
        version,
        ProblemAction::Close,
        Step::new(EventAction::Closed).with_reason(event_reason),
        async |_, current, now| {
            if current.state != ProblemState::Resolved && reason.is_none() {
                return Err(DomainError::bad_input(
                    "reason",
                    format!(
                        "{} is not resolved: say why it closes (e.g. not reproducible)",
                        current.number
                    ),
                ));
            }
            Ok(Model {
                state: ProblemState::Closed,
                closed_at: Some(now),
                close_reason: reason,
                ..current
            })
        },
    )
    .await
}

/// The fix change ids of each of `problem_ids`, in link order.
pub async fn fix_changes_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    problem_ids: &[String],
) -> DomainResult<HashMap<String, Vec<String>>> {
    actor.authorize(Permission::ReadProblems)?;
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for batch in quorum_core::ids::batches(db, problem_ids) {
        for row in fix_change::Entity::find()
            .filter(quorum_core::ids::one_of(
                db,
                fix_change::Column::ProblemId,
                batch,
            ))
            .order_by_asc(fix_change::Column::LinkedAt)
            .all(db)
            .await?
        {
            found.entry(row.problem_id).or_default().push(row.change_id);
        }
    }
    Ok(found)
}

/// The problems each of `change_ids` was raised to fix.
pub async fn problems_fixed_by<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change_ids: &[String],
) -> DomainResult<HashMap<String, Vec<Model>>> {
    actor.authorize(Permission::ReadProblems)?;
    let mut links: Vec<fix_change::Model> = Vec::new();
    for batch in quorum_core::ids::batches(db, change_ids) {
        links.extend(
            fix_change::Entity::find()
                .filter(quorum_core::ids::one_of(
                    db,
                    fix_change::Column::ChangeId,
                    batch,
                ))
                .all(db)
                .await?,
        );
    }
    let problem_ids: Vec<String> = links.iter().map(|link| link.problem_id.clone()).collect();
    let problems = crate::query::find_problems(db, actor, &problem_ids).await?;
    let mut found: HashMap<String, Vec<Model>> = HashMap::new();
    for link in links {
        if let Some(problem) = problems.get(&link.problem_id) {
            found
                .entry(link.change_id)
                .or_default()
                .push(problem.clone());
        }
    }
    for problems in found.values_mut() {
        problems.sort_by(|a, b| a.number.cmp(&b.number));
    }
    Ok(found)
}

/// The CI ids named on each problem itself.
pub async fn own_items_of<C: ConnectionTrait>(
    db: &C,
    problem_ids: &[String],
) -> DomainResult<HashMap<String, Vec<String>>> {
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for batch in quorum_core::ids::batches(db, problem_ids) {
        let rows: Vec<(String, String)> = affected_item::Entity::find()
            .select_only()
            .column(affected_item::Column::ProblemId)
            .column(affected_item::Column::CiId)
            .filter(quorum_core::ids::one_of(
                db,
                affected_item::Column::ProblemId,
                batch,
            ))
            .into_tuple()
            .all(db)
            .await?;
        for (problem_id, ci_id) in rows {
            found.entry(problem_id).or_default().push(ci_id);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
