//! The range of a report and its buckets.
//!
//! A report covers `[from, to)`. Buckets are calendar weeks (UTC, Monday 00:00 to the next
//! Monday) or calendar months (UTC, the 1st 00:00 to the next 1st), clipped to the range: the
//! first starts at `from`, the last ends at `to`, and every one in between is whole. So two
//! reports over adjacent ranges add up, and a dashboard asking for "this month so far" gets
//! one bucket that ends now.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use quorum_core::{DomainError, DomainResult};

/// How a report's range is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum KpiBucket {
    /// Calendar weeks in UTC, Monday to Monday.
    Week,
    /// Calendar months in UTC.
    Month,
}

/// The longest range a report may cover, in months: five years (at most 262 weekly buckets).
pub const MAX_RANGE_MONTHS: u32 = 60;

/// One bucket: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The buckets of a report, in order, with the key the database gives each (the date its
/// calendar week or month starts on, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub size: KpiBucket,
    pub periods: Vec<Period>,
    keys: Vec<String>,
}

impl Buckets {
    /// Cuts `[from, to)` into `size` buckets; refuses an empty or reversed range and one
    /// longer than [`MAX_RANGE_MONTHS`].
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, size: KpiBucket) -> DomainResult<Self> {
        if to <= from {
            return Err(DomainError::bad_input("to", "`to` must be after `from`"));
        }
        let longest = from.checked_add_months(Months::new(MAX_RANGE_MONTHS));
        if longest.is_none_or(|longest| to > longest) {
            return Err(DomainError::bad_input(
                "to",
                format!(
                    "a report covers at most {} years: `to` must be at most {MAX_RANGE_MONTHS} months after `from`",
                    MAX_RANGE_MONTHS / 12
                ),
            ));
        }
        let mut periods = Vec::new();
        let mut keys = Vec::new();
        let mut aligned = align(from.date_naive(), size);
        let mut start = from;
        while start < to {
            let next = next(aligned, size)
                .ok_or_else(|| DomainError::bad_input("to", "the range is out of the calendar"))?;
            let end = midnight(next).min(to);
            periods.push(Period { start, end });
            keys.push(aligned.format("%Y-%m-%d").to_string());
            aligned = next;
            start = end;
        }
        Ok(Self {
            from,
            to,
            size,
            periods,
            keys,
        })
    }

    /// The bucket whose database key is `key` (see [`crate::sql::Dialect::bucket_key`]).
    pub fn index_of(&self, key: &str) -> Option<usize> {
        // Buckets are in key order (the keys are ISO dates).
        self.keys
            .binary_search_by(|probe| probe.as_str().cmp(key))
            .ok()
    }

    pub fn len(&self) -> usize {
        self.periods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.periods.is_empty()
    }
}

/// The first day of the week or month `day` lies in.
fn align(day: NaiveDate, size: KpiBucket) -> NaiveDate {
    match size {
        KpiBucket::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
        KpiBucket::Month => day.with_day(1).unwrap_or(day),
    }
}

/// The first day of the week or month after the one starting on `aligned`.
fn next(aligned: NaiveDate, size: KpiBucket) -> Option<NaiveDate> {
    match size {
        KpiBucket::Week => aligned.checked_add_days(Days::new(7)),
        KpiBucket::Month => aligned.checked_add_months(Months::new(1)),
    }
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|instant| instant.with_timezone(&Utc))
            .expect("valid instant")
    }

    #[test]
    fn months_are_whole_inside_the_range_and_clipped_at_its_ends() {
        let buckets = Buckets::new(
            at("2026-01-15T12:00:00Z"),
            at("2026-03-10T00:00:00Z"),
            KpiBucket::Month,
        )
        .expect("valid range");
        assert_eq!(
            buckets.periods,
            vec![
                Period {
                    start: at("2026-01-15T12:00:00Z"),
                    end: at("2026-02-01T00:00:00Z")
                },
                Period {
                    start: at("2026-02-01T00:00:00Z"),
                    end: at("2026-03-01T00:00:00Z")
                },
                Period {
                    start: at("2026-03-01T00:00:00Z"),
                    end: at("2026-03-10T00:00:00Z")
                },
            ]
        );
        assert_eq!(buckets.index_of("2026-01-01"), Some(0));
        assert_eq!(buckets.index_of("2026-03-01"), Some(2));
        assert_eq!(buckets.index_of("2026-04-01"), None);
    }

    #[test]
    fn weeks_start_on_monday_in_utc() {
        // 2026-01-07 is a Wednesday.
        let buckets = Buckets::new(
            at("2026-01-07T00:00:00Z"),
            at("2026-01-19T00:00:00Z"),
            KpiBucket::Week,
        )
        .expect("valid range");
        let starts: Vec<_> = buckets.periods.iter().map(|period| period.start).collect();
        assert_eq!(
            starts,
            vec![at("2026-01-07T00:00:00Z"), at("2026-01-12T00:00:00Z")]
        );
        assert_eq!(buckets.index_of("2026-01-05"), Some(0));
        assert_eq!(buckets.index_of("2026-01-12"), Some(1));
    }

    #[test]
    fn a_range_ending_on_a_boundary_has_no_empty_last_bucket() {
        let buckets = Buckets::new(
            at("2026-01-01T00:00:00Z"),
            at("2027-01-01T00:00:00Z"),
            KpiBucket::Month,
        )
        .expect("valid range");
        assert_eq!(buckets.len(), 12);
        assert_eq!(
            buckets.periods.last().map(|period| period.end),
            Some(at("2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn an_empty_reversed_or_too_long_range_is_refused() {
        let from = at("2026-01-01T00:00:00Z");
        for to in [from, at("2025-12-31T00:00:00Z"), at("2031-01-01T00:00:01Z")] {
            let error = Buckets::new(from, to, KpiBucket::Week).expect_err("refused");
            assert!(matches!(error, DomainError::BadInput { ref field, .. } if field == "to"));
        }
        let five_years = Buckets::new(from, at("2031-01-01T00:00:00Z"), KpiBucket::Week)
            .expect("five years are allowed");
        assert_eq!(five_years.len(), 262);
    }
}
