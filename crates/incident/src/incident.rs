//! Incidents: log, edit, work, resolve, close, reopen, link. Each write runs in one
//! transaction: load (locked) and check the version, [`check`] the action, write the next
//! version, append the event.

use chrono::{DateTime, Utc};
use quorum_change::ChangeState;
use quorum_cmdb::ConfigurationItem;
use quorum_core::event::{self, EntityKind, EventAction, NewEvent};
use quorum_core::numbering::{self, next_number};
use quorum_core::text::{optional_text, required_text};
use quorum_core::write::{self, Loaded, Record, Step, encode_json};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission, WriteTransaction};
use sea_orm::sea_query::InsertStatement;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};

use crate::INCIDENT_NUMBER_PREFIX;
use crate::entity::incident::{self, Model};
use crate::entity::{IncidentState, Level, Priority, ResolutionCode, affected_item, sla_target};
use crate::lifecycle::{IncidentAction, check};
use crate::sla;
use crate::snapshot::SlaTargetSnapshot;

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 20_000;
/// Most CIs one incident may name.
pub const MAX_AFFECTED_ITEMS: usize = 100;

/// What `createIncident` takes.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub title: String,
    pub description: Option<String>,
    pub impact: Level,
    pub urgency: Level,
    pub affected_item_ids: Vec<String>,
    pub caller: Option<String>,
    pub assignment_group: Option<String>,
}

/// What `updateIncident` changes: `None` leaves a field; `Some(None)` clears an optional one;
/// `affected_item_ids` replaces the CIs.
#[derive(Debug, Clone, Default)]
pub struct IncidentEdits {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    pub caller: Option<Option<String>>,
    pub assignment_group: Option<Option<String>>,
    pub affected_item_ids: Option<Vec<String>>,
}

/// The SLA targets of `priority`, in minutes (response, resolution).
pub(crate) async fn targets<C: ConnectionTrait>(
    db: &C,
    priority: Priority,
) -> DomainResult<(i32, i32)> {
    let target = sla_target::Entity::find_by_id(priority)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Internal(format!("no SLA target for {priority:?}")))?;
    Ok((target.response_minutes, target.resolution_minutes))
}

/// A new incident's SLA targets for `priority` and its number: on PostgreSQL in one statement
/// (the number's sequence read beside the targets), on SQLite one each.
async fn targets_and_number(
    txn: &DatabaseTransaction,
    priority: Priority,
) -> DomainResult<(i32, i32, String)> {
    let Some(next) = numbering::next_value(txn.get_database_backend(), INCIDENT_NUMBER_PREFIX)?
    else {
        let (response, resolution) = targets(txn, priority).await?;
        let number = next_number(txn, INCIDENT_NUMBER_PREFIX).await?;
        return Ok((response, resolution, number));
    };
    let (response, resolution, value) = sla_target::Entity::find_by_id(priority)
        .select_only()
        .column(sla_target::Column::ResponseMinutes)
        .column(sla_target::Column::ResolutionMinutes)
        .column_as(next, "number")
        .into_tuple::<(i32, i32, i64)>()
        .one(txn)
        .await?
        .ok_or_else(|| DomainError::Internal(format!("no SLA target for {priority:?}")))?;
    let number = numbering::format_number(INCIDENT_NUMBER_PREFIX, value);
    Ok((response, resolution, number))
}

/// Deduplicated live CIs (not retired), read locked in the caller's transaction, or
/// BAD_USER_INPUT on `field`.
async fn items<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    field: &str,
    ids: &[String],
) -> DomainResult<Vec<ConfigurationItem>> {
    let mut unique: Vec<&str> = ids.iter().map(|id| id.trim()).collect();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() > MAX_AFFECTED_ITEMS {
        return Err(DomainError::bad_input(
            field,
            format!("an incident names at most {MAX_AFFECTED_ITEMS} CIs"),
        ));
    }
    quorum_cmdb::live_configuration_items(db, actor, field, "an incident", ids).await
}

