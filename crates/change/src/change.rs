//! Change requests: create, edit, and every move of the life cycle. Each write runs in one
//! transaction: load (locked) and check the version, [`check`] the action, write the next
//! version, append the event.

use chrono::{DateTime, Utc};
use quorum_cmdb::ConfigurationItem;
use quorum_core::event::EntityKind;
use quorum_core::event::EventAction;
use quorum_core::numbering::next_number;
use quorum_core::write::{self, Loaded, Record, Step};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission, WriteTransaction};
use sea_orm::sea_query::InsertStatement;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use crate::entity::change_request::{self, Model};
use crate::entity::{ChangeOutcome, ChangeState, ChangeType, affected_item, template};
use crate::lifecycle::{ChangeAction, Facts, check, check_with, name_of};
use crate::risk::{RiskAssessment, RiskQuestionnaire};
use crate::{CHANGE_NUMBER_PREFIX, policy};

/// Longest title.
const MAX_TITLE: usize = 200;
/// Longest free text (plans, notes, reasons).
const MAX_TEXT: usize = 20_000;
/// Most CIs one change may touch.
pub const MAX_AFFECTED_ITEMS: usize = 200;

/// What `createChange` takes.
#[derive(Debug, Clone, Default)]
pub struct NewChange {
    pub change_type: Option<ChangeType>,
    pub title: String,
    pub description: Option<String>,
    pub justification: Option<String>,
    pub implementation_plan: Option<String>,
    pub backout_plan: Option<String>,
    pub test_plan: Option<String>,
    pub affected_item_ids: Vec<String>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    pub assignee: Option<String>,
}

/// What `updateChange` changes: `None` leaves a field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ChangeEdits {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub justification: Option<Option<String>>,
    pub implementation_plan: Option<Option<String>>,
    pub backout_plan: Option<Option<String>>,
    pub test_plan: Option<Option<String>>,
    pub planned_start: Option<Option<DateTime<Utc>>>,
    pub planned_end: Option<Option<DateTime<Utc>>>,
    pub assignee: Option<Option<String>>,
}

/// `createChangeFromTemplate`: what the template does not say.
#[derive(Debug, Clone, Default)]
pub struct NewStandardChange {
    pub template_id: String,
    /// The template's name when not given.
    pub title: Option<String>,
    pub description: Option<String>,
    pub affected_item_ids: Vec<String>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    pub assignee: Option<String>,
}

pub(crate) use quorum_core::text::{optional_text, required_text};

fn check_window(
    field: &str,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> DomainResult<()> {
    match (start, end) {
        (Some(start), Some(end)) if end <= start => Err(DomainError::bad_input(
            field,
            "the planned end must be after the planned start",
        )),
        (Some(_), None) | (None, Some(_)) => Err(DomainError::bad_input(
            field,
            "give both the planned start and the planned end, or neither",
        )),
        _ => Ok(()),
    }
}

/// How far in the past a planned start may lie (a form filled in a minute ago).
const START_GRACE: chrono::Duration = chrono::Duration::minutes(5);

/// A window being planned for a change of `change_type` at `now`: no longer than the policy
/// allows, and, but for an EMERGENCY change (which may be recorded after the fact), not
/// starting in the past. `fields` name the start and the end in the input.
pub(crate) fn check_planned_window(
    fields: (&str, &str),
    change_type: ChangeType,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &crate::ChangePolicy,
) -> DomainResult<()> {
    let (start_field, end_field) = fields;
    if end <= start {
        return Err(DomainError::bad_input(
            end_field,
            "the planned end must be after the planned start",
        ));
    }
    let longest = chrono::Duration::hours(i64::from(policy.max_window_hours));
    if end - start > longest {
        return Err(DomainError::bad_input(
            end_field,
            format!(
                "a change window may last at most {} hours (the policy's maxWindowHours); \
                 split the work into several changes",
                policy.max_window_hours
            ),
        ));
    }
    if change_type != ChangeType::Emergency && start < now - START_GRACE {
        return Err(DomainError::bad_input(
            start_field,
            "the window starts in the past; only an EMERGENCY change may be planned after the fact",
        ));
    }
    Ok(())
}

/// Deduplicated live CIs (see [`quorum_cmdb::live_configuration_items`]), read locked in the
/// caller's transaction, or BAD_USER_INPUT on `field`.
pub(crate) async fn live_items<C: ConnectionTrait>(
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
            format!("a change touches at most {MAX_AFFECTED_ITEMS} CIs"),
        ));
    }
    quorum_cmdb::live_configuration_items(db, actor, field, "a change", ids).await
}

