//! Control-plane revisions and proxy staleness (ISTIO.md §2.4, §2.5, §9): which istiod
//! revisions run, at which version, which tags point at them, what proxy image each injects,
//! and why a running proxy needs attention. Pure.

use super::hidden::Input;
use super::injection::{Desired, Injectors};
use super::proxy::{ProxyInfo, image_version, major_minor};
use super::snapshot::{InjectorConfig, Snapshot};
use super::types::{Workload, WorkloadKind};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub name: String,
    pub namespace: String,
    pub deployment: String,
    pub version: Option<String>,
    pub ready_replicas: i64,
    pub replicas: i64,
    pub tags: Vec<String>,
    pub expected_proxy_image: Option<String>,
}

/// The revisions of a snapshot, collected once per derive.
#[derive(Debug, Default)]
pub struct ControlPlane {
    pub revisions: BTreeMap<String, Revision>,
    /// Names of Services called `istiod` or `istiod-*`, in any namespace.
    istiod_services: HashSet<String>,
    expected_images: BTreeMap<String, String>,
    /// istiod Deployments and Services could be read: a revision missing from both is gone.
    absence_known: bool,
    /// istiod Deployments could be read: a revision's version is known where it runs.
    versions_known: bool,
    /// The injector ConfigMaps could be read: each revision's proxy image is known.
    images_known: bool,
}

/// Is this Deployment an istiod? (`app=istiod`, or named `istiod[-<rev>]` with a rev label.)
pub fn is_istiod(w: &Workload) -> bool {
    let l = &w.metadata.labels;
    w.kind == WorkloadKind::Deployment
        && (l.get("app").map(String::as_str) == Some("istiod")
            || ((w.metadata.name == "istiod" || w.metadata.name.starts_with("istiod-"))
                && l.contains_key("istio.io/rev")))
}

fn istiod_revision(w: &Workload) -> String {
    match w.metadata.labels.get("istio.io/rev").filter(|r| !r.is_empty()) {
        Some(r) => r.clone(),
        None => w.metadata.name.strip_prefix("istiod-").unwrap_or("default").to_string(),
    }
}

/// The pilot image's tag, else the `app.kubernetes.io/version` label.
fn istiod_version(w: &Workload) -> Option<String> {
    let containers = &w.template.spec.containers;
    let pilot = containers
        .iter()
        .find(|c| c.name == "discovery")
        .or_else(|| {
            containers.iter().find(|c| {
                c.image.as_deref().is_some_and(|i| {
                    let repo = i.split(['@', ':']).next().unwrap_or(i);
                    repo.rsplit('/').next() == Some("pilot")
                })
            })
        })
        .or(containers.first());
    pilot
        .and_then(|c| c.image.as_deref())
        .and_then(image_version)
        .map(String::from)
        .or_else(|| w.metadata.labels.get("app.kubernetes.io/version").cloned())
}

/// `<global.hub>/<global.proxy.image>:<global.tag>`; an image containing `/` is used as is.
pub fn expected_image(cfg: &InjectorConfig) -> Option<String> {
    let image = cfg.proxy_image.clone().unwrap_or_else(|| "proxyv2".into());
    if image.contains('/') {
        return Some(image);
    }
    let hub = cfg.hub.as_deref().filter(|h| !h.is_empty())?;
    let tag = cfg.tag.as_deref().filter(|t| !t.is_empty())?;
    Some(format!("{}/{image}:{tag}", hub.trim_end_matches('/')))
}

/// The running image equals the expected one, or is a `-<variant>` of it (IST0158 rule).
pub fn image_matches(actual: &str, expected: &str) -> bool {
    actual == expected || actual.strip_prefix(expected).is_some_and(|rest| rest.starts_with('-'))
}

impl ControlPlane {
    pub fn new(snap: &Snapshot, inj: &Injectors) -> ControlPlane {
        let readable = |i: Input| !snap.hidden.contains(i);
        let mut cp = ControlPlane {
            absence_known: readable(Input::Deployment) && readable(Input::Service),
            versions_known: readable(Input::Deployment),
            images_known: readable(Input::ConfigMap),
            ..ControlPlane::default()
        };
        for (rev, cfg) in &inj.configs {
            if let Some(img) = expected_image(cfg) {
                cp.expected_images.insert(rev.clone(), img);
            }
        }
        for w in snap.workloads.values().filter(|w| is_istiod(w)) {
            let name = istiod_revision(w);
            let rev = Revision {
                tags: inj.tags_of(&name),
                expected_proxy_image: cp.expected_images.get(&name).cloned(),
                name: name.clone(),
                namespace: w.metadata.namespace.clone(),
                deployment: w.metadata.name.clone(),
                version: istiod_version(w),
                ready_replicas: w.ready_replicas,
                replicas: w.replicas,
            };
            cp.revisions.insert(name, rev);
        }
        cp.istiod_services = snap
            .services
            .keys()
            .filter(|(_, n)| n == "istiod" || n.starts_with("istiod-"))
            .map(|(_, n)| n.clone())
            .collect();
        cp
    }

    /// A revision exists while its istiod Deployment or its Service `istiod[-<rev>]` does.
    pub fn exists(&self, rev: &str) -> bool {
        if self.revisions.contains_key(rev) {
            return true;
        }
        let svc = if rev == "default" { "istiod".to_string() } else { format!("istiod-{rev}") };
        self.istiod_services.contains(&svc)
    }

    /// Whether `exists` answering `false` means the revision is gone, not merely hidden.
    pub fn absence_known(&self) -> bool {
        self.absence_known
    }

    pub fn version(&self, rev: &str) -> Option<&str> {
        self.revisions.get(rev).and_then(|r| r.version.as_deref())
    }

