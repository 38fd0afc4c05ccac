//! The change policy: CAB quorum and veto, the risk level that needs the CAB, the ECAB quorum
//! and the depth of dependency conflicts. One row, set by the service head.

use quorum_core::event::{self, EntityKind, EventAction, NewEvent};
use quorum_core::write::encode_json;
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::entity::RiskLevel;
use crate::entity::policy::{self, Model};
use crate::snapshot::ChangePolicySnapshot;

/// The policy's row id.
const POLICY_ID: i32 = 1;
/// The largest quorum a policy may ask for.
const MAX_QUORUM: i32 = 25;
/// The deepest conflict walk a policy may ask for.
const MAX_CONFLICT_DEPTH: i32 = 6;
/// The longest change window a policy may allow: 90 days.
const MAX_WINDOW_HOURS: i32 = 90 * 24;

/// The policy in force. The migrations write the defaults (2, true, HIGH, 1, 3, false, 168).
pub async fn current<C: ConnectionTrait>(db: &C) -> DomainResult<Model> {
    policy::Entity::find_by_id(POLICY_ID)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Internal("the change policy row is missing".to_owned()))
}

/// The policy as a reader sees it.
pub async fn change_policy<C: ConnectionTrait>(db: &C, actor: &Actor) -> DomainResult<Model> {
    actor.authorize(Permission::ReadChanges)?;
    current(db).await
}

/// What `updateChangePolicy` changes; fields left `None` stay.
#[derive(Debug, Clone, Default)]
pub struct PolicyChanges {
    pub cab_quorum: Option<i32>,
    pub reject_vetoes: Option<bool>,
    pub cab_threshold: Option<RiskLevel>,
    pub ecab_quorum: Option<i32>,
    pub conflict_depth: Option<i32>,
    pub requester_may_authorize: Option<bool>,
    pub max_window_hours: Option<i32>,
}

fn in_range(field: &str, value: i32, low: i32, high: i32) -> DomainResult<i32> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(DomainError::bad_input(
            field,
            format!("`{field}` must be {low} to {high}, not {value}"),
        ))
    }
}

/// Changes the policy (SERVICE_HEAD). Changes already in CAB review are decided by the new
/// quorum at their next vote.
pub async fn update_change_policy(cx: Context<'_>, changes: PolicyChanges) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::UpdateChangePolicy)?;
    let txn = quorum_core::begin_write(db).await?;
    // Locked until the end (PostgreSQL; SQLite holds the write lock from BEGIN): two heads
    // changing different fields at once must not write each other's stale values back.
    let current = policy::Entity::find_by_id(POLICY_ID)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| DomainError::Internal("the change policy row is missing".to_owned()))?;
    let updated = Model {
        cab_quorum: changes
            .cab_quorum
            .map(|value| in_range("input.cabQuorum", value, 1, MAX_QUORUM))
            .transpose()?
            .unwrap_or(current.cab_quorum),
        reject_vetoes: changes.reject_vetoes.unwrap_or(current.reject_vetoes),
        cab_threshold: changes.cab_threshold.unwrap_or(current.cab_threshold),
        ecab_quorum: changes
            .ecab_quorum
            .map(|value| in_range("input.ecabQuorum", value, 1, MAX_QUORUM))
            .transpose()?
            .unwrap_or(current.ecab_quorum),
        conflict_depth: changes
            .conflict_depth
            .map(|value| in_range("input.conflictDepth", value, 0, MAX_CONFLICT_DEPTH))
            .transpose()?
            .unwrap_or(current.conflict_depth),
        requester_may_authorize: changes
            .requester_may_authorize
            .unwrap_or(current.requester_may_authorize),
        max_window_hours: changes
            .max_window_hours
            .map(|value| in_range("input.maxWindowHours", value, 1, MAX_WINDOW_HOURS))
            .transpose()?
            .unwrap_or(current.max_window_hours),
        ..current.clone()
    };
    if updated == current {
        return Ok(current);
    }
    let now = clock.now();
    let updated = Model {
        version: current.version + 1,
        updated_by: Some(actor.subject().to_owned()),
        updated_at: Some(now),
        ..updated
    };
    policy::Entity::update_many()
        .set(policy::ActiveModel::from(updated.clone()).reset_all())
        .filter(policy::Column::Id.eq(POLICY_ID))
        .exec(&txn)
        .await?;
    event::append(
        &txn,
        actor,
        now,
        NewEvent {
            entity_kind: EntityKind::ChangePolicy.as_str(),
            entity_id: POLICY_ID.to_string(),
            action: EventAction::Updated,
            reason: None,
            before: Some(encode_json(&ChangePolicySnapshot::of_row(&current))?),
            after: Some(encode_json(&ChangePolicySnapshot::of_row(&updated))?),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
