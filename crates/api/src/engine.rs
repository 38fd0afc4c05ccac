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
use async_graphql::{Data, Executor, Pos, Request, Response, ServerError, Variables};
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
    /// The same types without limits, with [`crate::limits::probe::CostProbe`]: measures a
    /// document the served schema refused as too complex or too deep.
    measure: QuorumSchema,
    app: AppData,
    limits: QueryLimits,
    /// The schema's output types, for shaping responses.
    shapes: Arc<crate::shape::Shapes>,
    /// Persisted and trusted documents, by hash.
    documents: Arc<crate::documents::Documents>,
}

/// What an executed response is shaped by: see [`crate::shape`].
struct Shaping {
    shapes: Arc<crate::shape::Shapes>,
    document: Arc<ExecutableDocument>,
    flags: Arc<Variables>,
    operation: Option<String>,
}

impl Shaping {
    fn of(checked: &Checked, shapes: &Arc<crate::shape::Shapes>) -> Self {
        Self {
            shapes: shapes.clone(),
            document: checked.document.clone(),
            flags: checked.flags.clone(),
            operation: checked.request.operation_name.clone(),
        }
    }

    fn apply(&self, mut response: Response) -> Response {
        if !executed(&response) {
            return response;
        }
        if let Some((kind, selection)) =
            crate::shape::operation(&self.document, self.operation.as_deref())
        {
            crate::shape::shape(
                &mut response,
                &self.shapes,
                &self.document,
                kind,
                selection,
                &self.flags,
            );
        }
        response
    }
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
    arguments: Arguments,
    /// What the response is shaped by ([`crate::shape`]): the document, and the boolean
    /// variables that `@skip` and `@include` may name.
    document: Arc<ExecutableDocument>,
    flags: Arc<Variables>,
    /// The document's text, to measure it if the schema refuses it.
    query: Arc<str>,
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

    /// Whether it is a query: it reads and does nothing else.
    pub fn is_query(&self) -> bool {
        self.operation
            .as_ref()
            .is_some_and(|operation| operation.kind == OperationType::Query)
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
        let schema = builder.finish();
        let shapes = Arc::new(crate::shape::Shapes::from_sdl(&schema.sdl()));
        let measure = crate::schema_builder()
            .extension(crate::limits::probe::CostProbe)
            .finish();
        let documents = Arc::new(crate::documents::Documents::new(
            app.db.clone(),
            options.trusted_documents.clone(),
        ));
        Self {
            schema,
            measure,
            app,
            limits: options.limits,
            shapes,
            documents,
        }
    }

    pub fn limits(&self) -> &QueryLimits {
        &self.limits
    }

