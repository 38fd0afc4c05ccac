//! The GraphQL face of Quorum: objects, inputs and resolvers mapped onto the domain crates.
//!
//! Resolvers translate arguments, call one domain operation with the request's [`Actor`]
//! and map the result; they never decide who may do what (the domain does).

mod audit;
mod cab;
mod change;
mod cmdb;
mod connection;
pub mod context;
pub mod error;
mod hooks;
mod incident;
mod insight;
pub mod limits;
mod live;
mod loader;
mod operation;
mod viewer;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

pub use context::{AppData, RequestContext};
pub use limits::QueryLimits;
pub use operation::Execution;

/// The root query: one part per domain, merged.
#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    audit::AuditQuery,
    cmdb::CmdbQuery,
    change::ChangeQuery,
    incident::IncidentQuery,
    incident::problem::ProblemQuery,
    cab::CabQuery,
    insight::KpiQuery,
);

/// The root mutation: one part per domain, merged.
#[derive(MergedObject, Default)]
pub struct Mutation(
    cmdb::CmdbMutation,
    change::ChangeMutation,
    incident::IncidentMutation,
    incident::problem::ProblemMutation,
);

pub use live::{SUBSCRIBER_TOO_SLOW, Subscription};

pub type QuorumSchema = Schema<Query, Mutation, Subscription>;

/// The schema's types and resolvers with no data attached: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// Attaches what one request runs with: who is calling, its trace id and its DataLoaders.
pub fn prepare_request(
    request: async_graphql::Request,
    app: &AppData,
    context: RequestContext,
) -> async_graphql::Request {
    let request = match &context.actor {
        Some(actor) => loader::register(request, app, actor),
        None => request,
    };
    request.data(context)
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().sorted_fields())
}

/// How a served schema is limited and what it may show.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    pub limits: QueryLimits,
    pub introspection: bool,
    /// How long a DataLoader waits for more keys after the first before it runs its batch.
    pub batch_window: std::time::Duration,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        Self {
            limits: QueryLimits::default(),
            introspection: true,
            batch_window: loader::BATCH_WINDOW,
        }
    }
}

/// The schema as served over HTTP: limits, error codes and the shared application data.
pub fn build_schema(app: AppData, options: &SchemaOptions) -> QuorumSchema {
    configured(app, options)
        .extension(hooks::Hooks::new(options.limits.max_aliases))
        .finish()
}

/// The schema with its limits and data, and no extension.
fn configured(
    app: AppData,
    options: &SchemaOptions,
) -> SchemaBuilder<Query, Mutation, Subscription> {
    let builder = schema_builder()
        .data(app)
        .limit_depth(options.limits.max_depth)
        .limit_complexity(options.limits.max_complexity);
    if options.introspection {
        builder
    } else {
        builder.disable_introspection()
    }
}

/// The schema as served on a WebSocket, where most of the work is subscription messages.
///
/// It has no extension: async-graphql wraps every field of every message in a boxed future per
/// extension. What [`build_schema`]'s extension does is done around each operation instead:
/// the same parse and alias checks before it, the same error codes on what it returns.
#[derive(Clone)]
pub struct SocketSchema {
    schema: QuorumSchema,
    max_aliases: usize,
}

impl SocketSchema {
    pub fn new(app: AppData, options: &SchemaOptions) -> Self {
        Self {
            schema: configured(app, options).finish(),
            max_aliases: options.limits.max_aliases,
        }
    }

    /// Runs one operation of a socket (a subscription, or a query or mutation sent there),
    /// prepared with [`prepare_request`] under `trace_id`.
    pub fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<std::sync::Arc<async_graphql::Data>>,
        trace_id: String,
    ) -> futures_util::stream::BoxStream<'static, async_graphql::Response> {
        hooks::checked_stream(
            &self.schema,
            self.max_aliases,
            request,
            session_data,
            trace_id,
        )
    }
}
