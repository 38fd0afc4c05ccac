//! Conflicts of a planned window, scheduling, the change calendar and freeze windows.
//!
//! A window conflicts with another in-flight change (AUTHORIZED, SCHEDULED, IMPLEMENTING) whose
//! window overlaps it when both touch the same CI (SAME_CI), or when one's CI lies within the
//! policy's conflict depth of the other's along relationships, following the arrows one way
//! (the impact or the dependency walk: DEPENDENT_CI, with the path); and with every freeze
//! window overlapping it that holds every CI, one of its CIs, or a CI that depends on one of its
//! CIs within the conflict depth (FREEZE_WINDOW, with the path: a freeze on a business service
//! holds what the service runs on). Two CIs that merely share a dependency are not in conflict.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use quorum_cmdb::{ConfigurationItem, WalkDirection};
use quorum_core::event::{self, EntityKind, EventAction, NewEvent};
use quorum_core::write::{self, Loaded, Step, encode_json};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::json;

use crate::change::{affected_item_ids, optional_text, required_text, visible};
use crate::entity::change_request::{self, Model};
use crate::entity::{ChangeState, ChangeType, affected_item, freeze_window, freeze_window_item};
use crate::lifecycle::{ChangeAction, check};
use crate::policy;
use crate::snapshot::FreezeWindowSnapshot;

/// What a conflict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ConflictKind {
    /// Another change touches the same CI in an overlapping window.
    SameCi,
    /// Another change touches a CI linked to one of this change's CIs through relationships.
    DependentCi,
    /// A freeze window holds one of this change's CIs (or every CI) in the window.
    FreezeWindow,
}

/// A freeze window and the CIs it holds (none: every CI).
#[derive(Debug, Clone)]
pub struct FreezeWindow {
    pub window: freeze_window::Model,
    pub ci_ids: Vec<String>,
}

/// One conflict of a window.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub kind: ConflictKind,
    /// The other change (SAME_CI, DEPENDENT_CI).
    pub change: Option<Arc<Model>>,
    /// The freeze window (FREEZE_WINDOW).
    pub freeze_window: Option<Arc<FreezeWindow>>,
    /// The CI in conflict: the shared CI, the other change's CI, or the frozen CI (none when
    /// the freeze holds every CI).
    pub item: Option<Arc<ConfigurationItem>>,
    /// This change's CI the conflict starts from (DEPENDENT_CI; for SAME_CI the shared CI).
    pub affected_item: Option<Arc<ConfigurationItem>>,
    /// DEPENDENT_CI: from this change's CI (first) to the other's (last); FREEZE_WINDOW on a
    /// CI this change's CI is a dependency of: from this change's CI to the frozen one.
    pub path: Vec<Arc<ConfigurationItem>>,
    /// Where the two windows overlap.
    pub overlap_start: DateTime<Utc>,
    pub overlap_end: DateTime<Utc>,
}

impl Conflict {
    /// The conflict as `extensions.conflicts` lists it: the shape of the `ChangeConflict`
    /// type with its records' identifying fields (`id`, `number`, names), so a client reads
    /// a refusal's conflicts as it reads `Change.conflicts`.
    fn to_json(&self) -> serde_json::Value {
        let item = |item: &ConfigurationItem| json!({ "id": item.id, "number": item.number, "name": item.name, "class": item.class });
        // As the `DateTime` scalar is written.
        let instant = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        json!({
            "kind": self.kind_name(),
            "change": self.change.as_ref().map(|change| json!({
                "id": change.id, "number": change.number, "title": change.title, "state": change.state,
            })),
            "freezeWindow": self.freeze_window.as_ref().map(|freeze| json!({
                "id": freeze.window.id, "name": freeze.window.name,
                "startsAt": instant(freeze.window.starts_at), "endsAt": instant(freeze.window.ends_at),
            })),
            "item": self.item.as_deref().map(item),
            "affectedItem": self.affected_item.as_deref().map(item),
            "path": self.path.iter().map(|step| item(step)).collect::<Vec<_>>(),
            "overlapStart": instant(self.overlap_start),
            "overlapEnd": instant(self.overlap_end),
        })
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            ConflictKind::SameCi => "SAME_CI",
            ConflictKind::DependentCi => "DEPENDENT_CI",
            ConflictKind::FreezeWindow => "FREEZE_WINDOW",
        }
    }
}

