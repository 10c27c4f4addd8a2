//! The trust suite: what keeps meshdeck's changes safe and its answers honest when the
//! cluster is shared, flaky, strict or partly hidden. One test binary, one module per concern.

#[path = "../common/mod.rs"]
mod common;

mod apply_headless;
mod apply_safety;
