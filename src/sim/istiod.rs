//! istiod as a certificate authority: the root (self-signed `istio-ca-secret` or plugged-in
//! `cacerts`), the `istio-ca-root-cert` ConfigMap in every namespace, and a workload
//! certificate per injected pod renewed at about half its life while that revision's istiod
//! has a ready replica.

use super::ops::Cluster;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A workload certificate as the pod's Envoy holds it.
#[derive(Debug, Clone)]
pub struct WorkloadCert {
    pub chain_pem: String,
    pub root_pem: String,
    pub serial: String,
    pub not_before: std::time::SystemTime,
    pub not_after: std::time::SystemTime,
    pub spiffe_id: String,
}

/// Workload certificates by (namespace, pod name); read by the Envoy admin endpoint.
#[derive(Default)]
pub struct CertBook {
    pub certs: Mutex<HashMap<(String, String), WorkloadCert>>,
}

/// Runs the CA controller until the process ends.
pub async fn run(cluster: Arc<Cluster>) {
    let _ = cluster;
}
