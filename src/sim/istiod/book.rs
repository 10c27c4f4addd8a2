//! The CA's shared state, kept on the `Cluster` for the Envoy admin endpoint: the signing CA,
//! each revision's istiod readiness history and version, and the workload certificates
//! signed so far. It computes a pod's current certificate lazily (see `rotation`) and signs
//! it on first read; it never scans pods and writes nothing to the store.

use super::rotation::{self, Millis, Readiness};
use crate::sim::ca::{self, Ca};
use crate::sim::clock::{Clock, parse_rfc3339};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// The agent's default `SECRET_TTL`.
pub const WORKLOAD_TTL: Duration = Duration::from_secs(24 * 3600);

/// Lifetimes shorter than this would make renewals pile up within X.509's one-second
/// resolution.
const MIN_TTL: Duration = Duration::from_secs(2);

/// A workload certificate as the pod's Envoy holds it.
#[derive(Debug, Clone)]
pub struct WorkloadCert {
    /// The leaf followed by every certificate up to the root.
    pub chain_pem: String,
    pub root_pem: String,
    pub serial: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub spiffe_id: String,
    /// When istiod signed it (NotBefore is two minutes earlier).
    pub issued_at: SystemTime,
}

/// One istiod Deployment as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IstiodState {
    pub ready: bool,
    pub version: Option<String>,
}

#[derive(Default)]
struct Revision {
    readiness: Readiness,
    deployments: BTreeMap<(String, String), IstiodState>,
}

struct Cached {
    uid: String,
    issued: Millis,
    cert: WorkloadCert,
}

/// Where the current CA came from, so an unchanged Secret is not parsed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSource {
    pub namespace: String,
    pub secret: String,
    pub resource_version: String,
}

#[derive(Default)]
struct Book {
    ca: Option<(Arc<Ca>, CaSource)>,
    revisions: HashMap<String, Revision>,
    leaves: HashMap<(String, String), Cached>,
}

/// Shared between the CA controller (writer) and the Envoy admin endpoint (reader).
#[derive(Default)]
pub struct CertBook {
    inner: Mutex<Book>,
}

pub fn to_millis(t: SystemTime) -> Millis {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as Millis,
        Err(e) => -(e.duration().as_millis() as Millis),
    }
}

