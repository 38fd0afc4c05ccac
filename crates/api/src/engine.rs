//! The one way a GraphQL request runs, over HTTP and on a WebSocket alike: checked (size,
//! parse, expanded selections, aliases, text) before anything runs, then executed on a schema
//! with no extension, then finished with a code on every error ([`finish_response`]).
//!
//! The schema has no async-graphql extension: each one wraps every field's resolution in a
//! boxed future, which cost a subscription message more CPU than its own resolvers
//! (bench/README.md, live updates). What an extension would do is done here, around the
//! operation.
//!
//! The server keeps what belongs to a transport: framing, authentication, metrics.

use std::sync::Arc;

use async_graphql::Value as ConstValue;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Data, Executor, Request, Response, ServerError, Variables};
use async_graphql_value::Value;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, future, stream};

use crate::error::{BAD_USER_INPUT, GRAPHQL_PARSE_FAILED, finish_response, with_code};
use crate::{AppData, QueryLimits, QuorumSchema, RequestContext, SchemaOptions};

/// Documents longer than this are parsed on a blocking thread, so that parsing a large one
/// never holds up the async workers that serve every other request (health checks included).
const PARSE_INLINE_BYTES: usize = 8 * 1024;

/// Runs GraphQL requests for one server; clones share it.
#[derive(Clone)]
pub struct Engine {
    schema: QuorumSchema,
    app: AppData,
    limits: QueryLimits,
}

/// The operation a checked request will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Its name in the document, when it has one.
    pub name: Option<String>,
    pub kind: OperationType,
}

/// A request that passed every check, its document parsed.
pub struct Checked {
    request: Request,
    operation: Option<Operation>,
}

impl Checked {
    /// The operation it selects, when the document names it unambiguously (otherwise
    /// execution refuses it with GRAPHQL_VALIDATION_FAILED).
    pub fn operation(&self) -> Option<&Operation> {
        self.operation.as_ref()
    }

    /// Whether it selects a mutation.
    pub fn is_mutation(&self) -> bool {
        self.operation
            .as_ref()
            .is_some_and(|operation| operation.kind == OperationType::Mutation)
    }
}

impl Engine {
    pub fn new(app: AppData, options: &SchemaOptions) -> Self {
        let builder = crate::schema_builder()
            .data(app.clone())
            .limit_depth(options.limits.max_depth)
            .limit_complexity(options.limits.max_complexity);
        let builder = if options.introspection {
            builder
        } else {
            builder.disable_introspection()
        };
        Self {
            schema: builder.finish(),
            app,
            limits: options.limits,
        }
    }

    pub fn limits(&self) -> &QueryLimits {
        &self.limits
    }

    /// Checks `request` before anything runs: its document's length, that it parses, its
    /// size once fragments are expanded, its aliases, and that no text in it holds U+0000
    /// (no store takes it the same way: PostgreSQL refuses it, SQLite keeps it). A refusal
    /// is the response to send, its error coded.
    pub async fn check(&self, mut request: Request) -> Result<Checked, Response> {
        let refuse = |error: ServerError| Response::from_errors(vec![error]);
        if request.query.len() > self.limits.max_query_bytes {
            return Err(refuse(crate::limits::too_long(
                request.query.len(),
                self.limits.max_query_bytes,
            )));
        }
        if request.query.len() > PARSE_INLINE_BYTES {
            request = tokio::task::spawn_blocking(move || {
                // The result stays in the request; errors are read again below.
                let _ = request.parsed_query();
                request
            })
            .await
            .map_err(|_| {
                refuse(with_code(
                    ServerError::new("the document could not be parsed", None),
                    GRAPHQL_PARSE_FAILED,
                ))
            })?;
        }
        let operation_name = request.operation_name.clone();
        let document = request
            .parsed_query()
            .map_err(|error| refuse(with_code(error, GRAPHQL_PARSE_FAILED)))?;
        crate::limits::check_document(document, &self.limits).map_err(refuse)?;
        if let Some(field) = nul_in_document(document) {
            return Err(refuse(nul_error(&field)));
        }
        let operation = selected(document, operation_name.as_deref());
        if let Some(field) = nul_in_variables(&request.variables) {
            return Err(refuse(nul_error(&field)));
        }
        Ok(Checked { request, operation })
    }

    /// Runs a checked request for `context` (its caller and trace id) and codes every error.
    pub async fn execute(&self, checked: Checked, context: RequestContext) -> Response {
        let trace_id = context.trace_id.clone();
        let request = crate::prepare_request(checked.request, &self.app, context);
        finish_response(self.schema.execute(request).await, &trace_id)
    }

    /// Runs a checked operation of a socket (a subscription, or a query or mutation sent
    /// there) for `context`, coding every error of every response.
    pub fn execute_stream(
        &self,
        checked: Checked,
        context: RequestContext,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let trace_id = context.trace_id.clone();
        let request = crate::prepare_request(checked.request, &self.app, context);
        Executor::execute_stream(&self.schema, request, session_data)
            .map(move |response| finish_response(response, &trace_id))
            .boxed()
    }

