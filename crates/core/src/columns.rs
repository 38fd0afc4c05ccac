//! Reading only the columns a request needs.
//!
//! A page of changes read whole carries every long text and both JSON documents of every row:
//! the database sends them, the driver decodes them, the JSON is parsed, and the answer never
//! shows them when the client did not ask. A read may name columns to leave unread: they are
//! selected as `NULL`, so the row still decodes into its model, with `None` in their place.
//! Only nullable columns can be left unread; a column that may not hold `NULL` is read anyway.
//! Which columns a request needs is the caller's to say (the API knows the selection).

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Iterable, QuerySelect, Select};

/// `select`, with each nullable column of `unread` selected as `NULL` instead of its value.
pub fn leave_unread<E: EntityTrait>(select: Select<E>, unread: &[E::Column]) -> Select<E> {
    let skipped = |column: &E::Column| {
        unread.iter().any(|other| other.as_str() == column.as_str()) && column.def().is_null()
    };
    if !E::Column::iter().any(|column| skipped(&column)) {
        return select;
    }
    E::Column::iter().fold(select.select_only(), |select, column| {
        if skipped(&column) {
            select.column_as(Expr::cust("NULL"), column.as_str())
        } else {
            select.column(column)
        }
    })
}
