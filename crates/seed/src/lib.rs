//! Data to start from, written through the domain's own rules: the demo estate, changes,
//! incidents and problem `quorum serve --dev` adds to an empty database, and the deterministic
//! bulk generators of `quorum seed` for benchmarks.
//!
//! Nothing here is a domain rule: the generators call the domain crates' operations (the demo)
//! or their pure rules (the bulk changes' risk is `quorum_change::risk`'s, the incidents' SLA
//! clocks `quorum_incident::sla`'s), so a rule changes in one place.

pub mod cmdb;

/// Bulk, deterministic data for benchmarks (`quorum seed --changes N --incidents M --seed S`),
/// written with multi-row statements in one transaction.
pub mod bulk {
    pub mod changes;
    pub mod incidents;
}

/// The story `quorum serve --dev` adds on top of the demo estate ([`crate::cmdb::demo`]),
/// through the domain operations.
pub mod demo {
    pub mod changes;
    pub mod problems;
}
