//! The derived mesh view: plain serialisable rows in the JSON shape `meshdeck inventory -o
//! json` prints (camelCase). Data only; `derive.rs` fills it. A fact that a kind hidden from
//! the caller decides is `None` (JSON null), and its row's `unknown` says why.

use super::mtls::MtlsMode;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// How a table cell shows a fact RBAC hid (its reason is in the row's `unknown` map).
pub const UNKNOWN: &str = "?";

/// The version of the inventory's JSON contract, bumped when a field changes type or
/// meaning. 1 had no `schemaVersion`; 2 made facts that RBAC can hide nullable.
pub const SCHEMA_VERSION: u32 = 2;

/// Always serialises as `SCHEMA_VERSION`, so no view can carry another number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchemaVersion;

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(SCHEMA_VERSION)
    }
}

/// Field (a JSON name of the row, standing for its group) → why it is unknown.
pub type Unknown = BTreeMap<&'static str, String>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshView {
    pub schema_version: SchemaVersion,
    /// The kube context; filled by the caller.
    pub context: String,
    /// RFC 3339 time the view was derived at (the `now` passed in).
    pub generated_at: String,
    /// `None` when the mesh config (a ConfigMap) is hidden.
    pub root_namespace: Option<String>,
    pub control_plane: ControlPlaneView,
    pub namespaces: Vec<NamespaceRow>,
    pub workloads: Vec<WorkloadRow>,
    /// The resources (`plural.group`) the caller may not list; `warnings` says what each hides.
    pub forbidden: Vec<String>,
    /// Forbidden kinds and what they hide, objects that could not be read, and control-plane
    /// problems (dangling webhook services).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneView {
    pub revisions: Vec<RevisionRow>,
    /// Tag → target revision.
    pub tags: Option<BTreeMap<String, String>>,
    pub gateways: Vec<GatewayRow>,
    /// Proxy version → number of pods running it ("unknown" when it cannot be told).
    pub proxies: Option<BTreeMap<String, usize>>,
    /// Keys `rootNamespace`, `revisions`, `tags` (also each revision's), `proxies` (also each
    /// revision's and gateway's), `expectedProxyImage`.
    pub unknown: Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionRow {
    pub name: String,
    pub namespace: String,
    pub version: Option<String>,
    pub ready_replicas: i64,
    pub replicas: i64,
    pub tags: Option<Vec<String>>,
    pub expected_proxy_image: Option<String>,
    /// Pods whose proxy was injected by this revision.
    pub proxies: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRow {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub pods: Option<usize>,
    pub proxy_revisions: Option<Vec<String>>,
    pub proxy_versions: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceInjectionView {
    /// `enabled`, `disabled` or `unset`, from the namespace's labels.
    pub mode: Option<&'static str>,
    /// Whether a pod without injection labels created here now gets a sidecar.
    pub expected: Option<bool>,
    pub revision: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MtlsView {
    pub mode: Option<MtlsMode>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceRow {
    pub name: String,
    pub injection: NamespaceInjectionView,
    pub mtls: MtlsView,
    pub workloads: usize,
    pub pods: Option<usize>,
    pub pods_with_proxy: Option<usize>,
    /// `istio.io/dataplane-mode=ambient` on the namespace.
    pub ambient: Option<bool>,
    /// Keys `injection.mode`, `injection.expected`, `mtls`, `pods`, `ambient`.
    pub unknown: Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadInjectionView {
    pub expected: Option<bool>,
    pub revision: Option<String>,
    pub reason: String,
    /// More than one webhook selects the pods (double injection).
    pub conflict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadMtlsView {
    pub mode: Option<MtlsMode>,
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
    pub pods: Option<usize>,
    pub ready_pods: Option<usize>,
    pub pods_with_proxy: Option<usize>,
    pub proxy_revisions: Option<Vec<String>>,
    pub proxy_versions: Option<Vec<String>>,
    /// `true` when a staleness was found; `None` when none was but hidden kinds leave some
    /// undecided (`stale_unknown`).
    pub stale: Option<bool>,
    pub stale_reason: Option<String>,
    /// The §2.5 kinds found among the pods, e.g. `STALE-REVISION`.
    pub stale_kinds: Vec<&'static str>,
    /// The §2.5 kinds hidden kinds leave undecided: neither asserted nor denied.
    pub stale_unknown: Vec<&'static str>,
    pub mtls: WorkloadMtlsView,
    pub authorization_policies: Option<Vec<PolicyRef>>,
    /// `allow-all`, `deny-all` or `restricted`.
    pub authorization: Option<&'static str>,
    pub authorization_notes: Vec<String>,
    /// Services in the namespace whose selector picks these pods.
    pub services: Option<Vec<String>>,
    /// Enrolled in ambient mode (§3.1).
    pub ambient: Option<bool>,
    pub gateway: bool,
    /// Keys `injection.expected` (also the revision and conflict), `injection.conflict`,
    /// `pods` (also `readyPods`, `podsWithProxy`, `proxyRevisions`, `proxyVersions`), `stale`,
    /// `mtls`, `authorization` (also `authorizationPolicies`), `services`, `ambient`.
    pub unknown: Unknown,
}
