//! Tells the HTTP layer what a request ran: the operation's name (from the document when the
//! client sent no `operationName`), for metrics and logs, and whether execution began at all
//! (GraphQL over HTTP answers 400 for a request that never executed).

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::Response;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};

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

pub(crate) struct RecordExecution;

impl ExtensionFactory for RecordExecution {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RecordExecution)
    }
}

#[async_trait::async_trait]
impl Extension for RecordExecution {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(execution) = ctx.data_opt::<Execution>() {
            execution.record(operation_name);
        }
        next.run(ctx, operation_name).await
    }
}