/// The changes still in the making or in flight (neither closed, rejected nor cancelled) that
/// touch CI `ci_id`, by number: they hold the CI in service.
pub async fn changes_holding<C: ConnectionTrait>(db: &C, ci_id: &str) -> DomainResult<Vec<String>> {
    let mut touching = sea_orm::sea_query::Query::select();
    touching
        .column(affected_item::Column::ChangeId)
        .from(affected_item::Entity)
        .and_where(affected_item::Column::CiId.eq(ci_id));
    Ok(change_request::Entity::find()
        .select_only()
        .column(change_request::Column::Number)
        .filter(change_request::Column::Id.in_subquery(touching))
        .filter(change_request::Column::State.is_not_in([
            ChangeState::Closed,
            ChangeState::Rejected,
            ChangeState::Cancelled,
        ]))
        .order_by_asc(change_request::Column::Number)
        .into_tuple()
        .all(db)
        .await?)
}

/// The ids of the CIs a change touches, in id order.
pub async fn affected_item_ids<C: ConnectionTrait>(
    db: &C,
    change_id: &str,
) -> DomainResult<Vec<String>> {
    Ok(affected_item::Entity::find()
        .select_only()
        .column(affected_item::Column::CiId)
        .filter(affected_item::Column::ChangeId.eq(change_id))
        .order_by_asc(affected_item::Column::CiId)
        .into_tuple()
        .all(db)
        .await?)
}

async fn insert_items(
    txn: &DatabaseTransaction,
    change_id: &str,
    items: &[ConfigurationItem],
) -> DomainResult<()> {
    if let Some(links) = item_links(change_id, items) {
        txn.execute(&links).await?;
    }
    Ok(())
}

/// The statement that links `items` to change `change_id`; none for no CIs.
fn item_links(change_id: &str, items: &[ConfigurationItem]) -> Option<InsertStatement> {
    if items.is_empty() {
        return None;
    }
    Some(
        affected_item::Entity::insert_many(items.iter().map(|item| affected_item::ActiveModel {
            change_id: sea_orm::Set(change_id.to_owned()),
            ci_id: sea_orm::Set(item.id.clone()),
        }))
        .into_query(),
    )
}

impl Record for Model {
    type Entity = change_request::Entity;
    /// The ids of the CIs the change touches, sorted.
    type Extra = Vec<String>;
    const KIND: EntityKind = EntityKind::Change;

    quorum_core::versioned_row!(change_request);

    fn visible_to(&self, actor: &Actor) -> bool {
        visible(actor, self)
    }

    async fn read_extra(txn: &DatabaseTransaction, id: &str) -> DomainResult<Vec<String>> {
        affected_item_ids(txn, id).await
    }

    type Snapshot = crate::ChangeSnapshot;

    fn snapshot(&self, items: &Vec<String>) -> crate::ChangeSnapshot {
        crate::ChangeSnapshot::of_row(self, items.clone())
    }
}

/// Whether `actor` may see `change`: drafts are hidden from those who may not read them.
pub(crate) fn visible(actor: &Actor, change: &Model) -> bool {
    change.state != ChangeState::Draft || actor.can(Permission::ReadDraftChanges)
}

/// Runs one life-cycle move: [`check`] it under the current policy, then `apply` it.
async fn act(
    cx: Context<'_>,
    id: &str,
    version: i32,
    action: ChangeAction,
    step: Step,
    apply: impl FnOnce(&Model, &crate::ChangePolicy, DateTime<Utc>) -> DomainResult<Model>,
) -> DomainResult<Model> {
    write::act(
        cx,
        action.permission(),
        id,
        version,
        step,
        async |txn, current: &Loaded<Model>, now| {
            let policy = policy::current(txn).await?;
            check(action, &current.record, cx.actor, &policy)?;
            apply(&current.record, &policy, now)
        },
    )
    .await
}

async fn insert_change(
    txn: &WriteTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    model: Model,
    items: &[ConfigurationItem],
) -> DomainResult<Model> {
    let mut ids: Vec<String> = items.iter().map(|item| item.id.clone()).collect();
    ids.sort();
    let created = Loaded {
        record: model,
        extra: ids,
    };
    let links = item_links(&created.record.id, items);
    write::create_linked(txn, actor, now, None, &created, links).await?;
    Ok(created.record)
}

