//! `change(s)`, `changeCalendar`, `changePolicy`, templates, freeze windows and every change
//! mutation. Each mutation is one domain call; the domain decides who may do what.

pub(crate) mod objects;

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use quorum_change::{
    ChangeKey, ChangeOrderField, ChangeOutcome, ChangeState, ChangeType, RiskLevel, UserImpact,
    VoteDecision,
};
use quorum_cmdb::SortDirection;
use quorum_core::DomainError;
use quorum_core::pagination::PageRequest;

use objects::{
    Change, ChangeCalendar, ChangePolicy, FreezeWindow, ListRelated, StandardChangeTemplate,
};

use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::plain::Fast;

#[derive(Default)]
pub struct ChangeQuery;

#[derive(Default)]
pub struct ChangeMutation;

/// Narrows a list of changes; every given criterion must hold.
#[derive(InputObject, Default)]
pub struct ChangeFilter {
    states: Option<Vec<ChangeState>>,
    types: Option<Vec<ChangeType>>,
    risk_levels: Option<Vec<RiskLevel>>,
    /// Changes touching this CI.
    affected_item_id: Option<ID>,
    /// Subject of the requester.
    requested_by: Option<String>,
    /// Subject of the assignee.
    assignee: Option<String>,
    /// Changes whose planned window overlaps [plannedFrom, plannedTo).
    planned_from: Option<DateTime<Utc>>,
    planned_to: Option<DateTime<Utc>>,
    /// Case-insensitive part of the title or description, or the exact number.
    text: Option<String>,
}

impl From<ChangeFilter> for quorum_change::ChangeFilter {
    fn from(filter: ChangeFilter) -> Self {
        Self {
            states: crate::connection::distinct(filter.states),
            types: crate::connection::distinct(filter.types),
            risk_levels: crate::connection::distinct(filter.risk_levels),
            affected_item_id: filter.affected_item_id.map(|id| id.0),
            requested_by: filter.requested_by,
            assignee: filter.assignee,
            planned_from: filter.planned_from,
            planned_to: filter.planned_to,
            text: filter.text,
        }
    }
}

/// Orders a list of changes (newest number first when not given).
#[derive(InputObject)]
pub struct ChangeOrder {
    #[graphql(default)]
    field: ChangeOrderField,
    #[graphql(default_with = "SortDirection::Desc")]
    direction: SortDirection,
}

/// A new NORMAL or EMERGENCY change; it starts in DRAFT.
#[derive(InputObject)]
pub struct CreateChangeInput {
    /// NORMAL or EMERGENCY (STANDARD changes come from `createChangeFromTemplate`).
    #[graphql(name = "type", default_with = "ChangeType::Normal")]
    change_type: ChangeType,
    /// 1 to 200 characters.
    title: String,
    description: Option<String>,
    /// Required to submit.
    justification: Option<String>,
    /// Required to submit.
    implementation_plan: Option<String>,
    /// Required to submit.
    backout_plan: Option<String>,
    test_plan: Option<String>,
    /// The CIs it touches (at least one to submit; at most 200).
    #[graphql(default)]
    affected_item_ids: Vec<ID>,
    planned_start: Option<DateTime<Utc>>,
    planned_end: Option<DateTime<Utc>>,
    /// Subject of who implements it.
    assignee: Option<String>,
}

/// A STANDARD change from an active template; it starts in DRAFT with the template's plans.
#[derive(InputObject)]
pub struct CreateChangeFromTemplateInput {
    template_id: ID,
    /// The template's name when not given.
    title: Option<String>,
    description: Option<String>,
    #[graphql(default)]
    affected_item_ids: Vec<ID>,
    planned_start: Option<DateTime<Utc>>,
    planned_end: Option<DateTime<Utc>>,
    assignee: Option<String>,
}

/// Changes to a change in DRAFT or ASSESSMENT: fields left out stay; `null` clears optional
/// ones.
#[derive(InputObject, Default)]
pub struct UpdateChangeInput {
    title: Option<String>,
    description: MaybeUndefined<String>,
    justification: MaybeUndefined<String>,
    implementation_plan: MaybeUndefined<String>,
    backout_plan: MaybeUndefined<String>,
    test_plan: MaybeUndefined<String>,
    planned_start: MaybeUndefined<DateTime<Utc>>,
    planned_end: MaybeUndefined<DateTime<Utc>>,
    assignee: MaybeUndefined<String>,
}