pub fn from_millis(ms: Millis) -> SystemTime {
    if ms >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// The workload certificate lifetime under the cluster's time scale.
pub fn workload_ttl(clock: &Clock) -> Duration {
    clock.scaled(WORKLOAD_TTL).max(MIN_TTL)
}

fn annotation<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// The revision of the istiod that injected a pod: the `istio.io/rev` annotation, else the
/// `revision` in `sidecar.istio.io/status`, else `default` (ISTIO.md §2.1).
pub fn pod_revision(pod: &Value) -> String {
    if let Some(r) = annotation(pod, "istio.io/rev").filter(|r| !r.is_empty()) {
        return r.to_string();
    }
    annotation(pod, "sidecar.istio.io/status")
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|v| v.get("revision").and_then(Value::as_str).map(str::to_string))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

impl CertBook {
    fn lock(&self) -> MutexGuard<'_, Book> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn ca(&self) -> Option<Arc<Ca>> {
        self.lock().ca.as_ref().map(|(ca, _)| ca.clone())
    }

    pub fn ca_source(&self) -> Option<CaSource> {
        self.lock().ca.as_ref().map(|(_, s)| s.clone())
    }

    /// Installs the signing CA. Certificates already signed stay as they are until renewed.
    pub fn set_ca(&self, ca: Arc<Ca>, source: CaSource) {
        self.lock().ca = Some((ca, source));
    }

    /// Records one istiod Deployment of `revision` as seen at `at` (None: it is gone).
    /// Returns true when the revision's readiness changed.
    pub fn observe_istiod(
        &self,
        revision: &str,
        key: (String, String),
        state: Option<IstiodState>,
        at: Millis,
    ) -> bool {
        let mut book = self.lock();
        let rev = book.revisions.entry(revision.to_string()).or_default();
        match state {
            Some(s) => {
                rev.deployments.insert(key, s);
            }
            None => {
                rev.deployments.remove(&key);
            }
        }
        let ready = rev.deployments.values().any(|d| d.ready);
        let was = rev.readiness.is_ready();
        rev.readiness.record(at, ready);
        was != ready
    }

    /// The revision that `(namespace, name)` was last recorded under, if tracked.
    pub fn tracked_revision(&self, key: &(String, String)) -> Option<String> {
        self.lock().revisions.iter().find(|(_, r)| r.deployments.contains_key(key)).map(|(name, _)| name.clone())
    }

    pub fn revision_ready(&self, revision: &str) -> bool {
        self.lock().revisions.get(revision).is_some_and(|r| r.readiness.is_ready())
    }

    pub fn any_ready(&self) -> bool {
        self.lock().revisions.values().any(|r| r.readiness.is_ready())
    }

    /// Namespaces holding a ready istiod, in order.
    pub fn ready_namespaces(&self) -> Vec<String> {
        let book = self.lock();
        let mut out: Vec<String> = book
            .revisions
            .values()
            .flat_map(|r| r.deployments.iter().filter(|(_, d)| d.ready).map(|((ns, _), _)| ns.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The version of a revision's istiod (from its image tag), if known.
    pub fn istiod_version(&self, revision: &str) -> Option<String> {
        self.lock().revisions.get(revision)?.deployments.values().find_map(|d| d.version.clone())
    }

    pub fn readiness(&self, revision: &str) -> Option<Readiness> {
        self.lock().revisions.get(revision).map(|r| r.readiness.clone())
    }

    /// Drops what was signed for a deleted pod.
    pub fn forget_pod(&self, namespace: &str, name: &str) {
        self.lock().leaves.remove(&(namespace.to_string(), name.to_string()));
    }

    /// The certificate the pod's Envoy holds at `now`, signing it on first read. None when
    /// the pod's istiod never answered since it started, or when no CA is available.
    pub fn workload_cert(&self, pod: &Value, ttl: Duration, now: SystemTime) -> Option<WorkloadCert> {
        let meta = pod.get("metadata")?;
        let ns = meta.get("namespace")?.as_str()?;
        let name = meta.get("name")?.as_str()?;
        let uid = meta.get("uid").and_then(Value::as_str).unwrap_or_default();
        let start = to_millis(parse_rfc3339(meta.get("creationTimestamp")?.as_str()?)?);
        let sa = pod.get("spec").and_then(|s| s.get("serviceAccountName")).and_then(Value::as_str).unwrap_or("default");
        let revision = pod_revision(pod);
        let seed = rotation::fnv64(&[ns.as_bytes(), name.as_bytes(), uid.as_bytes()]);
        let ttl_ms = ttl.as_millis() as Millis;

        let mut book = self.lock();
        let readiness = &book.revisions.get(&revision)?.readiness;
        let issue = rotation::current_issue(start, ttl_ms, readiness, to_millis(now), seed)?;
        let key = (ns.to_string(), name.to_string());
        if let Some(c) = book.leaves.get(&key).filter(|c| c.uid == uid && c.issued == issue.at) {
            return Some(c.cert.clone());
        }
        let (ca, _) = book.ca.as_ref()?;
        let spiffe = ca::spiffe_id(ns, sa);
        let leaf = match ca.issue_workload(&spiffe, from_millis(issue.at), from_millis(issue.expires)) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(namespace = ns, pod = name, "istiod could not sign a workload certificate: {e}");
                return None;
            }
        };
        let cert = WorkloadCert {
            chain_pem: leaf.chain_pem,
            root_pem: ca.root_pem().to_string(),
            serial: leaf.serial_hex,
            not_before: leaf.not_before,
            not_after: leaf.not_after,
            spiffe_id: spiffe,
            issued_at: from_millis(issue.at),
        };
        book.leaves.insert(key, Cached { uid: uid.to_string(), issued: issue.at, cert: cert.clone() });
        Some(cert)
    }
}
