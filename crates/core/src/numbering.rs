//! Human numbers (`CHG0001042`, `INC0000017`): one counter per prefix, incremented inside the
//! transaction that creates the record, so numbers are never reused and a rolled-back creation
//! gives its number back.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, DeriveIden};

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
    let last = reserve_numbers(txn, prefix, 1).await?;
    Ok(format_number(prefix, last))
}

/// Takes `count` consecutive numbers for `prefix` inside `txn` in one statement and returns
/// the value of the last; the first is `last - count + 1`. Bulk writers use this.
pub async fn reserve_numbers(
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