/// The risk questionnaire.
#[derive(InputObject)]
pub struct RiskQuestionnaireInput {
    user_impact: UserImpact,
    outage_required: bool,
    tested: bool,
    backout_tested: bool,
    done_before: bool,
}

/// A new standard change template.
#[derive(InputObject)]
pub struct CreateStandardChangeTemplateInput {
    name: String,
    description: Option<String>,
    implementation_plan: String,
    backout_plan: String,
    test_plan: Option<String>,
}

/// Changes to the change policy; fields left out stay.
#[derive(InputObject, Default)]
pub struct UpdateChangePolicyInput {
    /// 1 to 25.
    cab_quorum: Option<i32>,
    reject_vetoes: Option<bool>,
    cab_threshold: Option<RiskLevel>,
    /// 1 to 25.
    ecab_quorum: Option<i32>,
    /// 0 to 6.
    conflict_depth: Option<i32>,
    /// Whether a change's requester may also authorize it, vote on it and review it.
    requester_may_authorize: Option<bool>,
    /// 1 to 2160 (90 days).
    max_window_hours: Option<i32>,
}

fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
}

fn ids(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}

#[Object]
impl ChangeQuery {
    /// One change by `id` or `number` (give exactly one). Null when there is none, or when it
    /// is a draft and the viewer is a CAB member.
    async fn change(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
    ) -> async_graphql::Result<Option<Fast<Change>>> {
        let actor = ctx.actor()?;
        let key = match (id, number) {
            (Some(id), None) => ChangeKey::Id(id.0),
            (None, Some(number)) => ChangeKey::Number(number),
            _ => {
                return Err(DomainError::bad_input(
                    "id",
                    "give exactly one of `id` and `number`",
                ))
                .gql(ctx);
            }
        };
        let change = quorum_change::find_change(&ctx.app()?.db, actor, &key)
            .await
            .gql(ctx)?;
        Ok(change.map(|change| Fast(Change::new(change))))
    }

    /// Changes, filtered and ordered (newest first when no order is given). CAB members never
    /// see drafts.
    #[graphql(complexity = "crate::connection::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChangeFilter>,
        order_by: Option<ChangeOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Fast<Change>>> {
        let actor = ctx.actor()?;
        let filter = filter.unwrap_or_default().into();
        let (field, direction) = order_by
            .map_or((ChangeOrderField::Number, SortDirection::Desc), |order| {
                (order.field, order.direction)
            });
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            last,
            before,
        };
        let nodes = crate::connection::nodes(ctx);
        let changes = quorum_change::list_changes(
            &ctx.app()?.db,
            actor,
            &filter,
            field,
            direction == SortDirection::Desc,
            &page,
            &crate::change::objects::unread_columns(&nodes),
        )
        .await
        .gql(ctx)?;
        // A root field: its page is the only one of its level, so what its changes show is
        // read for the page at once rather than gathered by loaders (a CI's `changes`, one
        // page per CI of a list, keeps the loaders, which batch across the CIs).
        let ids: Vec<String> = changes
            .edges
            .iter()
            .map(|(_, row)| row.id.clone())
            .collect();
        let mut related = ListRelated::read(ctx, &nodes, &ids).await;
        Ok(connection(changes, |change| Fast(related.attach(change))))
    }

    /// In-flight changes (AUTHORIZED, SCHEDULED, IMPLEMENTING) and freeze windows overlapping
    /// [from, to) (at most 400 days), optionally only those touching `ciIds` (and freezes
    /// holding them or every CI).
    async fn change_calendar(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        ci_ids: Option<Vec<ID>>,
    ) -> async_graphql::Result<ChangeCalendar> {
        let actor = ctx.actor()?;
        let ci_ids = ci_ids.map(ids);
        let calendar =
            quorum_change::change_calendar(&ctx.app()?.db, actor, from, to, ci_ids.as_deref())
                .await
                .gql(ctx)?;
        Ok(ChangeCalendar {
            from,
            to,
            changes: calendar.changes.into_iter().map(Change::new).collect(),
            freeze_windows: calendar
                .freeze_windows
                .into_iter()
                .map(|freeze| FreezeWindow(Arc::new(freeze)))
                .collect(),
        })
    }

    /// The change policy in force.
    async fn change_policy(&self, ctx: &Context<'_>) -> async_graphql::Result<ChangePolicy> {
        let actor = ctx.actor()?;
        let policy = quorum_change::change_policy(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(ChangePolicy(policy))
    }

    /// Standard change templates by name; active ones unless `includeRetired`.
    async fn standard_change_templates(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_retired: bool,
    ) -> async_graphql::Result<Vec<StandardChangeTemplate>> {
        let actor = ctx.actor()?;
        let templates = quorum_change::templates(&ctx.app()?.db, actor, include_retired)
            .await
            .gql(ctx)?;
        Ok(templates.into_iter().map(StandardChangeTemplate).collect())
    }

    /// Freeze windows ending after `from` (now when not given) and starting before `to`.
    async fn freeze_windows(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Vec<FreezeWindow>> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let clock = ctx.clock()?;
        let from = from.unwrap_or_else(|| clock.now());
        let windows = quorum_change::freeze_windows(&app.db, actor, from, to)
            .await
            .gql(ctx)?;
        Ok(windows
            .into_iter()
            .map(|freeze| FreezeWindow(Arc::new(freeze)))
            .collect())
    }
}

