//! What resolvers find in the GraphQL context.

use async_graphql::Context;
use quorum_core::feed::EventFeed;
use quorum_core::{Actor, SharedClock};
use sea_orm::DatabaseConnection;

use crate::error::unauthenticated;

/// Shared by every request of one server.
#[derive(Clone)]
pub struct AppData {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    /// This instance's live feed of committed events (subscriptions).
    pub feed: EventFeed,
}

impl AppData {
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
}

pub(crate) trait ContextExt {
    fn app(&self) -> async_graphql::Result<&AppData>;
    fn request(&self) -> Option<&RequestContext>;
    /// The caller, or UNAUTHENTICATED: every data field needs one.
    fn actor(&self) -> async_graphql::Result<&Actor>;
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
}
