//! `derive`: snapshot in, `MeshView` out. Everything is looked up through indices built in
//! one pass each (pods grouped by owner, policies and Services by namespace and selector),
//! never by scanning all pods per workload. Pure: the clock is a parameter.

use super::authz::AuthzIndex;
use super::injection::{Decision, Injectors, PodFacts, decide, namespace_injection, opted_out};
use super::mtls::{MtlsMode, PeerAuthIndex, RevScope};
use super::proxy::{PROXY_CONTAINER, ProxyInfo};
use super::revision::{ControlPlane, StaleList, Staleness, pod_staleness, proxy_version, summarize};
use super::selector::{FastMap, SelectorIndex};
use super::snapshot::Snapshot;
use super::types::{Job, Pod, PodSpec, Workload};
use super::view::*;
use crate::labels::Labels;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// (namespace, name, kind): the row order of the view.
type RowKey<'a> = (&'a str, &'a str, &'a str);

enum Source<'a> {
    Workload(&'a Workload),
    Job(&'a Job),
    /// No owning object in the snapshot: the first pod stands in for the template.
    Pods,
}

struct Template<'a> {
    labels: &'a Labels,
    annotations: &'a Labels,
    spec: &'a PodSpec,
}

/// Which row a pod belongs to: Deployment via its ReplicaSet (or the pod-template-hash
/// naming convention when the ReplicaSet is not in the snapshot), other controllers directly,
/// bare and static (Node-owned) pods as themselves.
fn owner_of<'a>(
    pod: &'a Pod,
    rs_owner: &FastMap<(&'a str, &'a str), Option<(&'a str, &'a str)>>,
) -> (&'a str, &'a str) {
    let m = &pod.metadata;
    let Some(ctrl) = m.controller() else { return ("Pod", m.name.as_str()) };
    match ctrl.kind.as_str() {
        "Node" | "" => ("Pod", m.name.as_str()),
        "ReplicaSet" => match rs_owner.get(&(m.namespace.as_str(), ctrl.name.as_str())) {
            Some(Some(owner)) => *owner,
            Some(None) => ("ReplicaSet", ctrl.name.as_str()),
            None => match m.labels.get("pod-template-hash").and_then(|h| ctrl.name.strip_suffix(h.as_str())) {
                Some(prefix) if prefix.ends_with('-') && prefix.len() > 1 => {
                    ("Deployment", &prefix[..prefix.len() - 1])
                }
                _ => ("ReplicaSet", ctrl.name.as_str()),
            },
        },
        kind => (kind, ctrl.name.as_str()),
    }
}

fn is_gateway(t: &Template) -> bool {
    t.spec.containers.iter().any(|c| c.name == PROXY_CONTAINER)
        || t.labels.contains_key("gateway.networking.k8s.io/gateway-name")
        || t.labels.get("istio").is_some_and(|v| v.contains("gateway"))
}

/// §3.1: labelled for ambient, and not excluded (hostNetwork, sidecar, kube-system).
fn is_ambient(ns: &str, ns_labels: &Labels, t: &Template, has_sidecar: bool) -> bool {
    const MODE: &str = "istio.io/dataplane-mode";
    let pod_mode = t.labels.get(MODE).map(String::as_str);
    let enrolled = pod_mode == Some("ambient")
        || (ns_labels.get(MODE).map(String::as_str) == Some("ambient") && pod_mode != Some("none"));
    enrolled && !t.spec.host_network && !has_sidecar && ns != "kube-system"
}

fn scope_for(inj: &Injectors, revision: Option<&str>) -> RevScope {
    RevScope { revision: revision.map(String::from), tags: revision.map(|r| inj.tags_of(r)).unwrap_or_default() }
}

/// Adds `n` under `key`, allocating the key only the first time.
fn count(map: &mut BTreeMap<String, usize>, key: &str, n: usize) {
    match map.get_mut(key) {
        Some(c) => *c += n,
        None => {
            map.insert(key.to_string(), n);
        }
    }
}

fn format_time(now: SystemTime) -> String {
    OffsetDateTime::from(now).format(&Rfc3339).unwrap_or_default()
}