/// The other in-flight changes whose windows overlap `[start, end)`, with their CIs.
async fn overlapping_changes<C: ConnectionTrait>(
    db: &C,
    except: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> DomainResult<Vec<(Arc<Model>, Vec<String>)>> {
    let overlapping = || {
        Condition::all()
            .add(change_request::Column::State.is_in(ChangeState::IN_FLIGHT))
            .add(change_request::Column::PlannedStart.lt(end))
            .add(change_request::Column::PlannedEnd.gt(start))
            .add(change_request::Column::Id.ne(except))
    };
    // The changes and their CIs at once: the CIs by a subquery on the same condition.
    let mut overlapping_ids = Query::select();
    overlapping_ids
        .column(change_request::Column::Id)
        .from(change_request::Entity)
        .cond_where(overlapping());
    let (changes, rows) = tokio::join!(
        change_request::Entity::find()
            .filter(overlapping())
            .order_by_asc(change_request::Column::Number)
            .all(db),
        affected_item::Entity::find()
            .filter(affected_item::Column::ChangeId.in_subquery(overlapping_ids))
            .all(db),
    );
    let mut items: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows? {
        items.entry(row.change_id).or_default().push(row.ci_id);
    }
    Ok(changes?
        .into_iter()
        .map(|change| {
            let ci_ids = items.remove(&change.id).unwrap_or_default();
            (Arc::new(change), ci_ids)
        })
        .collect())
}

/// Freeze windows overlapping `[start, end)`, with their CIs.
async fn overlapping_freezes<C: ConnectionTrait>(
    db: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> DomainResult<Vec<FreezeWindow>> {
    let windows = freeze_window::Entity::find()
        .filter(freeze_window::Column::StartsAt.lt(end))
        .filter(freeze_window::Column::EndsAt.gt(start))
        .order_by_asc(freeze_window::Column::StartsAt)
        .order_by_asc(freeze_window::Column::Id)
        .all(db)
        .await?;
    with_items(db, windows).await
}

async fn with_items<C: ConnectionTrait>(
    db: &C,
    windows: Vec<freeze_window::Model>,
) -> DomainResult<Vec<FreezeWindow>> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = windows.iter().map(|window| window.id.clone()).collect();
    let mut items: HashMap<String, Vec<String>> = HashMap::new();
    for batch in quorum_core::ids::batches(db, &ids) {
        for row in freeze_window_item::Entity::find()
            .filter(quorum_core::ids::one_of(
                db,
                freeze_window_item::Column::WindowId,
                batch,
            ))
            .all(db)
            .await?
        {
            items.entry(row.window_id).or_default().push(row.ci_id);
        }
    }
    Ok(windows
        .into_iter()
        .map(|window| {
            let mut ci_ids = items.remove(&window.id).unwrap_or_default();
            ci_ids.sort();
            FreezeWindow { window, ci_ids }
        })
        .collect())
}

/// What a freeze holds of a change: the frozen CI (none: every CI), the change's CI, and the
/// path from the change's CI to the frozen one when the freeze holds it through a dependency.
type Held = (
    Option<Arc<ConfigurationItem>>,
    Option<Arc<ConfigurationItem>>,
    Vec<Arc<ConfigurationItem>>,
);

/// The conflicts of a change (`change_id`, touching `ci_ids`) planned for `[start, end)`.
pub(crate) async fn find_conflicts<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change_id: &str,
    ci_ids: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    conflict_depth: i32,
) -> DomainResult<Vec<Conflict>> {
    let (others, freezes) = tokio::join!(
        overlapping_changes(db, change_id, start, end),
        overlapping_freezes(db, start, end),
    );
    let (mut others, freezes) = (others?, freezes?);
    if ci_ids.is_empty() {
        // Nothing of ours for another change to touch; a freeze of every CI still holds.
        others.clear();
    }
    if others.is_empty() && freezes.is_empty() {
        return Ok(Vec::new());
    }
    let mine: HashSet<&String> = ci_ids.iter().collect();
    let overlap = |other_start: DateTime<Utc>, other_end: DateTime<Utc>| {
        (start.max(other_start), end.min(other_end))
    };

    // The CIs named anywhere, loaded once.
    let mut wanted: Vec<String> = ci_ids.to_vec();
    // The other changes' CIs reached from ours, each with the ids of its shortest path (ours
    // first). Along the dependency walk, ours depend on few CIs: one walk from ours, ids and
    // parents only. Along the impact walk, ours may be depended on by thousands (a database),
    // while the other changes' CIs depend on few: each of theirs walks towards what it depends
    // on, and the path is read backwards. Both run at once; only the CIs on conflict paths
    // are loaded.
    let mut reached: HashMap<String, Vec<String>> = HashMap::new();
    let mut foreign: Vec<String> = others
        .iter()
        .flat_map(|(_, items)| items.iter())
        .filter(|id| !mine.contains(id))
        .cloned()
        .collect();
    foreign.sort();
    foreign.dedup();
    if !foreign.is_empty() && conflict_depth > 0 {
        let depth = u32::try_from(conflict_depth).unwrap_or(0);
        let (impact, dependencies) = tokio::join!(
            quorum_cmdb::paths_between(
                db,
                actor,
                &foreign,
                ci_ids,
                WalkDirection::Dependencies,
                depth
            ),
            quorum_cmdb::reach_from(db, actor, ci_ids, WalkDirection::Dependencies, depth),
        );
        let (impact, dependencies) = (impact?, dependencies?);
        for id in &foreign {
            // From ours to theirs against the arrows: their walk read backwards.
            let up = impact
                .get(id)
                .map(|path| path.iter().rev().cloned().collect::<Vec<_>>());
            let down = dependencies.get(id).map(|_| {
                let mut path = vec![id.clone()];
                let mut cursor = id;
                while let Some(parent) = dependencies
                    .get(cursor)
                    .and_then(|reach| reach.parent.as_ref())
                {
                    path.push(parent.clone());
                    cursor = parent;
                }
                path.reverse();
                path
            });
            // The shorter; on a tie, the impact path.
            let path = match (up, down) {
                (Some(up), Some(down)) if down.len() < up.len() => Some(down),
                (Some(up), _) => Some(up),
                (None, down) => down,
            };
            if let Some(path) = path {
                wanted.extend(path.iter().cloned());
                reached.insert(id.clone(), path);
            }
        }
    }
    // A freeze on a CI holds what it depends on, within the conflict depth: the frozen CIs
    // walk towards what they depend on (a business service depends on its tree, few CIs
    // compared with what depends on a database), and each path is read backwards, ours first.
    let mut frozen: Vec<String> = freezes
        .iter()
        .flat_map(|freeze| freeze.ci_ids.iter())
        .filter(|id| !mine.contains(id))
        .cloned()
        .collect();
    frozen.sort();
    frozen.dedup();
    let held_through: HashMap<String, Vec<String>> =
        if frozen.is_empty() || ci_ids.is_empty() || conflict_depth <= 0 {
            HashMap::new()
        } else {
            quorum_cmdb::paths_between(
                db,
                actor,
                &frozen,
                ci_ids,
                WalkDirection::Dependencies,
                u32::try_from(conflict_depth).unwrap_or(0),
            )
            .await?
            .into_iter()
            .map(|(id, path)| (id, path.into_iter().rev().collect()))
            .collect()
        };
    for freeze in &freezes {
        wanted.extend(freeze.ci_ids.iter().filter(|id| mine.contains(id)).cloned());
    }
    wanted.extend(held_through.values().flatten().cloned());
    wanted.sort();
    wanted.dedup();
    let items: HashMap<String, Arc<ConfigurationItem>> =
        quorum_cmdb::find_configuration_items(db, actor, &wanted)
            .await?
            .into_iter()
            .map(|(id, item)| (id, Arc::new(item)))
            .collect();

    let mut conflicts = Vec::new();
    for (other, other_items) in &others {
        let (Some(other_start), Some(other_end)) = (other.planned_start, other.planned_end) else {
            continue;
        };
        let (overlap_start, overlap_end) = overlap(other_start, other_end);
        for ci_id in other_items {
            if mine.contains(ci_id) {
                let item = items.get(ci_id).cloned();
                conflicts.push(Conflict {
                    kind: ConflictKind::SameCi,
                    change: Some(Arc::clone(other)),
                    freeze_window: None,
                    affected_item: item.clone(),
                    item,
                    path: Vec::new(),
                    overlap_start,
                    overlap_end,
                });
            } else if let Some(path) = reached.get(ci_id) {
                let path: Vec<Arc<ConfigurationItem>> = path
                    .iter()
                    .filter_map(|id| items.get(id).cloned())
                    .collect();
                conflicts.push(Conflict {
                    kind: ConflictKind::DependentCi,
                    change: Some(Arc::clone(other)),
                    freeze_window: None,
                    item: path.last().cloned(),
                    affected_item: path.first().cloned(),
                    path,
                    overlap_start,
                    overlap_end,
                });
            }
        }
    }
    for freeze in freezes {
        let (overlap_start, overlap_end) = overlap(freeze.window.starts_at, freeze.window.ends_at);
        let held: Vec<Held> = if freeze.ci_ids.is_empty() {
            vec![(None, None, Vec::new())]
        } else {
            freeze
                .ci_ids
                .iter()
                .filter_map(|id| {
                    if mine.contains(id) {
                        let item = items.get(id).cloned();
                        Some((item.clone(), item, Vec::new()))
                    } else {
                        let path: Vec<Arc<ConfigurationItem>> = held_through
                            .get(id)?
                            .iter()
                            .filter_map(|id| items.get(id).cloned())
                            .collect();
                        Some((path.last().cloned(), path.first().cloned(), path))
                    }
                })
                .collect()
        };
        let freeze = Arc::new(freeze);
        for (item, affected_item, path) in held {
            conflicts.push(Conflict {
                kind: ConflictKind::FreezeWindow,
                change: None,
                freeze_window: Some(Arc::clone(&freeze)),
                affected_item,
                item,
                path,
                overlap_start,
                overlap_end,
            });
        }
    }
    let key = |conflict: &Conflict| {
        (
            conflict.kind,
            conflict
                .change
                .as_ref()
                .map(|change| change.number.clone())
                .or_else(|| {
                    conflict
                        .freeze_window
                        .as_ref()
                        .map(|freeze| freeze.window.name.clone())
                }),
            conflict.item.as_ref().map(|item| item.number.clone()),
        )
    };
    conflicts.sort_by_key(key);
    Ok(conflicts)
}