/// The incidents not yet resolved (NEW, IN_PROGRESS, ON_HOLD) that name CI `ci_id`, by number.
pub async fn open_incidents_on<C: ConnectionTrait>(
    db: &C,
    ci_id: &str,
) -> DomainResult<Vec<String>> {
    let mut hitting = sea_orm::sea_query::Query::select();
    hitting
        .column(affected_item::Column::IncidentId)
        .from(affected_item::Entity)
        .and_where(affected_item::Column::CiId.eq(ci_id));
    Ok(incident::Entity::find()
        .select_only()
        .column(incident::Column::Number)
        .filter(incident::Column::Id.in_subquery(hitting))
        .filter(incident::Column::State.is_in([
            IncidentState::New,
            IncidentState::InProgress,
            IncidentState::OnHold,
        ]))
        .order_by_asc(incident::Column::Number)
        .into_tuple()
        .all(db)
        .await?)
}

/// Retires a CI (CHANGE_MANAGER) unless changes in flight or open incidents still name it:
/// INVALID_TRANSITION listing them.
pub async fn retire_configuration_item(
    cx: Context<'_>,
    id: &str,
    version: i32,
) -> DomainResult<ConfigurationItem> {
    quorum_cmdb::retire_configuration_item(cx, id, version, async |txn, ci| {
        let mut holding = quorum_change::changes_holding(txn, &ci.id).await?;
        holding.extend(open_incidents_on(txn, &ci.id).await?);
        Ok(holding)
    })
    .await
}

/// The CI ids of an incident, in id order.
pub async fn affected_item_ids<C: ConnectionTrait>(
    db: &C,
    incident_id: &str,
) -> DomainResult<Vec<String>> {
    Ok(affected_item::Entity::find()
        .select_only()
        .column(affected_item::Column::CiId)
        .filter(affected_item::Column::IncidentId.eq(incident_id))
        .order_by_asc(affected_item::Column::CiId)
        .into_tuple()
        .all(db)
        .await?)
}

async fn replace_items(
    txn: &DatabaseTransaction,
    incident_id: &str,
    ids: &[String],
) -> DomainResult<()> {
    affected_item::Entity::delete_many()
        .filter(affected_item::Column::IncidentId.eq(incident_id))
        .exec(txn)
        .await?;
    insert_items(txn, incident_id, ids).await
}

/// Links `ids` to an incident that has none yet.
async fn insert_items(
    txn: &DatabaseTransaction,
    incident_id: &str,
    ids: &[String],
) -> DomainResult<()> {
    if let Some(links) = item_links(incident_id, ids) {
        txn.execute(&links).await?;
    }
    Ok(())
}

/// The statement that links `ids` to incident `incident_id`; none for no CIs.
fn item_links(incident_id: &str, ids: &[String]) -> Option<InsertStatement> {
    if ids.is_empty() {
        return None;
    }
    Some(
        affected_item::Entity::insert_many(ids.iter().map(|ci_id| affected_item::ActiveModel {
            incident_id: sea_orm::Set(incident_id.to_owned()),
            ci_id: sea_orm::Set(ci_id.clone()),
        }))
        .into_query(),
    )
}

impl Record for Model {
    type Entity = incident::Entity;
    /// The ids of the CIs the incident names, sorted.
    type Extra = Vec<String>;
    const KIND: EntityKind = EntityKind::Incident;

    quorum_core::versioned_row!(incident);

    async fn read_extra(txn: &DatabaseTransaction, id: &str) -> DomainResult<Vec<String>> {
        affected_item_ids(txn, id).await
    }

    type Snapshot = crate::IncidentSnapshot;

    fn snapshot(&self, items: &Vec<String>) -> crate::IncidentSnapshot {
        crate::IncidentSnapshot::of_row(self, items.clone())
    }
}

