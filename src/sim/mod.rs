//! The simulated cluster: an HTTPS Kubernetes API on loopback with controllers that act like
//! Kubernetes and Istio. It serves `meshdeck sim`, `meshdeck demo` and the tests. Nothing in
//! here may depend on meshdeck's own mesh model (`mesh/`): its answers must stay independent.

pub mod api;
pub mod ca;
pub mod clock;
pub mod controllers;
pub mod defaults;
pub mod envoy;
pub mod inject;
pub mod istiod;
pub mod kinds;
pub mod kubeconfig;
pub mod ops;
pub mod patch;
pub mod portforward;
pub mod run;
pub mod scale;
pub mod scenario;
pub mod store;
pub mod tls;
pub mod validate;

/// A short text summary of the cluster: namespaces and object counts per kind.
pub fn summary(cluster: &ops::Cluster) -> String {
    let mut out = String::new();
    let ns_kind = kinds::by_group_plural("", "namespaces").expect("namespaces kind");
    let namespaces = cluster.store.all(ns_kind, None);
    out.push_str(&format!("namespaces: {}\n", namespaces.len()));
    for k in kinds::all().filter(|k| k.namespaced && !k.virtual_only) {
        let n = cluster.store.all(k, None).len();
        if n > 0 {
            out.push_str(&format!("  {}: {n}\n", k.plural));
        }
    }
    out
}
