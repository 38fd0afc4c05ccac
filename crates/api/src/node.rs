//! Relay's global object identification: every record type is a `Node`, and `node(id:)` finds
//! any record by its id (ids are UUIDs, unique across tables), with the same visibility as
//! the record's own query (a draft change stays hidden from those who may not see drafts).

use async_graphql::{Context, ID, Interface, Object};

use crate::change::objects::Change;
use crate::cmdb::objects::ConfigurationItem;
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::incident::objects::{Incident, Problem};

/// A record with a stable, opaque `id`: a configuration item, a change, an incident or a
/// problem. Relay's `node(id:)` refetches any of them.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The record's opaque id."))]
// One node per `node(id:)` call: the size of the largest record does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    ConfigurationItem(ConfigurationItem),
    Change(Change),
    Incident(Incident),
    Problem(Problem),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any record by its `id` (Relay's global object identification); null when there is
    /// none, or when the viewer may not see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let actor = ctx.actor()?;
        let db = &ctx.app()?.db;
        let id = id.0;
        if let Some(item) =
            quorum_cmdb::find_configuration_item(db, actor, &quorum_cmdb::CiKey::Id(id.clone()))
                .await
                .gql(ctx)?
        {
            return Ok(Some(Node::ConfigurationItem(ConfigurationItem::new(
                item, None,
            ))));
        }
        if let Some(change) =
            quorum_change::find_change(db, actor, &quorum_change::ChangeKey::Id(id.clone()))
                .await
                .gql(ctx)?
        {
            return Ok(Some(Node::Change(Change::new(change))));
        }
        if let Some(incident) =
            quorum_incident::find_incident(db, actor, &quorum_incident::IncidentKey::Id(id.clone()))
                .await
                .gql(ctx)?
        {
            return Ok(Some(Node::Incident(Incident::new(incident))));
        }
        Ok(
            quorum_problem::find_problem(db, actor, &quorum_problem::ProblemKey::Id(id))
                .await
                .gql(ctx)?
                .map(|problem| Node::Problem(Problem(problem))),
        )
    }
}