/// A new draft's row, as `requested_by` creates it at `now`: nothing planned, assessed or
/// decided yet. Creation and the bulk seed start from it and set what they know.
pub fn draft_row(
    number: String,
    change_type: ChangeType,
    title: String,
    requested_by: &str,
    now: DateTime<Utc>,
) -> Model {
    Model {
        id: uuid::Uuid::now_v7().to_string(),
        number,
        change_type,
        state: ChangeState::Draft,
        title,
        description: None,
        justification: None,
        implementation_plan: None,
        backout_plan: None,
        test_plan: None,
        requested_by: requested_by.to_owned(),
        assignee: None,
        template_id: None,
        planned_start: None,
        planned_end: None,
        actual_start: None,
        actual_end: None,
        started_outside_window: false,
        outcome: None,
        completion_notes: None,
        review: None,
        risk: None,
        risk_score: None,
        risk_level: None,
        schedule_override_reason: None,
        submitted_at: None,
        referred_at: None,
        decided_at: None,
        completed_at: None,
        closed_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Raises a NORMAL or EMERGENCY change in DRAFT (ENGINEER, CHANGE_MANAGER).
#[tracing::instrument(skip_all)]
pub async fn create_change(cx: Context<'_>, input: NewChange) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::CreateChange)?;
    let change_type = input.change_type.unwrap_or(ChangeType::Normal);
    if change_type == ChangeType::Standard {
        return Err(DomainError::bad_input(
            "input.type",
            "STANDARD changes are raised from a template with `createChangeFromTemplate`",
        ));
    }
    let title = required_text("input.title", input.title, MAX_TITLE)?;
    check_window("input.plannedEnd", input.planned_start, input.planned_end)?;
    let txn = quorum_core::begin_write(db).await?;
    let items = live_items(
        &txn,
        actor,
        "input.affectedItemIds",
        &input.affected_item_ids,
    )
    .await?;
    let now = clock.now();
    check_new_window(
        &txn,
        change_type,
        input.planned_start,
        input.planned_end,
        now,
    )
    .await?;
    let number = next_number(&txn, CHANGE_NUMBER_PREFIX).await?;
    let model = Model {
        description: optional_text("input.description", input.description, MAX_TEXT)?,
        justification: optional_text("input.justification", input.justification, MAX_TEXT)?,
        implementation_plan: optional_text(
            "input.implementationPlan",
            input.implementation_plan,
            MAX_TEXT,
        )?,
        backout_plan: optional_text("input.backoutPlan", input.backout_plan, MAX_TEXT)?,
        test_plan: optional_text("input.testPlan", input.test_plan, MAX_TEXT)?,
        assignee: optional_text("input.assignee", input.assignee, MAX_TITLE)?,
        planned_start: input.planned_start,
        planned_end: input.planned_end,
        ..draft_row(number, change_type, title, actor.subject(), now)
    };
    let model = insert_change(&txn, actor, now, model, &items).await?;
    txn.commit().await?;
    Ok(model)
}

/// Raises a STANDARD change in DRAFT from an active template (ENGINEER, CHANGE_MANAGER).
#[tracing::instrument(skip_all)]
pub async fn create_change_from_template(
    cx: Context<'_>,
    input: NewStandardChange,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::CreateChange)?;
    check_window("input.plannedEnd", input.planned_start, input.planned_end)?;
    let txn = quorum_core::begin_write(db).await?;
    let template = active_template(&txn, "input.templateId", &input.template_id).await?;
    let title = match input.title {
        Some(title) => required_text("input.title", title, MAX_TITLE)?,
        None => template.name.clone(),
    };
    let items = live_items(
        &txn,
        actor,
        "input.affectedItemIds",
        &input.affected_item_ids,
    )
    .await?;
    let now = clock.now();
    check_new_window(
        &txn,
        ChangeType::Standard,
        input.planned_start,
        input.planned_end,
        now,
    )
    .await?;
    let number = next_number(&txn, CHANGE_NUMBER_PREFIX).await?;
    let model = Model {
        description: match input.description {
            Some(text) => optional_text("input.description", Some(text), MAX_TEXT)?,
            None => template.description.clone(),
        },
        implementation_plan: template.implementation_plan.clone(),
        backout_plan: template.backout_plan.clone(),
        test_plan: template.test_plan.clone(),
        template_id: Some(template.id.clone()),
        assignee: optional_text("input.assignee", input.assignee, MAX_TITLE)?,
        planned_start: input.planned_start,
        planned_end: input.planned_end,
        ..draft_row(number, ChangeType::Standard, title, actor.subject(), now)
    };
    let model = insert_change(&txn, actor, now, model, &items).await?;
    txn.commit().await?;
    Ok(model)
}

/// The window a new change is raised with, if any, checked against the policy at `now`.
async fn check_new_window(
    txn: &DatabaseTransaction,
    change_type: ChangeType,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(());
    };
    let policy = policy::current(txn).await?;
    check_planned_window(
        ("input.plannedStart", "input.plannedEnd"),
        change_type,
        start,
        end,
        now,
        &policy,
    )
}

