//! Tests of the plan: expansion, undo, preflight, GitOps ownership, diffs, export, the plan
//! file, contradictions, merges, against the demo scenario's objects plus a few hand-built ones.

mod clash;
mod expand;
mod fixtures;
mod guard;
mod merge;
mod output;
mod preflight;
mod undo;