/// The conflicts of a change's planned window (none without a window).
pub async fn change_conflicts<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change: &Model,
) -> DomainResult<Vec<Conflict>> {
    actor.authorize(Permission::ReadChanges)?;
    let (Some(start), Some(end)) = (change.planned_start, change.planned_end) else {
        return Ok(Vec::new());
    };
    if !visible(actor, change) {
        return Err(DomainError::not_found("Change", &change.id));
    }
    let (policy, ci_ids) = tokio::join!(policy::current(db), affected_item_ids(db, &change.id));
    let (policy, ci_ids) = (policy?, ci_ids?);
    find_conflicts(
        db,
        actor,
        &change.id,
        &ci_ids,
        start,
        end,
        policy.conflict_depth,
    )
    .await
}

/// What `scheduleChange` takes.
#[derive(Debug, Clone)]
pub struct ScheduleRequest {
    pub planned_start: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    /// Schedule despite SAME_CI and DEPENDENT_CI conflicts (a reason is then required).
    /// Freeze windows give way only to EMERGENCY changes.
    pub override_conflicts: bool,
    pub reason: Option<String>,
}

/// Schedules an AUTHORIZED (or reschedules a SCHEDULED) change (CHANGE_MANAGER): refused with
/// CONFLICT, listing the conflicts, unless overridden with a reason. Scheduling is serialized
/// (an advisory lock on PostgreSQL, the write lock on SQLite), so two windows cannot both pass
/// the check against each other.
#[tracing::instrument(skip(cx, request))]
pub async fn schedule_change(
    cx: Context<'_>,
    id: &str,
    version: i32,
    request: ScheduleRequest,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::ScheduleChange)?;
    let reason = optional_text("reason", request.reason, 5_000)?;
    if request.planned_end <= request.planned_start {
        return Err(DomainError::bad_input(
            "plannedEnd",
            "the planned end must be after the planned start",
        ));
    }
    if request.override_conflicts && reason.is_none() {
        return Err(DomainError::bad_input(
            "reason",
            "overriding conflicts needs a reason, recorded with the change",
        ));
    }
    let txn = quorum_core::begin_write(db).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(72737001)",
        ))
        .await?;
    }
    let loaded = write::load_for_write::<Model>(&txn, actor, id, Some(version)).await?;
    let current = &loaded.record;
    let policy = policy::current(&txn).await?;
    check(ChangeAction::Schedule, current, actor, &policy)?;
    let now = clock.now();
    if request.planned_end <= now {
        return Err(DomainError::bad_input(
            "plannedEnd",
            "the window has already ended",
        ));
    }
    crate::change::check_planned_window(
        ("plannedStart", "plannedEnd"),
        current.change_type,
        request.planned_start,
        request.planned_end,
        now,
        &policy,
    )?;
    let conflicts = find_conflicts(
        &txn,
        actor,
        id,
        &loaded.extra,
        request.planned_start,
        request.planned_end,
        policy.conflict_depth,
    )
    .await?;
    let emergency = current.change_type == ChangeType::Emergency;
    let blocking: Vec<&Conflict> = conflicts
        .iter()
        .filter(|conflict| match conflict.kind {
            ConflictKind::FreezeWindow => !emergency,
            _ => !request.override_conflicts,
        })
        .collect();
    if !blocking.is_empty() {
        let frozen = blocking
            .iter()
            .any(|conflict| conflict.kind == ConflictKind::FreezeWindow);
        return Err(DomainError::ConflictWith {
            message: format!(
                "{} in this window: {}{}",
                quorum_core::text::counted(blocking.len(), "conflict"),
                blocking
                    .iter()
                    .map(|conflict| describe(conflict))
                    .collect::<Vec<_>>()
                    .join("; "),
                if frozen {
                    " (a freeze window gives way only to EMERGENCY changes)"
                } else {
                    " (override with a reason, or pick another window)"
                }
            ),
            details: serde_json::Value::Array(blocking.iter().map(|c| c.to_json()).collect()),
        });
    }
    let overridden = !conflicts.is_empty();
    let updated = Model {
        state: ChangeState::Scheduled,
        planned_start: Some(request.planned_start),
        planned_end: Some(request.planned_end),
        schedule_override_reason: if overridden { reason.clone() } else { None },
        ..current.clone()
    };
    let event_reason = if overridden {
        let over = format!(
            "scheduled over {}: {}",
            quorum_core::text::counted(conflicts.len(), "conflict"),
            conflicts
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join("; ")
        );
        // An EMERGENCY change passes freezes without overriding anything: no reason to quote.
        Some(match reason {
            Some(reason) => format!("{over}; reason: {reason}"),
            None => over,
        })
    } else {
        reason
    };
    let updated = Loaded {
        record: updated,
        extra: loaded.extra.clone(),
    };
    let step = Step::new(EventAction::Scheduled).with_reason(event_reason);
    let updated = write::save(&txn, actor, now, step, &loaded, updated).await?;
    txn.commit().await?;
    Ok(updated)
}

