//! `problem(s)`, `knownErrors` and the problem mutations.

use async_graphql::{Context, ID, InputObject, Object};
use quorum_core::DomainError;
use quorum_core::pagination::PageRequest;
use quorum_problem::{ProblemKey, ProblemState};

use super::objects::Problem;
use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct ProblemQuery;

#[derive(Default)]
pub struct ProblemMutation;

/// Narrows a list of problems.
#[derive(InputObject, Default)]
pub struct ProblemFilter {
    states: Option<Vec<ProblemState>>,
    /// Problems naming this CI, or with an incident on it.
    affected_item_id: Option<ID>,
    /// Case-insensitive part of the title, description, root cause or workaround, or the
    /// exact number.
    text: Option<String>,
}

/// Narrows the known error database.
#[derive(InputObject, Default)]
pub struct KnownErrorFilter {
    /// Known errors naming this CI, or with an incident on it.
    affected_item_id: Option<ID>,
    /// Case-insensitive part of the title, description, root cause or workaround.
    text: Option<String>,
}

/// A new problem.
#[derive(InputObject)]
pub struct CreateProblemInput {
    title: String,
    description: Option<String>,
    #[graphql(default)]
    incident_ids: Vec<ID>,
    #[graphql(default)]
    affected_item_ids: Vec<ID>,
    /// Move an incident that belongs to another problem here (that problem records the
    /// move); false refuses such an incident with CONFLICT naming its problem.
    #[graphql(default)]
    move_incidents: bool,
}

/// What linking does with an incident that belongs to another problem already.
fn elsewhere(move_incidents: bool) -> quorum_problem::IncidentsElsewhere {
    if move_incidents {
        quorum_problem::IncidentsElsewhere::Move
    } else {
        quorum_problem::IncidentsElsewhere::Refuse
    }
}

fn ids(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}

#[Object]
impl ProblemQuery {
    /// One problem by `id` or `number` (give exactly one); null when there is none.
    async fn problem(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
    ) -> async_graphql::Result<Option<Problem>> {
        let actor = ctx.actor()?;
        let key = match (id, number) {
            (Some(id), None) => ProblemKey::Id(id.0),
            (None, Some(number)) => ProblemKey::Number(number),
            _ => {
                return Err(DomainError::bad_input(
                    "id",
                    "give exactly one of `id` and `number`",
                ))
                .gql(ctx);
            }
        };
        let problem = quorum_problem::find_problem(&ctx.app()?.db, actor, &key)
            .await
            .gql(ctx)?;
        Ok(problem.map(Problem))
    }

    /// Problems, newest first.
    #[graphql(complexity = "crate::connection::complexity(first, last, child_complexity)")]
    async fn problems(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProblemFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Problem>> {
        let actor = ctx.actor()?;
        let filter = filter.unwrap_or_default();
        let filter = quorum_problem::ProblemFilter {
            states: crate::connection::distinct(filter.states),
            affected_item_id: filter.affected_item_id.map(|id| id.0),
            text: filter.text,
        };
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            last,
            before,
        };
        let problems = quorum_problem::list_problems(&ctx.app()?.db, actor, &filter, &page)
            .await
            .gql(ctx)?;
        Ok(connection(problems, Problem))
    }

    /// The known error database: problems in KNOWN_ERROR with a workaround, newest first,
    /// searchable by text and CI, for the service desk.
    #[graphql(complexity = "crate::connection::complexity(first, None, child_complexity)")]
    async fn known_errors(
        &self,
        ctx: &Context<'_>,
        filter: Option<KnownErrorFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Problem>> {
        let actor = ctx.actor()?;
        let filter = filter.unwrap_or_default();
        let filter = quorum_problem::ProblemFilter {
            states: None,
            affected_item_id: filter.affected_item_id.map(|id| id.0),
            text: filter.text,
        };
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            ..PageRequest::default()
        };
        let problems = quorum_problem::known_errors(&ctx.app()?.db, actor, &filter, &page)
            .await
            .gql(ctx)?;
        Ok(connection(problems, Problem))
    }
}

/// Runs a problem mutation and wraps its result.
macro_rules! problem_op {
    ($ctx:expr, |$app:ident, $actor:ident| $call:expr) => {{
        let $actor = $ctx.actor()?;
        let $app = $ctx.app()?;
        let problem = $call.await.gql($ctx)?;
        Ok(Problem(problem))
    }};
}

#[Object]
impl ProblemMutation {
    /// Raises a problem (ENGINEER, CHANGE_MANAGER), linking its incidents and CIs.
    async fn create_problem(
        &self,
        ctx: &Context<'_>,
        input: CreateProblemInput,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::create_problem(
            app.context(actor),
            quorum_problem::NewProblem {
                title: input.title,
                description: input.description,
                incident_ids: ids(input.incident_ids),
                affected_item_ids: ids(input.affected_item_ids),
                incidents_elsewhere: elsewhere(input.move_incidents),
            },
        ))
    }

    /// Records the root cause; with a workaround already known the problem becomes a
    /// KNOWN_ERROR.
    async fn record_root_cause(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        root_cause: String,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::record_root_cause(
            app.context(actor),
            &id,
            version,
            root_cause,
        ))
    }

    /// Records the workaround; with the root cause already known the problem becomes a
    /// KNOWN_ERROR.
    async fn record_workaround(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        workaround: String,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::record_workaround(
            app.context(actor),
            &id,
            version,
            workaround,
        ))
    }

    /// Marks a problem with a root cause or workaround as a KNOWN_ERROR.
    async fn mark_known_error(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::mark_known_error(
            app.context(actor),
            &id,
            version,
        ))
    }

    /// Links incidents to the problem (each incident gets a new version and an event). An
    /// incident that belongs to another problem is refused with CONFLICT naming it, unless
    /// `moveIncidents` is true: then it moves, and the problem it leaves records the move.
    async fn link_incidents_to_problem(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        incident_ids: Vec<ID>,
        #[graphql(default)] move_incidents: bool,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::link_incidents_to_problem(
            app.context(actor),
            &id,
            version,
            ids(incident_ids),
            elsewhere(move_incidents),
        ))
    }

    /// Unlinks one of the problem's incidents.
    async fn unlink_incident_from_problem(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        incident_id: ID,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| {
            quorum_problem::unlink_incident_from_problem(
                app.context(actor),
                &id,
                version,
                incident_id.0,
            )
        })
    }

    /// Links a change raised to fix the problem.
    async fn link_fix_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        change_id: ID,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::link_fix_change(
            app.context(actor),
            &id,
            version,
            change_id.0,
        ))
    }

    /// Resolves the problem: needs a linked fix change closed SUCCESSFUL or
    /// SUCCESSFUL_WITH_ISSUES, or a reason.
    async fn resolve_problem(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: Option<String>,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::resolve_problem(
            app.context(actor),
            &id,
            version,
            reason,
        ))
    }

    /// Closes a RESOLVED problem, or one NEW or UNDER_INVESTIGATION with a reason (e.g. not
    /// reproducible).
    async fn close_problem(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        reason: Option<String>,
    ) -> async_graphql::Result<Problem> {
        problem_op!(ctx, |app, actor| quorum_problem::close_problem(
            app.context(actor),
            &id,
            version,
            reason,
        ))
    }
}
