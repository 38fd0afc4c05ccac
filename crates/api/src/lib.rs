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
pub mod documents;
mod engine;
pub mod error;
mod incident;
mod insight;
pub mod limits;
mod live;
mod loader;
mod node;
mod plain;
mod shape;
mod viewer;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

pub use context::{AppData, RequestContext};
pub use engine::{Checked, Engine, Operation, executed};
pub use limits::QueryLimits;

/// Every read. Errors follow the GraphQL spec: a field that fails is null, with an error
/// naming its path, and when the field is non-null the null moves up to the nearest nullable
/// field (or to `data`). The fields a role may not read (`cabAgenda`, `changeKpis`,
/// `incidentKpis`, `problemKpis`, `auditEvents`) are nullable, so that a page combining them
/// with others loses only what the role may not see. Lists default to 20 items a page, at most
/// 100; object keys come back in the order they were selected.
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
    node::NodeQuery,
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
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME)
        .override_input_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME)
}

/// Attaches what one request runs with: who is calling, its trace id and its DataLoaders.
fn prepare_request(
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

/// What `DateTime` is, for clients (async-graphql describes its implementation instead).
const DATE_TIME: &str = "An instant, as an RFC 3339 string. Quorum writes it in UTC with `Z` and milliseconds, as\nJavaScript's `Date.toISOString()` does (`2026-12-03T18:48:28.918Z`); it accepts any offset\n(`2026-12-03T19:48:28+01:00`) and any precision. Map it to `string` (or `Date` with a\nparser) in generated client types.";

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    schema_builder().finish().sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .sorted_fields()
            .include_specified_by(),
    )
}

/// How a served schema is limited and what it may show.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    pub limits: QueryLimits,
    pub introspection: bool,
    /// With a manifest, only its documents run (`QUORUM_TRUSTED_DOCUMENTS`).
    pub trusted_documents: Option<std::sync::Arc<documents::TrustedDocuments>>,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        Self {
            limits: QueryLimits::default(),
            introspection: true,
            trusted_documents: None,
        }
    }
}
