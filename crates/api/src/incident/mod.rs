//! `incident(s)`, `slaTargets` and the incident mutations; problems in [`problem`].

pub(crate) mod objects;
pub(crate) mod problem;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use quorum_cmdb::SortDirection;
use quorum_core::DomainError;
use quorum_core::pagination::PageRequest;
use quorum_incident::{
    IncidentKey, IncidentOrderField, IncidentState, Level, Priority, ResolutionCode,
};

use objects::{Incident, SlaTarget};

use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::plain::Fast;

#[derive(Default)]
pub struct IncidentQuery;

#[derive(Default)]
pub struct IncidentMutation;

/// Narrows a list of incidents; every given criterion must hold.
#[derive(InputObject, Default)]
pub struct IncidentFilter {
    states: Option<Vec<IncidentState>>,
    priorities: Option<Vec<Priority>>,
    /// True: incidents whose response or resolution is (or was) late, judged now; false: the
    /// others.
    breached: Option<bool>,
    /// True: major incidents only; false: the others.
    major: Option<bool>,
    affected_item_id: Option<ID>,
    caused_by_change_id: Option<ID>,
    problem_id: Option<ID>,
    assignee: Option<String>,
    assignment_group: Option<String>,
    /// Opened at or after.
    opened_from: Option<DateTime<Utc>>,
    /// Opened before.
    opened_to: Option<DateTime<Utc>>,
    /// Case-insensitive part of the title or description, or the exact number.
    text: Option<String>,
}

/// Orders a list of incidents (newest first when not given).
#[derive(InputObject)]
pub struct IncidentOrder {
    #[graphql(default)]
    field: IncidentOrderField,
    #[graphql(default_with = "SortDirection::Desc")]
    direction: SortDirection,
}

/// A new incident; its priority and SLA come from impact and urgency.
#[derive(InputObject)]
pub struct CreateIncidentInput {
    title: String,
    description: Option<String>,
    impact: Level,
    urgency: Level,
    #[graphql(default)]
    affected_item_ids: Vec<ID>,
    /// Who reported it.
    caller: Option<String>,
    assignment_group: Option<String>,
}

/// Changes to an open incident: fields left out stay; `null` clears optional ones;
/// `affectedItemIds` replaces the CIs. A new impact or urgency recomputes the priority and
/// the SLA due times.
#[derive(InputObject, Default)]
pub struct UpdateIncidentInput {
    title: Option<String>,
    description: MaybeUndefined<String>,
    impact: Option<Level>,
    urgency: Option<Level>,
    caller: MaybeUndefined<String>,
    assignment_group: MaybeUndefined<String>,
    affected_item_ids: Option<Vec<ID>>,
}

/// New targets for one priority.
#[derive(InputObject)]
pub struct SlaTargetInput {
    priority: Priority,
    response_minutes: i32,
    resolution_minutes: i32,
}

fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
}

#[Object]
impl IncidentQuery {
    /// One incident by `id` or `number` (give exactly one); null when there is none.
    async fn incident(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
    ) -> async_graphql::Result<Option<Fast<Incident>>> {
        let actor = ctx.actor()?;
        let key = match (id, number) {
            (Some(id), None) => IncidentKey::Id(id.0),
            (None, Some(number)) => IncidentKey::Number(number),
            _ => {
                return Err(DomainError::bad_input(
                    "id",
                    "give exactly one of `id` and `number`",
                ))
                .gql(ctx);
            }
        };
        let incident = quorum_incident::find_incident(&ctx.app()?.db, actor, &key)
            .await
            .gql(ctx)?;
        Ok(incident.map(|incident| Fast(Incident::new(incident))))
    }

    /// Incidents, filtered and ordered (newest first when no order is given).
    #[graphql(complexity = "crate::connection::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        filter: Option<IncidentFilter>,
        order_by: Option<IncidentOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Fast<Incident>>> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let filter = quorum_incident::IncidentFilter {
            states: crate::connection::distinct(filter.states),
            priorities: crate::connection::distinct(filter.priorities),
            breached: filter.breached,
            major: filter.major,
            affected_item_id: filter.affected_item_id.map(|id| id.0),
            caused_by_change_id: filter.caused_by_change_id.map(|id| id.0),
            problem_id: filter.problem_id.map(|id| id.0),
            assignee: filter.assignee,
            assignment_group: filter.assignment_group,
            opened_from: filter.opened_from,
            opened_to: filter.opened_to,
            text: filter.text,
        };
        let (field, direction) = order_by
            .map_or((IncidentOrderField::Number, SortDirection::Desc), |order| {
                (order.field, order.direction)
            });
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            last,
            before,
        };
        let clock = ctx.clock()?;
        let incidents = quorum_incident::list_incidents(
            &app.db,
            actor,
            &filter,
            field,
            direction == SortDirection::Desc,
            || clock.now(),
            &page,
        )
        .await
        .gql(ctx)?;
        Ok(connection(incidents, |incident| {
            Fast(Incident::new(incident))
        }))
    }

    /// The SLA targets per priority, P1 first.
    async fn sla_targets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SlaTarget>> {
        let actor = ctx.actor()?;
        let targets = quorum_incident::sla_targets(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(targets.into_iter().map(SlaTarget).collect())
    }
}

