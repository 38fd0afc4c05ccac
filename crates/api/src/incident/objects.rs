//! The incident and problem GraphQL objects.

use async_graphql::parser::types::Field;
use async_graphql::{Context, ID, Object, SimpleObject, Value};
use chrono::{DateTime, Utc};
use quorum_core::pagination::PageRequest;
use quorum_incident::{IncidentAction, IncidentState, Level, Priority, ResolutionCode};
use quorum_problem::{ProblemAction, ProblemState};

use crate::audit::AuditEvent;
use crate::change::objects::Change;
use crate::cmdb::objects::ConfigurationItem;
use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::loader::{
    Batched, ChangeLoader, FixChangesLoader, IncidentItemsLoader, ProblemIncidentsLoader,
    ProblemItemsLoader, ProblemLoader,
};
use crate::plain::{Fast, FastList, Plain, Walk, instant, maybe_instant, maybe_text, text, value};

/// Loads changes by id, in the order of `ids`, leaving out those the viewer may not see.
pub(crate) async fn changes_by_id(
    ctx: &Context<'_>,
    ids: &[String],
) -> async_graphql::Result<Vec<Change>> {
    let loader = ctx.data::<Batched<ChangeLoader>>()?;
    let found = loader.load_many(ids.iter().cloned()).await.gql(ctx)?;
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id).cloned().map(Change::new))
        .collect())
}

/// An unplanned interruption or degradation of a service.
pub struct Incident(
    pub(crate) std::sync::Arc<quorum_incident::Incident>,
    /// Its CIs, when they came with it (a creation answers with those it linked).
    Option<Vec<std::sync::Arc<quorum_cmdb::ConfigurationItem>>>,
);

impl Incident {
    pub(crate) fn new(incident: quorum_incident::Incident) -> Self {
        Self::shared(std::sync::Arc::new(incident))
    }

    pub(crate) fn shared(incident: std::sync::Arc<quorum_incident::Incident>) -> Self {
        Self(incident, None)
    }

    /// `incident` with its CIs, by number.
    pub(crate) fn with_items(
        incident: quorum_incident::Incident,
        items: Vec<quorum_cmdb::ConfigurationItem>,
    ) -> Self {
        let items = items.into_iter().map(std::sync::Arc::new).collect();
        Self(std::sync::Arc::new(incident), Some(items))
    }

    /// Its CIs, by number: those it came with, or else from the request's loader.
    async fn items(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<std::sync::Arc<quorum_cmdb::ConfigurationItem>>> {
        crate::loader::read_or_load::<IncidentItemsLoader, _>(ctx, &self.0.id, self.1.as_ref())
            .await
    }
}

impl Plain for Incident {
    fn plain(&self, field: &Field, walk: &Walk<'_>) -> Option<Value> {
        let incident = &*self.0;
        match field.name.node.as_str() {
            "id" => value(&ID(incident.id.clone())),
            "number" => text(&incident.number),
            "title" => text(&incident.title),
            "description" => maybe_text(incident.description.as_deref()),
            "impact" => value(&incident.impact),
            "urgency" => value(&incident.urgency),
            "priority" => value(&incident.priority),
            "state" => value(&incident.state),
            "caller" => maybe_text(incident.caller.as_deref()),
            "assignmentGroup" => maybe_text(incident.assignment_group.as_deref()),
            "assignee" => maybe_text(incident.assignee.as_deref()),
            "majorIncident" => value(&incident.major_incident),
            "resolutionCode" => value(&incident.resolution_code),
            "resolutionNotes" => maybe_text(incident.resolution_notes.as_deref()),
            "reopenCount" => value(&incident.reopen_count),
            "holdReason" => maybe_text(incident.hold_reason.as_deref()),
            "openedBy" => text(&incident.opened_by),
            "openedAt" => instant(&incident.opened_at),
            "respondedAt" => maybe_instant(incident.responded_at.as_ref()),
            "resolvedAt" => maybe_instant(incident.resolved_at.as_ref()),
            "closedAt" => maybe_instant(incident.closed_at.as_ref()),
            "version" => value(&incident.version),
            "updatedAt" => instant(&incident.updated_at),
            "affectedItems" => walk.list(
                self.1
                    .as_ref()?
                    .iter()
                    .map(|item| ConfigurationItem::new(item.clone(), None)),
                field,
            ),
            _ => None,
        }
    }
}

#[Object]
impl Incident {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Human number, e.g. `INC0000017`.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn impact(&self) -> Level {
        self.0.impact
    }

