//! Tests of the plan: expansion, undo, preflight, GitOps ownership, diffs, export and the plan
//! file, against the demo scenario's objects plus a few hand-built ones.

mod expand;
mod fixtures;
mod guard;
mod output;
mod preflight;
mod undo;