/// Logs an incident (any role but CAB_MEMBER): NEW, its priority from the matrix, its SLA due
/// times from the targets of that priority.
pub async fn create_incident(cx: Context<'_>, input: NewIncident) -> DomainResult<Model> {
    create_incident_with_items(cx, input)
        .await
        .map(|(incident, _)| incident)
}

/// [`create_incident`], answered with the CIs it linked, by number: as the write checked them,
/// each read (locked) in its transaction, so the answer needs no second read.
#[tracing::instrument(skip_all)]
pub async fn create_incident_with_items(
    cx: Context<'_>,
    input: NewIncident,
) -> DomainResult<(Model, Vec<ConfigurationItem>)> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::CreateIncident)?;
    let title = required_text("input.title", input.title, MAX_TITLE)?;
    let description = optional_text("input.description", input.description, MAX_TEXT)?;
    let caller = optional_text("input.caller", input.caller, MAX_TITLE)?;
    let assignment_group =
        optional_text("input.assignmentGroup", input.assignment_group, MAX_TITLE)?;
    let txn = quorum_core::begin_write(db).await?;
    let mut cis = items(
        &txn,
        actor,
        "input.affectedItemIds",
        &input.affected_item_ids,
    )
    .await?;
    let priority = Priority::of(input.impact, input.urgency);
    let (response, resolution, number) = targets_and_number(&txn, priority).await?;
    let now = clock.now();
    let model = sla::retarget(
        Model {
            id: uuid::Uuid::now_v7().to_string(),
            number,
            title,
            description,
            impact: input.impact,
            urgency: input.urgency,
            priority,
            state: IncidentState::New,
            caller,
            assignment_group,
            assignee: None,
            caused_by_change_id: None,
            problem_id: None,
            major_incident: false,
            resolution_code: None,
            resolution_notes: None,
            reopen_count: 0,
            hold_reason: None,
            opened_by: actor.subject().to_owned(),
            opened_at: now,
            responded_at: None,
            response_target_minutes: 0,
            resolution_target_minutes: 0,
            response_due: now,
            resolution_due: now,
            on_hold_since: None,
            paused_seconds: 0,
            resolved_at: None,
            closed_at: None,
            version: 1,
            updated_at: now,
        },
        response,
        resolution,
    );
    let created = Loaded {
        record: model,
        extra: cis.iter().map(|item| item.id.clone()).collect(),
    };
    let links = item_links(&created.record.id, &created.extra);
    write::create_linked(&txn, actor, now, None, &created, links).await?;
    txn.commit().await?;
    cis.sort_by(|a, b| a.number.cmp(&b.number));
    Ok((created.record, cis))
}

/// Runs one move: [`check`] it, then `apply` it.
async fn act(
    cx: Context<'_>,
    id: &str,
    version: i32,
    action: IncidentAction,
    step: Step,
    apply: impl FnOnce(Model, DateTime<Utc>) -> DomainResult<Model>,
) -> DomainResult<Model> {
    write::act(
        cx,
        action.permission(),
        id,
        version,
        step,
        async |_, current: &Loaded<Model>, now| {
            check(action, &current.record, cx.actor)?;
            apply(current.record.clone(), now)
        },
    )
    .await
}

/// The first response: the first assignment or acknowledgement, moving NEW to IN_PROGRESS.
fn respond(incident: Model, now: DateTime<Utc>) -> Model {
    Model {
        responded_at: incident.responded_at.or(Some(now)),
        state: if incident.state == IncidentState::New {
            IncidentState::InProgress
        } else {
            incident.state
        },
        ..incident
    }
}

