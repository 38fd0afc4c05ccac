//! Limits on what one request may ask for, checked before any resolver runs.
//!
//! The size checks here run on the parsed document before async-graphql validates it, because
//! validation (and execution) expand every fragment spread: a document of a few hundred bytes
//! whose fragments each spread the next one twice asks for 2^n fields, and walking them took
//! seconds of CPU and gigabytes. [`Expanded`] counts what the document would expand to without
//! expanding it (each fragment is counted once and its total reused), so the refusal costs as
//! much as reading the document.

use std::collections::HashMap;

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
    /// Most aliased fields in one document, fragments counted each time they are spread:
    /// aliases repeat a field without deepening it.
    pub max_aliases: usize,
    /// Most fields in one document once every fragment spread is replaced by its fragment.
    pub max_fields: usize,
    /// Longest document, in bytes (variables are not counted): parsing costs in proportion.
    pub max_query_bytes: usize,
    /// Most operations in one batched HTTP request.
    pub max_batch: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 5_000,
            max_aliases: 30,
            max_fields: 5_000,
            max_query_bytes: 100 * 1024,
            max_batch: 10,
        }
    }
}

/// Refuses a document that, with its fragments expanded, selects more fields than
/// `max_fields` or uses more aliases than `max_aliases`.
pub(crate) fn check_document(
    document: &ExecutableDocument,
    limits: &QueryLimits,
) -> ServerResult<()> {
    let expanded = Expanded::of(document);
    if expanded.fields > limits.max_fields as u64 {
        return Err(refusal(
            format!(
                "Query selects {} fields once its fragments are expanded; at most {} are allowed.",
                shown(expanded.fields),
                limits.max_fields
            ),
            expanded.fields,
            limits.max_fields,
        ));
    }
    if expanded.aliases > limits.max_aliases as u64 {
        return Err(refusal(
            format!(
                "Query uses {} aliases once its fragments are expanded; at most {} are allowed.",
                shown(expanded.aliases),
                limits.max_aliases
            ),
            expanded.aliases,
            limits.max_aliases,
        ));
    }
    Ok(())
}

/// The refusal of a document of `length` bytes, longer than `limit`.
pub(crate) fn too_long(length: usize, limit: usize) -> ServerError {
    refusal(
        format!(
            "Query is {length} bytes long; at most {limit} are allowed (send values as variables)."
        ),
        length as u64,
        limit,
    )
}

/// A count for a message: the saturated maximum means "more than can be counted".
fn shown(count: u64) -> String {
    if count == u64::MAX {
        "more than 18 quintillion".to_owned()
    } else {
        count.to_string()
    }
}

fn refusal(message: String, cost: u64, limit: usize) -> ServerError {
    let mut error =
        crate::error::with_code(ServerError::new(message, None), GRAPHQL_VALIDATION_FAILED);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    // Beyond i64 the figure is only "too many"; JSON numbers are read as doubles anyway.
    extensions.set("cost", i64::try_from(cost).unwrap_or(i64::MAX));
    extensions.set("limit", limit as i64);
    error
}

/// Fields and aliases a document asks for with every fragment spread expanded, counted with
/// saturating arithmetic (a fan-out of 2^80 is simply "the maximum").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Expanded {
    fields: u64,
    aliases: u64,
}

impl Expanded {
    fn plus(self, other: Expanded) -> Expanded {
        Expanded {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
        }
    }

    /// Every operation's selections (the validator and executor walk them all), each fragment
    /// spread counted as its fragment's expanded selections.
    fn of(document: &ExecutableDocument) -> Expanded {
        let totals = fragment_totals(document);
        let spread = |name: &str| totals.get(name).copied().unwrap_or_default();
        document
            .operations
            .iter()
            .map(|(_, operation)| {
                let own = Own::of(&operation.node.selection_set.node);
                own.spreads
                    .iter()
                    .fold(own.counted, |total, name| total.plus(spread(name)))
            })
            .fold(Expanded::default(), Expanded::plus)
    }
}

/// What one selection set holds itself, and the fragments it spreads (once per spread).
struct Own<'a> {
    counted: Expanded,
    spreads: Vec<&'a str>,
}

