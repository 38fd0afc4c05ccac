//! Seeds for benchmarks (filled in below).
