//! `docs/permissions.md` is generated from the domain's permission table; this test keeps the
//! committed file true.

use std::path::PathBuf;

#[test]
fn docs_permissions_md_matches_the_permission_table() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/permissions.md");
    let generated = quorum_core::Permission::matrix_markdown();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        return;
    }
    if std::env::var_os("CI").is_none() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("docs/ is writable");
        }
        std::fs::write(&path, &generated).expect("docs/permissions.md is writable");
        panic!("docs/permissions.md was out of date and has been rewritten; review and commit it");
    }
    panic!(
        "docs/permissions.md differs from quorum_core::Permission: run the test suite outside CI to regenerate it, and commit it"
    );
}
