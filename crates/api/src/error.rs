//! The one place where failures become GraphQL errors with an `extensions.code`.
//!
//! Codes: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT (with `field`), CONFLICT,
//! INVALID_TRANSITION and INTERNAL (with `traceId`, its cause only in the log), plus
//! GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED for documents that never ran, and
//! PAYLOAD_TOO_LARGE and UNSUPPORTED_MEDIA_TYPE for HTTP requests that are not GraphQL
//! requests the server takes.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, Response, ServerError};
use quorum_core::DomainError;

use crate::context::ContextExt;

pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const NOT_FOUND: &str = "NOT_FOUND";
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const CONFLICT: &str = "CONFLICT";
pub const INVALID_TRANSITION: &str = "INVALID_TRANSITION";
pub const INTERNAL: &str = "INTERNAL";
pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";

/// `extensions.reason` of a CONFLICT: the `version` sent is not the record's (reload, retry).
pub const STALE_VERSION: &str = "STALE_VERSION";
/// `extensions.reason` of a CONFLICT: the write collides with other records, listed in
/// `extensions.conflicts` (a change window's conflicts).
pub const COLLISION: &str = "COLLISION";
/// `extensions.reason` of a CONFLICT: what the write would create exists already, or the
/// record is taken (an incident that belongs to another problem).
pub const DUPLICATE: &str = "DUPLICATE";
pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
/// The server holds as many connections as it may; retry shortly.
pub const SERVER_BUSY: &str = "SERVER_BUSY";
/// A socket asked to run more operations at once than it may.
pub const TOO_MANY_OPERATIONS: &str = "TOO_MANY_OPERATIONS";

/// A value of a request refused before it ran: `code` (BAD_USER_INPUT for a variable's value,
/// GRAPHQL_VALIDATION_FAILED for one written in the document), with the `field` at fault.
pub fn bad_value(message: impl Into<String>, field: &str, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
    extensions.set("field", field);
    error
}

/// A WebSocket operation refused because its socket runs `max` already.
pub fn too_many_operations(max: usize) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "this socket runs {max} operations already; complete one first, or open another socket"
    ))
    .extend_with(|_, e| e.set("code", TOO_MANY_OPERATIONS))
}

/// The response to a request refused before it ran: one error with `code`.
pub fn request_error(message: impl Into<String>, code: &str) -> Response {
    Response::from_errors(vec![with_code(ServerError::new(message, None), code)])
}

/// The error of a data field asked for without a valid bearer token.
pub fn unauthenticated() -> async_graphql::Error {
    async_graphql::Error::new("authentication required: send `Authorization: Bearer <token>`")
        .extend_with(|_, e| e.set("code", UNAUTHENTICATED))
}

/// Maps a domain error for the client. Internal causes are logged here, once, with the trace
/// id that the client also receives.
pub fn domain_error(error: &DomainError, trace_id: &str) -> async_graphql::Error {
    let code = match error {
        DomainError::Forbidden { .. } | DomainError::Refused { .. } => FORBIDDEN,
        DomainError::NotFound { .. } => NOT_FOUND,
        DomainError::BadInput { .. } | DomainError::BadRows { .. } => BAD_USER_INPUT,
        DomainError::Conflict { .. }
        | DomainError::ConflictWith { .. }
        | DomainError::Stale { .. } => CONFLICT,
        DomainError::InvalidTransition { .. } => INVALID_TRANSITION,
        DomainError::Database(_) | DomainError::Internal(_) => INTERNAL,
    };
    let message = if code == INTERNAL {
        tracing::error!(trace_id, error = %error, "request.internal_error");
        format!("internal error; quote trace id {trace_id} when reporting it")
    } else {
        error.to_string()
    };
    let field = match error {
        DomainError::BadInput { field, .. } => Some(field.clone()),
        _ => None,
    };
    let rows = match error {
        DomainError::BadRows { rows, .. } => serde_json::to_value(rows).ok(),
        _ => None,
    };
    let details = match error {
        DomainError::ConflictWith { details, .. } => Some(details.clone()),
        _ => None,
    };
    // What a client switches on among CONFLICTs: a stale version (reload; `currentVersion`
    // says which), a collision with other records (`conflicts` lists them), or a duplicate.
    let (reason, current_version) = match error {
        DomainError::Stale {
            current_version, ..
        } => (Some(STALE_VERSION), *current_version),
        DomainError::ConflictWith { .. } => (Some(COLLISION), None),
        DomainError::Conflict { .. } => (Some(DUPLICATE), None),
        _ => (None, None),
    };
    let trace_id = trace_id.to_owned();
    async_graphql::Error::new(message).extend_with(move |_, e| {
        e.set("code", code);
        if let Some(field) = &field {
            e.set("field", field.as_str());
        }
        if let Some(rows) = &rows
            && let Ok(rows) = async_graphql::Value::from_json(rows.clone())
        {
            e.set("rows", rows);
        }
        if let Some(details) = &details
            && let Ok(details) = async_graphql::Value::from_json(details.clone())
        {
            e.set("conflicts", details);
        }
        if let Some(reason) = reason {
            e.set("reason", reason);
        }
        if let Some(version) = current_version {
            e.set("currentVersion", version);
        }
        if code == INTERNAL {
            e.set("traceId", trace_id.as_str());
        }
    })
}