    /// Checks `request` before anything runs: the document a persisted hash names (or whether
    /// a trusted-documents manifest allows it), its document's length, that it parses, its
    /// size once fragments are expanded, its aliases, and that no text in it holds U+0000
    /// (no store takes it the same way: PostgreSQL refuses it, SQLite keeps it). A refusal
    /// is the response to send, its error coded.
    pub async fn check(
        &self,
        mut request: Request,
        authenticated: bool,
    ) -> Result<Checked, Response> {
        let refuse = |error: ServerError| Response::from_errors(vec![error]);
        self.documents
            .resolve(&mut request, authenticated)
            .await
            .map_err(refuse)?;
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
        let arguments = Arguments::of(document);
        let document = Arc::new(document.clone());
        if let Some(variable) =
            bad_instant_variable(&document, operation_name.as_deref(), &request.variables)
        {
            return Err(refuse(crate::error::bad_value(
                format!("`{variable}` must be an RFC 3339 instant, such as 2026-12-03T18:48:28Z"),
                &variable,
                BAD_USER_INPUT,
            )));
        }
        // Booleans (for `@skip`/`@include`) and numbers (page sizes, for measuring).
        let flags = Arc::new(Variables::from_value(ConstValue::Object(
            request
                .variables
                .iter()
                .filter(|(_, value)| {
                    matches!(value, ConstValue::Boolean(_) | ConstValue::Number(_))
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        )));
        if let Some(field) = nul_in_variables(&request.variables) {
            return Err(refuse(nul_error(&field)));
        }
        if let Some(out_of_range) = arguments.number_out_of_range(&request.variables) {
            return Err(refuse(out_of_range.error()));
        }
        let query = Arc::from(request.query.as_str());
        Ok(Checked {
            request,
            operation,
            arguments,
            document,
            flags,
            query,
        })
    }

    /// Runs a checked request for `context` (its caller and trace id) and codes every error.
    pub async fn execute(&self, checked: Checked, context: RequestContext) -> Response {
        let trace_id = context.trace_id.clone();
        let shaping = Shaping::of(&checked, &self.shapes);
        let query = checked.query.clone();
        let request = crate::prepare_request(checked.request, &self.app, context);
        let response = finish_response(self.schema.execute(request).await, &trace_id);
        let response = self.with_costs(response, &query, &shaping).await;
        shaping.apply(checked.arguments.name_variables(response))
    }

    /// `response`, its "too complex" or "too deep" refusal (async-graphql's, without figures)
    /// replaced by one that says what the document costs and what is allowed.
    async fn with_costs(&self, mut response: Response, query: &str, shaping: &Shaping) -> Response {
        let refused = |error: &ServerError| {
            error.path.is_empty()
                && (error.message == "Query is too complex."
                    || error.message == "Query is nested too deep.")
        };
        if !response.errors.iter().any(refused) {
            return response;
        }
        let measured = crate::limits::probe::Measured::default();
        let mut request = Request::new(query).variables((*shaping.flags).clone());
        if let Some(name) = &shaping.operation {
            request = request.operation_name(name);
        }
        let _ = self.measure.execute(request.data(measured.clone())).await;
        let Some((complexity, depth)) = measured.get() else {
            return response;
        };
        for error in &mut response.errors {
            if !refused(error) {
                continue;
            }
            *error = if error.message == "Query is too complex." {
                crate::limits::too_complex(complexity, self.limits.max_complexity)
            } else {
                crate::limits::too_deep(depth, self.limits.max_depth)
            };
        }
        response
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
        let shaping = Shaping::of(&checked, &self.shapes);
        let arguments = checked.arguments;
        let request = crate::prepare_request(checked.request, &self.app, context);
        Executor::execute_stream(&self.schema, request, session_data)
            .map(move |response| {
                shaping.apply(arguments.name_variables(finish_response(response, &trace_id)))
            })
            .boxed()
    }

    /// [`Engine::check`] then [`Engine::execute_stream`], as one stream: a refusal is its
    /// only response.
    ///
    /// `after_mutation` runs once a mutation's response is out (a refused or other
    /// operation never runs it): what it wrote may be read then.
    pub fn check_and_stream(
        &self,
        request: Request,
        context: RequestContext,
        session_data: Option<Arc<Data>>,
        after_mutation: impl FnOnce() + Send + 'static,
    ) -> BoxStream<'static, Response> {
        let engine = self.clone();
        let authenticated = context.actor.is_some();
        stream::once(async move {
            match engine.check(request, authenticated).await {
                Ok(checked) if checked.is_mutation() => engine
                    .execute_stream(checked, context, session_data)
                    .chain(
                        stream::once(async move { after_mutation() })
                            .filter_map(|()| future::ready(None)),
                    )
                    .boxed(),
                Ok(checked) => engine.execute_stream(checked, context, session_data),
                Err(refused) => stream::once(future::ready(refused)).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

/// The first variable of the selected operation declared `DateTime` whose value (given, or its
/// default) is not an RFC 3339 instant. async-graphql parses custom scalars only when a field
/// uses them, so a bad instant ran the rest of the operation and failed one field; the spec
/// makes coercing variable values a request error, before anything runs.
fn bad_instant_variable(
    document: &ExecutableDocument,
    name: Option<&str>,
    variables: &Variables,
) -> Option<String> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) => operations.values().next()?,
    };
    fn base(ty: &async_graphql::parser::types::Type) -> &str {
        match &ty.base {
            async_graphql::parser::types::BaseType::Named(name) => name.as_str(),
            async_graphql::parser::types::BaseType::List(inner) => base(inner),
        }
    }
    fn bad(value: &ConstValue) -> bool {
        match value {
            ConstValue::Null => false,
            ConstValue::String(text) => chrono::DateTime::parse_from_rfc3339(text).is_err(),
            ConstValue::List(items) => items.iter().any(bad),
            _ => true,
        }
    }
    operation
        .node
        .variable_definitions
        .iter()
        .filter(|definition| base(&definition.node.var_type.node) == "DateTime")
        .find_map(|definition| {
            let name = definition.node.name.node.as_str();
            let value = variables.get(&definition.node.name.node).or_else(|| {
                definition
                    .node
                    .default_value
                    .as_ref()
                    .map(|value| &value.node)
            })?;
            bad(value).then(|| name.to_owned())
        })
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

/// Every argument written in the document, with the value as written.
struct Arguments {
    written: Vec<Written>,
}

struct Written {
    /// Where its field's name is.
    field: Pos,
    /// Where its own name is.
    at: Pos,
    name: String,
    value: Value,
}

impl Arguments {
    fn of(document: &ExecutableDocument) -> Self {
        let mut written = Vec::new();
        let sets = document
            .operations
            .iter()
            .map(|(_, operation)| &operation.node.selection_set.node)
            .chain(
                document
                    .fragments
                    .values()
                    .map(|fragment| &fragment.node.selection_set.node),
            );
        for set in sets {
            collect_arguments(set, &mut written);
        }
        Self { written }
    }

    /// The first argument (or variable) holding a number that is not an `Int` (a 32-bit
    /// integer). Every number the schema takes is an `Int`, which a test of the schema keeps
    /// true; async-graphql refuses such a number either while it validates or while it
    /// executes, without saying which value it was.
    fn number_out_of_range(&self, variables: &Variables) -> Option<OutOfRange> {
        self.written
            .iter()
            .find_map(|argument| number_out_of_range(&argument.value, &argument.name, variables))
    }

    /// Turns an input error that async-graphql found while validating into BAD_USER_INPUT
    /// naming the variable, when the value at fault came from a variable: the document is
    /// fine, the value sent with it is not (GraphQL: a request error while coercing variable
    /// values). A value written in the document stays a validation failure.
    fn name_variables(&self, mut response: Response) -> Response {
        for error in &mut response.errors {
            if !error.path.is_empty() || !crate::error::is_input_coercion(error) {
                continue;
            }
            let Some(at) = error.locations.first().copied() else {
                continue;
            };
            let named = crate::error::named_argument(&error.message);
            let variable = match named {
                // At an argument: follow the named path into what was written there.
                Some(path) => self
                    .written
                    .iter()
                    .filter(|argument| argument.at == at)
                    .find_map(|argument| {
                        let rest = path.strip_prefix(argument.name.as_str())?;
                        variable_at(&argument.value, rest)
                    }),
                // At a field: the variable given to one of its arguments.
                None => self
                    .written
                    .iter()
                    .filter(|argument| argument.field == at)
                    .find_map(|argument| first_variable(&argument.value)),
            };
            if let Some(variable) = variable {
                let extensions = error.extensions.get_or_insert_with(Default::default);
                extensions.set("code", BAD_USER_INPUT);
                extensions.set("field", variable);
            }
        }
        response
    }
}

/// The variable (with the rest of the path into its value) that `path` (`.key` and `.2`
/// segments after the argument's name, as async-graphql writes them) reaches in a written
/// `value`, if it reaches one.
fn variable_at(value: &Value, path: &str) -> Option<String> {
    if let Value::Variable(name) = value {
        return Some(format!("{name}{path}"));
    }
    let rest = path.strip_prefix('.')?;
    let (segment, rest) = match rest.find('.') {
        Some(end) => rest.split_at(end),
        None => (rest, ""),
    };
    match value {
        Value::Object(fields) => fields
            .iter()
            .find(|(name, _)| name.as_str() == segment)
            .and_then(|(_, value)| variable_at(value, rest)),
        Value::List(items) => {
            let index: usize = segment.parse().ok()?;
            items.get(index).and_then(|value| variable_at(value, rest))
        }
        _ => None,
    }
}

/// The first variable a written value uses.
fn first_variable(value: &Value) -> Option<String> {
    match value {
        Value::Variable(name) => Some(name.to_string()),
        Value::Object(fields) => fields.values().find_map(first_variable),
        Value::List(items) => items.iter().find_map(first_variable),
        _ => None,
    }
}

fn collect_arguments(selection_set: &SelectionSet, written: &mut Vec<Written>) {
    for selection in &selection_set.items {
        match &selection.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    written.push(Written {
                        field: field.pos,
                        at: name.pos,
                        name: name.node.to_string(),
                        value: value.node.clone(),
                    });
                }
                collect_arguments(&field.node.selection_set.node, written);
            }
            Selection::InlineFragment(fragment) => {
                collect_arguments(&fragment.node.selection_set.node, written);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn is_int(number: &async_graphql::Number) -> bool {
    number.as_i64().is_some_and(|n| i32::try_from(n).is_ok())
}

/// A number that is not an `Int`, where it was written.
#[derive(Debug, PartialEq, Eq)]
enum OutOfRange {
    /// In the document, at this argument path: the document is invalid.
    Written(String),
    /// In the value of a variable, at this path: the request's values are.
    Variable(String),
}

impl OutOfRange {
    fn error(&self) -> ServerError {
        let (field, code) = match self {
            OutOfRange::Written(field) => (field, crate::error::GRAPHQL_VALIDATION_FAILED),
            OutOfRange::Variable(field) => (field, BAD_USER_INPUT),
        };
        crate::error::bad_value(
            format!(
                "`{field}` must be an integer from {} to {}",
                i32::MIN,
                i32::MAX
            ),
            field,
            code,
        )
    }
}

fn number_out_of_range(value: &Value, path: &str, variables: &Variables) -> Option<OutOfRange> {
    match value {
        Value::Number(number) => (!is_int(number)).then(|| OutOfRange::Written(path.to_owned())),
        Value::Variable(name) => variables
            .get(name)
            .and_then(|value| const_number_out_of_range(value, name.as_str()))
            .map(OutOfRange::Variable),
        Value::List(items) => items.iter().enumerate().find_map(|(index, item)| {
            number_out_of_range(item, &format!("{path}.{index}"), variables)
        }),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(key, item)| number_out_of_range(item, &format!("{path}.{key}"), variables)),
        _ => None,
    }
}

fn const_number_out_of_range(value: &ConstValue, path: &str) -> Option<String> {
    match value {
        ConstValue::Number(number) => (!is_int(number)).then(|| path.to_owned()),
        ConstValue::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| const_number_out_of_range(item, &format!("{path}.{index}"))),
        ConstValue::Object(fields) => fields
            .iter()
            .find_map(|(key, item)| const_number_out_of_range(item, &format!("{path}.{key}"))),
        _ => None,
    }
}

fn nul_error(field: &str) -> ServerError {
    crate::error::bad_value(
        format!("`{field}` holds the character U+0000, which no text may contain"),
        field,
        BAD_USER_INPUT,
    )
}

/// The first variable (as a path: `input.ciIds.2`) whose text or key holds U+0000.
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
            .find_map(|(index, item)| nul_in_const(item, &format!("{path}.{index}"))),
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

/// The first argument written in the document (as an `argument.key.2` path) whose text holds
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
            .find_map(|(index, item)| nul_in_value(item, &format!("{path}.{index}"))),
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
            Some("input.ciIds.1")
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

    /// [`Arguments::number_out_of_range`] refuses every number that is not a 32-bit integer,
    /// which is right only while the schema takes no other number.
    #[test]
    fn the_schema_takes_no_number_but_int() {
        use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
        fn base(ty: &Type) -> &str {
            match &ty.base {
                BaseType::Named(name) => name.as_str(),
                BaseType::List(inner) => base(inner),
            }
        }
        let sdl = crate::sdl();
        let schema = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
        let mut inputs = Vec::new();
        for definition in &schema.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            match &ty.node.kind {
                TypeKind::InputObject(input) => inputs.extend(
                    input
                        .fields
                        .iter()
                        .map(|field| (field.node.name.node.to_string(), &field.node.ty.node)),
                ),
                TypeKind::Object(object) => inputs.extend(object.fields.iter().flat_map(|field| {
                    field.node.arguments.iter().map(|argument| {
                        (argument.node.name.node.to_string(), &argument.node.ty.node)
                    })
                })),
                _ => {}
            }
        }
        let floats: Vec<_> = inputs
            .iter()
            .filter(|(_, ty)| base(ty) == "Float")
            .map(|(name, _)| name)
            .collect();
        assert!(floats.is_empty(), "Float inputs: {floats:?}");
    }

    #[test]
    fn a_number_beyond_int_is_found_in_a_literal_or_a_variable() {
        let doc = document(
            "query($n: Int) { auditEvents(first: $n) { totalCount } changes(first: 99999999999) { totalCount } }",
        );
        let arguments = Arguments::of(&doc);
        let variables = Variables::from_json(serde_json::json!({ "n": 3_000_000_000_i64 }));
        assert_eq!(
            arguments.number_out_of_range(&variables),
            Some(OutOfRange::Variable("n".into()))
        );
        let variables = Variables::from_json(serde_json::json!({ "n": 5 }));
        assert_eq!(
            arguments.number_out_of_range(&variables),
            Some(OutOfRange::Written("first".into()))
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