/// Edits an open incident. A new impact or urgency recomputes the priority and the due
/// times (elapsed and paused time are kept).
#[tracing::instrument(skip(cx, edits))]
pub async fn update_incident(
    cx: Context<'_>,
    id: &str,
    version: i32,
    edits: IncidentEdits,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::UpdateIncident)?;
    let title = edits
        .title
        .map(|title| required_text("input.title", title, MAX_TITLE))
        .transpose()?;
    let description = edits
        .description
        .map(|text| optional_text("input.description", text, MAX_TEXT))
        .transpose()?;
    let caller = edits
        .caller
        .map(|text| optional_text("input.caller", text, MAX_TITLE))
        .transpose()?;
    let group = edits
        .assignment_group
        .map(|text| optional_text("input.assignmentGroup", text, MAX_TITLE))
        .transpose()?;
    let txn = quorum_core::begin_write(db).await?;
    let loaded = write::load_for_write::<Model>(&txn, actor, id, Some(version)).await?;
    let current = &loaded.record;
    check(IncidentAction::Update, current, actor)?;
    let before_items = &loaded.extra;
    let after_items = match &edits.affected_item_ids {
        Some(ids) => {
            let mut ids: Vec<String> = items(&txn, actor, "input.affectedItemIds", ids)
                .await?
                .into_iter()
                .map(|item| item.id)
                .collect();
            ids.sort();
            ids
        }
        None => before_items.clone(),
    };
    let impact = edits.impact.unwrap_or(current.impact);
    let urgency = edits.urgency.unwrap_or(current.urgency);
    let priority = Priority::of(impact, urgency);
    let mut updated = Model {
        title: title.unwrap_or_else(|| current.title.clone()),
        description: description.unwrap_or_else(|| current.description.clone()),
        caller: caller.unwrap_or_else(|| current.caller.clone()),
        assignment_group: group.unwrap_or_else(|| current.assignment_group.clone()),
        impact,
        urgency,
        priority,
        ..current.clone()
    };
    if priority != current.priority {
        let (response, resolution) = targets(&txn, priority).await?;
        updated = sla::retarget(updated, response, resolution);
    }
    if after_items != *before_items {
        replace_items(&txn, id, &after_items).await?;
    }
    let reason = (priority != current.priority)
        .then(|| format!("priority {:?} → {:?}", current.priority, priority));
    let updated = Loaded {
        record: updated,
        extra: after_items,
    };
    let step = Step::edit().with_reason(reason);
    let updated = write::save(&txn, actor, clock.now(), step, &loaded, updated).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Assigns an open incident to `assignee` (and optionally a group); the first assignment is
/// the response.
pub async fn assign_incident(
    cx: Context<'_>,
    id: &str,
    version: i32,
    assignee: String,
    assignment_group: Option<String>,
) -> DomainResult<Model> {
    let assignee = required_text("assignee", assignee, MAX_TITLE)?;
    let group = optional_text("assignmentGroup", assignment_group, MAX_TITLE)?;
    act(
        cx,
        id,
        version,
        IncidentAction::Assign,
        Step::new(EventAction::Assigned),
        |current, now| {
            let group = group.or_else(|| current.assignment_group.clone());
            Ok(respond(
                Model {
                    assignee: Some(assignee),
                    assignment_group: group,
                    ..current
                },
                now,
            ))
        },
    )
    .await
}

/// Acknowledges a NEW incident: the response; the caller becomes the assignee when there is
/// none.
pub async fn acknowledge_incident(cx: Context<'_>, id: &str, version: i32) -> DomainResult<Model> {
    let Context { actor, .. } = cx;
    act(
        cx,
        id,
        version,
        IncidentAction::Acknowledge,
        Step::new(EventAction::Acknowledged),
        |current, now| {
            let assignee = current
                .assignee
                .clone()
                .or_else(|| Some(actor.subject().to_owned()));
            Ok(respond(
                Model {
                    assignee,
                    ..current
                },
                now,
            ))
        },
    )
    .await
}