/// The template with `id`, if it is active; BAD_USER_INPUT on `field` otherwise.
async fn active_template<C: ConnectionTrait>(
    db: &C,
    field: &str,
    id: &str,
) -> DomainResult<template::Model> {
    let template = template::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| {
            DomainError::bad_input(field, format!("no standard change template has id `{id}`"))
        })?;
    if !template.active {
        return Err(DomainError::bad_input(
            field,
            format!("the template `{}` is retired", template.name),
        ));
    }
    Ok(template)
}

/// Edits a change in DRAFT or ASSESSMENT (its requester or a change manager). Edits during
/// ASSESSMENT that change the window clear nothing; the risk stays until reassessed. An edit
/// that changes nothing writes nothing; a STANDARD change's plans stay its template's.
#[tracing::instrument(skip(cx, edits))]
pub async fn update_change(
    cx: Context<'_>,
    id: &str,
    version: i32,
    edits: ChangeEdits,
) -> DomainResult<Model> {
    let title = edits
        .title
        .map(|title| required_text("input.title", title, MAX_TITLE))
        .transpose()?;
    let text =
        |field: &str, edit: Option<Option<String>>| -> DomainResult<Option<Option<String>>> {
            edit.map(|value| optional_text(field, value, MAX_TEXT))
                .transpose()
        };
    let description = text("input.description", edits.description)?;
    let justification = text("input.justification", edits.justification)?;
    let implementation_plan = text("input.implementationPlan", edits.implementation_plan)?;
    let backout_plan = text("input.backoutPlan", edits.backout_plan)?;
    let test_plan = text("input.testPlan", edits.test_plan)?;
    let assignee = text("input.assignee", edits.assignee)?;
    act(
        cx,
        id,
        version,
        ChangeAction::Update,
        Step::edit(),
        |current, policy, now| {
            let updated = Model {
                title: title.unwrap_or_else(|| current.title.clone()),
                description: description.unwrap_or_else(|| current.description.clone()),
                justification: justification.unwrap_or_else(|| current.justification.clone()),
                implementation_plan: implementation_plan
                    .unwrap_or_else(|| current.implementation_plan.clone()),
                backout_plan: backout_plan.unwrap_or_else(|| current.backout_plan.clone()),
                test_plan: test_plan.unwrap_or_else(|| current.test_plan.clone()),
                planned_start: edits.planned_start.unwrap_or(current.planned_start),
                planned_end: edits.planned_end.unwrap_or(current.planned_end),
                assignee: assignee.unwrap_or_else(|| current.assignee.clone()),
                ..current.clone()
            };
            check_window(
                "input.plannedEnd",
                updated.planned_start,
                updated.planned_end,
            )?;
            let moved = (updated.planned_start, updated.planned_end)
                != (current.planned_start, current.planned_end);
            if let (true, Some(start), Some(end)) =
                (moved, updated.planned_start, updated.planned_end)
            {
                check_planned_window(
                    ("input.plannedStart", "input.plannedEnd"),
                    current.change_type,
                    start,
                    end,
                    now,
                    policy,
                )?;
            }
            if current.change_type == ChangeType::Standard {
                // The template's plans are what was pre-authorized: a STANDARD change that
                // does it differently is a NORMAL change.
                for (field, before, after) in [
                    (
                        "input.implementationPlan",
                        &current.implementation_plan,
                        &updated.implementation_plan,
                    ),
                    (
                        "input.backoutPlan",
                        &current.backout_plan,
                        &updated.backout_plan,
                    ),
                    ("input.testPlan", &current.test_plan, &updated.test_plan),
                ] {
                    if before != after {
                        return Err(DomainError::bad_input(
                            field,
                            format!(
                                "{} is a STANDARD change: its plans are its template's; raise a NORMAL change to do it differently",
                                current.number
                            ),
                        ));
                    }
                }
            }
            Ok(updated)
        },
    )
    .await
}