/// Derives the whole view. `context` is left empty for the caller.
pub fn derive(snap: &Snapshot, now: SystemTime) -> MeshView {
    let inj = Injectors::new(snap);
    let cp = ControlPlane::new(snap, &inj);
    let root = snap.root_namespace();
    let pas = PeerAuthIndex::new(snap, &root);
    let aps = AuthzIndex::new(snap, &root);

    let mut services: FastMap<&str, SelectorIndex<&str>> = FastMap::default();
    for svc in snap.services.values() {
        if let Some(sel) = svc.spec.selector.as_ref().filter(|s| !s.is_empty()) {
            services.entry(svc.metadata.namespace.as_str()).or_default().add(Some(sel), svc.metadata.name.as_str());
        }
    }

    let rs_owner: FastMap<(&str, &str), Option<(&str, &str)>> = snap
        .replica_sets
        .values()
        .map(|rs| {
            let owner = rs.metadata.controller().map(|o| (o.kind.as_str(), o.name.as_str()));
            ((rs.metadata.namespace.as_str(), rs.metadata.name.as_str()), owner)
        })
        .collect();
    // Pods are ordered by (namespace, name), so the pods of one controller are mostly
    // adjacent: extend the current run while the direct controller repeats.
    let mut groups: FastMap<RowKey, Vec<&Pod>> = FastMap::default();
    let mut run: Option<(&str, (&str, &str), RowKey)> = None;
    let mut current: Vec<&Pod> = Vec::new();
    for pod in snap.pods.values() {
        let ns = pod.metadata.namespace.as_str();
        let direct = pod.metadata.controller().map(|o| (o.kind.as_str(), o.name.as_str()));
        if let (Some((run_ns, run_owner, _)), Some(d)) = (run, direct)
            && run_ns == ns
            && run_owner == d
            && !matches!(d.0, "Node" | "")
        {
            current.push(pod);
            continue;
        }
        if let Some((_, _, key)) = run.take() {
            groups.entry(key).or_default().append(&mut current);
        }
        let (kind, name) = owner_of(pod, &rs_owner);
        current.push(pod);
        run = Some((ns, direct.unwrap_or(("", "")), (ns, name, kind)));
    }
    if let Some((_, _, key)) = run {
        groups.entry(key).or_default().append(&mut current);
    }

    // Hash to merge, then sort once: cheaper than ordered inserts with string compares.
    let mut merged: FastMap<RowKey, Source> = FastMap::default();
    for w in snap.workloads.values() {
        merged.insert((&w.metadata.namespace, &w.metadata.name, w.kind.as_str()), Source::Workload(w));
    }
    for j in snap.jobs.values() {
        merged.insert((&j.metadata.namespace, &j.metadata.name, "Job"), Source::Job(j));
    }
    for key in groups.keys() {
        merged.entry(*key).or_insert(Source::Pods);
    }
    let mut sources: Vec<(RowKey, Source)> = merged.into_iter().collect();
    sources.sort_unstable_by(|a, b| a.0.cmp(&b.0));

    let mut ns_names: BTreeSet<&str> = snap.namespaces.keys().map(String::as_str).collect();
    ns_names.extend(sources.iter().map(|(k, _)| k.0));
    let ns_labels_of: FastMap<&str, Labels> = ns_names.iter().map(|ns| (*ns, snap.namespace_labels(ns))).collect();

    let mut view = MeshView { generated_at: format_time(now), root_namespace: root.clone(), ..Default::default() };
    let mut ns_counts: FastMap<&str, (usize, usize, usize)> = FastMap::default();
    let mut rev_proxies: BTreeMap<String, usize> = BTreeMap::new();
    let no_pods: Vec<&Pod> = Vec::new();

    for (key @ (ns, name, kind), source) in &sources {
        let pods = groups.get(key).unwrap_or(&no_pods);
        let t = match source {
            Source::Workload(w) => Template {
                labels: &w.template.metadata.labels,
                annotations: &w.template.metadata.annotations,
                spec: &w.template.spec,
            },
            Source::Job(j) => Template {
                labels: &j.spec.template.metadata.labels,
                annotations: &j.spec.template.metadata.annotations,
                spec: &j.spec.template.spec,
            },
            Source::Pods => match pods.first() {
                Some(p) => Template { labels: &p.metadata.labels, annotations: &p.metadata.annotations, spec: &p.spec },
                None => continue,
            },
        };
        let Some(ns_labels) = ns_labels_of.get(ns) else { continue };
        let facts =
            PodFacts { namespace: ns, labels: t.labels, annotations: t.annotations, host_network: t.spec.host_network };
        let decision: Decision = decide(&inj, ns_labels, &facts);
        let desired = decision.desired();
        let opted = opted_out(ns_labels, &facts);

        let (mut with_proxy, mut ready) = (0, 0);
        let mut revisions: BTreeMap<String, usize> = BTreeMap::new();
        let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
        // Pods of one workload mostly share revision and image: judge each distinct proxy once.
        let mut judged: Vec<(&ProxyInfo, StaleList, usize)> = Vec::new();
        let mut live = 0;
        for pod in pods {
            let info = &pod.mesh.proxy;
            if pod.mesh.ready {
                ready += 1;
            }
            if info.has_proxy {
                with_proxy += 1;
                let version = proxy_version(info, &cp).unwrap_or("unknown");
                *versions.entry(version).or_default() += 1;
                if let Some(r) = info.revision.as_deref() {
                    count(&mut revisions, r, 1);
                }
            }
            if !pod.mesh.finished {
                live += 1;
                match judged.iter_mut().find(|(seen, _, _)| *seen == info) {
                    Some(entry) => entry.2 += 1,
                    None => judged.push((info, pod_staleness(info, &desired, opted, &cp), 1)),
                }
            }
        }
        for (v, n) in &versions {
            count(&mut view.control_plane.proxies, v, *n);
        }
        for (r, n) in &revisions {
            count(&mut rev_proxies, r, *n);
        }
        let groups_judged: Vec<(StaleList, usize)> = judged.into_iter().map(|(_, s, n)| (s, n)).collect();
        let stale_kinds: BTreeSet<Staleness> =
            groups_judged.iter().flat_map(|(s, _)| s.iter().map(|(k, _)| *k)).collect();
        let stale_reason = summarize(&groups_judged, live);

        // Config scoping follows the proxies that run now; without any, the injecting revision.
        let main_rev = revisions.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(r, _)| r.clone());
        let scope = scope_for(&inj, main_rev.as_deref().or(decision.revision.as_deref()));
        let ambient = is_ambient(ns, ns_labels, &t, with_proxy > 0 || decision.inject);
        let mut mtls = pas.workload_mode(ns, t.labels, &scope);
        if ambient {
            // ztunnel ignores DISABLE; it behaves as PERMISSIVE.
            let fix = |m: MtlsMode| if m == MtlsMode::Disable { MtlsMode::Permissive } else { m };
            mtls.mode = fix(mtls.mode);
            mtls.ports.values_mut().for_each(|m| *m = fix(*m));
        }
        let authz = aps.workload(ns, t.labels, &scope);
        let mut svc_names: Vec<String> = services
            .get(ns)
            .map(|idx| idx.selected_by(t.labels).into_iter().map(String::from).collect())
            .unwrap_or_default();
        svc_names.sort();

        let gateway = is_gateway(&t);
        if gateway {
            view.control_plane.gateways.push(GatewayRow {
                namespace: ns.to_string(),
                kind: kind.to_string(),
                name: name.to_string(),
                pods: pods.len(),
                proxy_revisions: revisions.keys().cloned().collect(),
                proxy_versions: versions.keys().map(|v| v.to_string()).collect(),
            });
        }
        let c = ns_counts.entry(ns).or_default();
        c.0 += 1;
        c.1 += pods.len();
        c.2 += with_proxy;

        view.workloads.push(WorkloadRow {
            namespace: ns.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            service_account: t
                .spec
                .service_account_name
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
                .to_string(),
            injection: WorkloadInjectionView {
                expected: decision.inject,
                revision: decision.revision.clone(),
                reason: decision.reason.clone(),
                conflict: decision.conflict,
            },
            pods: pods.len(),
            ready_pods: ready,
            pods_with_proxy: with_proxy,
            proxy_revisions: revisions.keys().cloned().collect(),
            proxy_versions: versions.keys().map(|v| v.to_string()).collect(),
            stale: stale_reason.is_some(),
            stale_reason,
            stale_kinds: stale_kinds.iter().map(|k| k.as_str()).collect(),
            mtls: WorkloadMtlsView { mode: mtls.mode, source: mtls.source, ports: mtls.ports },
            authorization_policies: authz
                .policies
                .iter()
                .map(|p| PolicyRef {
                    name: p.name.clone(),
                    action: p.action.clone(),
                    effect: p.effect.as_str(),
                    dry_run: p.dry_run,
                })
                .collect(),
            authorization: authz.verdict,
            authorization_notes: authz.notes,
            services: svc_names,
            ambient,
            gateway,
        });
    }

    for ns in &ns_names {
        let Some(labels) = ns_labels_of.get(ns) else { continue };
        let ni = namespace_injection(&inj, ns, labels);
        let mtls = pas.namespace_mode(ns, &scope_for(&inj, ni.revision.as_deref()));
        let (workloads, pods, pods_with_proxy) = ns_counts.get(ns).copied().unwrap_or_default();
        view.namespaces.push(NamespaceRow {
            name: ns.to_string(),
            injection: NamespaceInjectionView { mode: ni.mode, revision: ni.revision, reason: ni.reason },
            mtls: MtlsView { mode: mtls.mode, source: mtls.source },
            workloads,
            pods,
            pods_with_proxy,
            ambient: labels.get("istio.io/dataplane-mode").map(String::as_str) == Some("ambient"),
        });
    }

    view.control_plane.revisions = cp
        .revisions
        .values()
        .map(|r| RevisionRow {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            version: r.version.clone(),
            ready_replicas: r.ready_replicas,
            replicas: r.replicas,
            tags: r.tags.clone(),
            expected_proxy_image: r.expected_proxy_image.clone(),
            proxies: rev_proxies.get(&r.name).copied().unwrap_or(0),
        })
        .collect();
    view.control_plane.tags = inj.tags.clone();
    view.warnings = snap.warnings.clone();
    view.warnings.extend(control_plane_warnings(snap, &inj, &cp));
    view
}

/// Webhooks pointing at a missing Service (IST0139) and tags pointing at a revision without istiod.
fn control_plane_warnings(snap: &Snapshot, inj: &Injectors, cp: &ControlPlane) -> Vec<String> {
    let mut out = Vec::new();
    for w in &inj.webhooks {
        if let Some((ns, name)) = w.service
            && !snap.services.contains_key(&(ns.to_string(), name.to_string()))
        {
            out.push(format!(
                "webhook {}/{} points at Service {ns}/{name}, which does not exist: matching pods cannot be created (IST0139)",
                w.config, w.webhook
            ));
        }
    }
    for (tag, rev) in &inj.tags {
        if !cp.exists(rev) {
            out.push(format!("tag {tag} points at revision {rev}, which has no istiod"));
        }
    }
    out
}
