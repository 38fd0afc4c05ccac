//! The CMDB's GraphQL objects, built from domain values.

use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::{Context, ID, Json, Object, SimpleObject, Value};
use chrono::{DateTime, Utc};
use quorum_cmdb::{
    CiClass, CiStatus, Environment, RelationshipDirection, RelationshipType, WalkDirection,
};
use quorum_core::pagination::PageRequest;

use crate::audit::AuditEvent;
use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::loader::{Batched, CiAt, ConfigurationItemLoader, RelationshipsLoader, RelationshipsOf};
use crate::plain::{Fast, Plain, Walk, instant, maybe_instant, maybe_text, text, value};

/// A configuration item (CI): something the service runs on or is made of, as it is now or,
/// when read with `asOf`, as it was at that instant.
pub struct ConfigurationItem {
    pub(crate) item: Arc<quorum_cmdb::ConfigurationItem>,
    pub(crate) as_of: Option<DateTime<Utc>>,
}

impl ConfigurationItem {
    /// Takes the CI or a share of it: walks put one CI in many paths.
    pub(crate) fn new(
        item: impl Into<Arc<quorum_cmdb::ConfigurationItem>>,
        as_of: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            item: item.into(),
            as_of,
        }
    }

    async fn walk(
        &self,
        ctx: &Context<'_>,
        direction: WalkDirection,
        depth: i32,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<ImpactAnalysis> {
        let actor = ctx.actor()?;
        let as_of = as_of.or(self.as_of);
        let walk = quorum_cmdb::walk(
            &ctx.app()?.db,
            actor,
            &self.item.id,
            direction,
            depth,
            as_of,
        )
        .await
        .gql(ctx)?;
        Ok(ImpactAnalysis::new(walk, as_of))
    }
}

impl Plain for ConfigurationItem {
    fn plain(&self, field: &Field, _walk: &Walk<'_>) -> Option<Value> {
        let item = &*self.item;
        match field.name.node.as_str() {
            "id" => value(&ID(item.id.clone())),
            "number" => text(&item.number),
            "class" => value(&item.class),
            "name" => text(&item.name),
            "status" => value(&item.status),
            "environment" => value(&item.environment),
            "criticality" => value(&item.criticality),
            "ownerTeam" => maybe_text(item.owner_team.as_deref()),
            "description" => maybe_text(item.description.as_deref()),
            "version" => value(&item.version),
            "createdAt" => instant(&item.created_at),
            "updatedAt" => instant(&item.updated_at),
            "retiredAt" => maybe_instant(item.retired_at.as_ref()),
            "asOf" => maybe_instant(self.as_of.as_ref()),
            _ => None,
        }
    }
}

