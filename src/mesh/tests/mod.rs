//! Tests of the mesh model with hand-written expectations, one file per concern.

mod authz;
mod derive;
mod fixtures;
mod injection;
mod mtls;
mod partial;
mod snapshot;
mod staleness;
mod wire;
