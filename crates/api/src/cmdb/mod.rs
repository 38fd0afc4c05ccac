//! `configurationItem(s)` and the CMDB mutations.

pub(crate) mod objects;

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use quorum_cmdb::{
    CiClass, CiKey, CiOrderField, CiStatus, Environment, RelationshipType, SortDirection,
};
use quorum_core::DomainError;
use quorum_core::pagination::PageRequest;

use objects::{ConfigurationItem, ImportResult, Relationship};

use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct CmdbQuery;

#[derive(Default)]
pub struct CmdbMutation;

/// Narrows a list of configuration items; every given criterion must hold.
#[derive(InputObject, Default)]
#[graphql(name = "CiFilter")]
pub struct ConfigurationItemFilter {
    classes: Option<Vec<CiClass>>,
    statuses: Option<Vec<CiStatus>>,
    environments: Option<Vec<Environment>>,
    /// CIs at least as critical as this: criticality 1 (the most critical) up to this value.
    /// `atLeastAsCriticalAs: 2` gives criticality 1 and 2.
    at_least_as_critical_as: Option<i32>,
    /// CIs at most as critical as this: criticality this value up to 4 (the least critical).
    /// `atMostAsCriticalAs: 3` gives criticality 3 and 4.
    at_most_as_critical_as: Option<i32>,
    /// Criticality 1 up to this (1 is the most critical).
    #[graphql(
        deprecation = "Use `atLeastAsCriticalAs` (the same filter, named for what it returns)."
    )]
    criticality_at_most: Option<i32>,
    /// Criticality this and above, up to 4: the less critical CIs.
    #[graphql(
        deprecation = "Use `atMostAsCriticalAs` (the same filter): criticality 1 is the most critical, so this returns the less critical CIs, not the more critical ones."
    )]
    criticality_at_least: Option<i32>,
    owner_team: Option<String>,
    /// Case-insensitive part of the name.
    name_contains: Option<String>,
}

/// Orders a list of configuration items; ties are broken by id, so paging is stable.
#[derive(InputObject)]
#[graphql(name = "CiOrder")]
pub struct ConfigurationItemOrder {
    #[graphql(default)]
    field: CiOrderField,
    #[graphql(default)]
    direction: SortDirection,
}

/// A new configuration item.
#[derive(InputObject)]
pub struct CreateConfigurationItemInput {
    class: CiClass,
    /// Unique per class, ignoring case; 1 to 200 characters.
    name: String,
    /// IN_SERVICE when not given; RETIRED is not allowed.
    status: Option<CiStatus>,
    environment: Environment,
    /// 1 (most critical) to 4.
    criticality: i32,
    owner_team: Option<String>,
    description: Option<String>,
    /// A JSON object; `{}` when not given.
    attributes: Option<Json<serde_json::Value>>,
}

/// Changes to a configuration item: fields left out stay as they are; `null` clears the
/// optional texts.
#[derive(InputObject, Default)]
pub struct UpdateConfigurationItemInput {
    class: Option<CiClass>,
    name: Option<String>,
    /// RETIRED is set by `retireConfigurationItem` only.
    status: Option<CiStatus>,
    environment: Option<Environment>,
    criticality: Option<i32>,
    owner_team: MaybeUndefined<String>,
    description: MaybeUndefined<String>,
    /// Replaces the attributes; a JSON object.
    attributes: Option<Json<serde_json::Value>>,
}

/// A relationship to create: `source` —type→ `target`.
#[derive(InputObject)]
pub struct RelateConfigurationItemsInput {
    source_id: ID,
    target_id: ID,
    #[graphql(name = "type")]
    relationship_type: RelationshipType,
}

/// One CI of an import: its whole desired state, matched by class and name (ignoring case).
#[derive(InputObject)]
pub struct ImportItemInput {
    class: CiClass,
    name: String,
    status: Option<CiStatus>,
    environment: Environment,
    criticality: i32,
    owner_team: Option<String>,
    description: Option<String>,
    attributes: Option<Json<serde_json::Value>>,
}

