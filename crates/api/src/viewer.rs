//! `viewer`: who the token says you are, and what waits on you.

use async_graphql::{Context, Object, SimpleObject};
use quorum_core::{Permission, Role};

use crate::change::objects::Change;
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::incident::objects::Incident;

#[derive(Default)]
pub struct ViewerQuery;

/// The authenticated caller, as the bearer token describes them.
pub struct Viewer {
    subject: String,
    roles: Vec<Role>,
}

/// What waits on the viewer.
pub struct Work;

#[Object]
impl Viewer {
    /// The token's `sub` claim.
    async fn subject(&self) -> &str {
        &self.subject
    }

    /// The Quorum roles found in the token's roles claim; unknown values are left out.
    async fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Every permission of the table (`docs/permissions.md`), with whether your token's roles
    /// grant it: a UI shows or hides what the role cannot open from this instead of copying
    /// the table. `condition` says when the grant depends on the record (`as requester`, a
    /// board's changes, never one's own): the record's `availableTransitions` then decides.
    async fn can(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PermissionGrant>> {
        let actor = ctx.actor()?;
        Ok(Permission::ALL
            .into_iter()
            .map(|permission| {
                let condition = actor
                    .roles()
                    .filter(|role| permission.allowed_roles().contains(role))
                    .map(|role| permission.condition(role))
                    .collect::<Vec<_>>();
                PermissionGrant {
                    permission,
                    allowed: actor.can(permission),
                    // Unconditional when any granting role has no condition.
                    condition: if condition.iter().any(Option::is_none) {
                        None
                    } else {
                        condition.into_iter().flatten().next().map(str::to_owned)
                    },
                    description: permission.name().to_owned(),
                }
            })
            .collect())
    }

    /// What waits on you: votes to cast, changes to implement, incidents to work, drafts to
    /// submit. Each list is read when asked for.
    async fn work(&self) -> Work {
        Work
    }
}

/// One permission of the table, for the viewer.
#[derive(SimpleObject)]
pub struct PermissionGrant {
    permission: Permission,
    /// Whether the viewer's roles grant it.
    allowed: bool,
    /// When the grant holds only for some records (`as requester`, `as assignee`, a board's
    /// changes, never one's own); null when it holds for every record.
    condition: Option<String>,
    /// What it allows, in words: "read the CAB agenda".
    description: String,
}

#[Object]
impl Work {
    /// Changes in CAB_REVIEW waiting for your vote: NORMAL ones if you are a CAB member,
    /// EMERGENCY ones if you are a change manager or service head (the ECAB); never your own;
    /// oldest referral first.
    async fn awaiting_my_vote(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Change>> {
        let actor = ctx.actor()?;
        let changes = quorum_change::agenda::awaiting_vote(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(changes.into_iter().map(Change::new).collect())
    }

    /// Changes assigned to you that are AUTHORIZED, SCHEDULED or IMPLEMENTING, by planned
    /// start.
    async fn changes_to_implement(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Change>> {
        let actor = ctx.actor()?;
        let changes = quorum_change::agenda::to_implement(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(changes.into_iter().map(Change::new).collect())
    }

    /// Open incidents (NEW, IN_PROGRESS, ON_HOLD) assigned to you, all of them: running
    /// clocks first, the nearest resolution due time first (breached ones lead), then those on
    /// hold. Each has its `sla` (due times, breaches, time left).
    async fn my_incidents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Incident>> {
        let actor = ctx.actor()?;
        let incidents =
            quorum_incident::queue::open_incidents_assigned_to_me(&ctx.app()?.db, actor)
                .await
                .gql(ctx)?;
        Ok(incidents.into_iter().map(Incident::new).collect())
    }

    /// For change managers: changes to assess and decide (NORMAL ones in ASSESSMENT, EMERGENCY
    /// ones in CAB_REVIEW not yet assessed), oldest submission first. Empty for other roles.
    async fn changes_to_assess(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Change>> {
        let actor = ctx.actor()?;
        let changes = quorum_change::agenda::to_assess(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(changes.into_iter().map(Change::new).collect())
    }

    /// For change managers: AUTHORIZED changes not yet on the calendar, the longest-waiting
    /// decision first. Empty for other roles.
    async fn changes_to_schedule(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Change>> {
        let actor = ctx.actor()?;
        let changes = quorum_change::agenda::to_schedule(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(changes.into_iter().map(Change::new).collect())
    }

    /// For change managers: changes in REVIEW whose post-implementation review is required
    /// (every EMERGENCY change; FAILED or BACKED_OUT outcomes) and missing, the longest-waiting
    /// first. Empty for other roles.
    async fn reviews_due(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Change>> {
        let actor = ctx.actor()?;
        let changes = quorum_change::agenda::reviews_due(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(changes.into_iter().map(Change::new).collect())
    }

    /// Changes you requested that wait on you: your drafts, to complete and submit (oldest
    /// first). Nothing else waits on a requester: assessment, referral, scheduling and reviews
    /// are the change manager's, votes the boards', implementation the assignee's (see
    /// `changesToImplement`).
    async fn my_requests_needing_action(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<Change>> {
        let actor = ctx.actor()?;
        let changes = quorum_change::agenda::requested_needing_action(&ctx.app()?.db, actor)
            .await
            .gql(ctx)?;
        Ok(changes.into_iter().map(Change::new).collect())
    }
}

#[Object]
impl ViewerQuery {
    /// Who the bearer token says you are. UNAUTHENTICATED without a valid token.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let actor = ctx.actor()?;
        Ok(Viewer {
            subject: actor.subject().to_owned(),
            roles: actor.roles().collect(),
        })
    }
}
