//! SLA clocks. The response clock runs from opening to the first assignment or
//! acknowledgement. The resolution clock runs from opening to resolution and stands still while
//! the incident is ON_HOLD (and while it sat RESOLVED before a reopen): the stored
//! `resolution_due` moves on by every closed pause, and an open pause moves it with the clock.
//! Breach is judged against the injected clock, so tests move time instead of sleeping.

use chrono::{DateTime, Duration, Utc};

use crate::entity::incident::Model;

/// An incident's SLA as of an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaStatus {
    pub response_due: DateTime<Utc>,
    /// When the resolution is due, counting the pause in progress.
    pub resolution_due: DateTime<Utc>,
    /// Responded late, or not yet and already late.
    pub response_breached: bool,
    /// Resolved late, or not yet and already late (an incident on hold is judged at the
    /// moment the hold began).
    pub resolution_breached: bool,
    /// Seconds left to the resolution due time (negative once breached); frozen on hold and
    /// at resolution.
    pub remaining_seconds: i64,
    /// Seconds the resolution clock has stood still, the pause in progress included.
    pub paused_seconds: i64,
}

/// The SLA of `incident` at `now`.
pub fn status(incident: &Model, now: DateTime<Utc>) -> SlaStatus {
    let open_pause = incident
        .on_hold_since
        .map_or(0, |since| (now - since).num_seconds().max(0));
    let resolution_due = incident.resolution_due + Duration::seconds(open_pause);
    let end = incident.resolved_at.unwrap_or(now);
    SlaStatus {
        response_due: incident.response_due,
        resolution_due,
        response_breached: incident.responded_at.unwrap_or(now) > incident.response_due,
        resolution_breached: end > resolution_due,
        remaining_seconds: (resolution_due - end).num_seconds(),
        paused_seconds: incident.paused_seconds + open_pause,
    }
}

/// `incident` with its clock stopped at `now` (put on hold).
pub(crate) fn pause(incident: Model, now: DateTime<Utc>) -> Model {
    Model {
        on_hold_since: Some(now),
        ..incident
    }
}

/// `incident` with a pause that began at `since` ended at `now`: the due time moves on by it.
pub(crate) fn end_pause(incident: Model, since: DateTime<Utc>, now: DateTime<Utc>) -> Model {
    let paused = (now - since).num_seconds().max(0);
    Model {
        on_hold_since: None,
        paused_seconds: incident.paused_seconds + paused,
        resolution_due: incident.resolution_due + Duration::seconds(paused),
        ..incident
    }
}

/// `incident` under new targets (its priority changed): the due times are counted again from
/// the opening, keeping the time paused so far.
pub fn retarget(incident: Model, response_minutes: i32, resolution_minutes: i32) -> Model {
    Model {
        response_target_minutes: response_minutes,
        resolution_target_minutes: resolution_minutes,
        response_due: incident.opened_at + Duration::minutes(i64::from(response_minutes)),
        resolution_due: incident.opened_at
            + Duration::minutes(i64::from(resolution_minutes))
            + Duration::seconds(incident.paused_seconds),
        ..incident
    }
}