/// One relationship of an import, its ends named by class and name.
#[derive(InputObject)]
pub struct ImportRelationshipInput {
    source_class: CiClass,
    source_name: String,
    #[graphql(name = "type")]
    relationship_type: RelationshipType,
    target_class: CiClass,
    target_name: String,
}

/// A bulk import: all or nothing.
#[derive(InputObject)]
pub struct ImportConfigurationItemsInput {
    #[graphql(default)]
    items: Vec<ImportItemInput>,
    #[graphql(default)]
    relationships: Vec<ImportRelationshipInput>,
}

/// A walk costs a statement per level and returns many CIs: it weighs 10 per level of depth,
/// so that asking for walks on every row of a large page hits the complexity limit.
pub(crate) fn walk_complexity(depth: i32, child_complexity: usize) -> usize {
    10 * usize::try_from(depth.clamp(1, 10)).unwrap_or(1) + child_complexity
}

fn maybe(value: MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(text) => Some(Some(text)),
    }
}

#[Object]
impl CmdbQuery {
    /// One configuration item by `id` or `number` (give exactly one), as it is now or, with
    /// `asOf`, as it was then. Null when there is none (or there was none yet at `asOf`).
    async fn configuration_item(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<ConfigurationItem>> {
        let actor = ctx.actor()?;
        let key = match (id, number) {
            (Some(id), None) => CiKey::Id(id.0),
            (None, Some(number)) => CiKey::Number(number),
            _ => {
                return Err(DomainError::bad_input(
                    "id",
                    "give exactly one of `id` and `number`",
                ))
                .gql(ctx);
            }
        };
        let db = &ctx.app()?.db;
        let item = match as_of {
            None => quorum_cmdb::find_configuration_item(db, actor, &key).await,
            Some(instant) => {
                quorum_cmdb::find_configuration_item_as_of(db, actor, &key, instant).await
            }
        }
        .gql(ctx)?;
        Ok(item.map(|item| ConfigurationItem::new(item, as_of)))
    }

    /// Configuration items, filtered and ordered (by name when no order is given).
    #[graphql(complexity = "crate::connection::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn configuration_items(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConfigurationItemFilter>,
        order_by: Option<ConfigurationItemOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<QuorumConnection<ConfigurationItem>> {
        let actor = ctx.actor()?;
        let filter = filter.unwrap_or_default();
        let filter = quorum_cmdb::CiFilter {
            classes: crate::connection::distinct(filter.classes),
            statuses: crate::connection::distinct(filter.statuses),
            environments: crate::connection::distinct(filter.environments),
            criticality_at_most: filter
                .at_least_as_critical_as
                .or(filter.criticality_at_most),
            criticality_at_least: filter
                .at_most_as_critical_as
                .or(filter.criticality_at_least),
            owner_team: filter.owner_team,
            name_contains: filter.name_contains,
        };
        let order = order_by.map_or_else(quorum_cmdb::CiOrder::default, |order| {
            quorum_cmdb::CiOrder {
                field: order.field,
                direction: order.direction,
            }
        });
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            last,
            before,
        };
        let items =
            quorum_cmdb::list_configuration_items(&ctx.app()?.db, actor, &filter, order, &page)
                .await
                .gql(ctx)?;
        Ok(connection(items, |item| ConfigurationItem::new(item, None)))
    }
}

