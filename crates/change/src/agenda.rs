//! What the CAB meets about, and what waits on one person: the reads behind `cabAgenda` and
//! `viewer.work`.

use chrono::{DateTime, Duration, Utc};
use quorum_core::{Actor, DomainError, DomainResult, Permission, Role};
use sea_orm::sea_query::{Expr, ExprTrait, NullOrdering, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder};

use crate::entity::change_request::{self, Column, Model};
use crate::entity::{ChangeState, ChangeType, RiskLevel, cab_vote};

/// Where an item sits on the agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AgendaSection {
    /// In CAB_REVIEW: to decide, oldest referral first.
    Review,
    /// AUTHORIZED or SCHEDULED, HIGH risk or above, with a window in the range: to watch.
    UpcomingHighRisk,
}

/// One item of the agenda.
#[derive(Debug, Clone)]
pub struct AgendaItem {
    pub section: AgendaSection,
    pub change: Model,
}

/// How far ahead the agenda looks when no range is given.
pub const DEFAULT_AGENDA_DAYS: i64 = 14;

/// The CAB agenda (CAB_MEMBER, CHANGE_MANAGER, SERVICE_HEAD): every change in CAB_REVIEW,
/// oldest referral first; then AUTHORIZED and SCHEDULED changes of HIGH risk and above whose
/// planned window overlaps `[from, to)` (by default the 14 days from `now`), by start. Two
/// statements, both on indexed columns (`state`, then the window).
pub async fn cab_agenda<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DomainResult<Vec<AgendaItem>> {
    actor.authorize(Permission::ReadCabAgenda)?;
    let from = from.unwrap_or(now);
    let to = to.unwrap_or(from + Duration::days(DEFAULT_AGENDA_DAYS));
    if to <= from {
        return Err(DomainError::bad_input(
            "to",
            format!("`to` must be after `from` ({from}; now when not given)"),
        ));
    }
    let review = change_request::Entity::find()
        .filter(Column::State.eq(ChangeState::CabReview))
        .order_by_asc(Column::ReferredAt)
        .order_by_asc(Column::Number)
        .all(db)
        .await?;
    let upcoming = change_request::Entity::find()
        .filter(Column::State.is_in([ChangeState::Authorized, ChangeState::Scheduled]))
        .filter(Column::RiskLevel.is_in([RiskLevel::High, RiskLevel::VeryHigh]))
        .filter(Column::PlannedStart.lt(to))
        .filter(Column::PlannedEnd.gt(from))
        .order_by_asc(Column::PlannedStart)
        .order_by_asc(Column::Number)
        .all(db)
        .await?;
    Ok(review
        .into_iter()
        .map(|change| AgendaItem {
            section: AgendaSection::Review,
            change,
        })
        .chain(upcoming.into_iter().map(|change| AgendaItem {
            section: AgendaSection::UpcomingHighRisk,
            change,
        }))
        .collect())
}

/// The changes in CAB_REVIEW waiting for the actor's vote: NORMAL ones for CAB members,
/// EMERGENCY ones for change managers and service heads (the boards `lifecycle::check` lets
/// them vote on), never their own, oldest referral first. One statement: the CAB_REVIEW
/// changes of those types with no vote by the actor (a primary-key probe each).
pub async fn awaiting_vote<C: ConnectionTrait>(db: &C, actor: &Actor) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    let mut types = Vec::new();
    if actor.has_role(Role::CabMember) {
        types.push(ChangeType::Normal);
    }
    if actor.has_role(Role::ChangeManager) || actor.has_role(Role::ServiceHead) {
        types.push(ChangeType::Emergency);
    }
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let voted = Query::select()
        .expr(Expr::val(1))
        .from(cab_vote::Entity)
        .and_where(
            Expr::col((cab_vote::Entity, cab_vote::Column::ChangeId))
                .equals((change_request::Entity, Column::Id)),
        )
        .and_where(Expr::col((cab_vote::Entity, cab_vote::Column::Voter)).eq(actor.subject()))
        .to_owned();
    Ok(change_request::Entity::find()
        .filter(Column::State.eq(ChangeState::CabReview))
        .filter(Column::ChangeType.is_in(types))
        .filter(Column::RequestedBy.ne(actor.subject()))
        .filter(Expr::not_exists(voted))
        .order_by_asc(Column::ReferredAt)
        .order_by_asc(Column::Number)
        .all(db)
        .await?)
}

