//! The one history of Quorum's database schema, for SQLite and PostgreSQL alike.
//!
//! Migrations never import the domain crates' entities: a migration is frozen once released,
//! while entities move on with the code.

// `MigrationTrait` declares its methods with an elided `SchemaManager` lifetime; naming it in
// the impls does not compile, so the idiom lint is relaxed for this crate alone.
#![allow(elided_lifetimes_in_paths)]

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_event_log;
mod m20261123_000002_cmdb;
mod m20261123_000003_walk_function;
mod m20261124_000004_change;
mod m20261124_000005_incident_problem;
mod m20261124_000006_walk_from_function;
mod m20261202_000007_event_feed;
mod m20261203_000008_event_kind_feed;
mod m20261203_000009_change_control;
mod m20261203_000010_persisted_document;
mod m20261204_000011_number_sequences;
mod m20261207_000012_state_tally;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_event_log::Migration),
            Box::new(m20261123_000002_cmdb::Migration),
            Box::new(m20261123_000003_walk_function::Migration),
            Box::new(m20261124_000004_change::Migration),
            Box::new(m20261124_000005_incident_problem::Migration),
            Box::new(m20261124_000006_walk_from_function::Migration),
            Box::new(m20261202_000007_event_feed::Migration),
            Box::new(m20261203_000008_event_kind_feed::Migration),
            Box::new(m20261203_000009_change_control::Migration),
            Box::new(m20261203_000010_persisted_document::Migration),
            Box::new(m20261204_000011_number_sequences::Migration),
            Box::new(m20261207_000012_state_tally::Migration),
        ]
    }
}