/// Runs an incident mutation and wraps its result.
macro_rules! incident_op {
    ($ctx:expr, |$app:ident, $actor:ident| $call:expr) => {{
        let $actor = $ctx.actor()?;
        let $app = $ctx.app()?;
        let incident = $call.await.gql($ctx)?;
        Ok(Fast(Incident::new(incident)))
    }};
}

#[Object]
impl IncidentMutation {
    /// Logs an incident (ENGINEER, CHANGE_MANAGER, SERVICE_HEAD): NEW, numbered INC…, its
    /// priority from the matrix and its SLA due times from that priority's targets.
    async fn create_incident(
        &self,
        ctx: &Context<'_>,
        input: CreateIncidentInput,
    ) -> async_graphql::Result<Fast<Incident>> {
        let actor = ctx.actor()?;
        let (incident, items) = quorum_incident::create_incident_with_items(
            ctx.app()?.context(actor),
            quorum_incident::NewIncident {
                title: input.title,
                description: input.description,
                impact: input.impact,
                urgency: input.urgency,
                affected_item_ids: input.affected_item_ids.into_iter().map(|id| id.0).collect(),
                caller: input.caller,
                assignment_group: input.assignment_group,
            },
        )
        .await
        .gql(ctx)?;
        Ok(Fast(Incident::with_items(incident, items)))
    }

    /// Edits an open incident.
    async fn update_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: UpdateIncidentInput,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::update_incident(
            app.context(actor),
            &id,
            version,
            quorum_incident::IncidentEdits {
                title: input.title,
                description: maybe(input.description),
                impact: input.impact,
                urgency: input.urgency,
                caller: maybe(input.caller),
                assignment_group: maybe(input.assignment_group),
                affected_item_ids: input
                    .affected_item_ids
                    .map(|ids| ids.into_iter().map(|id| id.0).collect()),
            },
        ))
    }

    /// Assigns an open incident; the first assignment (or acknowledgement) is the response and
    /// moves NEW to IN_PROGRESS.
    async fn assign_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        assignee: String,
        assignment_group: Option<String>,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::assign_incident(
            app.context(actor),
            &id,
            version,
            assignee,
            assignment_group,
        ))
    }

    /// Acknowledges a NEW incident: the response; IN_PROGRESS, assigned to you when nobody is.
    async fn acknowledge_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::acknowledge_incident(
            app.context(actor),
            &id,
            version,
        ))
    }

    /// Puts an incident IN_PROGRESS on hold, with a reason; the resolution clock stops.
    async fn put_incident_on_hold(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: String,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::put_incident_on_hold(
            app.context(actor),
            &id,
            version,
            reason,
        ))
    }

    /// Resumes an incident ON_HOLD; the resolution clock runs again.
    async fn resume_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::resume_incident(
            app.context(actor),
            &id,
            version,
        ))
    }

    /// Resolves an open incident with a code and notes.
    async fn resolve_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        code: ResolutionCode,
        notes: String,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::resolve_incident(
            app.context(actor),
            &id,
            version,
            code,
            notes,
        ))
    }

    /// Closes a RESOLVED incident.
    async fn close_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::close_incident(
            app.context(actor),
            &id,
            version,
        ))
    }

    /// Reopens a RESOLVED incident (counted), with a reason.
    async fn reopen_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: String,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::reopen_incident(
            app.context(actor),
            &id,
            version,
            reason,
        ))
    }

    /// Names the change that caused the incident, or clears it with `null` (ENGINEER,
    /// CHANGE_MANAGER); the change must have started implementing.
    async fn set_incident_cause(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        change_id: Option<ID>,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::set_incident_cause(
            app.context(actor),
            &id,
            version,
            change_id.map(|id| id.0),
        ))
    }

    /// Raises an open incident to a major incident (ENGINEER, CHANGE_MANAGER, SERVICE_HEAD).
    async fn raise_major_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: Option<String>,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::raise_major_incident(
            app.context(actor),
            &id,
            version,
            reason,
        ))
    }

    /// Lowers a major incident (SERVICE_HEAD), with a reason.
    async fn lower_major_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: String,
    ) -> async_graphql::Result<Fast<Incident>> {
        incident_op!(ctx, |app, actor| quorum_incident::lower_major_incident(
            app.context(actor),
            &id,
            version,
            reason,
        ))
    }

    /// Sets SLA targets (SERVICE_HEAD); open incidents keep the targets they have.
    async fn update_sla_targets(
        &self,
        ctx: &Context<'_>,
        targets: Vec<SlaTargetInput>,
    ) -> async_graphql::Result<Vec<SlaTarget>> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let targets = quorum_incident::update_sla_targets(
            app.context(actor),
            targets
                .into_iter()
                .map(|target| quorum_incident::SlaTargetInput {
                    priority: target.priority,
                    response_minutes: target.response_minutes,
                    resolution_minutes: target.resolution_minutes,
                })
                .collect(),
        )
        .await
        .gql(ctx)?;
        Ok(targets.into_iter().map(SlaTarget).collect())
    }
}
