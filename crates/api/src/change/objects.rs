//! The change domain's GraphQL objects, built from domain values.

use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::{Context, ID, Object, SelectionField, SimpleObject, Value};
use chrono::{DateTime, Utc};
use quorum_change::ChangeColumn;
use quorum_change::{
    Board, ChangeAction, ChangeOutcome, ChangeState, ChangeType, ConflictKind, RiskLevel,
    UserImpact, VoteDecision,
};
use quorum_cmdb::WalkDirection;
use quorum_core::pagination::PageRequest;
use sea_orm::IdenStatic;
use serde::Deserialize;

use crate::audit::AuditEvent;
use crate::cmdb::objects::{ConfigurationItem, ImpactedItem};
use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::loader::{
    AffectedItemsLoader, Batched, CiAt, ConfigurationItemLoader, PolicyLoader, TemplateLoader,
    VotesLoader, read_now, read_or_load,
};
use crate::plain::{Fast, FastList, Plain, Walk, instant, maybe_instant, maybe_text, text, value};

/// A request for change (RFC), from draft to closure, with what was read along with it.
pub struct Change(pub(crate) Arc<quorum_change::Change>, Related);

/// A change's CIs and votes when they were read with the list it is on ([`ListRelated`]):
/// then its fields answer from them, without a loader, and in one pass ([`Plain`]).
#[derive(Default)]
struct Related {
    items: Option<Vec<Arc<quorum_cmdb::ConfigurationItem>>>,
    votes: Option<Vec<quorum_change::Vote>>,
}

/// The CIs and votes of a list's changes, read at once for the whole list when its selection
/// shows them (look-ahead), so that no field waits for a loader to gather its siblings.
pub(crate) struct ListRelated {
    items: Option<std::collections::HashMap<String, Vec<Arc<quorum_cmdb::ConfigurationItem>>>>,
    votes: Option<std::collections::HashMap<String, Vec<quorum_change::Vote>>>,
}

impl ListRelated {
    /// Reads, for the changes `ids`, what a field selected on `nodes` shows: their CIs
    /// (`affectedItems`) and votes (`votes`, `myVote`), the two reads at once. A read that
    /// fails is left to the fields, whose loaders report its error on each as before.
    pub(crate) async fn read(
        ctx: &Context<'_>,
        nodes: &[SelectionField<'_>],
        ids: &[String],
    ) -> Self {
        let selects = |names: &[&str]| {
            nodes
                .iter()
                .flat_map(|node| node.selection_set())
                .any(|field| names.contains(&field.name()))
        };
        let items = read_now::<AffectedItemsLoader>(ctx, selects(&["affectedItems"]), ids);
        let votes = read_now::<VotesLoader>(ctx, selects(&["votes", "myVote"]), ids);
        let (items, votes) = futures_util::future::join(items, votes).await;
        Self { items, votes }
    }

    /// What a list read, given (for tests of the fields that answer from it).
    #[cfg(test)]
    pub(crate) fn of(
        items: std::collections::HashMap<String, Vec<Arc<quorum_cmdb::ConfigurationItem>>>,
        votes: std::collections::HashMap<String, Vec<quorum_change::Vote>>,
    ) -> Self {
        Self {
            items: Some(items),
            votes: Some(votes),
        }
    }

    /// `change` as an object, with its part of what was read.
    pub(crate) fn attach(&mut self, change: quorum_change::Change) -> Change {
        let related = Related {
            items: self
                .items
                .as_mut()
                .map(|items| items.remove(&change.id).unwrap_or_default()),
            votes: self
                .votes
                .as_mut()
                .map(|votes| votes.remove(&change.id).unwrap_or_default()),
        };
        Change(Arc::new(change), related)
    }
}

impl Change {
    pub(crate) fn new(change: quorum_change::Change) -> Self {
        Self::shared(Arc::new(change))
    }

    pub(crate) fn shared(change: Arc<quorum_change::Change>) -> Self {
        Self(change, Related::default())
    }