#[Object]
impl CmdbMutation {
    /// Creates a configuration item (ENGINEER, CHANGE_MANAGER).
    async fn create_configuration_item(
        &self,
        ctx: &Context<'_>,
        input: CreateConfigurationItemInput,
    ) -> async_graphql::Result<ConfigurationItem> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let item = quorum_cmdb::create_configuration_item(
            app.context(actor),
            quorum_cmdb::NewConfigurationItem {
                class: input.class,
                name: input.name,
                status: input.status,
                environment: input.environment,
                criticality: input.criticality,
                owner_team: input.owner_team,
                description: input.description,
                attributes: input.attributes.map(|json| json.0),
            },
        )
        .await
        .gql(ctx)?;
        Ok(ConfigurationItem::new(item, None))
    }

    /// Changes a configuration item (ENGINEER, CHANGE_MANAGER). `version` must be the one you
    /// read; a stale one is refused with CONFLICT.
    async fn update_configuration_item(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: UpdateConfigurationItemInput,
    ) -> async_graphql::Result<ConfigurationItem> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let item = quorum_cmdb::update_configuration_item(
            app.context(actor),
            &id,
            version,
            quorum_cmdb::ConfigurationItemChanges {
                class: input.class,
                name: input.name,
                status: input.status,
                environment: input.environment,
                criticality: input.criticality,
                owner_team: maybe(input.owner_team),
                description: maybe(input.description),
                attributes: input.attributes.map(|json| json.0),
            },
        )
        .await
        .gql(ctx)?;
        Ok(ConfigurationItem::new(item, None))
    }

    /// Retires a configuration item for good (ENGINEER, CHANGE_MANAGER). Its history and
    /// relationships stay readable; it takes no new relationships, changes or incidents.
    /// Refused (INVALID_TRANSITION, naming them) while a change that is not closed, rejected
    /// or cancelled, or an incident not yet resolved, still names it.
    async fn retire_configuration_item(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> async_graphql::Result<ConfigurationItem> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let item = quorum_incident::retire_configuration_item(app.context(actor), &id, version)
            .await
            .gql(ctx)?;
        Ok(ConfigurationItem::new(item, None))
    }

    /// Relates two configuration items (ENGINEER, CHANGE_MANAGER). Refused: a CI related to
    /// itself, a relationship that already stands, a retired or unknown CI.
    async fn relate_configuration_items(
        &self,
        ctx: &Context<'_>,
        input: RelateConfigurationItemsInput,
    ) -> async_graphql::Result<Relationship> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let relationship = quorum_cmdb::relate_configuration_items(
            app.context(actor),
            quorum_cmdb::NewRelationship {
                source_id: input.source_id.0,
                target_id: input.target_id.0,
                relationship_type: input.relationship_type,
            },
        )
        .await
        .gql(ctx)?;
        Ok(Relationship {
            relationship,
            as_of: None,
        })
    }

    /// Removes a relationship (ENGINEER, CHANGE_MANAGER). It stays in the history and in
    /// reads as of earlier instants.
    async fn remove_relationship(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Relationship> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let relationship = quorum_cmdb::remove_relationship(app.context(actor), &id)
            .await
            .gql(ctx)?;
        Ok(Relationship {
            relationship,
            as_of: None,
        })
    }

    /// Imports CIs (upserted by class and name) and relationships (by source, type and
    /// target), all or nothing (ENGINEER, CHANGE_MANAGER). A bad row rejects the whole import
    /// with BAD_USER_INPUT and `extensions.rows` naming every bad row (up to 50). Running the
    /// same import again changes nothing and says so.
    async fn import_configuration_items(
        &self,
        ctx: &Context<'_>,
        input: ImportConfigurationItemsInput,
    ) -> async_graphql::Result<ImportResult> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let input = quorum_cmdb::ImportInput {
            items: input
                .items
                .into_iter()
                .map(|item| quorum_cmdb::ImportItem {
                    class: item.class,
                    name: item.name,
                    status: item.status,
                    environment: item.environment,
                    criticality: item.criticality,
                    owner_team: item.owner_team,
                    description: item.description,
                    attributes: item.attributes.map(|json| json.0),
                })
                .collect(),
            relationships: input
                .relationships
                .into_iter()
                .map(|rel| quorum_cmdb::ImportRelationship {
                    source_class: rel.source_class,
                    source_name: rel.source_name,
                    relationship_type: rel.relationship_type,
                    target_class: rel.target_class,
                    target_name: rel.target_name,
                })
                .collect(),
        };
        let summary = quorum_cmdb::import_configuration_items(app.context(actor), input)
            .await
            .gql(ctx)?;
        Ok(summary.into())
    }
}