/// Adds or removes (`edit`) CIs of a change in DRAFT or ASSESSMENT. In ASSESSMENT the risk,
/// computed for the old scope, is cleared: the change must be assessed again.
#[tracing::instrument(skip(cx, ci_ids))]
pub async fn edit_affected_items(
    cx: Context<'_>,
    id: &str,
    version: i32,
    ci_ids: &[String],
    edit: ItemsEdit,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::UpdateChange)?;
    if ci_ids.is_empty() {
        return Err(DomainError::bad_input("ciIds", "name at least one CI"));
    }
    let txn = quorum_core::begin_write(db).await?;
    let current = write::load_for_write::<Model>(&txn, actor, id, Some(version)).await?;
    let policy = policy::current(&txn).await?;
    check(
        ChangeAction::EditAffectedItems,
        &current.record,
        actor,
        &policy,
    )?;
    let before = &current.extra;
    let mut after = before.clone();
    match edit {
        ItemsEdit::Add => {
            let items = live_items(&txn, actor, "ciIds", ci_ids).await?;
            let new: Vec<ConfigurationItem> = items
                .into_iter()
                .filter(|item| !before.contains(&item.id))
                .collect();
            if before.len() + new.len() > MAX_AFFECTED_ITEMS {
                return Err(DomainError::bad_input(
                    "ciIds",
                    format!("a change touches at most {MAX_AFFECTED_ITEMS} CIs"),
                ));
            }
            insert_items(&txn, id, &new).await?;
            after.extend(new.into_iter().map(|item| item.id));
        }
        ItemsEdit::Remove => {
            for ci_id in ci_ids {
                if !before.contains(ci_id) {
                    return Err(DomainError::bad_input(
                        "ciIds",
                        format!("{} does not touch CI `{ci_id}`", current.record.number),
                    ));
                }
            }
            // A submitted change holds at least one CI until it closes: without one, no
            // conflict, freeze or risk rule would have anything to hold on to.
            if current.record.state != ChangeState::Draft
                && before.iter().all(|id| ci_ids.contains(id))
            {
                return Err(DomainError::bad_input(
                    "ciIds",
                    format!(
                        "{} is submitted: it must keep at least one affected CI (add the new \
                         one first, or cancel the change)",
                        current.record.number
                    ),
                ));
            }
            affected_item::Entity::delete_many()
                .filter(affected_item::Column::ChangeId.eq(id))
                .filter(affected_item::Column::CiId.is_in(ci_ids.iter().map(String::as_str)))
                .exec(&txn)
                .await?;
            after.retain(|ci_id| !ci_ids.contains(ci_id));
        }
    }
    after.sort();
    if after == *before {
        // Adding CIs it already touches changes nothing: no version, no event, the risk kept.
        return Ok(current.record);
    }
    let updated = Loaded {
        record: Model {
            // The risk was computed for the old scope.
            risk: None,
            risk_score: None,
            risk_level: None,
            ..current.record.clone()
        },
        extra: after,
    };
    let now = clock.now();
    let step = Step::new(EventAction::AffectedItemsChanged);
    let updated = write::save(&txn, actor, now, step, &current, updated).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Whether [`edit_affected_items`] adds the CIs it names or removes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemsEdit {
    Add,
    Remove,
}

