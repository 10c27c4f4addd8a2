//! Tests of the mesh model with hand-written expectations, one file per concern.

mod fixtures;
mod injection;
