//! What resolvers find in the GraphQL context.

use std::sync::{Arc, OnceLock};

use async_graphql::Context;
use chrono::{DateTime, Utc};
use quorum_core::feed::EventFeed;
use quorum_core::{Actor, SharedClock};
use sea_orm::DatabaseConnection;

use crate::error::unauthenticated;

/// Shared by every request of one server.
#[derive(Clone)]
pub struct AppData {
    pub db: DatabaseConnection,
    /// Read by queries only through [`ContextExt::clock`], which notes that the answer depends
    /// on the time; by writes through [`AppData::context`].
    clock: SharedClock,
    /// This instance's live feed of committed events (subscriptions).
    pub feed: EventFeed,
}

impl AppData {
    pub fn new(db: DatabaseConnection, clock: SharedClock, feed: EventFeed) -> Self {
        Self { db, clock, feed }
    }

    /// What a domain write of `actor` takes: this server's database and clock, and them.
    pub fn context<'a>(&'a self, actor: &'a Actor) -> quorum_core::Context<'a> {
        quorum_core::Context::new(&self.db, self.clock.as_ref(), actor)
    }
}

/// Set for each request by the HTTP layer.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Who the bearer token says is calling; none without a token.
    pub actor: Option<Actor>,
    /// Tags the request's log lines and any INTERNAL error it returns.
    pub trace_id: String,
    /// The instant the request's fields take as now, read from the clock the first time a
    /// field asks ([`ContextExt::clock`]): every field of one request sees the same instant, and
    /// an answer that never asked does not depend on the time. Shared by clones.
    now: Arc<OnceLock<DateTime<Utc>>>,
    /// Whether every answer holds to that first instant: one request, one answer. An operation
    /// on a socket answers once per event for as long as it lives; each answer reads the time.
    pinned: bool,
}

impl RequestContext {
    /// The context of one request, answered once: its fields share one instant.
    pub fn new(actor: Option<Actor>, trace_id: String) -> Self {
        Self {
            actor,
            trace_id,
            now: Arc::default(),
            pinned: true,
        }
    }

    /// The context of an operation on a socket, which may answer many times (a subscription):
    /// each read of the clock reads it.
    pub fn ongoing(actor: Option<Actor>, trace_id: String) -> Self {
        Self {
            pinned: false,
            ..Self::new(actor, trace_id)
        }
    }

    /// Whether any field of this request read the clock: its answer depends on when it ran,
    /// not only on what the database held.
    pub fn read_the_clock(&self) -> bool {
        self.now.get().is_some()
    }
}

pub(crate) trait ContextExt {
    fn app(&self) -> async_graphql::Result<&AppData>;
    fn request(&self) -> Option<&RequestContext>;
    /// The caller, or UNAUTHENTICATED: every data field needs one.
    fn actor(&self) -> async_graphql::Result<&Actor>;
    /// The request's clock: the server's, read at most once per request.
    fn clock(&self) -> async_graphql::Result<RequestClock<'_>>;
}

/// The clock as one request sees it ([`RequestContext`]'s instant).
pub(crate) struct RequestClock<'a> {
    clock: &'a SharedClock,
    request: Option<&'a RequestContext>,
}

impl RequestClock<'_> {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        match self.request {
            Some(request) if request.pinned => *request.now.get_or_init(|| self.clock.now()),
            Some(request) => {
                let now = self.clock.now();
                // Noted all the same: the answer depends on the time.
                let _ = request.now.set(now);
                now
            }
            None => self.clock.now(),
        }
    }
}

impl ContextExt for Context<'_> {
    fn app(&self) -> async_graphql::Result<&AppData> {
        self.data::<AppData>()
    }

    fn request(&self) -> Option<&RequestContext> {
        self.data_opt::<RequestContext>()
    }

    fn actor(&self) -> async_graphql::Result<&Actor> {
        self.request()
            .and_then(|request| request.actor.as_ref())
            .ok_or_else(unauthenticated)
    }

    fn clock(&self) -> async_graphql::Result<RequestClock<'_>> {
        Ok(RequestClock {
            clock: &self.app()?.clock,
            request: self.request(),
        })
    }
}
