//! KPI reports over changes, incidents and problems: read-only, for change managers and
//! service heads ([`quorum_core::Permission::ReadKpis`]).
//!
//! A report covers `[from, to)` cut into calendar weeks or months ([`period`]). Each report
//! is one aggregate statement, grouped by bucket in the database on both stores (a filter by
//! business service first walks the service's dependencies: one more statement). What
//! happened before the range only enters the figures that are states at a bucket's end (the
//! change backlog, the open known errors). Rates are `None` when their denominator is zero and
//! means `None` without data, never NaN; totals are computed from the buckets, so they agree.

mod change;
mod filter;
mod incident;
pub mod period;
mod problem;
mod sql;

pub use change::{ChangeFigures, ChangeKpiReport, change_kpis};
pub use filter::KpiFilter;
pub use incident::{IncidentCounts, IncidentFigures, IncidentKpiReport, incident_kpis};
pub use period::{KpiBucket, MAX_RANGE_MONTHS, Period};
pub use problem::{ProblemFigures, ProblemKpiReport, problem_kpis};

/// `numerator / denominator`, or `None` when there is nothing to divide by.
fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// The mean of `count` durations summing to `seconds`, in hours.
fn hours(seconds: f64, count: i64) -> Option<f64> {
    (count > 0).then(|| seconds / count as f64 / 3600.0)
}

/// The mean of `count` durations summing to `seconds`, in minutes.
fn minutes(seconds: f64, count: i64) -> Option<f64> {
    (count > 0).then(|| seconds / count as f64 / 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_denominator_gives_none_not_nan() {
        assert_eq!(ratio(0, 0), None);
        assert_eq!(hours(0.0, 0), None);
        assert_eq!(minutes(0.0, 0), None);
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(hours(7200.0, 2), Some(1.0));
        assert_eq!(minutes(90.0, 1), Some(1.5));
    }
}