fn describe(conflict: &Conflict) -> String {
    let item = conflict
        .item
        .as_ref()
        .map(|item| item.number.as_str())
        .unwrap_or("every CI");
    match conflict.kind {
        ConflictKind::SameCi => format!(
            "SAME_CI {} on {item}",
            conflict
                .change
                .as_ref()
                .map(|c| c.number.as_str())
                .unwrap_or("?")
        ),
        ConflictKind::DependentCi => format!(
            "DEPENDENT_CI {} on {item} via {}",
            conflict
                .change
                .as_ref()
                .map(|c| c.number.as_str())
                .unwrap_or("?"),
            conflict
                .path
                .iter()
                .map(|item| item.number.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
        ),
        ConflictKind::FreezeWindow => format!(
            "FREEZE_WINDOW `{}` on {item}{}",
            conflict
                .freeze_window
                .as_ref()
                .map(|freeze| freeze.window.name.as_str())
                .unwrap_or("?"),
            if conflict.path.is_empty() {
                String::new()
            } else {
                format!(
                    " via {}",
                    conflict
                        .path
                        .iter()
                        .map(|item| item.number.as_str())
                        .collect::<Vec<_>>()
                        .join(" → ")
                )
            }
        ),
    }
}

/// The longest range one calendar read may span.
pub const MAX_CALENDAR_DAYS: i64 = 400;
/// The most changes one calendar read returns.
pub const MAX_CALENDAR_CHANGES: u64 = 1_000;

/// Scheduled and in-flight changes and freeze windows in a range.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub changes: Vec<Model>,
    pub freeze_windows: Vec<FreezeWindow>,
}

