//! Trust: what meshdeck must never do (lose or invent writes, leak credentials, guess what it
//! cannot see) and what it must always do (name a broken connection), against the simulated
//! cluster and the real binary.

#[path = "../common/mod.rs"]
mod common;

mod connection;