/// Submits a draft: a STANDARD change is authorized at once, a NORMAL one goes to ASSESSMENT,
/// an EMERGENCY one to the emergency CAB.
#[tracing::instrument(skip(cx))]
pub async fn submit_change(cx: Context<'_>, id: &str, version: i32) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::SubmitChange)?;
    let txn = quorum_core::begin_write(db).await?;
    let current = write::load_for_write::<Model>(&txn, actor, id, Some(version)).await?;
    let policy = policy::current(&txn).await?;
    let change = &current.record;
    let template = match &change.template_id {
        Some(template_id) if change.change_type == ChangeType::Standard => {
            template::Entity::find_by_id(template_id.as_str())
                .one(&txn)
                .await?
        }
        _ => None,
    };
    let facts = Facts {
        affected_items: Some(current.extra.len()),
        template_active: (change.change_type == ChangeType::Standard)
            .then(|| template.as_ref().is_some_and(|template| template.active)),
    };
    check_with(ChangeAction::Submit, change, actor, &policy, facts)?;
    let now = clock.now();
    let mut updated = Model {
        submitted_at: Some(now),
        ..change.clone()
    };
    match change.change_type {
        ChangeType::Standard => {
            let name = template.map(|template| template.name).unwrap_or_default();
            let risk = RiskAssessment::standard(&name, now, actor.subject());
            updated.risk_score = Some(risk.score);
            updated.risk_level = Some(risk.level);
            updated.risk = Some(write::encode_json(&risk)?);
            updated.state = ChangeState::Authorized;
            updated.decided_at = Some(now);
        }
        ChangeType::Normal => updated.state = ChangeState::Assessment,
        ChangeType::Emergency => {
            updated.state = ChangeState::CabReview;
            updated.referred_at = Some(now);
        }
    }
    let updated = Loaded {
        record: updated,
        extra: current.extra.clone(),
    };
    let step = Step::new(EventAction::Submitted);
    let updated = write::save(&txn, actor, now, step, &current, updated).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Records the risk questionnaire and computes the risk (CHANGE_MANAGER): NORMAL changes in
/// ASSESSMENT, EMERGENCY ones in CAB_REVIEW. The state does not move.
#[tracing::instrument(skip(cx, answers))]
pub async fn assess_change(
    cx: Context<'_>,
    id: &str,
    version: i32,
    answers: RiskQuestionnaire,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::AssessChange)?;
    let txn = quorum_core::begin_write(db).await?;
    let current = write::load_for_write::<Model>(&txn, actor, id, Some(version)).await?;
    let policy = policy::current(&txn).await?;
    check(ChangeAction::Assess, &current.record, actor, &policy)?;
    let items: Vec<ConfigurationItem> =
        quorum_cmdb::find_configuration_items(&txn, actor, &current.extra)
            .await?
            .into_values()
            .collect();
    let now = clock.now();
    let risk = crate::risk::assess(&txn, actor, id, &items, answers, now).await?;
    let assessed = Loaded {
        record: Model {
            risk_score: Some(risk.score),
            risk_level: Some(risk.level),
            risk: Some(write::encode_json(&risk)?),
            ..current.record.clone()
        },
        extra: current.extra.clone(),
    };
    let step = Step::new(EventAction::Assessed);
    let assessed = write::save(&txn, actor, now, step, &current, assessed).await?;
    // An EMERGENCY change's ECAB may have approved it already: the assessment completes it.
    let updated =
        crate::vote::decide(&txn, actor, assessed, Some(current.extra), &policy, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Authorizes an assessed NORMAL change below the CAB threshold (CHANGE_MANAGER).
pub async fn authorize_change(
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
        ChangeAction::Authorize,
        Step::new(EventAction::Authorized).with_reason(reason),
        |current, _, now| {
            Ok(Model {
                state: ChangeState::Authorized,
                decided_at: Some(now),
                ..current.clone()
            })
        },
    )
    .await
}

/// Refers an assessed NORMAL change to the CAB (CHANGE_MANAGER).
pub async fn refer_change_to_cab(
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
        ChangeAction::ReferToCab,
        Step::new(EventAction::ReferredToCab).with_reason(reason),
        |current, _, now| {
            Ok(Model {
                state: ChangeState::CabReview,
                referred_at: Some(now),
                ..current.clone()
            })
        },
    )
    .await
}

/// Rejects a change in ASSESSMENT (CHANGE_MANAGER); the reason is required.
pub async fn reject_change(
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
        ChangeAction::Reject,
        Step::new(EventAction::Rejected).with_reason(Some(reason)),
        |current, _, now| {
            Ok(Model {
                state: ChangeState::Rejected,
                decided_at: Some(now),
                ..current.clone()
            })
        },
    )
    .await
}

