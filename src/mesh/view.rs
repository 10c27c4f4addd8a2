//! The derived mesh view: plain serialisable rows in the JSON shape `meshdeck inventory -o
//! json` prints (camelCase). Data only; `derive.rs` fills it.

use super::mtls::MtlsMode;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshView {
    /// The kube context; filled by the caller.
    pub context: String,
    /// RFC 3339 time the view was derived at (the `now` passed in).
    pub generated_at: String,
    pub root_namespace: String,
    pub control_plane: ControlPlaneView,
    pub namespaces: Vec<NamespaceRow>,
    pub workloads: Vec<WorkloadRow>,
    /// Objects that could not be read, and control-plane problems (dangling webhook services).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneView {
    pub revisions: Vec<RevisionRow>,
    /// Tag → target revision.
    pub tags: BTreeMap<String, String>,
    pub gateways: Vec<GatewayRow>,
    /// Proxy version → number of pods running it ("unknown" when it cannot be told).
    pub proxies: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionRow {
    pub name: String,
    pub namespace: String,
    pub version: Option<String>,
    pub ready_replicas: i64,
    pub replicas: i64,
    pub tags: Vec<String>,
    pub expected_proxy_image: Option<String>,
    /// Pods whose proxy was injected by this revision.
    pub proxies: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRow {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub pods: usize,
    pub proxy_revisions: Vec<String>,
    pub proxy_versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceInjectionView {
    pub mode: &'static str,
    pub revision: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MtlsView {
    pub mode: MtlsMode,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceRow {
    pub name: String,
    pub injection: NamespaceInjectionView,
    pub mtls: MtlsView,
    pub workloads: usize,
    pub pods: usize,
    pub pods_with_proxy: usize,
    /// `istio.io/dataplane-mode=ambient` on the namespace.
    pub ambient: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadInjectionView {
    pub expected: bool,
    pub revision: Option<String>,
    pub reason: String,
    /// More than one webhook selects the pods (double injection).
    pub conflict: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadMtlsView {
    pub mode: MtlsMode,
    pub source: Option<String>,
    pub ports: BTreeMap<u32, MtlsMode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    pub name: String,
    pub action: String,
    pub effect: &'static str,
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRow {
    pub namespace: String,
    /// Deployment, StatefulSet, DaemonSet, Job, Pod (bare pods), or another owner's kind.
    pub kind: String,
    pub name: String,
    pub service_account: String,
    pub injection: WorkloadInjectionView,
    pub pods: usize,
    pub ready_pods: usize,
    pub pods_with_proxy: usize,
    pub proxy_revisions: Vec<String>,
    pub proxy_versions: Vec<String>,
    pub stale: bool,
    pub stale_reason: Option<String>,
    /// The §2.5 kinds found among the pods, e.g. `STALE-REVISION`.
    pub stale_kinds: Vec<&'static str>,
    pub mtls: WorkloadMtlsView,
    pub authorization_policies: Vec<PolicyRef>,
    /// `allow-all`, `deny-all` or `restricted`.
    pub authorization: &'static str,
    pub authorization_notes: Vec<String>,
    /// Services in the namespace whose selector picks these pods.
    pub services: Vec<String>,
    /// Enrolled in ambient mode (§3.1).
    pub ambient: bool,
    pub gateway: bool,
}
