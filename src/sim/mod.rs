//! The simulated cluster: an HTTPS Kubernetes API on loopback with controllers that act like
//! Kubernetes and Istio. It serves `meshdeck sim`, `meshdeck demo` and the tests. Nothing in
//! here may depend on meshdeck's own mesh model (`mesh/`): its answers must stay independent.

pub mod ca;
pub mod clock;
pub mod controllers;
pub mod defaults;
pub mod envoy;
pub mod inject;
pub mod istiod;
pub mod kinds;
pub mod ops;
pub mod patch;
pub mod portforward;
pub mod store;