/// Puts an incident IN_PROGRESS on hold, with a reason: the resolution clock stops.
pub async fn put_incident_on_hold(
    cx: Context<'_>,
    id: &str,
    version: i32,
    reason: String,
) -> DomainResult<Model> {
    let reason = required_text("reason", reason, MAX_TEXT)?;
    let hold_reason = reason.clone();
    act(
        cx,
        id,
        version,
        IncidentAction::PutOnHold,
        Step::new(EventAction::PutOnHold).with_reason(Some(reason)),
        |current, now| {
            Ok(sla::pause(
                Model {
                    state: IncidentState::OnHold,
                    hold_reason: Some(hold_reason),
                    ..current
                },
                now,
            ))
        },
    )
    .await
}

/// Resumes an incident ON_HOLD: the resolution clock runs again, its due time later by the
/// hold.
pub async fn resume_incident(cx: Context<'_>, id: &str, version: i32) -> DomainResult<Model> {
    act(
        cx,
        id,
        version,
        IncidentAction::Resume,
        Step::new(EventAction::Resumed),
        |current, now| {
            let since = current.on_hold_since.unwrap_or(now);
            Ok(sla::end_pause(
                Model {
                    state: IncidentState::InProgress,
                    hold_reason: None,
                    ..current
                },
                since,
                now,
            ))
        },
    )
    .await
}

/// Resolves an open incident with a code and notes.
pub async fn resolve_incident(
    cx: Context<'_>,
    id: &str,
    version: i32,
    code: ResolutionCode,
    notes: String,
) -> DomainResult<Model> {
    let notes = required_text("notes", notes, MAX_TEXT)?;
    act(
        cx,
        id,
        version,
        IncidentAction::Resolve,
        Step::new(EventAction::Resolved),
        |current, now| {
            let current = match current.on_hold_since {
                Some(since) => sla::end_pause(current, since, now),
                None => current,
            };
            Ok(Model {
                state: IncidentState::Resolved,
                resolution_code: Some(code),
                resolution_notes: Some(notes),
                resolved_at: Some(now),
                responded_at: current.responded_at.or(Some(now)),
                hold_reason: None,
                ..current
            })
        },
    )
    .await
}

/// Closes a RESOLVED incident.
pub async fn close_incident(cx: Context<'_>, id: &str, version: i32) -> DomainResult<Model> {
    act(
        cx,
        id,
        version,
        IncidentAction::Close,
        Step::new(EventAction::Closed),
        |current, now| {
            Ok(Model {
                state: IncidentState::Closed,
                closed_at: Some(now),
                ..current
            })
        },
    )
    .await
}

/// Reopens a RESOLVED incident (counted): IN_PROGRESS again; the time it sat resolved does
/// not count against its resolution target.
pub async fn reopen_incident(
    cx: Context<'_>,
    id: &str,
    version: i32,
    reason: String,
) -> DomainResult<Model> {
    let reason = required_text("reason", reason, MAX_TEXT)?;
    act(
        cx,
        id,
        version,
        IncidentAction::Reopen,
        Step::new(EventAction::Reopened).with_reason(Some(reason)),
        |current, now| {
            let since = current.resolved_at.unwrap_or(now);
            let reopened = Model {
                state: IncidentState::InProgress,
                reopen_count: current.reopen_count + 1,
                resolved_at: None,
                resolution_code: None,
                resolution_notes: None,
                ..current
            };
            Ok(sla::end_pause(reopened, since, now))
        },
    )
    .await
}