    pub fn expected_image(&self, rev: &str) -> Option<&str> {
        self.expected_images.get(rev).map(String::as_str)
    }
}

/// The kinds of §2.5, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Staleness {
    StaleRevision,
    Orphaned,
    StaleImage,
    WillLoseProxy,
    UnsupportedSkew,
    MissingProxy,
}

impl Staleness {
    pub const ALL: [Staleness; 6] = [
        Staleness::StaleRevision,
        Staleness::Orphaned,
        Staleness::StaleImage,
        Staleness::WillLoseProxy,
        Staleness::UnsupportedSkew,
        Staleness::MissingProxy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Staleness::StaleRevision => "STALE-REVISION",
            Staleness::Orphaned => "ORPHANED",
            Staleness::StaleImage => "STALE-IMAGE",
            Staleness::WillLoseProxy => "WILL-LOSE-PROXY",
            Staleness::UnsupportedSkew => "UNSUPPORTED-SKEW",
            Staleness::MissingProxy => "MISSING-PROXY",
        }
    }
}

/// The stalenesses of one pod, each with a short explanation.
pub type StaleList = Vec<(Staleness, String)>;

/// What can be said of one running pod: the stalenesses found, and those its hidden inputs
/// leave undecided (never asserted, never denied).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodStaleness {
    pub found: StaleList,
    pub unknown: Vec<Staleness>,
}

/// Each staleness of one running pod with a short explanation. `desired` is what a pod
/// created now would get, `None` when hidden kinds leave it open; `opted_out` means the pod
/// (or its namespace) explicitly asked for no sidecar, so losing it is intended.
pub fn pod_staleness(
    proxy: &ProxyInfo,
    desired: Option<&Desired>,
    opted_out: Option<bool>,
    cp: &ControlPlane,
) -> PodStaleness {
    let mut out = PodStaleness::default();
    let (found, unknown) = (&mut out.found, &mut out.unknown);
    let actual = proxy.revision.as_deref();
    if proxy.has_proxy {
        if let Some(have) = actual {
            match desired {
                Some(Desired::Revision(want)) if want != have => found
                    .push((Staleness::StaleRevision, format!("runs revision {have}, expected {want}; restart needed"))),
                None => unknown.push(Staleness::StaleRevision),
                _ => {}
            }
            if !cp.exists(have) {
                if cp.absence_known {
                    found.push((
                        Staleness::Orphaned,
                        format!("revision {have} has no istiod; no config or certificate renewal, fails when its certificate expires"),
                    ));
                } else {
                    unknown.push(Staleness::Orphaned);
                }
            }
            // A pod that asked for its own image keeps it across restarts.
            let want = proxy.requested_image.as_deref().or_else(|| cp.expected_image(have));
            match (proxy.image.as_deref(), want) {
                (Some(img), Some(want)) if !image_matches(img, want) => {
                    let by = match proxy.requested_image {
                        Some(_) => "its sidecar.istio.io/proxyImage asks for".to_string(),
                        None => format!("revision {have} injects"),
                    };
                    found.push((Staleness::StaleImage, format!("runs image {img}, {by} {want}; restart needed")));
                }
                (Some(_), None) if !cp.images_known => unknown.push(Staleness::StaleImage),
                _ => {}
            }
        }
        match (desired, opted_out) {
            (_, Some(true)) => {}
            (Some(Desired::None), Some(false)) => found.push((
                Staleness::WillLoseProxy,
                "no webhook selects it any more; it loses its proxy on the next restart".into(),
            )),
            (Some(Desired::None) | None, _) => unknown.push(Staleness::WillLoseProxy),
            _ => {}
        }
        let cp_version = actual.and_then(|r| cp.version(r));
        match (proxy.version(), cp_version) {
            (Some(pv), Some(cv)) => {
                if let (Some(p), Some(c)) = (major_minor(pv), major_minor(cv)) {
                    let behind_too_far = p.0 < c.0 || (p.0 == c.0 && p.1 + 1 < c.1);
                    if p > c || behind_too_far {
                        found.push((
                            Staleness::UnsupportedSkew,
                            format!(
                                "proxy {pv} with istiod {cv}: the control plane may be at most one minor version ahead"
                            ),
                        ));
                    }
                }
            }
            (Some(_), None) if actual.is_some() && !cp.versions_known => unknown.push(Staleness::UnsupportedSkew),
            _ => {}
        }
    } else {
        match desired {
            Some(Desired::None) => {}
            Some(_) => found.push((
                Staleness::MissingProxy,
                "no sidecar although a webhook selects it; created before labelling or injection failed (IST0103)"
                    .into(),
            )),
            None => unknown.push(Staleness::MissingProxy),
        }
    }
    out
}

/// Proxy version for display: the image tag, else the version of the injecting revision.
pub fn proxy_version<'a>(proxy: &'a ProxyInfo, cp: &'a ControlPlane) -> Option<&'a str> {
    proxy.version().or_else(|| proxy.revision.as_deref().and_then(|r| cp.version(r)))
}

/// One line per staleness kind across a workload's pods: "KIND (n of m pods): detail".
/// `groups` pairs each distinct result with the number of pods that share it.
pub fn summarize(groups: &[(StaleList, usize)], pods: usize) -> Option<String> {
    let mut kinds: BTreeMap<Staleness, (usize, &str)> = BTreeMap::new();
    for (list, n) in groups {
        for (k, detail) in list {
            kinds.entry(*k).or_insert((0, detail.as_str())).0 += n;
        }
    }
    if kinds.is_empty() {
        return None;
    }
    let parts: Vec<String> =
        kinds.iter().map(|(k, (n, detail))| format!("{} ({n} of {pods} pods): {detail}", k.as_str())).collect();
    Some(parts.join("; "))
}
