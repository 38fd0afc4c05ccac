//! Tells the HTTP layer what a request ran: the operation's name (from the document when the
//! client sent no `operationName`), for metrics and logs, and whether execution began at all
//! (GraphQL over HTTP answers 400 for a request that never executed).

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::ExtensionContext;

#[derive(Debug, Default)]
struct Record {
    name: Option<String>,
    executed: bool,
}

/// Filled in while a request runs; attach one to each request with `.data(...)`.
#[derive(Debug, Clone, Default)]
pub struct Execution(Arc<Mutex<Record>>);

impl Execution {
    /// The executed operation's name, when it has one.
    pub fn operation_name(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .name
            .clone()
    }

    /// Whether the request got past parsing and validation into execution.
    pub fn executed(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .executed
    }

    fn record(&self, name: Option<&str>) {
        let mut record = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        record.executed = true;
        record.name = name.map(str::to_owned);
    }
}

/// Notes in the request's [`Execution`], if it has one, that `operation_name` is executing.
pub(crate) fn record(ctx: &ExtensionContext<'_>, operation_name: Option<&str>) {
    if let Some(execution) = ctx.data_opt::<Execution>() {
        execution.record(operation_name);
    }
}
