//! Limits on what one request may ask for, checked before any resolver runs.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult};

use crate::error::GRAPHQL_VALIDATION_FAILED;

/// Defaults fit every query the schema's own clients need (GraphiQL's introspection query
/// included) and refuse documents built to exhaust the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Deepest nesting of selection sets.
    pub max_depth: usize,
    /// Highest complexity score (each field counts 1; lists count by their page size).
    pub max_complexity: usize,
    /// Most aliased fields in one document: aliases repeat a field without deepening it.
    pub max_aliases: usize,
    /// Most operations in one batched HTTP request.
    pub max_batch: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 2_000,
            max_aliases: 30,
            max_batch: 10,
        }
    }
}

/// Refuses a document with more aliases than `max_aliases`.
pub(crate) fn check_aliases(document: &ExecutableDocument, max_aliases: usize) -> ServerResult<()> {
    let aliases = count_aliases(document);
    if aliases > max_aliases {
        return Err(crate::error::with_code(
            ServerError::new(
                format!("Query uses {aliases} aliases; at most {max_aliases} are allowed."),
                None,
            ),
            GRAPHQL_VALIDATION_FAILED,
        ));
    }
    Ok(())
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let in_operations: usize = document
        .operations
        .iter()
        .map(|(_, operation)| count_in(&operation.node.selection_set.node))
        .sum();
    let in_fragments: usize = document
        .fragments
        .values()
        .map(|fragment| count_in(&fragment.node.selection_set.node))
        .sum();
    in_operations + in_fragments
}

fn count_in(selection_set: &SelectionSet) -> usize {
    selection_set
        .items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + count_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aliases(query: &str) -> usize {
        let document = async_graphql::parser::parse_query(query).expect("valid document");
        count_aliases(&document)
    }

    #[test]
    fn aliases_are_counted_in_nested_selections_inline_fragments_and_fragments() {
        let query = r#"
            query { a: viewer { s: subject ... on Viewer { r: roles } } ...F }
            fragment F on Query { b: viewer { subject } }
        "#;
        assert_eq!(aliases(query), 4);
    }

    #[test]
    fn a_document_without_aliases_counts_zero() {
        assert_eq!(aliases("{ viewer { subject roles } }"), 0);
    }
}