    async fn urgency(&self) -> Level {
        self.0.urgency
    }

    /// From impact and urgency by the ITIL matrix (H/H P1; H/M, M/H P2; H/L, M/M, L/H P3;
    /// M/L, L/M P4; L/L P5); never set directly.
    async fn priority(&self) -> Priority {
        self.0.priority
    }

    async fn state(&self) -> IncidentState {
        self.0.state
    }

    /// Who reported it.
    async fn caller(&self) -> Option<&str> {
        self.0.caller.as_deref()
    }

    async fn assignment_group(&self) -> Option<&str> {
        self.0.assignment_group.as_deref()
    }

    /// Subject of who works it.
    async fn assignee(&self) -> Option<&str> {
        self.0.assignee.as_deref()
    }

    async fn major_incident(&self) -> bool {
        self.0.major_incident
    }

    async fn resolution_code(&self) -> Option<ResolutionCode> {
        self.0.resolution_code
    }

    async fn resolution_notes(&self) -> Option<&str> {
        self.0.resolution_notes.as_deref()
    }

    /// How many times it was reopened.
    async fn reopen_count(&self) -> i32 {
        self.0.reopen_count
    }

    /// Why it is on hold, while it is.
    async fn hold_reason(&self) -> Option<&str> {
        self.0.hold_reason.as_deref()
    }

    /// Subject of who logged it.
    async fn opened_by(&self) -> &str {
        &self.0.opened_by
    }

    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }

    /// The first assignment or acknowledgement.
    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.0.responded_at
    }

    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }

    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    /// Send it back with every incident mutation: a stale one is CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The SLA clocks as of now (the server's clock).
    async fn sla(&self, ctx: &Context<'_>) -> async_graphql::Result<Sla> {
        let now = ctx.clock()?.now();
        let status = quorum_incident::sla::status(&self.0, now);
        Ok(Sla {
            response_target_minutes: self.0.response_target_minutes,
            resolution_target_minutes: self.0.resolution_target_minutes,
            response_due: status.response_due,
            resolution_due: status.resolution_due,
            response_breached: status.response_breached,
            resolution_breached: status.resolution_breached,
            remaining_seconds: status.remaining_seconds,
            paused_seconds: status.paused_seconds,
        })
    }

    /// The CIs it hits, by number.
    async fn affected_items(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<FastList<ConfigurationItem>> {
        ctx.actor()?;
        Ok(self
            .items(ctx)
            .await?
            .into_iter()
            .map(|item| ConfigurationItem::new(item, None))
            .collect())
    }

    /// The change that caused it, when known.
    async fn caused_by_change(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Change>> {
        ctx.actor()?;
        let Some(id) = &self.0.caused_by_change_id else {
            return Ok(None);
        };
        Ok(changes_by_id(ctx, std::slice::from_ref(id)).await?.pop())
    }

    /// The problem behind it, when linked.
    async fn problem(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Problem>> {
        ctx.actor()?;
        let Some(id) = &self.0.problem_id else {
            return Ok(None);
        };
        let loader = ctx.data::<Batched<ProblemLoader>>()?;
        Ok(loader.load_one(id.clone()).await.gql(ctx)?.map(Problem))
    }

    /// What the viewer may do next, and why not.
    async fn available_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<IncidentTransition>> {
        let actor = ctx.actor()?;
        Ok(quorum_incident::available_transitions(&self.0, actor)
            .into_iter()
            .map(|transition| IncidentTransition {
                action: transition.action,
                allowed: transition.allowed,
                reason: transition.reason,
                code: transition.code,
            })
            .collect())
    }

    /// Its events, newest first.
    #[graphql(complexity = "crate::connection::complexity(first, None, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Fast<AuditEvent>>> {
        let actor = ctx.actor()?;
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            ..PageRequest::default()
        };
        let events = quorum_incident::incident_history(&ctx.app()?.db, actor, &self.0.id, &page)
            .await
            .gql(ctx)?;
        Ok(connection(events, Fast::from))
    }
}

/// An incident's SLA clocks, as of the server's now.
#[derive(SimpleObject)]
pub struct Sla {
    /// The targets it was opened (or last re-prioritized) with.
    response_target_minutes: i32,
    resolution_target_minutes: i32,
    response_due: DateTime<Utc>,
    /// Later by every pause (ON_HOLD, or RESOLVED before a reopen), the one in progress
    /// included.
    resolution_due: DateTime<Utc>,
    /// Responded late, or not yet and already late.
    response_breached: bool,
    /// Resolved late, or not yet and already late.
    resolution_breached: bool,
    /// Seconds to the resolution due time (negative once late); frozen while on hold and once
    /// resolved.
    remaining_seconds: i64,
    /// Seconds the resolution clock has stood still.
    paused_seconds: i64,
}

