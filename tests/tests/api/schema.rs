//! `schema.graphql` is generated from the code; this test keeps the committed file true.

use std::path::PathBuf;

#[test]
fn schema_graphql_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let generated = quorum_api::sdl();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        return;
    }
    if std::env::var_os("CI").is_none() {
        std::fs::write(&path, &generated).expect("schema.graphql is writable");
        panic!("schema.graphql was out of date and has been rewritten; review and commit it");
    }
    panic!(
        "schema.graphql differs from the code: run `cargo run -p quorum-server -- schema > schema.graphql` and commit it"
    );
}