/// The change calendar for `[from, to)`, optionally only for changes touching `ci_ids` (and
/// freezes holding them or every CI).
pub async fn change_calendar<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    ci_ids: Option<&[String]>,
) -> DomainResult<Calendar> {
    actor.authorize(Permission::ReadChanges)?;
    if to <= from {
        return Err(DomainError::bad_input("to", "`to` must be after `from`"));
    }
    if to - from > Duration::days(MAX_CALENDAR_DAYS) {
        return Err(DomainError::bad_input(
            "to",
            format!("a calendar spans at most {MAX_CALENDAR_DAYS} days"),
        ));
    }
    let mut select = change_request::Entity::find()
        .filter(change_request::Column::State.is_in(ChangeState::IN_FLIGHT))
        .filter(change_request::Column::PlannedStart.lt(to))
        .filter(change_request::Column::PlannedEnd.gt(from));
    if let Some(ci_ids) = ci_ids {
        let mut touching = sea_orm::sea_query::Query::select();
        touching
            .column(affected_item::Column::ChangeId)
            .from(affected_item::Entity)
            .and_where(affected_item::Column::CiId.is_in(ci_ids.iter().map(String::as_str)));
        select = select.filter(change_request::Column::Id.in_subquery(touching));
    }
    let changes = select
        .order_by_asc(change_request::Column::PlannedStart)
        .order_by_asc(change_request::Column::Number)
        .all(db)
        .await?;
    if changes.len() as u64 > MAX_CALENDAR_CHANGES {
        return Err(DomainError::bad_input(
            "to",
            format!("more than {MAX_CALENDAR_CHANGES} changes in this range; narrow it"),
        ));
    }
    let mut freeze_windows = overlapping_freezes(db, from, to).await?;
    if let Some(ci_ids) = ci_ids {
        freeze_windows.retain(|freeze| {
            freeze.ci_ids.is_empty() || freeze.ci_ids.iter().any(|id| ci_ids.contains(id))
        });
    }
    Ok(Calendar {
        changes,
        freeze_windows,
    })
}

