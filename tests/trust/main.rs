//! Integration tests of meshdeck's safety promises: no invalid writes, no lost writes, honest
//! answers under faults. One file per concern.

#[path = "../common/mod.rs"]
mod common;

mod sim_validation;
