//! The real `quorum` binary (`CARGO_BIN_EXE_quorum`), in one test binary: the smoke tests of
//! the CLI and the server, and the browser test. One link of the service instead of two; the
//! API suites are `tests/tests/api`.

mod browser;
mod smoke;