/// Names (or, with `None`, clears) the change that caused an incident (ENGINEER,
/// CHANGE_MANAGER). The change must have started implementing.
pub async fn set_incident_cause(
    cx: Context<'_>,
    id: &str,
    version: i32,
    change_id: Option<String>,
) -> DomainResult<Model> {
    let Context { db, actor, .. } = cx;
    actor.authorize(Permission::LinkIncidentToChange)?;
    if let Some(change_id) = &change_id {
        let change =
            quorum_change::find_change(db, actor, &quorum_change::ChangeKey::Id(change_id.clone()))
                .await?
                .ok_or_else(|| {
                    DomainError::bad_input("changeId", format!("no change has id `{change_id}`"))
                })?;
        let started = matches!(
            change.state,
            ChangeState::Implementing | ChangeState::Review | ChangeState::Closed
        ) && change.actual_start.is_some();
        if !started {
            return Err(DomainError::bad_input(
                "changeId",
                format!(
                    "{} has not started implementing, so it cannot have caused an incident",
                    change.number
                ),
            ));
        }
    }
    act(
        cx,
        id,
        version,
        IncidentAction::SetCause,
        Step::new(EventAction::CauseSet),
        |current, _| {
            Ok(Model {
                caused_by_change_id: change_id,
                ..current
            })
        },
    )
    .await
}

/// Raises an open incident to a major incident (ENGINEER, CHANGE_MANAGER, SERVICE_HEAD).
pub async fn raise_major_incident(
    cx: Context<'_>,
    id: &str,
    version: i32,
    reason: Option<String>,
) -> DomainResult<Model> {
    let reason = optional_text("reason", reason, MAX_TEXT)?;
    act(
        cx,
        id,
        version,
        IncidentAction::RaiseMajor,
        Step::new(EventAction::RaisedMajor).with_reason(reason),
        |current, _| {
            Ok(Model {
                major_incident: true,
                ..current
            })
        },
    )
    .await
}

/// Lowers a major incident (SERVICE_HEAD), with a reason.
pub async fn lower_major_incident(
    cx: Context<'_>,
    id: &str,
    version: i32,
    reason: String,
) -> DomainResult<Model> {
    let reason = required_text("reason", reason, MAX_TEXT)?;
    act(
        cx,
        id,
        version,
        IncidentAction::LowerMajor,
        Step::new(EventAction::LoweredMajor).with_reason(Some(reason)),
        |current, _| {
            Ok(Model {
                major_incident: false,
                ..current
            })
        },
    )
    .await
}

/// Links incidents to a problem (or unlinks with `None`) inside the problem's transaction; the
/// problem crate calls it. Each incident gets a version and an event.
pub async fn set_problem(
    txn: &WriteTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    incident_ids: &[String],
    problem_id: Option<&str>,
    field: &str,
) -> DomainResult<Vec<Model>> {
    let mut changed = Vec::with_capacity(incident_ids.len());
    for id in incident_ids {
        let current = write::load_row_for_write::<Model>(txn, actor, id, None)
            .await
            .map_err(|error| match error {
                DomainError::NotFound { .. } => {
                    DomainError::bad_input(field, format!("no incident has id `{id}`"))
                }
                other => other,
            })?;
        if current.problem_id.as_deref() == problem_id {
            continue;
        }
        let current = write::with_extra(txn, current).await?;
        let updated = Loaded {
            record: Model {
                problem_id: problem_id.map(str::to_owned),
                ..current.record.clone()
            },
            extra: current.extra.clone(),
        };
        let action = if problem_id.is_some() {
            EventAction::LinkedToProblem
        } else {
            EventAction::UnlinkedFromProblem
        };
        changed.push(write::save(txn, actor, now, Step::new(action), &current, updated).await?);
    }
    Ok(changed)
}

/// The SLA targets, P1 first.
pub async fn sla_targets<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> DomainResult<Vec<sla_target::Model>> {
    actor.authorize(Permission::ReadIncidents)?;
    Ok(sla_target::Entity::find()
        .order_by_asc(sla_target::Column::Priority)
        .all(db)
        .await?)
}

/// New targets for one priority.
#[derive(Debug, Clone)]
pub struct SlaTargetInput {
    pub priority: Priority,
    pub response_minutes: i32,
    pub resolution_minutes: i32,
}

