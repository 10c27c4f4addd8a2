//! The only code that talks to a Kubernetes API: the client from kubeconfig, watchers that keep
//! slim copies of the objects meshdeck needs, and (later) dry-run and apply. Nothing here
//! derives mesh state; `mesh/` does that from the snapshots this module produces.

pub mod cause;
pub mod client;
pub mod kubeconfig;
pub mod live;
pub mod page;
pub mod retry;
pub mod timeout;
pub mod watch;