/// Whether the viewer may take an incident action now.
#[derive(SimpleObject)]
pub struct IncidentTransition {
    action: IncidentAction,
    allowed: bool,
    /// Why not; null when allowed.
    reason: Option<String>,
    /// Why not, as a code to switch on; null when allowed.
    code: Option<quorum_core::TransitionBlock>,
}

/// The response and resolution targets of a priority.
pub struct SlaTarget(pub(crate) quorum_incident::SlaTarget);

#[Object]
impl SlaTarget {
    async fn priority(&self) -> Priority {
        self.0.priority
    }

    async fn response_minutes(&self) -> i32 {
        self.0.response_minutes
    }

    async fn resolution_minutes(&self) -> i32 {
        self.0.resolution_minutes
    }

    async fn updated_by(&self) -> Option<&str> {
        self.0.updated_by.as_deref()
    }

    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.updated_at
    }
}

/// The cause behind one or more incidents.
pub struct Problem(pub(crate) quorum_problem::Problem);

#[Object]
impl Problem {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Human number, e.g. `PRB0000003`.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn state(&self) -> ProblemState {
        self.0.state
    }

    async fn root_cause(&self) -> Option<&str> {
        self.0.root_cause.as_deref()
    }

    /// What the service desk can do meanwhile.
    async fn workaround(&self) -> Option<&str> {
        self.0.workaround.as_deref()
    }

    async fn known_error_at(&self) -> Option<DateTime<Utc>> {
        self.0.known_error_at
    }

    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }

    /// Why it was resolved without a successful fix change, when it was.
    async fn resolution_reason(&self) -> Option<&str> {
        self.0.resolution_reason.as_deref()
    }

    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    async fn close_reason(&self) -> Option<&str> {
        self.0.close_reason.as_deref()
    }

    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn version(&self) -> i32 {
        self.0.version
    }

    /// Its incidents, by number.
    async fn incidents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Incident>> {
        ctx.actor()?;
        let loader = ctx.data::<Batched<ProblemIncidentsLoader>>()?;
        Ok(loader
            .load_one(self.0.id.clone())
            .await
            .gql(ctx)?
            .unwrap_or_default()
            .into_iter()
            .map(Incident::new)
            .collect())
    }

    /// The changes raised to fix it, in link order.
    async fn fix_changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Change>> {
        ctx.actor()?;
        let loader = ctx.data::<Batched<FixChangesLoader>>()?;
        let ids = loader
            .load_one(self.0.id.clone())
            .await
            .gql(ctx)?
            .unwrap_or_default();
        changes_by_id(ctx, &ids).await
    }

    /// Its own CIs and its incidents' CIs, by number, each once.
    async fn affected_items(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ConfigurationItem>> {
        ctx.actor()?;
        let loader = ctx.data::<Batched<ProblemItemsLoader>>()?;
        Ok(loader
            .load_one(self.0.id.clone())
            .await
            .gql(ctx)?
            .unwrap_or_default()
            .into_iter()
            .map(|item| ConfigurationItem::new(item, None))
            .collect())
    }

    /// What the viewer may do next, and why not.
    async fn available_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ProblemTransition>> {
        let actor = ctx.actor()?;
        Ok(quorum_problem::available_transitions(&self.0, actor)
            .into_iter()
            .map(|transition| ProblemTransition {
                action: transition.action,
                allowed: transition.allowed,
                reason: transition.reason,
                code: transition.code,
            })
            .collect())
    }

    /// Its events, newest first.
    #[graphql(complexity = "crate::connection::complexity(first, None, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Fast<AuditEvent>>> {
        let actor = ctx.actor()?;
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            ..PageRequest::default()
        };
        let events = quorum_problem::problem_history(&ctx.app()?.db, actor, &self.0.id, &page)
            .await
            .gql(ctx)?;
        Ok(connection(events, Fast::from))
    }
}

/// Whether the viewer may take a problem action now.
#[derive(SimpleObject)]
pub struct ProblemTransition {
    action: ProblemAction,
    allowed: bool,
    /// Why not; null when allowed.
    reason: Option<String>,
    /// Why not, as a code to switch on; null when allowed.
    code: Option<quorum_core::TransitionBlock>,
}
