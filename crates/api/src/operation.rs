//! Tells the HTTP layer which operation a request ran, for metrics and logs: the name comes
//! from the document when the client did not send `operationName`.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::Response;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};

/// Filled with the executed operation's name; attach one to each request with `.data(...)`.
#[derive(Debug, Clone, Default)]
pub struct OperationName(Arc<Mutex<Option<String>>>);

impl OperationName {
    pub fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, name: &str) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(name.to_owned());
    }
}

pub(crate) struct RecordOperationName;

impl ExtensionFactory for RecordOperationName {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RecordOperationName)
    }
}

#[async_trait::async_trait]
impl Extension for RecordOperationName {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let (Some(name), Some(slot)) = (operation_name, ctx.data_opt::<OperationName>()) {
            slot.set(name);
        }
        next.run(ctx, operation_name).await
    }
}