#[Object]
impl ConfigurationItem {
    /// Opaque id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.item.id.clone())
    }

    /// Human number, e.g. `CI0000042`.
    async fn number(&self) -> &str {
        &self.item.number
    }

    async fn class(&self) -> CiClass {
        self.item.class
    }

    /// Unique per class, ignoring case.
    async fn name(&self) -> &str {
        &self.item.name
    }

    async fn status(&self) -> CiStatus {
        self.item.status
    }

    async fn environment(&self) -> Environment {
        self.item.environment
    }

    /// 1 (most critical) to 4.
    async fn criticality(&self) -> i32 {
        self.item.criticality
    }

    async fn owner_team(&self) -> Option<&str> {
        self.item.owner_team.as_deref()
    }

    async fn description(&self) -> Option<&str> {
        self.item.description.as_deref()
    }

    /// Free attributes: always a JSON object.
    async fn attributes(&self) -> Json<serde_json::Value> {
        Json(self.item.attributes.clone())
    }

    /// Send it back with an update or retirement: a stale version is refused with CONFLICT.
    async fn version(&self) -> i32 {
        self.item.version
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.item.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.item.updated_at
    }

    async fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.item.retired_at
    }

    /// The instant this view is as of; null when it is the current state.
    async fn as_of(&self) -> Option<DateTime<Utc>> {
        self.as_of
    }

    /// This CI's relationships (as of the same instant as the CI), oldest first.
    async fn relationships(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] direction: RelationshipDirection,
        types: Option<Vec<RelationshipType>>,
    ) -> async_graphql::Result<Vec<Relationship>> {
        ctx.actor()?;
        let loader = ctx.data::<Batched<RelationshipsLoader>>()?;
        let all = loader
            .load_one(RelationshipsOf {
                id: self.item.id.clone(),
                as_of: self.as_of,
            })
            .await
            .gql(ctx)?
            .unwrap_or_default();
        Ok(all
            .into_iter()
            .filter(|relationship| match direction {
                RelationshipDirection::Outgoing => relationship.source_id == self.item.id,
                RelationshipDirection::Incoming => relationship.target_id == self.item.id,
                RelationshipDirection::Both => true,
            })
            .filter(|relationship| {
                types
                    .as_ref()
                    .is_none_or(|types| types.contains(&relationship.relationship_type))
            })
            .map(|relationship| Relationship {
                relationship,
                as_of: self.as_of,
            })
            .collect())
    }

    /// Everything a change to or an outage of this CI reaches, up to `depth` hops (1 to 10).
    /// Impact flows against the arrow: when A DEPENDS_ON B, B impacts A. With `asOf` (or when
    /// this CI was read as of an instant), the graph as it was then.
    #[graphql(complexity = "crate::cmdb::walk_complexity(depth, child_complexity)")]
    async fn impact(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] depth: i32,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<ImpactAnalysis> {
        self.walk(ctx, WalkDirection::Impact, depth, as_of).await
    }

    /// What this CI relies on, up to `depth` hops (1 to 10): the walk with the arrow.
    #[graphql(complexity = "crate::cmdb::walk_complexity(depth, child_complexity)")]
    async fn dependencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] depth: i32,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<ImpactAnalysis> {
        self.walk(ctx, WalkDirection::Dependencies, depth, as_of)
            .await
    }

    /// The changes touching this CI, newest first (CAB members do not see drafts).
    #[graphql(complexity = "crate::connection::complexity(first, None, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        states: Option<Vec<quorum_change::ChangeState>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Fast<crate::change::objects::Change>>> {
        let actor = ctx.actor()?;
        let filter = quorum_change::ChangeFilter {
            states: crate::connection::distinct(states),
            affected_item_id: Some(self.item.id.clone()),
            ..quorum_change::ChangeFilter::default()
        };
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            ..PageRequest::default()
        };
        let changes = quorum_change::list_changes(
            &ctx.app()?.db,
            actor,
            &filter,
            quorum_change::ChangeOrderField::Number,
            true,
            &page,
            &crate::change::objects::unread_columns(&crate::connection::nodes(ctx)),
        )
        .await
        .gql(ctx)?;
        Ok(connection(changes, |change| {
            Fast(crate::change::objects::Change::new(change))
        }))
    }

    /// The incidents that hit this CI, newest first.
    #[graphql(complexity = "crate::connection::complexity(first, None, child_complexity)")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        states: Option<Vec<quorum_incident::IncidentState>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<Fast<crate::incident::objects::Incident>>> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let filter = quorum_incident::IncidentFilter {
            states: crate::connection::distinct(states),
            affected_item_id: Some(self.item.id.clone()),
            ..quorum_incident::IncidentFilter::default()
        };
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            ..PageRequest::default()
        };
        let clock = ctx.clock()?;
        let incidents = quorum_incident::list_incidents(
            &app.db,
            actor,
            &filter,
            quorum_incident::IncidentOrderField::Number,
            true,
            || clock.now(),
            &page,
        )
        .await
        .gql(ctx)?;
        Ok(connection(incidents, |incident| {
            Fast(crate::incident::objects::Incident::new(incident))
        }))
    }

    /// The events of this CI and of its relationships, newest first, with who made them and
    /// the record before and after.
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
        let events = quorum_cmdb::history(&ctx.app()?.db, actor, &self.item.id, &page)
            .await
            .gql(ctx)?;
        Ok(connection(events, Fast::from))
    }
}

/// A typed, directed relationship: `source` —type→ `target`.
pub struct Relationship {
    pub(crate) relationship: quorum_cmdb::Relationship,
    pub(crate) as_of: Option<DateTime<Utc>>,
}

