//! meshdeck: a terminal assistant for the Istio service mesh. This crate root only
//! wires modules together; binaries and tests reach everything through it.

pub mod apply;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod config;
pub mod files;
pub mod inventory;
pub mod labels;
pub mod mesh;
pub mod plan;
pub mod sim;
pub mod ui;
