//! Effective server-side mTLS mode from PeerAuthentications (ISTIO.md §4.2, after Istio's
//! `ComposePeerAuthentication`): mesh, namespace and workload levels, UNSET inherits,
//! oldest policy wins, root-namespace selector policies ignored, `istio.io/rev` scoping.
//! Pure; it does not judge clients (DestinationRules).

use super::istio_types::PeerAuthentication;
use super::selector::SelectorIndex;
use super::snapshot::Snapshot;
use crate::labels::Labels;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MtlsMode {
    Strict,
    Permissive,
    Disable,
}

impl MtlsMode {
    /// `None` for UNSET, a missing mode, or a value Istio would not accept.
    pub fn parse(s: Option<&str>) -> Option<MtlsMode> {
        match s? {
            "STRICT" => Some(MtlsMode::Strict),
            "PERMISSIVE" => Some(MtlsMode::Permissive),
            "DISABLE" => Some(MtlsMode::Disable),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MtlsMode::Strict => "STRICT",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Disable => "DISABLE",
        }
    }
}

/// Which `istio.io/rev`-labelled config a workload's istiod sees: its own revision or a tag
/// pointing at it. Unlabelled config is seen by every revision.
#[derive(Debug, Clone, Default)]
pub struct RevScope {
    pub revision: Option<String>,
    pub tags: Vec<String>,
}

impl RevScope {
    pub fn sees(&self, labels: &Labels) -> bool {
        match labels.get("istio.io/rev") {
            None => true,
            Some(v) => self.revision.as_deref() == Some(v.as_str()) || self.tags.iter().any(|t| t == v),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtlsResult {
    pub mode: MtlsMode,
    /// "NS/NAME" of the policy that set the mode; `None` means the PERMISSIVE default.
    pub source: Option<String>,
    /// Port-level modes of the workload policy, UNSET resolved to the inherited mode.
    pub ports: BTreeMap<u32, MtlsMode>,
}

/// Oldest creationTimestamp first, then name, then namespace. A missing or unreadable
/// timestamp sorts first, as Go's zero time does.
fn age_key(pa: &PeerAuthentication) -> (Option<OffsetDateTime>, &str, &str) {
    let ts = pa.metadata.creation_timestamp.as_deref().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok());
    (ts, pa.metadata.name.as_str(), pa.metadata.namespace.as_str())
}

/// The winning policy among those the scope sees.
pub fn pick<'a>(
    list: impl IntoIterator<Item = &'a PeerAuthentication>,
    scope: &RevScope,
) -> Option<&'a PeerAuthentication> {
    list.into_iter().filter(|p| scope.sees(&p.metadata.labels)).min_by(|a, b| age_key(a).cmp(&age_key(b)))
}

fn mode_of(pa: &PeerAuthentication) -> Option<MtlsMode> {
    MtlsMode::parse(pa.spec.mtls.as_ref().and_then(|m| m.mode.as_deref()))
}

/// Composes the three levels (each already picked).
pub fn compose(
    mesh: Option<&PeerAuthentication>,
    ns: Option<&PeerAuthentication>,
    workload: Option<&PeerAuthentication>,
) -> MtlsResult {
    let mut out = MtlsResult { mode: MtlsMode::Permissive, source: None, ports: BTreeMap::new() };
    for pa in [mesh, ns, workload].into_iter().flatten() {
        if let Some(m) = mode_of(pa) {
            out.mode = m;
            out.source = Some(pa.metadata.ns_name());
        }
    }
    if let Some(wl) = workload {
        for (port, setting) in &wl.spec.port_level_mtls {
            if let Ok(p) = port.trim().parse::<u32>() {
                out.ports.insert(p, MtlsMode::parse(setting.mode.as_deref()).unwrap_or(out.mode));
            }
        }
    }
    out
}

#[derive(Debug, Default)]
struct NsPolicies<'a> {
    selectors: SelectorIndex<'a, &'a PeerAuthentication>,
}

/// PeerAuthentications grouped by level, built once per derive.
#[derive(Debug)]
pub struct PeerAuthIndex<'a> {
    pub root: String,
    per_ns: HashMap<&'a str, NsPolicies<'a>>,
}

pub(super) fn selector_of(pa: &PeerAuthentication) -> Option<&Labels> {
    pa.spec.selector.as_ref().map(|s| &s.match_labels).filter(|m| !m.is_empty())
}

impl<'a> PeerAuthIndex<'a> {
    pub fn new(snap: &'a Snapshot, root: &str) -> PeerAuthIndex<'a> {
        let mut per_ns: HashMap<&'a str, NsPolicies<'a>> = HashMap::new();
        for pa in snap.peer_authentications.values() {
            per_ns.entry(pa.metadata.namespace.as_str()).or_default().selectors.add(selector_of(pa), pa);
        }
        PeerAuthIndex { root: root.to_string(), per_ns }
    }

    fn ns_wide(&self, ns: &str, scope: &RevScope) -> Option<&'a PeerAuthentication> {
        pick(self.per_ns.get(ns).map(|p| p.selectors.unselected()).unwrap_or(&[]).iter().copied(), scope)
    }

    /// The namespace-wide result (mesh and namespace levels only).
    pub fn namespace_mode(&self, ns: &str, scope: &RevScope) -> MtlsResult {
        let mesh = self.ns_wide(&self.root, scope);
        let ns_pa = if ns == self.root { None } else { self.ns_wide(ns, scope) };
        compose(mesh, ns_pa, None)
    }

    /// The result for a workload with these pod labels in `ns`.
    pub fn workload_mode(&self, ns: &str, labels: &Labels, scope: &RevScope) -> MtlsResult {
        let mesh = self.ns_wide(&self.root, scope);
        if ns == self.root {
            // Selector policies in the root namespace are ignored (ComposePeerAuthentication).
            return compose(mesh, None, None);
        }
        let ns_pa = self.ns_wide(ns, scope);
        let wl = self.per_ns.get(ns).and_then(|p| pick(p.selectors.selected_by(labels), scope));
        compose(mesh, ns_pa, wl)
    }
}

/// Convenience for one-off questions (tests, findings): the workload mode straight from a snapshot.
pub fn effective_mtls(snap: &Snapshot, ns: &str, labels: &Labels, scope: &RevScope) -> MtlsResult {
    let root = snap.root_namespace();
    PeerAuthIndex::new(snap, &root).workload_mode(ns, labels, scope)
}