#[Object]
impl ChangeMutation {
    /// Raises a NORMAL or EMERGENCY change in DRAFT (ENGINEER, CHANGE_MANAGER).
    async fn create_change(
        &self,
        ctx: &Context<'_>,
        input: CreateChangeInput,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::create_change(
            app.context(actor),
            quorum_change::NewChange {
                change_type: Some(input.change_type),
                title: input.title,
                description: input.description,
                justification: input.justification,
                implementation_plan: input.implementation_plan,
                backout_plan: input.backout_plan,
                test_plan: input.test_plan,
                affected_item_ids: ids(input.affected_item_ids),
                planned_start: input.planned_start,
                planned_end: input.planned_end,
                assignee: input.assignee,
            },
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Raises a STANDARD change in DRAFT from an active template (ENGINEER, CHANGE_MANAGER).
    async fn create_change_from_template(
        &self,
        ctx: &Context<'_>,
        input: CreateChangeFromTemplateInput,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::create_change_from_template(
            app.context(actor),
            quorum_change::NewStandardChange {
                template_id: input.template_id.0,
                title: input.title,
                description: input.description,
                affected_item_ids: ids(input.affected_item_ids),
                planned_start: input.planned_start,
                planned_end: input.planned_end,
                assignee: input.assignee,
            },
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Edits a change in DRAFT or ASSESSMENT (its requester or a CHANGE_MANAGER). An edit that
    /// changes nothing writes nothing (the version stays). A STANDARD change's plans are its
    /// template's: editing them is BAD_USER_INPUT.
    async fn update_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: UpdateChangeInput,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::update_change(
            app.context(actor),
            &id,
            version,
            quorum_change::ChangeEdits {
                title: input.title,
                description: maybe(input.description),
                justification: maybe(input.justification),
                implementation_plan: maybe(input.implementation_plan),
                backout_plan: maybe(input.backout_plan),
                test_plan: maybe(input.test_plan),
                planned_start: maybe(input.planned_start),
                planned_end: maybe(input.planned_end),
                assignee: maybe(input.assignee),
            },
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Adds CIs to a change in DRAFT or ASSESSMENT (its requester or a CHANGE_MANAGER); in
    /// ASSESSMENT the risk is cleared and must be assessed again.
    async fn add_change_affected_items(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        ci_ids: Vec<ID>,
    ) -> async_graphql::Result<Change> {
        self.edit_items(ctx, id, version, ci_ids, quorum_change::ItemsEdit::Add)
            .await
    }

    /// Removes CIs from a change in DRAFT or ASSESSMENT (its requester or a CHANGE_MANAGER);
    /// in ASSESSMENT the risk is cleared and must be assessed again.
    async fn remove_change_affected_items(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        ci_ids: Vec<ID>,
    ) -> async_graphql::Result<Change> {
        self.edit_items(ctx, id, version, ci_ids, quorum_change::ItemsEdit::Remove)
            .await
    }

    /// Submits a draft (its requester or a CHANGE_MANAGER): STANDARD → AUTHORIZED, NORMAL →
    /// ASSESSMENT, EMERGENCY → CAB_REVIEW (the ECAB). Needs the plans (and, but for STANDARD,
    /// a justification) and at least one CI.
    async fn submit_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::submit_change(app.context(actor), &id, version)
            .await
            .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Records the risk questionnaire and computes the risk (CHANGE_MANAGER): NORMAL changes
    /// in ASSESSMENT, EMERGENCY ones in CAB_REVIEW.
    async fn assess_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: RiskQuestionnaireInput,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::assess_change(
            app.context(actor),
            &id,
            version,
            quorum_change::RiskQuestionnaire {
                user_impact: input.user_impact,
                outage_required: input.outage_required,
                tested: input.tested,
                backout_tested: input.backout_tested,
                done_before: input.done_before,
            },
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Authorizes an assessed NORMAL change whose risk is below the policy's CAB threshold
    /// (CHANGE_MANAGER).
    async fn authorize_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: Option<String>,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::authorize_change(app.context(actor), &id, version, reason)
            .await
            .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Refers an assessed NORMAL change to the CAB (CHANGE_MANAGER); only CAB votes can then
    /// authorize it.
    async fn refer_change_to_cab(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: Option<String>,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::refer_change_to_cab(app.context(actor), &id, version, reason)
            .await
            .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Rejects a change in ASSESSMENT (CHANGE_MANAGER), with a reason.
    async fn reject_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: String,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::reject_change(app.context(actor), &id, version, reason)
            .await
            .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Casts or replaces your vote on a change in CAB_REVIEW: CAB members on NORMAL changes,
    /// change managers and service heads (the ECAB) on EMERGENCY ones; never on a change you
    /// requested. A REJECT needs a comment. Takes no version, so members voting at once never
    /// collide; the vote that reaches the policy's quorum (or, with veto, any REJECT) decides
    /// the change, exactly once.
    async fn cast_cab_vote(
        &self,
        ctx: &Context<'_>,
        change_id: ID,
        decision: VoteDecision,
        comment: Option<String>,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change =
            quorum_change::cast_cab_vote(app.context(actor), &change_id, decision, comment)
                .await
                .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Schedules an AUTHORIZED change, or reschedules a SCHEDULED one (CHANGE_MANAGER). A
    /// window with conflicts is refused with CONFLICT (`extensions.reason` `COLLISION`) and
    /// `extensions.conflicts` listing them in the shape of `ChangeConflict` (`kind`, `change {
    /// id number title state }`, `freezeWindow { id name startsAt endsAt }`, `item`,
    /// `affectedItem` and `path` as `{ id number name class }`, `overlapStart`, `overlapEnd`),
    /// unless `overrideConflicts` with a `reason` (recorded). Freeze windows give way only to
    /// EMERGENCY changes. A window that has ended, starts in the past (but for an EMERGENCY
    /// change), lasts longer than the policy's `maxWindowHours` or ends before it starts is
    /// BAD_USER_INPUT.
    #[allow(clippy::too_many_arguments)]
    async fn schedule_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        planned_start: DateTime<Utc>,
        planned_end: DateTime<Utc>,
        #[graphql(default)] override_conflicts: bool,
        reason: Option<String>,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::schedule_change(
            app.context(actor),
            &id,
            version,
            quorum_change::ScheduleRequest {
                planned_start,
                planned_end,
                override_conflicts,
                reason,
            },
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Starts implementing a SCHEDULED change (its assignee or a CHANGE_MANAGER). Outside the
    /// planned window it needs a `reason` (recorded in the history) and is flagged
    /// (`startedOutsideWindow`); an EMERGENCY change needs none.
    async fn start_implementation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: Option<String>,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::start_implementation(app.context(actor), &id, version, reason)
            .await
            .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Ends the implementation with its outcome (its assignee or a CHANGE_MANAGER): →
    /// REVIEW. Notes are required unless SUCCESSFUL.
    async fn complete_implementation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        outcome: ChangeOutcome,
        notes: Option<String>,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::complete_implementation(
            app.context(actor),
            &id,
            version,
            outcome,
            notes,
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Records the post-implementation review of a change in REVIEW (CHANGE_MANAGER).
    #[allow(clippy::too_many_arguments)]
    async fn record_review(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        lessons_learned: String,
        #[graphql(default = true)] objectives_met: bool,
        follow_up_actions: Option<String>,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::record_review(
            app.context(actor),
            &id,
            version,
            lessons_learned,
            objectives_met,
            follow_up_actions,
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Closes a change in REVIEW (CHANGE_MANAGER); refused while a required review (FAILED,
    /// BACKED_OUT, EMERGENCY) is missing.
    async fn close_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::close_change(app.context(actor), &id, version)
            .await
            .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Cancels a change before implementation (its requester or a CHANGE_MANAGER), with a
    /// reason.
    async fn cancel_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: String,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::cancel_change(app.context(actor), &id, version, reason)
            .await
            .gql(ctx)?;
        Ok(Change::new(change))
    }

    /// Creates a standard change template (CHANGE_MANAGER).
    async fn create_standard_change_template(
        &self,
        ctx: &Context<'_>,
        input: CreateStandardChangeTemplateInput,
    ) -> async_graphql::Result<StandardChangeTemplate> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let template = quorum_change::create_template(
            app.context(actor),
            quorum_change::NewTemplate {
                name: input.name,
                description: input.description,
                implementation_plan: input.implementation_plan,
                backout_plan: input.backout_plan,
                test_plan: input.test_plan,
            },
        )
        .await
        .gql(ctx)?;
        Ok(StandardChangeTemplate(template))
    }

    /// Retires a standard change template (CHANGE_MANAGER): it raises no new changes.
    async fn retire_standard_change_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<StandardChangeTemplate> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let template = quorum_change::retire_template(app.context(actor), &id, version)
            .await
            .gql(ctx)?;
        Ok(StandardChangeTemplate(template))
    }

    /// Declares a freeze window (CHANGE_MANAGER) over `ciIds`, or every CI when none.
    async fn create_freeze_window(
        &self,
        ctx: &Context<'_>,
        name: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        reason: Option<String>,
        ci_ids: Option<Vec<ID>>,
    ) -> async_graphql::Result<FreezeWindow> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let freeze = quorum_change::create_freeze_window(
            app.context(actor),
            quorum_change::NewFreezeWindow {
                name,
                start,
                end,
                reason,
                ci_ids: ids(ci_ids.unwrap_or_default()),
            },
        )
        .await
        .gql(ctx)?;
        Ok(FreezeWindow(Arc::new(freeze)))
    }

    /// Removes a freeze window (CHANGE_MANAGER).
    async fn remove_freeze_window(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<FreezeWindow> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let freeze = quorum_change::remove_freeze_window(app.context(actor), &id)
            .await
            .gql(ctx)?;
        Ok(FreezeWindow(Arc::new(freeze)))
    }

    /// Changes the change policy (SERVICE_HEAD).
    async fn update_change_policy(
        &self,
        ctx: &Context<'_>,
        input: UpdateChangePolicyInput,
    ) -> async_graphql::Result<ChangePolicy> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let policy = quorum_change::update_change_policy(
            app.context(actor),
            quorum_change::PolicyChanges {
                cab_quorum: input.cab_quorum,
                reject_vetoes: input.reject_vetoes,
                cab_threshold: input.cab_threshold,
                ecab_quorum: input.ecab_quorum,
                conflict_depth: input.conflict_depth,
                requester_may_authorize: input.requester_may_authorize,
                max_window_hours: input.max_window_hours,
            },
        )
        .await
        .gql(ctx)?;
        Ok(ChangePolicy(policy))
    }
}

impl ChangeMutation {
    async fn edit_items(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        ci_ids: Vec<ID>,
        edit: quorum_change::ItemsEdit,
    ) -> async_graphql::Result<Change> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let change = quorum_change::edit_affected_items(
            app.context(actor),
            &id,
            version,
            &ids(ci_ids),
            edit,
        )
        .await
        .gql(ctx)?;
        Ok(Change::new(change))
    }
}
