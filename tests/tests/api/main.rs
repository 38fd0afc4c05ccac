//! The API suites, in one test binary: one link of the whole service instead of one per suite.
//! Each module is a suite (`audit`, `change_lifecycle`, …), so nextest names its tests
//! `quorum-tests::api change_lifecycle::…` and filters them as before:
//! `cargo nextest run -p quorum-tests -E 'test(/^change_lifecycle::/)'`. Nextest still runs
//! each test in a process of its own. Helpers more than one suite uses live in the harness
//! (`tests/src`); the rules' tables live beside the rules (`lifecycle/tests.rs` in the domain
//! crates), so these suites prove the wiring.

mod audit;
mod auth;
mod cab_agenda;
mod change_cab;
mod change_conflicts;
mod change_control;
mod change_counts;
mod change_dataloader;
mod change_lifecycle;
mod change_smoke;
mod cmdb_dataloader;
mod cmdb_graph;
mod cmdb_history;
mod cmdb_import;
mod cmdb_items;
mod connections;
mod event_log;
mod event_shapes;
mod frontend;
mod fuzz;
mod hostile;
mod http;
mod incident_lifecycle;
mod incident_smoke;
mod kpis;
mod limits;
mod migrations;
mod permission_walk;
mod permissions_doc;
mod problem_lifecycle;
mod results;
mod schema;
mod subscriptions;
mod subscriptions_scale_out;
mod viewer_work;