/// Starts implementing a scheduled change (its assignee or a change manager). Outside the
/// planned window it needs a reason, recorded with the event, and is flagged; an EMERGENCY
/// change starts when it must.
pub async fn start_implementation(
    cx: Context<'_>,
    id: &str,
    version: i32,
    reason: Option<String>,
) -> DomainResult<Model> {
    let reason = optional_text("reason", reason, MAX_TEXT)?;
    let given = reason.is_some();
    act(
        cx,
        id,
        version,
        ChangeAction::StartImplementation,
        Step::new(EventAction::ImplementationStarted).with_reason(reason),
        |current, _, now| {
            let inside = matches!(
                (current.planned_start, current.planned_end),
                (Some(start), Some(end)) if start <= now && now < end
            );
            if !inside && !given && current.change_type != ChangeType::Emergency {
                return Err(DomainError::bad_input(
                    "reason",
                    format!(
                        "{} is planned for {}: starting outside its window needs a reason",
                        current.number,
                        match (current.planned_start, current.planned_end) {
                            (Some(start), Some(end)) => format!("{start} to {end}"),
                            _ => "no window".to_owned(),
                        }
                    ),
                ));
            }
            Ok(Model {
                state: ChangeState::Implementing,
                actual_start: Some(now),
                started_outside_window: !inside,
                ..current.clone()
            })
        },
    )
    .await
}

/// Ends the implementation with its outcome (its assignee or a change manager): → REVIEW.
pub async fn complete_implementation(
    cx: Context<'_>,
    id: &str,
    version: i32,
    outcome: ChangeOutcome,
    notes: Option<String>,
) -> DomainResult<Model> {
    let notes = optional_text("notes", notes, MAX_TEXT)?;
    if outcome != ChangeOutcome::Successful && notes.is_none() {
        return Err(DomainError::bad_input(
            "notes",
            format!(
                "say what happened: notes are required when the outcome is {}",
                name_of(&outcome)
            ),
        ));
    }
    act(
        cx,
        id,
        version,
        ChangeAction::CompleteImplementation,
        Step::new(EventAction::ImplementationCompleted),
        |current, _, now| {
            Ok(Model {
                state: ChangeState::Review,
                actual_end: Some(now),
                completed_at: Some(now),
                outcome: Some(outcome),
                completion_notes: notes,
                ..current.clone()
            })
        },
    )
    .await
}

/// A post-implementation review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub lessons_learned: String,
    /// Whether the change achieved what it was for.
    pub objectives_met: bool,
    pub follow_up_actions: Option<String>,
    pub reviewed_at: DateTime<Utc>,
    pub reviewed_by: String,
}

/// Records the post-implementation review of a change in REVIEW (CHANGE_MANAGER); a second
/// review replaces the first (both stay in the history).
pub async fn record_review(
    cx: Context<'_>,
    id: &str,
    version: i32,
    lessons_learned: String,
    objectives_met: bool,
    follow_up_actions: Option<String>,
) -> DomainResult<Model> {
    let Context { actor, .. } = cx;
    let lessons_learned = required_text("lessonsLearned", lessons_learned, MAX_TEXT)?;
    let follow_up_actions = optional_text("followUpActions", follow_up_actions, MAX_TEXT)?;
    act(
        cx,
        id,
        version,
        ChangeAction::RecordReview,
        Step::new(EventAction::Reviewed),
        |current, _, now| {
            let review = Review {
                lessons_learned,
                objectives_met,
                follow_up_actions,
                reviewed_at: now,
                reviewed_by: actor.subject().to_owned(),
            };
            Ok(Model {
                review: Some(write::encode_json(&review)?),
                ..current.clone()
            })
        },
    )
    .await
}

/// Closes a change in REVIEW (CHANGE_MANAGER); refused while a required review is missing.
pub async fn close_change(cx: Context<'_>, id: &str, version: i32) -> DomainResult<Model> {
    act(
        cx,
        id,
        version,
        ChangeAction::Close,
        Step::new(EventAction::Closed),
        |current, _, now| {
            Ok(Model {
                state: ChangeState::Closed,
                closed_at: Some(now),
                ..current.clone()
            })
        },
    )
    .await
}

/// Cancels a change before implementation (its requester or a change manager); the reason
/// is required.
pub async fn cancel_change(
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
        ChangeAction::Cancel,
        Step::new(EventAction::Cancelled).with_reason(Some(reason)),
        |current, _, now| {
            Ok(Model {
                state: ChangeState::Cancelled,
                closed_at: Some(now),
                ..current.clone()
            })
        },
    )
    .await
}
