//! Generated large clusters for benchmarks and scale tests: thousands of namespaces and
//! workloads and a hundred thousand injected pods, inserted in seconds. Objects are stored as
//! an id into one shared generator and rendered on demand, so each costs a few hundred bytes.
//! Everything is generated already settled: no controller ever sees these objects.

mod fast;
mod pod;
mod render;
mod template;

use super::kinds::{self, Kind};
use super::ops::Cluster;
use super::store::Render;
use crate::labels::Labels;
use serde_json::Value;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How big a cluster to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleSpec {
    pub namespaces: usize,
    pub workloads: usize,
    pub pods_per_workload: usize,
}

/// Ten million pods would take gigabytes even lazily; refuse before allocating.
const MAX_PODS: usize = 2_000_000;
const MAX_OBJECTS: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScaleSpecError {
    #[error("scale spec: {0:?} is not key=value (expected e.g. namespaces=1000,workloads=10000,pods-per-workload=10)")]
    Syntax(String),
    #[error("scale spec: unknown key {0:?} (known: namespaces, workloads, pods-per-workload)")]
    UnknownKey(String),
    #[error("scale spec: {key}={value:?} is not a whole number")]
    NotANumber { key: String, value: String },
    #[error("scale spec: {0} is given twice")]
    Duplicate(String),
    #[error("scale spec: missing {0}")]
    Missing(String),
    #[error("scale spec: namespaces must be at least 1")]
    NoNamespaces,
    #[error("scale spec: {what} {got} is over the limit of {limit}")]
    TooLarge { what: &'static str, got: usize, limit: usize },
}

impl FromStr for ScaleSpec {
    type Err = ScaleSpecError;

    /// Parses `namespaces=N,workloads=N,pods-per-workload=N` (any order, all three required).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut vals: [Option<usize>; 3] = [None; 3];
        const KEYS: [&str; 3] = ["namespaces", "workloads", "pods-per-workload"];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(ScaleSpecError::Syntax(part.to_string()));
            };
            let (key, value) = (key.trim(), value.trim());
            let Some(slot) = KEYS.iter().position(|k| *k == key) else {
                return Err(ScaleSpecError::UnknownKey(key.to_string()));
            };
            let n = value
                .replace('_', "")
                .parse::<usize>()
                .map_err(|_| ScaleSpecError::NotANumber { key: key.to_string(), value: value.to_string() })?;
            if vals[slot].replace(n).is_some() {
                return Err(ScaleSpecError::Duplicate(key.to_string()));
            }
        }
        let missing: Vec<&str> = KEYS.iter().zip(vals).filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
        if !missing.is_empty() {
            return Err(ScaleSpecError::Missing(missing.join(", ")));
        }
        let [namespaces, workloads, pods_per_workload] = vals.map(Option::unwrap_or_default);
        if namespaces == 0 {
            return Err(ScaleSpecError::NoNamespaces);
        }
        let too_large =
            |what, got, limit| if got > limit { Err(ScaleSpecError::TooLarge { what, got, limit }) } else { Ok(()) };
        too_large("namespaces", namespaces, MAX_OBJECTS)?;
        too_large("workloads", workloads, MAX_OBJECTS)?;
        too_large("pods", workloads.saturating_mul(pods_per_workload), MAX_PODS)?;
        Ok(ScaleSpec { namespaces, workloads, pods_per_workload })
    }
}

/// How many objects of each kind `generate` inserted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaleSummary {
    pub namespaces: usize,
    pub nodes: usize,
    pub service_accounts: usize,
    pub services: usize,
    pub deployments: usize,
    pub replica_sets: usize,
    pub pods: usize,
    pub peer_authentications: usize,
    pub authorization_policies: usize,
}

/// A namespace's relation to the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mesh {
    /// `istio-injection=enabled`: injected by the default revision (tag `default` → 1-24-3).
    Default,
    /// `istio.io/rev=1-25-0`: moved to the canary revision.
    Canary,
    /// No label: outside the mesh.
    Off,
}

impl Mesh {
    /// (revision, proxy version) of the pods' sidecars.
    pub(crate) fn revision(self) -> Option<(&'static str, &'static str)> {
        match self {
            Mesh::Default => Some(("1-24-3", "1.24.3")),
            Mesh::Canary => Some(("1-25-0", "1.25.0")),
            Mesh::Off => None,
        }
    }
}