impl<'a> Own<'a> {
    fn of(selection_set: &'a SelectionSet) -> Own<'a> {
        let mut own = Own {
            counted: Expanded::default(),
            spreads: Vec::new(),
        };
        own.add(selection_set);
        own
    }

    /// Nested selection sets are as deep as the parser allows (it limits recursion), so this
    /// recursion is bounded; fragment spreads are not followed here.
    fn add(&mut self, selection_set: &'a SelectionSet) {
        for selection in &selection_set.items {
            match &selection.node {
                Selection::Field(field) => {
                    self.counted = self.counted.plus(Expanded {
                        fields: 1,
                        aliases: u64::from(field.node.alias.is_some()),
                    });
                    self.add(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => self.add(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.spreads.push(spread.node.fragment_name.node.as_str());
                }
            }
        }
    }
}

/// Each fragment's expanded total, computed once per fragment in dependency order with an
/// explicit stack: a chain of thousands of fragments must not recurse thousands deep. A
/// spread that closes a cycle counts nothing here (validation refuses the cycle); a spread of
/// an unknown fragment counts nothing (validation refuses it too).
fn fragment_totals(document: &ExecutableDocument) -> HashMap<&str, Expanded> {
    let own: HashMap<&str, Own<'_>> = document
        .fragments
        .iter()
        .map(|(name, fragment)| (name.as_str(), Own::of(&fragment.node.selection_set.node)))
        .collect();
    let mut totals: HashMap<&str, Expanded> = HashMap::with_capacity(own.len());
    let mut on_stack: std::collections::HashSet<&str> = Default::default();
    for &root in own.keys() {
        if totals.contains_key(root) {
            continue;
        }
        // (fragment, index of the next spread to look at)
        let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
        on_stack.insert(root);
        while let Some((name, next)) = stack.last_mut() {
            let fragment = &own[*name];
            if let Some(&child) = fragment.spreads.get(*next) {
                *next += 1;
                if own.contains_key(child) && !totals.contains_key(child) && on_stack.insert(child)
                {
                    stack.push((child, 0));
                }
                continue;
            }
            let total = fragment
                .spreads
                .iter()
                .fold(fragment.counted, |total, child| {
                    total.plus(totals.get(child).copied().unwrap_or_default())
                });
            totals.insert(*name, total);
            on_stack.remove(*name);
            stack.pop();
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(query: &str) -> Expanded {
        let document = async_graphql::parser::parse_query(query).expect("valid document");
        Expanded::of(&document)
    }

    #[test]
    fn aliases_are_counted_in_nested_selections_inline_fragments_and_fragments() {
        let query = r#"
            query { a: viewer { s: subject ... on Viewer { r: roles } } ...F }
            fragment F on Query { b: viewer { subject } }
        "#;
        assert_eq!(expanded(query).aliases, 4);
    }

    #[test]
    fn a_document_without_aliases_counts_zero() {
        assert_eq!(expanded("{ viewer { subject roles } }").aliases, 0);
    }

    #[test]
    fn a_fragment_counts_each_time_it_is_spread() {
        let query = r#"
            { ...F ...F viewer { ...F } }
            fragment F on Query { a: viewer { subject } }
        "#;
        assert_eq!(
            expanded(query),
            Expanded {
                fields: 7,
                aliases: 3
            }
        );
    }

    #[test]
    fn a_doubling_chain_of_fragments_is_counted_without_being_expanded() {
        let mut query = String::from("{ ...F0 }\n");
        for n in 0..200 {
            query.push_str(&format!(
                "fragment F{n} on Query {{ ...F{} ...F{} }}\n",
                n + 1,
                n + 1
            ));
        }
        query.push_str("fragment F200 on Query { __typename }\n");
        // 2^200 does not fit: the count saturates.
        assert_eq!(expanded(&query).fields, u64::MAX);
    }

    #[test]
    fn a_long_chain_of_fragments_does_not_recurse() {
        let mut query = String::from("{ ...F0 }\n");
        let length = 20_000;
        for n in 0..length {
            query.push_str(&format!(
                "fragment F{n} on Query {{ __typename ...F{} }}\n",
                n + 1
            ));
        }
        query.push_str(&format!("fragment F{length} on Query {{ __typename }}\n"));
        assert_eq!(expanded(&query).fields, length + 1);
    }

    #[test]
    fn a_cycle_counts_once_and_ends() {
        let query = r#"
            { ...A }
            fragment A on Query { __typename ...B }
            fragment B on Query { __typename ...A }
        "#;
        // Which fragment the count starts from decides whether the cycle adds 1 or 2.
        assert!(expanded(query).fields <= 2);
    }
}

/// What a refused document costs, for the refusal's message: async-graphql refuses an
/// over-complex or over-deep document without saying by how much. A schema without limits and
/// with this one extension validates the document again (only when the served schema refused
/// it), keeps the figures, and stops before anything runs.
pub(crate) mod probe {
    use std::sync::{Arc, Mutex, PoisonError};

    use async_graphql::extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextValidation,
    };
    use async_graphql::{ServerError, ValidationResult};

    /// The complexity and depth found, filled in by [`CostProbe`].
    #[derive(Clone, Default)]
    pub(crate) struct Measured(Arc<Mutex<Option<(usize, usize)>>>);

    impl Measured {
        pub(crate) fn get(&self) -> Option<(usize, usize)> {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    pub(crate) struct CostProbe;

    impl ExtensionFactory for CostProbe {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(CostProbe)
        }
    }

    #[async_trait::async_trait]
    impl Extension for CostProbe {
        async fn validation(
            &self,
            ctx: &ExtensionContext<'_>,
            next: NextValidation<'_>,
        ) -> Result<ValidationResult, Vec<ServerError>> {
            let result = next.run(ctx).await?;
            if let Some(measured) = ctx.data_opt::<Measured>() {
                *measured.0.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((result.complexity, result.depth));
            }
            // Measured: nothing runs.
            Err(Vec::new())
        }
    }
}

/// The refusal of a document whose complexity `cost` exceeds `limit`.
pub(crate) fn too_complex(cost: usize, limit: usize) -> ServerError {
    refusal(
        format!(
            "Query is too complex: it costs {cost}, at most {limit} is allowed (a list costs its \
             page size times its fields; ask for smaller pages or fewer fields)."
        ),
        cost as u64,
        limit,
    )
}

/// The refusal of a document nested `depth` deep, beyond `limit`.
pub(crate) fn too_deep(depth: usize, limit: usize) -> ServerError {
    refusal(
        format!("Query is nested too deep: {depth} levels, at most {limit} are allowed."),
        depth as u64,
        limit,
    )
}