/// Maps `DomainError` results inside resolvers: `operation(...).await.map_err(ctx.gql())?`.
pub(crate) trait GqlResultExt<T> {
    fn gql(self, ctx: &Context<'_>) -> async_graphql::Result<T>;
}

fn trace_id<'a>(ctx: &'a Context<'_>) -> &'a str {
    ctx.request()
        .map(|request| request.trace_id.as_str())
        .unwrap_or("none")
}

impl<T> GqlResultExt<T> for Result<T, DomainError> {
    fn gql(self, ctx: &Context<'_>) -> async_graphql::Result<T> {
        self.map_err(|error| domain_error(&error, trace_id(ctx)))
    }
}

/// DataLoaders share one error between all the fields that asked for a batch.
impl<T> GqlResultExt<T> for Result<T, Arc<DomainError>> {
    fn gql(self, ctx: &Context<'_>) -> async_graphql::Result<T> {
        self.map_err(|error| domain_error(&error, trace_id(ctx)))
    }
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some())
}

/// `error` with `extensions.code` set to `code`, unless it already has one.
pub fn with_code(mut error: ServerError, code: &str) -> ServerError {
    if !has_code(&error) {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    error
}

/// Errors async-graphql raises about input values: an argument or variable of the wrong type
/// or out of range, found while validating or while executing.
pub(crate) fn is_input_coercion(error: &ServerError) -> bool {
    [
        "Failed to parse",
        "Invalid value for argument",
        "Invalid default value for argument",
        "Expected input type",
    ]
    .iter()
    .any(|start| error.message.starts_with(start))
}

/// The argument an input error names (`Invalid value for argument "input.title", …`).
pub(crate) fn named_argument(message: &str) -> Option<&str> {
    let rest = message.split_once("argument \"")?.1;
    let name = rest.split('"').next()?;
    // `Invalid default value for argument: …` names none.
    (!name.is_empty()).then_some(name)
}

/// An input error, coded `code` with the argument it names, if any.
fn input_error(error: ServerError, code: &str) -> ServerError {
    let field = named_argument(&error.message).map(str::to_owned);
    let mut error = with_code(error, code);
    if let Some(field) = field
        && let Some(extensions) = error.extensions.as_mut()
    {
        extensions.set("field", field);
    }
    error
}

fn classify_uncoded(error: ServerError, trace_id: &str) -> ServerError {
    if has_code(&error) {
        return error;
    }
    if is_input_coercion(&error) {
        return input_error(error, BAD_USER_INPUT);
    }
    tracing::error!(trace_id, error = %error.message, path = ?error.path, "request.uncoded_error");
    let mut masked = ServerError::new(
        format!("internal error; quote trace id {trace_id} when reporting it"),
        error.locations.first().copied(),
    );
    masked.path = error.path;
    let extensions = masked.extensions.get_or_insert_with(Default::default);
    extensions.set("code", INTERNAL);
    extensions.set("traceId", trace_id);
    masked
}

/// Gives every error of the response to the request with `trace_id` a code, over HTTP and on
/// sockets alike. An error without a path comes before execution: validation (a value of the
/// wrong type written in the document included, with the argument it names in `field`), an
/// unknown or missing operation name: GRAPHQL_VALIDATION_FAILED (the engine turns those about
/// a variable's value into BAD_USER_INPUT). Input errors async-graphql raises while executing
/// get BAD_USER_INPUT; resolver errors already carry a code from [`domain_error`]; anything
/// else is a bug, so it is masked as INTERNAL and logged with the trace id.
pub fn finish_response(mut response: Response, trace_id: &str) -> Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|error| {
            if has_code(&error) {
                error
            } else if error.path.is_empty() && is_input_coercion(&error) {
                input_error(error, GRAPHQL_VALIDATION_FAILED)
            } else if error.path.is_empty() {
                with_code(error, GRAPHQL_VALIDATION_FAILED)
            } else {
                classify_uncoded(error, trace_id)
            }
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorum_core::Permission;

    fn code_and_field(error: DomainError) -> (String, Option<String>, String) {
        let error = domain_error(&error, "trace-1");
        let extensions = error.extensions.expect("extensions are set");
        let text = |name: &str| match extensions.get(name) {
            Some(async_graphql::Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        (
            text("code").expect("code is set"),
            text("field"),
            error.message,
        )
    }

    #[test]
    fn forbidden_maps_to_forbidden() {
        let (code, _, _) = code_and_field(DomainError::Forbidden {
            permission: Permission::ReadAuditLog,
        });
        assert_eq!(code, FORBIDDEN);
    }

    #[test]
    fn not_found_maps_to_not_found() {
        let (code, _, _) = code_and_field(DomainError::not_found("Change", "CHG0000001"));
        assert_eq!(code, NOT_FOUND);
    }

    #[test]
    fn bad_input_carries_its_field() {
        let (code, field, _) = code_and_field(DomainError::bad_input("first", "too many"));
        assert_eq!(code, BAD_USER_INPUT);
        assert_eq!(field.as_deref(), Some("first"));
    }

    #[test]
    fn bad_rows_carry_every_row_at_fault() {
        let error = domain_error(
            &DomainError::BadRows {
                message: "2 bad rows".into(),
                rows: vec![quorum_core::error::RowError {
                    section: "items".into(),
                    row: 3,
                    field: "name".into(),
                    message: "must not be empty".into(),
                }],
            },
            "trace-1",
        );
        let extensions = error.extensions.expect("extensions are set");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from(BAD_USER_INPUT))
        );
        let rows = extensions.get("rows").expect("rows are set").clone();
        assert_eq!(
            rows.into_json().expect("json"),
            serde_json::json!([{ "section": "items", "row": 3, "field": "name", "message": "must not be empty" }])
        );
    }

    #[test]
    fn conflict_maps_to_conflict() {
        let (code, _, _) = code_and_field(DomainError::conflict("stale version"));
        assert_eq!(code, CONFLICT);
    }

    #[test]
    fn invalid_transition_maps_to_invalid_transition() {
        let (code, _, _) = code_and_field(DomainError::InvalidTransition {
            message: "a closed change cannot be cancelled".into(),
        });
        assert_eq!(code, INVALID_TRANSITION);
    }

    #[test]
    fn an_internal_error_hides_its_cause_and_carries_the_trace_id() {
        let error = domain_error(
            &DomainError::Internal("password=hunter2 in connection string".into()),
            "trace-1",
        );
        assert!(!error.message.contains("hunter2"));
        assert!(error.message.contains("trace-1"));
        let extensions = error.extensions.expect("extensions are set");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from(INTERNAL))
        );
        assert_eq!(
            extensions.get("traceId"),
            Some(&async_graphql::Value::from("trace-1"))
        );
    }

    #[test]
    fn an_uncoded_resolver_error_is_masked_as_internal() {
        let error = ServerError::new("connection refused to 10.0.0.5:5432", None);
        let masked = classify_uncoded(error, "trace-9");
        assert!(!masked.message.contains("10.0.0.5"));
        let extensions = masked.extensions.expect("extensions are set");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from(INTERNAL))
        );
        assert_eq!(
            extensions.get("traceId"),
            Some(&async_graphql::Value::from("trace-9"))
        );
    }

    #[test]
    fn an_argument_coercion_error_is_bad_user_input() {
        let error = ServerError::new("Failed to parse \"DateTime\": bad input", None);
        let coded = classify_uncoded(error, "trace-9");
        assert_eq!(
            coded.extensions.expect("extensions").get("code"),
            Some(&async_graphql::Value::from(BAD_USER_INPUT))
        );
    }

    #[test]
    fn a_database_error_is_internal() {
        let (code, _, message) = code_and_field(DomainError::Database(sea_orm::DbErr::Custom(
            "relation \"event\" does not exist".into(),
        )));
        assert_eq!(code, INTERNAL);
        assert!(!message.contains("relation"));
    }
}