/// The changes assigned to the actor that are authorized, scheduled or being implemented, by
/// planned start (those without a window last, on every backend).
pub async fn to_implement<C: ConnectionTrait>(db: &C, actor: &Actor) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    Ok(change_request::Entity::find()
        .filter(Column::Assignee.eq(actor.subject()))
        .filter(Column::State.is_in(ChangeState::IN_FLIGHT))
        .order_by_with_nulls(Column::PlannedStart, Order::Asc, NullOrdering::Last)
        .order_by_asc(Column::Number)
        .all(db)
        .await?)
}

/// The changes the actor requested that wait on them: their drafts, to complete and submit,
/// oldest first. Nothing else waits on a requester: assessment, referral, scheduling and
/// reviews are the change manager's, votes the boards', implementation the assignee's (see
/// [`to_implement`]); rejected and cancelled changes are over. Someone who may not see drafts
/// (a CAB member) has none here.
pub async fn requested_needing_action<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    if !actor.can(Permission::ReadDraftChanges) {
        return Ok(Vec::new());
    }
    Ok(change_request::Entity::find()
        .filter(Column::RequestedBy.eq(actor.subject()))
        .filter(Column::State.eq(ChangeState::Draft))
        .order_by_asc(Column::Number)
        .all(db)
        .await?)
}

/// The change manager's assessment queue: NORMAL changes in ASSESSMENT (to assess, then
/// authorize, refer or reject) and EMERGENCY changes in CAB_REVIEW not yet assessed (the ECAB's
/// approval waits for it), oldest submission first. Empty for whoever may not assess.
pub async fn to_assess<C: ConnectionTrait>(db: &C, actor: &Actor) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    if !actor.can(Permission::AssessChange) {
        return Ok(Vec::new());
    }
    Ok(change_request::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(Column::ChangeType.eq(ChangeType::Normal))
                        .add(Column::State.eq(ChangeState::Assessment)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(Column::ChangeType.eq(ChangeType::Emergency))
                        .add(Column::State.eq(ChangeState::CabReview))
                        .add(Column::RiskLevel.is_null()),
                ),
        )
        .order_by_asc(Column::SubmittedAt)
        .order_by_asc(Column::Number)
        .all(db)
        .await?)
}

/// The change manager's scheduling queue: AUTHORIZED changes without a slot on the calendar
/// yet, the longest-waiting decision first. Empty for whoever may not schedule.
pub async fn to_schedule<C: ConnectionTrait>(db: &C, actor: &Actor) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    if !actor.can(Permission::ScheduleChange) {
        return Ok(Vec::new());
    }
    Ok(change_request::Entity::find()
        .filter(Column::State.eq(ChangeState::Authorized))
        .order_by_asc(Column::DecidedAt)
        .order_by_asc(Column::Number)
        .all(db)
        .await?)
}

/// The post-implementation reviews due: changes in REVIEW that must be reviewed before they
/// close (every EMERGENCY change; FAILED or BACKED_OUT outcomes) and have no review yet, the
/// longest-waiting first. Empty for whoever may not record reviews.
pub async fn reviews_due<C: ConnectionTrait>(db: &C, actor: &Actor) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    if !actor.can(Permission::RecordReview) {
        return Ok(Vec::new());
    }
    Ok(change_request::Entity::find()
        .filter(Column::State.eq(ChangeState::Review))
        .filter(Column::Review.is_null())
        .filter(
            sea_orm::Condition::any()
                .add(Column::ChangeType.eq(ChangeType::Emergency))
                .add(Column::Outcome.is_in([
                    crate::entity::ChangeOutcome::Failed,
                    crate::entity::ChangeOutcome::BackedOut,
                ])),
        )
        .order_by_asc(Column::CompletedAt)
        .order_by_asc(Column::Number)
        .all(db)
        .await?)
}
