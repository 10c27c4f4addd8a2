//! meshdeck's pure mesh model: a `Snapshot` of slim cluster objects in, a derived
//! `MeshView` out (injection, revisions and staleness, effective mTLS, authorization).
//! It follows /work/shared/ISTIO.md and must do no IO, no async and read no clock: `now`
//! is a parameter. It must not use `crate::sim`, whose answers it is tested against.

pub mod authz;
pub mod config_maps;
pub mod derive;
pub mod feed;
pub mod hidden;
pub mod injection;
pub mod istio_types;
pub mod mtls;
mod overview;
pub mod partial;
pub mod pods;
pub mod proxy;
pub mod revision;
pub mod selector;
pub mod share;
pub mod snapshot;
pub mod types;
pub mod view;
pub mod wire;

#[cfg(test)]
mod tests;

pub use derive::derive;
pub use hidden::{Hidden, Input};
pub use mtls::MtlsMode;
pub use pods::{PodLine, pods_of};
pub use snapshot::{Object, Snapshot};
pub use view::{MeshView, SCHEMA_VERSION, WorkloadRow};