    /// [`Engine::check`] then [`Engine::execute_stream`], as one stream: a refusal is its
    /// only response.
    pub fn check_and_stream(
        &self,
        request: Request,
        context: RequestContext,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let engine = self.clone();
        stream::once(async move {
            match engine.check(request).await {
                Ok(checked) => engine.execute_stream(checked, context, session_data),
                Err(refused) => stream::once(future::ready(refused)).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

/// Whether a response comes from a request that got as far as executing. A request that
/// never executed has only request errors, which have no path (a field's error always has
/// one): a parse or validation failure, an unknown operation, a refused check.
pub fn executed(response: &Response) -> bool {
    response.errors.is_empty() || response.errors.iter().any(|error| !error.path.is_empty())
}

/// The operation a request with `name` selects, as execution will choose it.
fn selected(document: &ExecutableDocument, name: Option<&str>) -> Option<Operation> {
    let found = match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => Some((None, operation)),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get_key_value(name)
            .map(|(name, operation)| (Some(name.to_string()), operation)),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .iter()
            .next()
            .map(|(name, operation)| (Some(name.to_string()), operation)),
        (DocumentOperations::Multiple(_), None) => None,
    };
    found.map(|(name, operation)| Operation {
        name,
        kind: operation.node.ty,
    })
}

fn nul_error(field: &str) -> ServerError {
    let mut error = ServerError::new(
        format!("`{field}` holds the character U+0000, which no text may contain"),
        None,
    );
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", BAD_USER_INPUT);
    extensions.set("field", field);
    error
}

/// The first variable (as a path: `input.ciIds[2]`) whose text or key holds U+0000.
fn nul_in_variables(variables: &Variables) -> Option<String> {
    variables
        .iter()
        .find_map(|(name, value)| nul_in_const(value, name.as_str()))
}

fn nul_in_const(value: &ConstValue, path: &str) -> Option<String> {
    match value {
        ConstValue::String(text) => text.contains('\0').then(|| path.to_owned()),
        ConstValue::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_in_const(item, &format!("{path}[{index}]"))),
        ConstValue::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(path.to_owned())
            } else {
                nul_in_const(item, &format!("{path}.{key}"))
            }
        }),
        _ => None,
    }
}

/// The first argument written in the document (as `argument.key` path) whose text holds
/// U+0000 (written `\u0000` in a GraphQL string).
fn nul_in_document(document: &ExecutableDocument) -> Option<String> {
    let in_operations =
        document.operations.iter().find_map(|(_, operation)| {
            operation
                .node
                .variable_definitions
                .iter()
                .find_map(|definition| {
                    definition.node.default_value.as_ref().and_then(|value| {
                        nul_in_const(&value.node, definition.node.name.node.as_str())
                    })
                })
                .or_else(|| nul_in_selections(&operation.node.selection_set.node))
        });
    in_operations.or_else(|| {
        document
            .fragments
            .values()
            .find_map(|fragment| nul_in_selections(&fragment.node.selection_set.node))
    })
}

fn nul_in_selections(selection_set: &SelectionSet) -> Option<String> {
    selection_set
        .items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => field
                .node
                .arguments
                .iter()
                .find_map(|(name, value)| nul_in_value(&value.node, name.node.as_str()))
                .or_else(|| nul_in_selections(&field.node.selection_set.node)),
            Selection::InlineFragment(fragment) => {
                nul_in_selections(&fragment.node.selection_set.node)
            }
            Selection::FragmentSpread(_) => None,
        })
}

fn nul_in_value(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_in_value(item, &format!("{path}[{index}]"))),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(key, item)| nul_in_value(item, &format!("{path}.{key}"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("valid document")
    }

    #[test]
    fn a_nul_in_a_nested_literal_is_found_with_its_path() {
        let query =
            r#"mutation { createChange(input: { title: "a\u0000b", ciIds: ["x"] }) { id } }"#;
        assert_eq!(
            nul_in_document(&document(query)).as_deref(),
            Some("input.title")
        );
    }

    #[test]
    fn a_nul_in_a_variable_is_found_with_its_path() {
        let variables = Variables::from_json(serde_json::json!({
            "input": { "ciIds": ["ok", "bad\u{0}"] }
        }));
        assert_eq!(
            nul_in_variables(&variables).as_deref(),
            Some("input.ciIds[1]")
        );
    }

    #[test]
    fn text_without_nul_passes() {
        let variables = Variables::from_json(serde_json::json!({ "text": "plain ☃" }));
        assert_eq!(nul_in_variables(&variables), None);
        assert_eq!(
            nul_in_document(&document(
                r#"{ changes(filter: { text: "x" }) { totalCount } }"#
            )),
            None
        );
    }

    #[test]
    fn the_selected_operation_is_the_one_execution_runs() {
        let doc = document("query A { viewer { subject } } mutation B { __typename }");
        assert_eq!(
            selected(&doc, Some("B")),
            Some(Operation {
                name: Some("B".into()),
                kind: OperationType::Mutation
            })
        );
        assert_eq!(selected(&doc, None), None);
        assert_eq!(selected(&doc, Some("C")), None);
    }
}