const WORDS: &[&str] = &[
    "cart",
    "checkout",
    "catalog",
    "inventory",
    "pricing",
    "search",
    "shipping",
    "payments",
    "ledger",
    "users",
    "auth",
    "sessions",
    "recommend",
    "reviews",
    "ratings",
    "notify",
    "email",
    "orders",
    "invoices",
    "reports",
    "audit",
    "profile",
    "media",
    "thumbs",
    "geo",
    "quotes",
    "currency",
    "fraud",
    "loyalty",
    "tax",
    "stock",
    "feeds",
];

/// Object kinds, stored in the top bits of a lazy object's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Tag {
    Namespace = 1,
    Node,
    DefaultSa,
    WorkloadSa,
    Service,
    Deployment,
    ReplicaSet,
    Pod,
    PeerAuthentication,
    AuthorizationPolicy,
}

const TAG_SHIFT: u32 = 48;

pub(crate) fn id(tag: Tag, index: usize) -> u64 {
    ((tag as u64) << TAG_SHIFT) | index as u64
}

/// Pure naming and placement: everything about object `index` follows from the spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub spec: ScaleSpec,
    pub nodes: usize,
}

impl Layout {
    fn new(spec: ScaleSpec) -> Layout {
        let pods = spec.workloads * spec.pods_per_workload;
        Layout { spec, nodes: pods.div_ceil(100).max(1) }
    }

    pub fn ns_name(i: usize) -> String {
        format!("scale-{i:04}")
    }

    pub fn mesh(i: usize) -> Mesh {
        match i % 10 {
            1 => Mesh::Canary,
            2 => Mesh::Off,
            _ => Mesh::Default,
        }
    }

    /// The mode of the namespace's `default` PeerAuthentication, if it has one.
    pub fn peer_authentication(i: usize) -> Option<&'static str> {
        match i % 20 {
            0 => Some("STRICT"),
            10 => Some("PERMISSIVE"),
            _ => None,
        }
    }

    pub fn has_authorization_policy(w: usize) -> bool {
        w.is_multiple_of(10)
    }

    /// Workloads go round-robin over the namespaces.
    pub fn ns_of(&self, w: usize) -> usize {
        w % self.spec.namespaces
    }

    pub fn word(w: usize) -> &'static str {
        WORDS[w % WORDS.len()]
    }

    pub fn workload_name(w: usize) -> String {
        format!("{}-{w:05}", Self::word(w))
    }

    pub fn rs_hash(w: usize) -> String {
        suffix(mix(w as u64 ^ 0x5eed_0001), 10)
    }

    pub fn rs_name(w: usize) -> String {
        format!("{}-{}", Self::workload_name(w), Self::rs_hash(w))
    }

    /// Pod `p` of workload `w`, whose ReplicaSet is `rs`.
    pub fn pod_name(rs: &str, w: usize, p: usize) -> String {
        // Distinct for every p below 27^5: 7919 is coprime with 27.
        let n = (mix(w as u64) % 14_348_907 + p as u64 * 7919) % 14_348_907;
        format!("{rs}-{}", base27(n, 5))
    }

    pub fn node_name(n: usize) -> String {
        format!("scale-node-{n:03}")
    }

    pub fn node_of(&self, pod_index: usize) -> usize {
        pod_index % self.nodes
    }
}

const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn base27(mut n: u64, len: usize) -> String {
    let mut out = vec![b'b'; len];
    for c in out.iter_mut().rev() {
        *c = ALPHA[(n % 27) as usize];
        n /= 27;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn suffix(seed: u64, len: usize) -> String {
    base27(seed, len.min(13))
}

/// splitmix64: a fixed, well-spread hash so names and uids are stable per object.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A version-4-shaped uid derived from the object's id.
pub(crate) fn uid(id: u64) -> String {
    let a = mix(id);
    let b = mix(a ^ id);
    let mut s = *b"00000000-0000-4000-0000-000000000000";
    hex_into(&mut s[..8], a >> 32);
    hex_into(&mut s[9..13], a >> 16);
    hex_into(&mut s[15..18], a);
    hex_into(&mut s[19..23], ((b >> 48) & 0x3fff) | 0x8000);
    hex_into(&mut s[24..], b);
    String::from_utf8(s.to_vec()).unwrap_or_default()
}

/// 64 hex digits, for container ids and image digests.
pub(crate) fn hex64(seed: u64) -> String {
    let mut s = [0; 64];
    for (i, chunk) in (0..).zip(s.chunks_mut(16)) {
        hex_into(chunk, mix(seed.wrapping_add(i)));
    }
    String::from_utf8(s.to_vec()).unwrap_or_default()
}

/// Fills `out` with the low hex digits of `v`, zero-padded: `format!("{:0N$x}")` for a `v`
/// that fits, without the formatting machinery, which made uids and digests a third of the
/// cost of writing a pod.
fn hex_into(out: &mut [u8], v: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, c) in out.iter_mut().rev().enumerate() {
        *c = if i < 16 { HEX[((v >> (4 * i)) & 15) as usize] } else { b'0' };
    }
}

/// A JSON object from values already built. `json!` copies every embedded `Value` by
/// serializing it again, once per nesting level, which made a pod cost half a millisecond.
pub(crate) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The shared generator every lazy object points at.
pub(crate) struct Generated {
    pub layout: Layout,
    /// Byte templates of every shape, cut on first use (see `fast`).
    pub templates: OnceLock<Option<fast::Templates>>,
    /// Creation times: namespaces, then workloads, then pods; all days old so ages are stable.
    pub t_ns: String,
    pub t_workload: String,
    pub t_pod: String,
    pub t_ready: String,
}

fn kind(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).expect("a served kind")
}

