//! Relay connections built from domain pages.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{OutputType, SimpleObject};
use quorum_core::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};

/// Fields every connection has beside `edges`, `nodes` and `pageInfo`.
#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// How many records match the filter, on all pages.
    pub total_count: u64,
}

pub type QuorumConnection<N> =
    Connection<String, N, ConnectionFields, async_graphql::connection::EmptyFields>;

/// The complexity of a connection field: its selection counted once per row of the page it
/// may return, so that large pages of deep selections hit the complexity limit.
pub fn complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first
        .or(last)
        .map_or(DEFAULT_PAGE_SIZE, |rows| u64::try_from(rows).unwrap_or(0))
        .min(MAX_PAGE_SIZE);
    1 + usize::try_from(rows).unwrap_or(usize::MAX) * child_complexity
}

/// Whether the connection field being resolved has `totalCount` selected: the count is only
/// run when it is.
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// The selections of the connection being resolved that its nodes answer: `nodes` and
/// `edges { node }`, each as often as the document selects it.
pub fn nodes<'a>(ctx: &'a async_graphql::Context<'_>) -> Vec<async_graphql::SelectionField<'a>> {
    let connection = ctx.look_ahead();
    let mut nodes = connection.field("nodes").selection_fields();
    nodes.extend(connection.field("edges").field("node").selection_fields());
    nodes
}

/// Maps a domain page to a connection, converting each row with `to_node`.
pub fn connection<T, N: OutputType>(
    page: Page<T>,
    mut to_node: impl FnMut(T) -> N,
) -> QuorumConnection<N> {
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionFields {
            total_count: page.total_count,
        },
    );
    connection.edges.extend(
        page.edges
            .into_iter()
            .map(|(cursor, row)| Edge::new(cursor, to_node(row))),
    );
    connection
}

/// The values of a list filter, each once, in the order first given. A filter's list of enum
/// values becomes one SQL parameter per value; repeated, 70 000 of them passed SQLite's
/// 32 766 parameters and answered INTERNAL. Repeats mean nothing, so they go.
pub(crate) fn distinct<T: PartialEq>(values: Option<Vec<T>>) -> Option<Vec<T>> {
    values.map(|values| {
        let mut once = Vec::new();
        for value in values {
            if !once.contains(&value) {
                once.push(value);
            }
        }
        once
    })
}