/// What `createFreezeWindow` takes.
#[derive(Debug, Clone)]
pub struct NewFreezeWindow {
    pub name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: Option<String>,
    /// None or empty: every CI.
    pub ci_ids: Vec<String>,
}

/// Declares a freeze window (CHANGE_MANAGER). Changes already scheduled in it stay; their
/// conflicts show it.
pub async fn create_freeze_window(
    cx: Context<'_>,
    input: NewFreezeWindow,
) -> DomainResult<FreezeWindow> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::ManageFreezeWindows)?;
    // `createFreezeWindow` takes its fields as arguments, not an `input` object: the fields
    // name the arguments.
    let name = required_text("name", input.name, 200)?;
    let reason = optional_text("reason", input.reason, 5_000)?;
    if input.end <= input.start {
        return Err(DomainError::bad_input(
            "end",
            "the end must be after the start",
        ));
    }
    let txn = quorum_core::begin_write(db).await?;
    let items = crate::change::live_items(&txn, actor, "ciIds", &input.ci_ids).await?;
    let now = clock.now();
    let window = freeze_window::Model {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        starts_at: input.start,
        ends_at: input.end,
        reason,
        created_by: actor.subject().to_owned(),
        created_at: now,
    };
    freeze_window::ActiveModel::from(window.clone())
        .insert(&txn)
        .await?;
    if !items.is_empty() {
        freeze_window_item::Entity::insert_many(items.iter().map(|item| {
            freeze_window_item::ActiveModel {
                window_id: sea_orm::Set(window.id.clone()),
                ci_id: sea_orm::Set(item.id.clone()),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let mut ci_ids: Vec<String> = items.into_iter().map(|item| item.id).collect();
    ci_ids.sort();
    let after = encode_json(&FreezeWindowSnapshot::of_row(&window, ci_ids.clone()))?;
    event::append(
        &txn,
        actor,
        now,
        NewEvent {
            entity_kind: EntityKind::FreezeWindow.as_str(),
            entity_id: window.id.clone(),
            action: EventAction::Created,
            reason: None,
            before: None,
            after: Some(after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(FreezeWindow { window, ci_ids })
}

/// Removes a freeze window (CHANGE_MANAGER); its event keeps what it was.
pub async fn remove_freeze_window(cx: Context<'_>, id: &str) -> DomainResult<FreezeWindow> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::ManageFreezeWindows)?;
    let txn = quorum_core::begin_write(db).await?;
    let window = freeze_window::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| DomainError::not_found("FreezeWindow", id))?;
    let removed = with_items(&txn, vec![window])
        .await?
        .pop()
        .ok_or_else(|| DomainError::not_found("FreezeWindow", id))?;
    freeze_window_item::Entity::delete_many()
        .filter(freeze_window_item::Column::WindowId.eq(id))
        .exec(&txn)
        .await?;
    freeze_window::Entity::delete_by_id(id).exec(&txn).await?;
    let before = encode_json(&FreezeWindowSnapshot::of_row(
        &removed.window,
        removed.ci_ids.clone(),
    ))?;
    event::append(
        &txn,
        actor,
        clock.now(),
        NewEvent {
            entity_kind: EntityKind::FreezeWindow.as_str(),
            entity_id: id.to_owned(),
            action: EventAction::Removed,
            reason: None,
            before: Some(before),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(removed)
}

/// Freeze windows overlapping `[from, to)` (all from `from` on when `to` is none).
pub async fn freeze_windows<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> DomainResult<Vec<FreezeWindow>> {
    actor.authorize(Permission::ReadChanges)?;
    let mut select = freeze_window::Entity::find().filter(freeze_window::Column::EndsAt.gt(from));
    if let Some(to) = to {
        select = select.filter(freeze_window::Column::StartsAt.lt(to));
    }
    let windows = select
        .order_by_asc(freeze_window::Column::StartsAt)
        .order_by_asc(freeze_window::Column::Id)
        .all(db)
        .await?;
    with_items(db, windows).await
}