/// Sets SLA targets (SERVICE_HEAD). Incidents already open keep the targets they were opened
/// (or last re-prioritized) with.
pub async fn update_sla_targets(
    cx: Context<'_>,
    targets: Vec<SlaTargetInput>,
) -> DomainResult<Vec<sla_target::Model>> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::UpdateSlaTargets)?;
    if targets.is_empty() {
        return Err(DomainError::bad_input(
            "targets",
            "give at least one target",
        ));
    }
    for (index, target) in targets.iter().enumerate() {
        let field = format!("targets.{index}");
        if !(1..=60 * 24 * 365).contains(&target.response_minutes) {
            return Err(DomainError::bad_input(
                format!("{field}.responseMinutes"),
                "must be 1 minute to a year",
            ));
        }
        if !(target.response_minutes..=60 * 24 * 365).contains(&target.resolution_minutes) {
            return Err(DomainError::bad_input(
                format!("{field}.resolutionMinutes"),
                "must be at least the response target and at most a year",
            ));
        }
        if targets[..index]
            .iter()
            .any(|other| other.priority == target.priority)
        {
            return Err(DomainError::bad_input(
                format!("{field}.priority"),
                "each priority at most once",
            ));
        }
    }
    let txn = quorum_core::begin_write(db).await?;
    let now = clock.now();
    for target in targets {
        // Locked (PostgreSQL; SQLite holds the write lock from BEGIN), so the event's `before`
        // is the row this write replaces even when two heads save at once.
        let current = sla_target::Entity::find_by_id(target.priority)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| {
                DomainError::Internal(format!("no SLA target for {:?}", target.priority))
            })?;
        let updated = sla_target::Model {
            response_minutes: target.response_minutes,
            resolution_minutes: target.resolution_minutes,
            version: current.version + 1,
            updated_by: Some(actor.subject().to_owned()),
            updated_at: Some(now),
            ..current.clone()
        };
        if current.response_minutes == updated.response_minutes
            && current.resolution_minutes == updated.resolution_minutes
        {
            continue;
        }
        sla_target::Entity::update(sla_target::ActiveModel::from(updated.clone()).reset_all())
            .exec(&txn)
            .await?;
        event::append(
            &txn,
            actor,
            now,
            NewEvent {
                entity_kind: EntityKind::SlaTarget.as_str(),
                entity_id: format!("{:?}", updated.priority),
                action: EventAction::Updated,
                reason: None,
                before: Some(encode_json(&SlaTargetSnapshot::of_row(&current))?),
                after: Some(encode_json(&SlaTargetSnapshot::of_row(&updated))?),
            },
        )
        .await?;
    }
    let all = sla_target::Entity::find()
        .order_by_asc(sla_target::Column::Priority)
        .all(&txn)
        .await?;
    check_targets_tighten(&all)?;
    txn.commit().await?;
    Ok(all)
}

/// SLA targets, P1 first, must tighten towards P1: a more urgent priority never gets longer to
/// respond or to resolve than a less urgent one (checked on the targets as they would be,
/// given and kept alike; the offending priority is named).
fn check_targets_tighten(targets: &[sla_target::Model]) -> DomainResult<()> {
    for pair in targets.windows(2) {
        let (urgent, next) = (&pair[0], &pair[1]);
        for (what, field, urgent_minutes, next_minutes) in [
            (
                "respond",
                "responseMinutes",
                urgent.response_minutes,
                next.response_minutes,
            ),
            (
                "resolve",
                "resolutionMinutes",
                urgent.resolution_minutes,
                next.resolution_minutes,
            ),
        ] {
            if urgent_minutes > next_minutes {
                return Err(DomainError::bad_input(
                    format!("targets.{field}"),
                    format!(
                        "{:?} would get {urgent_minutes} minutes to {what}, longer than {:?}'s \
                         {next_minutes}: targets tighten from P5 to P1",
                        urgent.priority, next.priority
                    ),
                ));
            }
        }
    }
    Ok(())
}
