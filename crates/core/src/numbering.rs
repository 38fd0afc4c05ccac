//! Human numbers (`CHG0001042`, `INC0000017`): one series per prefix; a number is never given
//! twice.
//!
//! On PostgreSQL each series is a sequence (`number_chg`, `number_inc`, `number_prb`,
//! `number_ci`, made by migration 11; a new prefix needs a migration that makes its own): no
//! creation waits for another's commit to be numbered, and a rolled-back creation leaves a gap,
//! as in every ITSM tool people know. A counter row incremented inside the creating transaction
//! held its lock until commit, so creations took turns: createIncident stopped at about 450 a
//! second with 16 clients. On SQLite, whose writers take turns anyway, the series is a row of
//! `number_sequence`, incremented inside the transaction, so a rollback gives its number back.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, DeriveIden, Statement};

#[derive(DeriveIden)]
enum NumberSequence {
    Table,
    Prefix,
    LastValue,
}

/// The digits after the prefix; numbers past this width simply grow longer.
const WIDTH: usize = 7;

/// Formats a number the way people quote it: `format_number("CHG", 1042) == "CHG0001042"`.
pub fn format_number(prefix: &str, value: i64) -> String {
    format!("{prefix}{value:0WIDTH$}")
}

/// Takes the next number for `prefix` inside `txn`.
pub async fn next_number(txn: &DatabaseTransaction, prefix: &str) -> Result<String, DbErr> {
    let numbers = reserve_numbers(txn, prefix, 1).await?;
    let number = numbers
        .first()
        .ok_or_else(|| DbErr::RecordNotFound(format!("a number for `{prefix}`")))?;
    Ok(format_number(prefix, *number))
}

/// On PostgreSQL, the next value of `prefix`'s series as an expression, for a statement that
/// reads something else the creation needs: one round trip instead of two. `None` on SQLite,
/// whose counter row is taken with [`next_number`].
pub fn next_value(backend: DbBackend, prefix: &str) -> Result<Option<SimpleExpr>, DbErr> {
    match backend {
        DbBackend::Postgres => Ok(Some(Expr::cust_with_values(
            "nextval($1::regclass)",
            [sequence_of(prefix)?],
        ))),
        _ => Ok(None),
    }
}

/// Takes `count` numbers for `prefix` inside `txn`, in one statement, in ascending order.
/// Bulk writers use this. They are consecutive on SQLite; on PostgreSQL they are unless other
/// creations take numbers at the same moment.
pub async fn reserve_numbers(
    txn: &DatabaseTransaction,
    prefix: &str,
    count: i64,
) -> Result<Vec<i64>, DbErr> {
    if count <= 0 {
        return Ok(Vec::new());
    }
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            let statement = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT nextval($1::regclass) AS value FROM generate_series(1, $2::bigint) ORDER BY 1",
                [sequence_of(prefix)?.into(), count.into()],
            );
            txn.query_all_raw(statement)
                .await?
                .iter()
                .map(|row| row.try_get::<i64>("", "value"))
                .collect()
        }
        _ => {
            let last = reserve_in_counter(txn, prefix, count).await?;
            Ok((last - count + 1..=last).collect())
        }
    }
}

/// The PostgreSQL sequence of `prefix`'s series.
fn sequence_of(prefix: &str) -> Result<String, DbErr> {
    if prefix.is_empty() || !prefix.bytes().all(|byte| byte.is_ascii_uppercase()) {
        return Err(DbErr::Custom(format!(
            "number prefix `{prefix}` is not upper-case letters"
        )));
    }
    Ok(format!("number_{}", prefix.to_ascii_lowercase()))
}

/// Adds `count` to `prefix`'s counter row and returns its new value, the last number taken.
async fn reserve_in_counter(
    txn: &DatabaseTransaction,
    prefix: &str,
    count: i64,
) -> Result<i64, DbErr> {
    let last_value = (NumberSequence::Table, NumberSequence::LastValue);
    let upsert = Query::insert()
        .into_table(NumberSequence::Table)
        .columns([NumberSequence::Prefix, NumberSequence::LastValue])
        .values_panic([prefix.into(), count.into()])
        .on_conflict(
            OnConflict::column(NumberSequence::Prefix)
                .value(NumberSequence::LastValue, Expr::col(last_value).add(count))
                .to_owned(),
        )
        .returning_col(NumberSequence::LastValue)
        .to_owned();
    let row = txn
        .query_one(&upsert)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("number sequence `{prefix}`")))?;
    row.try_get("", "last_value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_zero_padded_to_seven_digits() {
        assert_eq!(format_number("CHG", 1042), "CHG0001042");
        assert_eq!(format_number("INC", 17), "INC0000017");
    }

    #[test]
    fn numbers_past_seven_digits_grow_longer_instead_of_wrapping() {
        assert_eq!(format_number("CI", 12_345_678), "CI12345678");
    }
}
