//! `cabAgenda`: one request that gives a front end all it needs to render the CAB meeting.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use quorum_change::agenda::AgendaSection;
use quorum_cmdb::WalkDirection;

use crate::change::objects::{CabVote, Change};
use crate::context::ContextExt;
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct CabQuery;

/// One item of the CAB agenda. Risk and factors, conflicts and votes are on `change`.
pub struct CabAgendaItem {
    section: AgendaSection,
    change: Change,
}

/// How far a change reaches, in brief (`Change.blastRadius` has the CIs and paths).
#[derive(SimpleObject)]
pub struct BlastRadiusSummary {
    /// CIs reached within 5 hops against the arrows (what depends on the change's CIs), the
    /// change's own excluded: `Change.blastRadius(depth: 5).items`, counted.
    item_count: i32,
    /// The business services among them and among the change's own CIs, by name, sorted.
    business_services: Vec<String>,
    /// Whether CIs lie beyond the 5 hops.
    truncated: bool,
}

#[Object]
impl CabAgendaItem {
    async fn section(&self) -> AgendaSection {
        self.section
    }

    async fn change(&self) -> &Change {
        &self.change
    }

    /// The blast radius in brief: how many CIs, which business services. One walk per item.
    #[graphql(complexity = "50")]
    async fn blast_radius(&self, ctx: &Context<'_>) -> async_graphql::Result<BlastRadiusSummary> {
        let actor = ctx.actor()?;
        let items = self.change.items(ctx).await?;
        let ids: Vec<String> = items.iter().map(|item| item.id.clone()).collect();
        let walk = quorum_cmdb::walk_from(
            &ctx.app()?.db,
            actor,
            &ids,
            WalkDirection::Impact,
            quorum_change::risk::BLAST_RADIUS_DEPTH,
        )
        .await
        .gql(ctx)?;
        let mut services: Vec<String> = items
            .iter()
            .filter(|item| item.class == quorum_cmdb::CiClass::BusinessService)
            .map(|item| item.name.clone())
            .chain(
                walk.business_services()
                    .map(|reached| reached.item.name.clone()),
            )
            .collect();
        services.sort();
        services.dedup();
        Ok(BlastRadiusSummary {
            item_count: i32::try_from(walk.reached.len()).unwrap_or(i32::MAX),
            business_services: services,
            truncated: walk.truncated,
        })
    }

    /// The viewer's standing vote on this change, if any (the same as `change.myVote`).
    async fn my_vote(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CabVote>> {
        self.change.viewer_vote(ctx).await
    }
}

#[Object]
impl CabQuery {
    /// The CAB agenda (CAB_MEMBER, CHANGE_MANAGER, SERVICE_HEAD; for others null, with a FORBIDDEN error): every
    /// change in CAB_REVIEW, NORMAL and EMERGENCY, oldest referral first (section REVIEW);
    /// then AUTHORIZED and SCHEDULED changes of HIGH risk and above whose planned window
    /// overlaps [from, to) (section UPCOMING_HIGH_RISK), by planned start. `from` defaults to
    /// now, `to` to 14 days after `from`; `to` must be after `from` (BAD_USER_INPUT). Each
    /// item's `change` has its risk and factors, conflicts, votes and `myVote`.
    async fn cab_agenda(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<Vec<CabAgendaItem>>> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let now = ctx.clock()?.now();
        let items = quorum_change::agenda::cab_agenda(&app.db, actor, from, to, now)
            .await
            .gql(ctx)?;
        Ok(Some(
            items
                .into_iter()
                .map(|item| CabAgendaItem {
                    section: item.section,
                    change: Change::new(item.change),
                })
                .collect(),
        ))
    }
}
