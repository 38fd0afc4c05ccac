//! `auditEvents`: the event log, read by those who answer for it.

use async_graphql::parser::types::Field;
use async_graphql::{Context, ID, InputObject, Json, Object, Value};
use chrono::{DateTime, Utc};
use quorum_core::event::{self, EntityKind, EventAction, EventFilter};
use quorum_core::pagination::PageRequest;

use crate::connection::{QuorumConnection, connection};
use crate::context::ContextExt;
use crate::error::GqlResultExt;
use crate::plain::{Fast, Plain, Walk, instant, maybe_text, text, value};

#[derive(Default)]
pub struct AuditQuery;

/// One write, as recorded in the same transaction as the write itself.
pub struct AuditEvent(event::Model);

#[Object]
impl AuditEvent {
    /// Opaque id of the event.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Increases with every write: the order of events.
    async fn sequence(&self) -> i64 {
        self.0.id
    }

    /// When the write was made (UTC).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// The subject of whoever made the write.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The kind of record written.
    async fn entity_kind(&self) -> async_graphql::Result<EntityKind> {
        EntityKind::from_stored(&self.0.entity_kind).ok_or_else(|| {
            async_graphql::Error::new(format!(
                "event {} names an unknown kind of record",
                self.0.id
            ))
        })
    }

    /// The id of the record written.
    async fn entity_id(&self) -> ID {
        ID(self.0.entity_id.clone())
    }

    /// What the write did.
    async fn action(&self) -> async_graphql::Result<EventAction> {
        EventAction::from_stored(&self.0.action).ok_or_else(|| {
            async_graphql::Error::new(format!("event {} names an unknown action", self.0.id))
        })
    }

    /// Why, when the operation took a reason.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// The record before the write; null for a creation.
    async fn before(&self) -> Option<Json<&serde_json::Value>> {
        self.0.before.as_ref().map(Json)
    }

    /// The record after the write; null for a removal.
    async fn after(&self) -> Option<Json<&serde_json::Value>> {
        self.0.after.as_ref().map(Json)
    }
}

impl From<event::Model> for AuditEvent {
    fn from(event: event::Model) -> Self {
        Self(event)
    }
}

impl From<event::Model> for Fast<AuditEvent> {
    fn from(event: event::Model) -> Self {
        Self(AuditEvent(event))
    }
}

impl Plain for AuditEvent {
    fn plain(&self, field: &Field, _walk: &Walk<'_>) -> Option<Value> {
        let event = &self.0;
        match field.name.node.as_str() {
            "id" => value(&ID(event.id.to_string())),
            "sequence" => value(&event.id),
            "occurredAt" => instant(&event.occurred_at),
            "actor" => text(&event.actor),
            "entityKind" => value(&EntityKind::from_stored(&event.entity_kind)?),
            "entityId" => value(&ID(event.entity_id.clone())),
            "action" => value(&EventAction::from_stored(&event.action)?),
            "reason" => maybe_text(event.reason.as_deref()),
            _ => None,
        }
    }
}

/// Narrows the audit log; all given fields must match.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// The kind of record.
    entity_kind: Option<EntityKind>,
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
    ) -> async_graphql::Result<Option<QuorumConnection<Fast<AuditEvent>>>> {
        let actor = ctx.actor()?;
        let app = ctx.app()?;
        let filter = filter.unwrap_or_default();
        let filter = EventFilter {
            entity_kind: filter.entity_kind.map(|kind| kind.as_str().to_owned()),
            entity_id: filter.entity_id.map(|id| id.0),
            actor: filter.actor,
            occurred_from: filter.occurred_from,
            occurred_to: filter.occurred_to,
        };
        let page = PageRequest {
            skip_total: !crate::connection::wants_total(ctx),
            first,
            after,
            last,
            before,
        };
        let events = event::list(&app.db, actor, &filter, &page).await.gql(ctx)?;
        Ok(Some(connection(events, Fast::from)))
    }
}