impl Relationship {
    async fn end(&self, ctx: &Context<'_>, id: &str) -> async_graphql::Result<ConfigurationItem> {
        ctx.actor()?;
        let loader = ctx.data::<Batched<ConfigurationItemLoader>>()?;
        // CIs are never deleted, and a relationship live at an instant joins CIs that existed
        // then: the end is always found.
        let item = loader
            .load_one(CiAt {
                id: id.to_owned(),
                as_of: self.as_of,
            })
            .await
            .gql(ctx)?
            .ok_or_else(|| {
                async_graphql::Error::new(format!("configuration item {id} is missing"))
            })?;
        Ok(ConfigurationItem::new(item, self.as_of))
    }
}

#[Object]
impl Relationship {
    async fn id(&self) -> ID {
        ID(self.relationship.id.clone())
    }

    #[graphql(name = "type")]
    async fn relationship_type(&self) -> RelationshipType {
        self.relationship.relationship_type
    }

    async fn source(&self, ctx: &Context<'_>) -> async_graphql::Result<ConfigurationItem> {
        self.end(ctx, &self.relationship.source_id).await
    }

    async fn target(&self, ctx: &Context<'_>) -> async_graphql::Result<ConfigurationItem> {
        self.end(ctx, &self.relationship.target_id).await
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.relationship.created_at
    }

    /// Subject of who related the CIs.
    async fn created_by(&self) -> &str {
        &self.relationship.created_by
    }

    /// When the relationship was removed; null while it stands.
    async fn removed_at(&self) -> Option<DateTime<Utc>> {
        self.relationship.removed_at
    }

    async fn removed_by(&self) -> Option<&str> {
        self.relationship.removed_by.as_deref()
    }
}

/// A CI reached by an impact or dependency walk.
#[derive(SimpleObject)]
pub struct ImpactedItem {
    item: ConfigurationItem,
    /// Hops from the root.
    distance: i32,
    /// A shortest path: the root first, this CI last.
    path: Vec<ConfigurationItem>,
    /// The relationship type of the last hop.
    relationship_type: RelationshipType,
}

/// The result of an impact or dependency walk.
#[derive(SimpleObject)]
pub struct ImpactAnalysis {
    root: ConfigurationItem,
    /// How many hops the walk went at most.
    depth: i32,
    /// Every CI reached (the root excluded), nearest first, then by number; each once.
    items: Vec<ImpactedItem>,
    /// The business services among `items`.
    business_services: Vec<ImpactedItem>,
    /// True when CIs lie beyond `depth`: ask again with a larger depth to see them.
    truncated: bool,
    /// The instant the graph was read as of; null for now.
    as_of: Option<DateTime<Utc>>,
}

impl ImpactedItem {
    pub(crate) fn from_reached(
        reached: &quorum_cmdb::Reached,
        as_of: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            item: ConfigurationItem::new(Arc::clone(&reached.item), as_of),
            distance: i32::try_from(reached.distance).unwrap_or(i32::MAX),
            path: reached
                .path
                .iter()
                .map(|step| ConfigurationItem::new(Arc::clone(step), as_of))
                .collect(),
            relationship_type: reached.via,
        }
    }
}

impl ImpactAnalysis {
    fn new(walk: quorum_cmdb::Walk, as_of: Option<DateTime<Utc>>) -> Self {
        let to_item = |reached: &quorum_cmdb::Reached| ImpactedItem::from_reached(reached, as_of);
        Self {
            business_services: walk.business_services().map(to_item).collect(),
            items: walk.reached.iter().map(to_item).collect(),
            root: ConfigurationItem::new(walk.root, as_of),
            depth: i32::try_from(walk.depth).unwrap_or(i32::MAX),
            truncated: walk.truncated,
            as_of,
        }
    }
}

/// What an import did.
#[derive(SimpleObject)]
pub struct ImportResult {
    /// CIs created.
    created: i32,
    /// CIs whose fields changed.
    updated: i32,
    /// CIs already as the import says.
    unchanged: i32,
    relationships_created: i32,
    /// Relationships that already stood.
    relationships_unchanged: i32,
}

impl From<quorum_cmdb::ImportSummary> for ImportResult {
    fn from(summary: quorum_cmdb::ImportSummary) -> Self {
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            created: count(summary.created),
            updated: count(summary.updated),
            unchanged: count(summary.unchanged),
            relationships_created: count(summary.relationships_created),
            relationships_unchanged: count(summary.relationships_unchanged),
        }
    }
}
