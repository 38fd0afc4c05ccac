//! `auditEvents`: the event log, read by those who answer for it.

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use quorum_core::event::{self, EventFilter};
use quorum_core::pagination::PageRequest;

use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct AuditQuery;

/// One write, as recorded in the same transaction as the write itself.
#[derive(SimpleObject)]
pub struct AuditEvent {
    /// Opaque id of the event.
    id: ID,
    /// Increases with every write: the order of events.
    sequence: i64,
    /// When the write was made (UTC).
    occurred_at: DateTime<Utc>,
    /// The subject of whoever made the write.
    actor: String,
    /// The kind of record written, e.g. `ConfigurationItem`.
    entity_kind: String,
    /// The id of the record written.
    entity_id: ID,
    /// What happened, e.g. `created`, `updated`, `transitioned`.
    action: String,
    /// Why, when the operation took a reason.
    reason: Option<String>,
    /// The record before the write; null for a creation.
    before: Option<Json<serde_json::Value>>,
    /// The record after the write; null for a removal.
    after: Option<Json<serde_json::Value>>,
}

impl From<event::Model> for AuditEvent {
    fn from(event: event::Model) -> Self {
        Self {
            id: ID(event.id.to_string()),
            sequence: event.id,
            occurred_at: event.occurred_at,
            actor: event.actor,
            entity_kind: event.entity_kind,
            entity_id: ID(event.entity_id),
            action: event.action,
            reason: event.reason,
            before: event.before.map(Json),
            after: event.after.map(Json),
        }
    }
}

/// Narrows the audit log; all given fields must match.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// The kind of record, e.g. `ConfigurationItem`.
    entity_kind: Option<String>,
    /// The id of one record: its whole history.
    entity_id: Option<ID>,
    /// The subject of the actor.
    actor: Option<String>,
    /// Events at or after this instant.
    occurred_from: Option<DateTime<Utc>>,
    /// Events before this instant.
    occurred_to: Option<DateTime<Utc>>,
}

#[Object]
impl AuditQuery {
    /// The audit log, newest first (CHANGE_MANAGER and SERVICE_HEAD; for other roles null,
    /// with a FORBIDDEN error).
    #[graphql(complexity = "crate::connection::complexity(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Option<QuorumConnection<AuditEvent>>> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let filter = EventFilter {
            entity_kind: filter.entity_kind,
            entity_id: filter.entity_id.map(|id| id.0),
            actor: filter.actor,
            occurred_from: filter.occurred_from,
            occurred_to: filter.occurred_to,
        };
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        let events = event::list(&app.db, actor, &filter, &page).await.gql(ctx)?;
        Ok(Some(connection(events, AuditEvent::from)))
    }
}