/// Inserts the generated cluster. Takes a few seconds at 100,000 pods.
pub fn generate(cluster: &Cluster, spec: &ScaleSpec) -> ScaleSummary {
    let layout = Layout::new(*spec);
    let t0 = cluster.clock.now() - Duration::from_secs(3 * 86_400);
    let at = |s: u64| super::clock::rfc3339(t0 + Duration::from_secs(s));
    let generator = Arc::new(Generated::new(layout, [at(0), at(60), at(120), at(150)]));
    let render: Arc<dyn Render> = generator.clone();
    let store = &cluster.store;
    let mut sum = ScaleSummary::default();
    let put = |k: &'static Kind, ns: &str, name: &str, labels: &Arc<Labels>, id: u64| {
        store.insert_lazy(k, ns, name, labels.clone(), render.clone(), id);
    };
    let no_labels = Arc::new(Labels::new());

    let ns_kind = kind("", "namespaces");
    let sa_kind = kind("", "serviceaccounts");
    let pa_kind = kind("security.istio.io", "peerauthentications");
    let ns_names: Vec<String> = (0..spec.namespaces).map(Layout::ns_name).collect();
    for (i, ns) in ns_names.iter().enumerate() {
        put(ns_kind, "", ns, &Arc::new(render::namespace_labels(ns, Layout::mesh(i))), id(Tag::Namespace, i));
        put(sa_kind, ns, "default", &no_labels, id(Tag::DefaultSa, i));
        sum.namespaces += 1;
        sum.service_accounts += 1;
        if Layout::peer_authentication(i).is_some() {
            put(pa_kind, ns, "default", &no_labels, id(Tag::PeerAuthentication, i));
            sum.peer_authentications += 1;
        }
    }
    let node_kind = kind("", "nodes");
    for n in 0..layout.nodes {
        let name = Layout::node_name(n);
        put(node_kind, "", &name, &Arc::new(render::node_labels(&name, render::node_zone(n))), id(Tag::Node, n));
        sum.nodes += 1;
    }

    let (svc_kind, deploy_kind) = (kind("", "services"), kind("apps", "deployments"));
    let (rs_kind, pod_kind) = (kind("apps", "replicasets"), kind("", "pods"));
    let ap_kind = kind("security.istio.io", "authorizationpolicies");
    for w in 0..spec.workloads {
        let ns = &ns_names[layout.ns_of(w)];
        let name = Layout::workload_name(w);
        let app = Arc::new(render::app_labels(&name));
        put(sa_kind, ns, &name, &app, id(Tag::WorkloadSa, w));
        put(svc_kind, ns, &name, &app, id(Tag::Service, w));
        put(deploy_kind, ns, &name, &app, id(Tag::Deployment, w));
        let hash = Layout::rs_hash(w);
        let rs = format!("{name}-{hash}");
        put(rs_kind, ns, &rs, &Arc::new(render::rs_labels(&name, &hash)), id(Tag::ReplicaSet, w));
        sum.service_accounts += 1;
        sum.services += 1;
        sum.deployments += 1;
        sum.replica_sets += 1;
        if Layout::has_authorization_policy(w) {
            put(ap_kind, ns, &format!("{name}-viewers"), &no_labels, id(Tag::AuthorizationPolicy, w));
            sum.authorization_policies += 1;
        }
        let pod_labels = Arc::new(render::pod_labels(&name, &hash, Layout::mesh(layout.ns_of(w))));
        for p in 0..spec.pods_per_workload {
            let index = w * spec.pods_per_workload + p;
            put(pod_kind, ns, &Layout::pod_name(&rs, w, p), &pod_labels, id(Tag::Pod, index));
            sum.pods += 1;
        }
    }
    tracing::info!(?sum, "generated a scale cluster");
    sum
}

#[cfg(test)]
mod tests;
