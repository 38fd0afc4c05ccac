//! What waits on one person: the open incidents assigned to them, for `viewer.work`.

use quorum_core::{Actor, DomainResult, Permission};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder};

use crate::entity::IncidentState;
use crate::entity::incident::{self, Column, Model};

/// The states in which an incident is still being worked.
pub const OPEN_STATES: [IncidentState; 3] = [
    IncidentState::New,
    IncidentState::InProgress,
    IncidentState::OnHold,
];

/// The open incidents (NEW, IN_PROGRESS, ON_HOLD) assigned to the actor, all of them: those
/// whose clock runs first, nearest resolution due time first (so breached ones lead), then
/// those on hold (their clock is stopped), then by number. One statement on the assignee index.
pub async fn open_incidents_assigned_to_me<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadIncidents)?;
    Ok(incident::Entity::find()
        .filter(Column::Assignee.eq(actor.subject()))
        .filter(Column::State.is_in(OPEN_STATES))
        .order_by(
            Expr::col((incident::Entity, Column::OnHoldSince)).is_not_null(),
            Order::Asc,
        )
        .order_by_asc(Column::ResolutionDue)
        .order_by_asc(Column::Number)
        .all(db)
        .await?)
}
