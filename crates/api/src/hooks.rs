//! The HTTP schema's one async-graphql extension: the parse-failure code, the alias limit
//! (`limits`) and what a request executed (`operation`); and the same checks around an
//! operation on a socket, whose schema has no extension at all ([`checked_stream`]). Every
//! other code comes from [`finish_response`](crate::error::finish_response), on both.
//!
//! They are one extension because async-graphql wraps every field's resolution in a boxed
//! future per extension, whether or not it hooks `resolve`: with four extensions (async-graphql's
//! `Tracing` among them, which also opened a span with three formatted fields per object
//! field), a subscription message spent more of its CPU in those wrappers than in its own
//! resolvers (bench/README.md, live updates).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Data, Executor, Request, Response, ServerResult, Variables};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, future, stream};

use crate::QuorumSchema;
use crate::error::{GRAPHQL_PARSE_FAILED, with_code};

/// Runs `request` on `schema` (which has no extension) as [`Hooks`] would: a document that does
/// not parse gets GRAPHQL_PARSE_FAILED and one over the alias limit GRAPHQL_VALIDATION_FAILED,
/// before anything runs; then every response is finished as over HTTP
/// ([`finish_response`](crate::error::finish_response)), where validation failures, having no
/// path, get GRAPHQL_VALIDATION_FAILED.
pub(crate) fn checked_stream(
    schema: &QuorumSchema,
    max_aliases: usize,
    mut request: Request,
    session_data: Option<Arc<Data>>,
    trace_id: String,
) -> BoxStream<'static, Response> {
    let refused = match request.parsed_query() {
        Err(error) => Some(with_code(error, GRAPHQL_PARSE_FAILED)),
        Ok(document) => crate::limits::check_aliases(document, max_aliases).err(),
    };
    if let Some(error) = refused {
        return stream::once(future::ready(Response::from_errors(vec![error]))).boxed();
    }
    Executor::execute_stream(schema, request, session_data)
        .map(move |response| crate::error::finish_response(response, &trace_id))
        .boxed()
}

pub(crate) struct Hooks {
    max_aliases: usize,
}

impl Hooks {
    pub(crate) fn new(max_aliases: usize) -> Self {
        Self { max_aliases }
    }
}

impl ExtensionFactory for Hooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Hooks {
            max_aliases: self.max_aliases,
        })
    }
}

#[async_trait::async_trait]
impl Extension for Hooks {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| with_code(error, GRAPHQL_PARSE_FAILED))?;
        crate::limits::check_aliases(&document, self.max_aliases)?;
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        crate::operation::record(ctx, operation_name);
        next.run(ctx, operation_name).await
    }
}
