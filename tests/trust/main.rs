//! Trust: what meshdeck must never do (lose or invent writes, leak credentials, guess what it
//! cannot see) and what it must always do (name a broken connection, keep changes safe when
//! the cluster is shared, flaky or strict), and the simulated cluster refusing what a real one
//! refuses, against the simulated cluster and the real binary. One test binary, one module per
//! concern.

#[path = "../common/mod.rs"]
mod common;

mod apply_faults;
mod apply_headless;
mod apply_safety;
mod connection;
mod sim_validation;
mod support;