    /// The standing votes, oldest first.
    async fn standing_votes(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<quorum_change::Vote>> {
        read_or_load::<VotesLoader, _>(ctx, &self.0.id, self.1.votes.as_ref()).await
    }

    /// The CIs the change touches, by number.
    pub(crate) async fn items(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<Arc<quorum_cmdb::ConfigurationItem>>> {
        read_or_load::<AffectedItemsLoader, _>(ctx, &self.0.id, self.1.items.as_ref()).await
    }

    /// The viewer's standing vote, if any.
    pub(crate) async fn viewer_vote(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<CabVote>> {
        let actor = ctx.actor()?;
        Ok(self
            .standing_votes(ctx)
            .await?
            .into_iter()
            .find(|vote| vote.voter == actor.subject())
            .map(CabVote))
    }

    /// Whether the change has been assessed. Score and level are written with the assessment,
    /// so their column tells it when the assessment itself was left unread.
    fn assessed(&self) -> bool {
        self.0.risk.is_some() || self.0.risk_score.is_some()
    }

    fn assessment(&self) -> RiskAssessment {
        RiskAssessment {
            change: self.0.clone(),
            decoded: std::sync::OnceLock::new(),
        }
    }

    async fn affected_ids(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(self
            .items(ctx)
            .await?
            .iter()
            .map(|item| item.id.clone())
            .collect())
    }
}

/// Loads CIs by id through the request's loader, in the order of `ids`.
pub(crate) async fn items_by_id(
    ctx: &Context<'_>,
    ids: &[String],
) -> async_graphql::Result<Vec<ConfigurationItem>> {
    let loader = ctx.data::<Batched<ConfigurationItemLoader>>()?;
    let keys = ids.iter().map(|id| CiAt {
        id: id.clone(),
        as_of: None,
    });
    let found = loader.load_many(keys).await.gql(ctx)?;
    let mut items: Vec<ConfigurationItem> = ids
        .iter()
        .filter_map(|id| {
            found
                .get(&CiAt {
                    id: id.clone(),
                    as_of: None,
                })
                .map(|item| ConfigurationItem::new(item.clone(), None))
        })
        .collect();
    items.sort_by(|a, b| a.item.number.cmp(&b.item.number));
    Ok(items)
}

/// The columns of a change that no field selected on `nodes` (the selections of a list's
/// changes) reads, to be left unread ([`quorum_core::columns`]). Each field names the optional
/// columns its answer reads; a field not named here might read any, so it keeps them all.
pub(crate) fn unread_columns(nodes: &[SelectionField<'_>]) -> Vec<ChangeColumn> {
    use ChangeColumn as C;
    const OPTIONAL: [ChangeColumn; 9] = [
        C::Description,
        C::Justification,
        C::ImplementationPlan,
        C::BackoutPlan,
        C::TestPlan,
        C::CompletionNotes,
        C::Review,
        C::Risk,
        C::ScheduleOverrideReason,
    ];
    let mut unread = OPTIONAL.to_vec();
    for field in nodes.iter().flat_map(|node| node.selection_set()) {
        let reads: &[ChangeColumn] = match field.name() {
            "description" => &[C::Description],
            "justification" => &[C::Justification],
            "implementationPlan" => &[C::ImplementationPlan],
            "backoutPlan" => &[C::BackoutPlan],
            "testPlan" => &[C::TestPlan],
            "completionNotes" => &[C::CompletionNotes],
            "review" => &[C::Review],
            "scheduleOverrideReason" => &[C::ScheduleOverrideReason],
            // Score and level have columns of their own; the rest is the stored assessment.
            "risk" => {
                if field
                    .selection_set()
                    .all(|part| matches!(part.name(), "score" | "level" | "__typename"))
                {
                    &[]
                } else {
                    &[C::Risk]
                }
            }
            "__typename"
            | "id"
            | "number"
            | "type"
            | "state"
            | "title"
            | "requestedBy"
            | "assignee"
            | "plannedStart"
            | "plannedEnd"
            | "actualStart"
            | "actualEnd"
            | "startedOutsideWindow"
            | "outcome"
            | "submittedAt"
            | "referredAt"
            | "decidedAt"
            | "completedAt"
            | "closedAt"
            | "version"
            | "createdAt"
            | "updatedAt"
            | "affectedItems"
            | "votes"
            | "myVote"
            | "history"
            | "causedIncidents"
            | "resolvesProblems" => &[],
            _ => &OPTIONAL,
        };
        unread.retain(|column| !reads.iter().any(|read| read.as_str() == column.as_str()));
    }
    unread
}

#[Object]
impl Change {
    /// Opaque id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Human number, e.g. `CHG0000042`.
    async fn number(&self) -> &str {
        &self.0.number
    }

    #[graphql(name = "type")]
    async fn change_type(&self) -> ChangeType {
        self.0.change_type
    }

    async fn state(&self) -> ChangeState {
        self.0.state
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Why the change is needed.
    async fn justification(&self) -> Option<&str> {
        self.0.justification.as_deref()
    }

    async fn implementation_plan(&self) -> Option<&str> {
        self.0.implementation_plan.as_deref()
    }

    async fn backout_plan(&self) -> Option<&str> {
        self.0.backout_plan.as_deref()
    }

    async fn test_plan(&self) -> Option<&str> {
        self.0.test_plan.as_deref()
    }

    /// Subject of the requester.
    async fn requested_by(&self) -> &str {
        &self.0.requested_by
    }

    /// Subject of who implements it.
    async fn assignee(&self) -> Option<&str> {
        self.0.assignee.as_deref()
    }

    async fn planned_start(&self) -> Option<DateTime<Utc>> {
        self.0.planned_start
    }

    async fn planned_end(&self) -> Option<DateTime<Utc>> {
        self.0.planned_end
    }

    async fn actual_start(&self) -> Option<DateTime<Utc>> {
        self.0.actual_start
    }

    async fn actual_end(&self) -> Option<DateTime<Utc>> {
        self.0.actual_end
    }

    /// True when implementation started outside the planned window (allowed, but counted).
    async fn started_outside_window(&self) -> bool {
        self.0.started_outside_window
    }

    /// How the implementation ended; null until it has.
    async fn outcome(&self) -> Option<ChangeOutcome> {
        self.0.outcome
    }

    async fn completion_notes(&self) -> Option<&str> {
        self.0.completion_notes.as_deref()
    }

    /// The post-implementation review; null until recorded.
    async fn review(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Review>> {
        self.0
            .review
            .as_ref()
            .map(|json| {
                quorum_change::Review::deserialize(json)
                    .map(Review)
                    .map_err(|error| {
                        quorum_core::DomainError::Internal(format!(
                            "the stored review of {} does not decode: {error}",
                            self.0.number
                        ))
                    })
                    .gql(ctx)
            })
            .transpose()
    }

    /// Whether the change needs a review before it closes: FAILED or BACKED_OUT outcomes and
    /// every EMERGENCY change.
    async fn review_required(&self) -> bool {
        quorum_change::lifecycle::review_required(&self.0)
    }

    /// The risk, once assessed (standard changes: at submission). The score is the sum of the
    /// factors' points.
    async fn risk(&self) -> Option<RiskAssessment> {
        self.assessed().then(|| self.assessment())
    }

    /// Why it was scheduled over conflicts, when it was.
    async fn schedule_override_reason(&self) -> Option<&str> {
        self.0.schedule_override_reason.as_deref()
    }

    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }

    /// When it went to the CAB (or ECAB).
    async fn referred_at(&self) -> Option<DateTime<Utc>> {
        self.0.referred_at
    }

    /// When it was authorized or rejected.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    /// When it was closed or cancelled.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    /// Send it back with every change mutation but votes: a stale one is CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The CIs the change touches, by number.
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

    /// The standing CAB (or ECAB) votes, oldest first; a member's second vote replaces the
    /// first (both are in `history`).
    async fn votes(&self, ctx: &Context<'_>) -> async_graphql::Result<FastList<CabVote>> {
        ctx.actor()?;
        Ok(self
            .standing_votes(ctx)
            .await?
            .into_iter()
            .map(CabVote)
            .collect())
    }

    /// The viewer's standing vote on this change; null when they have not voted.
    async fn my_vote(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CabVote>> {
        self.viewer_vote(ctx).await
    }

    /// The standard template it was raised from.
    async fn template(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<StandardChangeTemplate>> {
        ctx.actor()?;
        let Some(id) = &self.0.template_id else {
            return Ok(None);
        };
        let loader = ctx.data::<Batched<TemplateLoader>>()?;
        Ok(loader
            .load_one(id.clone())
            .await
            .gql(ctx)?
            .map(StandardChangeTemplate))
    }

    /// Conflicts of the planned window (none without one): other in-flight changes (AUTHORIZED,
    /// SCHEDULED, IMPLEMENTING) with an overlapping window on the same CI (SAME_CI) or on a CI
    /// within the policy's conflict depth along relationships, one way (DEPENDENT_CI, with the
    /// path), and freeze windows holding its CIs (FREEZE_WINDOW). Ordered by kind, then the
    /// other change or window, then CI.
    #[graphql(complexity = "50 + child_complexity")]
    async fn conflicts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ChangeConflict>> {
        let actor = ctx.actor()?;
        let conflicts = quorum_change::change_conflicts(&ctx.app()?.db, actor, &self.0)
            .await
            .gql(ctx)?;
        Ok(conflicts.into_iter().map(ChangeConflict).collect())
    }

    /// Everything a change to its CIs reaches, up to `depth` hops (1 to 10): the union of the
    /// affected CIs' impact, business services apart.
    #[graphql(complexity = "crate::cmdb::walk_complexity(depth, child_complexity)")]
    async fn blast_radius(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] depth: i32,
    ) -> async_graphql::Result<BlastRadius> {
        let actor = ctx.actor()?;
        let depth = u32::try_from(depth)
            .ok()
            .filter(|depth| (1..=quorum_cmdb::MAX_WALK_DEPTH).contains(depth))
            .ok_or_else(|| {
                quorum_core::DomainError::bad_input(
                    "depth",
                    format!("depth must be 1 to {}", quorum_cmdb::MAX_WALK_DEPTH),
                )
            })
            .gql(ctx)?;
        let ids = self.affected_ids(ctx).await?;
        let walk =
            quorum_cmdb::walk_from(&ctx.app()?.db, actor, &ids, WalkDirection::Impact, depth)
                .await
                .gql(ctx)?;
        let to_item = |reached: &quorum_cmdb::Reached| ImpactedItem::from_reached(reached, None);
        Ok(BlastRadius {
            roots: items_by_id(ctx, &ids).await?,
            depth: i32::try_from(depth).unwrap_or(i32::MAX),
            business_services: walk.business_services().map(to_item).collect(),
            items: walk.reached.iter().map(to_item).collect(),
            truncated: walk.truncated,
        })
    }

    /// The incidents this change caused, by number.
    async fn caused_incidents(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::incident::objects::Incident>> {
        ctx.actor()?;
        let loader = ctx.data::<Batched<crate::loader::CausedIncidentsLoader>>()?;
        Ok(loader
            .load_one(self.0.id.clone())
            .await
            .gql(ctx)?
            .unwrap_or_default()
            .into_iter()
            .map(crate::incident::objects::Incident::new)
            .collect())
    }

    /// The problems this change was raised to fix, by number.
    async fn resolves_problems(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::incident::objects::Problem>> {
        ctx.actor()?;
        let loader = ctx.data::<Batched<crate::loader::ResolvedProblemsLoader>>()?;
        Ok(loader
            .load_one(self.0.id.clone())
            .await
            .gql(ctx)?
            .unwrap_or_default()
            .into_iter()
            .map(crate::incident::objects::Problem)
            .collect())
    }

    /// What the viewer may do next, and why not: render buttons from this.
    async fn available_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<AvailableTransition>> {
        let actor = ctx.actor()?;
        let loader = ctx.data::<Batched<PolicyLoader>>()?;
        let policy = loader
            .load_one(())
            .await
            .gql(ctx)?
            .ok_or_else(|| async_graphql::Error::new("the change policy is missing"))?;
        // What only a draft's submission depends on beyond the row: its CIs and template.
        let facts = if self.0.state == ChangeState::Draft {
            let template_active = match &self.0.template_id {
                Some(id) => Some(
                    ctx.data::<Batched<TemplateLoader>>()?
                        .load_one(id.clone())
                        .await
                        .gql(ctx)?
                        .is_some_and(|template| template.active),
                ),
                None => None,
            };
            quorum_change::lifecycle::Facts {
                affected_items: Some(self.affected_ids(ctx).await?.len()),
                template_active,
            }
        } else {
            quorum_change::lifecycle::Facts::default()
        };
        Ok(
            quorum_change::lifecycle::available_transitions_with(&self.0, actor, &policy, facts)
                .into_iter()
                .map(|transition| AvailableTransition {
                    action: transition.action,
                    allowed: transition.allowed,
                    reason: transition.reason,
                    code: transition.code,
                })
                .collect(),
        )
    }

    /// The change's events (moves, edits, votes), newest first, with actor and reason.
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
        let events = quorum_change::change_history(&ctx.app()?.db, actor, &self.0, &page)
            .await
            .gql(ctx)?;
        Ok(connection(events, Fast::from))
    }
}

impl Plain for Change {
    fn plain(&self, field: &Field, walk: &Walk<'_>) -> Option<Value> {
        let change = &*self.0;
        match field.name.node.as_str() {
            "id" => value(&ID(change.id.clone())),
            "number" => text(&change.number),
            "type" => value(&change.change_type),
            "state" => value(&change.state),
            "title" => text(&change.title),
            "description" => maybe_text(change.description.as_deref()),
            "justification" => maybe_text(change.justification.as_deref()),
            "implementationPlan" => maybe_text(change.implementation_plan.as_deref()),
            "backoutPlan" => maybe_text(change.backout_plan.as_deref()),
            "testPlan" => maybe_text(change.test_plan.as_deref()),
            "requestedBy" => text(&change.requested_by),
            "assignee" => maybe_text(change.assignee.as_deref()),
            "plannedStart" => maybe_instant(change.planned_start.as_ref()),
            "plannedEnd" => maybe_instant(change.planned_end.as_ref()),
            "actualStart" => maybe_instant(change.actual_start.as_ref()),
            "actualEnd" => maybe_instant(change.actual_end.as_ref()),
            "startedOutsideWindow" => value(&change.started_outside_window),
            "outcome" => value(&change.outcome),
            "completionNotes" => maybe_text(change.completion_notes.as_deref()),
            "reviewRequired" => value(&quorum_change::lifecycle::review_required(change)),
            "risk" => match self.assessed() {
                false => Some(Value::Null),
                true => walk.object(&self.assessment(), field),
            },
            "affectedItems" => walk.list(
                self.1
                    .items
                    .as_ref()?
                    .iter()
                    .map(|item| ConfigurationItem::new(item.clone(), None)),
                field,
            ),
            "votes" => walk.list(self.1.votes.as_ref()?.iter().cloned().map(CabVote), field),
            "scheduleOverrideReason" => maybe_text(change.schedule_override_reason.as_deref()),
            "submittedAt" => maybe_instant(change.submitted_at.as_ref()),
            "referredAt" => maybe_instant(change.referred_at.as_ref()),
            "decidedAt" => maybe_instant(change.decided_at.as_ref()),
            "completedAt" => maybe_instant(change.completed_at.as_ref()),
            "closedAt" => maybe_instant(change.closed_at.as_ref()),
            "version" => value(&change.version),
            "createdAt" => instant(&change.created_at),
            "updatedAt" => instant(&change.updated_at),
            _ => None,
        }
    }
}

impl Plain for RiskAssessment {
    fn plain(&self, field: &Field, walk: &Walk<'_>) -> Option<Value> {
        match field.name.node.as_str() {
            "score" => match self.change.risk_score {
                Some(score) => value(&score),
                None => value(&self.stored()?.score),
            },
            "level" => match self.change.risk_level {
                Some(level) => value(&level),
                None => value(&self.stored()?.level),
            },
            "factors" => walk.list(
                self.stored()?.factors.iter().cloned().map(RiskFactor),
                field,
            ),
            "assessedAt" => instant(&self.stored()?.assessed_at),
            "assessedBy" => text(&self.stored()?.assessed_by),
            _ => None,
        }
    }
}

impl Plain for RiskFactor {
    fn plain(&self, field: &Field, _walk: &Walk<'_>) -> Option<Value> {
        match field.name.node.as_str() {
            "name" => value(&self.0.name),
            "points" => value(&self.0.points),
            "detail" => text(&self.0.detail),
            _ => None,
        }
    }
}

impl Plain for CabVote {
    fn plain(&self, field: &Field, _walk: &Walk<'_>) -> Option<Value> {
        match field.name.node.as_str() {
            "voter" => text(&self.0.voter),
            "board" => value(&self.0.board),
            "decision" => value(&self.0.decision),
            "comment" => maybe_text(self.0.comment.as_deref()),
            "castAt" => instant(&self.0.cast_at),
            _ => None,
        }
    }
}

/// Whether the viewer may take an action now.
#[derive(SimpleObject)]
pub struct AvailableTransition {
    action: ChangeAction,
    allowed: bool,
    /// Why not (role, person, state, missing assessment or review); null when allowed.
    reason: Option<String>,
    /// Why not, as a code to switch on; null when allowed.
    code: Option<quorum_core::TransitionBlock>,
}

/// The union of the impact of a change's CIs.
#[derive(SimpleObject)]
pub struct BlastRadius {
    /// The change's CIs, where every walk starts.
    roots: Vec<ConfigurationItem>,
    depth: i32,
    /// Every CI reached (the roots excluded), nearest first; each path starts at the nearest
    /// root.
    items: Vec<ImpactedItem>,
    /// The business services among `items`.
    business_services: Vec<ImpactedItem>,
    /// True when CIs lie beyond `depth`.
    truncated: bool,
}

/// A change's risk: a 0–100 score in which every point is explained by a factor.
///
/// Score and level come from their columns; the stored assessment (factors, answers, who and
/// when) is decoded only when one of its fields is asked for, once per change.
pub struct RiskAssessment {
    change: Arc<quorum_change::Change>,
    decoded: std::sync::OnceLock<Result<quorum_change::RiskAssessment, String>>,
}

impl RiskAssessment {
    fn decode(&self) -> &Result<quorum_change::RiskAssessment, String> {
        self.decoded.get_or_init(|| {
            let json = self.change.risk.as_ref().ok_or("no risk assessment")?;
            serde::Deserialize::deserialize(json).map_err(|error| error.to_string())
        })
    }

    /// The stored assessment when it decodes (a plain read; the resolver reports one that
    /// does not).
    fn stored(&self) -> Option<&quorum_change::RiskAssessment> {
        self.decode().as_ref().ok()
    }

    /// The stored assessment; one that does not decode is an INTERNAL error, never a null.
    fn assessment(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<&quorum_change::RiskAssessment> {
        self.decode()
            .as_ref()
            .map_err(|error| {
                quorum_core::DomainError::Internal(format!(
                    "the risk of change {} does not decode: {error}",
                    self.change.id
                ))
            })
            .gql(ctx)
    }
}

#[Object]
impl RiskAssessment {
    /// 0 to 100: the sum of the factors' points.
    async fn score(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        match self.change.risk_score {
            Some(score) => Ok(score),
            None => Ok(self.assessment(ctx)?.score),
        }
    }

    /// LOW below 25, MEDIUM below 50, HIGH below 75, VERY_HIGH from 75.
    async fn level(&self, ctx: &Context<'_>) -> async_graphql::Result<RiskLevel> {
        match self.change.risk_level {
            Some(level) => Ok(level),
            None => Ok(self.assessment(ctx)?.level),
        }
    }

    /// Every factor assessed, with its points (0 included) and why.
    async fn factors(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RiskFactor>> {
        Ok(self
            .assessment(ctx)?
            .factors
            .iter()
            .cloned()
            .map(RiskFactor)
            .collect())
    }

    /// The answers it was computed from; null for standard changes.
    async fn questionnaire(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<RiskQuestionnaire>> {
        Ok(self
            .assessment(ctx)?
            .questionnaire
            .clone()
            .map(RiskQuestionnaire))
    }

    async fn assessed_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime<Utc>> {
        Ok(self.assessment(ctx)?.assessed_at)
    }

    /// Subject of who assessed it.
    async fn assessed_by(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.assessment(ctx)?.assessed_by)
    }
}

/// One reason for risk points.
pub struct RiskFactor(quorum_change::RiskFactor);

#[Object]
impl RiskFactor {
    /// What the factor weighs.
    async fn name(&self) -> quorum_change::RiskFactorName {
        self.0.name
    }

    async fn points(&self) -> i32 {
        self.0.points
    }

    async fn detail(&self) -> &str {
        &self.0.detail
    }
}

/// The risk questionnaire's answers.
pub struct RiskQuestionnaire(quorum_change::RiskQuestionnaire);

#[Object]
impl RiskQuestionnaire {
    async fn user_impact(&self) -> UserImpact {
        self.0.user_impact
    }

    async fn outage_required(&self) -> bool {
        self.0.outage_required
    }

    async fn tested(&self) -> bool {
        self.0.tested
    }

    async fn backout_tested(&self) -> bool {
        self.0.backout_tested
    }

    async fn done_before(&self) -> bool {
        self.0.done_before
    }
}

/// A post-implementation review.
pub struct Review(quorum_change::Review);

#[Object]
impl Review {
    async fn lessons_learned(&self) -> &str {
        &self.0.lessons_learned
    }

    async fn objectives_met(&self) -> bool {
        self.0.objectives_met
    }

    async fn follow_up_actions(&self) -> Option<&str> {
        self.0.follow_up_actions.as_deref()
    }

    async fn reviewed_at(&self) -> DateTime<Utc> {
        self.0.reviewed_at
    }

    async fn reviewed_by(&self) -> &str {
        &self.0.reviewed_by
    }
}

/// A standing CAB or ECAB vote.
pub struct CabVote(pub(crate) quorum_change::Vote);

#[Object]
impl CabVote {
    /// Subject of the voter.
    async fn voter(&self) -> &str {
        &self.0.voter
    }

    async fn board(&self) -> Board {
        self.0.board
    }

    async fn decision(&self) -> VoteDecision {
        self.0.decision
    }

    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    async fn cast_at(&self) -> DateTime<Utc> {
        self.0.cast_at
    }
}

/// One conflict of a change's window.
pub struct ChangeConflict(quorum_change::Conflict);

#[Object]
impl ChangeConflict {
    async fn kind(&self) -> ConflictKind {
        self.0.kind
    }

    /// The other change (SAME_CI, DEPENDENT_CI).
    async fn change(&self) -> Option<Change> {
        self.0
            .change
            .as_ref()
            .map(|change| Change::shared(Arc::clone(change)))
    }

    /// The freeze window (FREEZE_WINDOW).
    async fn freeze_window(&self) -> Option<FreezeWindow> {
        self.0
            .freeze_window
            .as_ref()
            .map(|freeze| FreezeWindow(Arc::clone(freeze)))
    }

    /// The CI in conflict: the shared CI (SAME_CI), the other change's CI (DEPENDENT_CI), or
    /// the frozen CI (FREEZE_WINDOW; null when the freeze holds every CI).
    async fn item(&self) -> Option<ConfigurationItem> {
        self.0
            .item
            .as_ref()
            .map(|item| ConfigurationItem::new(Arc::clone(item), None))
    }

    /// This change's CI the conflict is about (for DEPENDENT_CI, where the path starts).
    async fn affected_item(&self) -> Option<ConfigurationItem> {
        self.0
            .affected_item
            .as_ref()
            .map(|item| ConfigurationItem::new(Arc::clone(item), None))
    }

    /// DEPENDENT_CI: a shortest path from this change's CI (first) to the other's (last).
    async fn path(&self) -> Vec<ConfigurationItem> {
        self.0
            .path
            .iter()
            .map(|item| ConfigurationItem::new(Arc::clone(item), None))
            .collect()
    }

    /// Where the two windows overlap.
    async fn overlap_start(&self) -> DateTime<Utc> {
        self.0.overlap_start
    }

    async fn overlap_end(&self) -> DateTime<Utc> {
        self.0.overlap_end
    }
}

/// A span in which changes to its CIs (or to every CI) may not be scheduled, except
/// EMERGENCY ones.
pub struct FreezeWindow(pub(crate) Arc<quorum_change::FreezeWindow>);

#[Object]
impl FreezeWindow {
    async fn id(&self) -> ID {
        ID(self.0.window.id.clone())
    }

    async fn name(&self) -> &str {
        &self.0.window.name
    }

    async fn start(&self) -> DateTime<Utc> {
        self.0.window.starts_at
    }

    async fn end(&self) -> DateTime<Utc> {
        self.0.window.ends_at
    }

    async fn reason(&self) -> Option<&str> {
        self.0.window.reason.as_deref()
    }

    async fn created_by(&self) -> &str {
        &self.0.window.created_by
    }

    /// True when it holds every CI.
    async fn global(&self) -> bool {
        self.0.ci_ids.is_empty()
    }

    /// The CIs it holds; empty when it holds every CI.
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ConfigurationItem>> {
        ctx.actor()?;
        items_by_id(ctx, &self.0.ci_ids).await
    }
}

/// A pre-authorized change that engineers raise as STANDARD.
pub struct StandardChangeTemplate(pub(crate) quorum_change::StandardChangeTemplate);

#[Object]
impl StandardChangeTemplate {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn implementation_plan(&self) -> Option<&str> {
        self.0.implementation_plan.as_deref()
    }

    async fn backout_plan(&self) -> Option<&str> {
        self.0.backout_plan.as_deref()
    }

    async fn test_plan(&self) -> Option<&str> {
        self.0.test_plan.as_deref()
    }

    /// Retired templates raise no new changes.
    async fn active(&self) -> bool {
        self.0.active
    }

    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The rules the service head sets for change authorization and conflicts.
pub struct ChangePolicy(pub(crate) quorum_change::ChangePolicy);

#[Object]
impl ChangePolicy {
    /// CAB approvals that authorize a NORMAL change (default 2).
    async fn cab_quorum(&self) -> i32 {
        self.0.cab_quorum
    }

    /// Whether one REJECT vote rejects the change (default true). Without veto, rejections
    /// reaching the quorum reject it.
    async fn reject_vetoes(&self) -> bool {
        self.0.reject_vetoes
    }

    /// NORMAL changes assessed at this level or above must go to the CAB (default HIGH).
    async fn cab_threshold(&self) -> RiskLevel {
        self.0.cab_threshold
    }

    /// Approvals of change managers and service heads that authorize an EMERGENCY change
    /// (default 1).
    async fn ecab_quorum(&self) -> i32 {
        self.0.ecab_quorum
    }

    /// Hops along relationships within which two changes' CIs conflict (default 3; 0 checks
    /// the same CIs only).
    async fn conflict_depth(&self) -> i32 {
        self.0.conflict_depth
    }

    /// Whether a change's requester may also authorize it, count towards its CAB or ECAB
    /// quorum and record its post-implementation review (default false: separation of duties;
    /// true suits a team too small to keep them apart).
    async fn requester_may_authorize(&self) -> bool {
        self.0.requester_may_authorize
    }

    /// Longest planned window of a change, in hours (default 168, a week).
    async fn max_window_hours(&self) -> i32 {
        self.0.max_window_hours
    }

    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn updated_by(&self) -> Option<&str> {
        self.0.updated_by.as_deref()
    }

    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.updated_at
    }
}

/// Scheduled and in-flight changes and freeze windows in a range, for a calendar view.
#[derive(SimpleObject)]
pub struct ChangeCalendar {
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: DateTime<Utc>,
    /// AUTHORIZED, SCHEDULED and IMPLEMENTING changes whose planned window overlaps the range,
    /// by planned start.
    pub(crate) changes: Vec<Change>,
    pub(crate) freeze_windows: Vec<FreezeWindow>,
}
