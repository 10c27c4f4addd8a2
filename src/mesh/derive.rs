//! `derive`: snapshot in, `MeshView` out. Everything is looked up through indices built in
//! one pass each (pods grouped by owner, policies and Services by namespace and selector),
//! never by scanning all pods per workload. A fact that a kind the caller may not read decides
//! comes out unknown with its reason (`partial`), never from that kind's empty map. Pure: the
//! clock is a parameter.

use super::authz::AuthzIndex;
use super::hidden::Input;
use super::injection::{Decision, Injectors, PodFacts, decide};
use super::mtls::{MtlsMode, PeerAuthIndex, RevScope};
use super::overview::{control_plane, namespace_row, warnings};
use super::partial::{Partial, all_of, any_of, injection_view, note, stale_view};
use super::proxy::{PROXY_CONTAINER, ProxyInfo};
use super::revision::{ControlPlane, PodStaleness, pod_staleness, proxy_version};
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
/// `ns_labels` is `None` when namespaces are hidden, `has_sidecar` when it cannot be told.
fn is_ambient(ns: &str, ns_labels: Option<&Labels>, t: &Template, has_sidecar: Option<bool>) -> Option<bool> {
    const MODE: &str = "istio.io/dataplane-mode";
    let enrolled = match (t.labels.get(MODE).map(String::as_str), ns_labels) {
        (Some("ambient"), _) => Some(true),
        (Some("none"), _) => Some(false),
        (_, Some(l)) => Some(l.get(MODE).map(String::as_str) == Some("ambient")),
        (_, None) => None,
    };
    all_of(&[enrolled, Some(!t.spec.host_network), has_sidecar.map(|s| !s), Some(ns != "kube-system")])
}

pub(crate) fn scope_for(inj: &Injectors, revision: Option<&str>) -> RevScope {
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

    let partial = Partial::new(snap);
    let pods_known = !partial.hidden.contains(Input::Pod);
    let ns_known = !partial.hidden.contains(Input::Namespace);
    let mut proxies: BTreeMap<String, usize> = BTreeMap::new();
    let mut view = MeshView { generated_at: format_time(now), ..Default::default() };
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
        let inj_hidden = partial.injection(&facts, !decision.matches.is_empty());
        let desired = inj_hidden.is_empty().then(|| decision.desired());
        let opted = partial.opted_out(ns_labels, &facts);
        let mut unknown = Unknown::new();

        let (mut with_proxy, mut ready) = (0, 0);
        let mut revisions: BTreeMap<String, usize> = BTreeMap::new();
        let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
        // Pods of one workload mostly share revision and image: judge each distinct proxy once.
        let mut judged: Vec<(&ProxyInfo, PodStaleness, usize)> = Vec::new();
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
                    None => judged.push((info, pod_staleness(info, desired.as_ref(), opted, &cp), 1)),
                }
            }
        }
        for (v, n) in &versions {
            count(&mut proxies, v, *n);
        }
        for (r, n) in &revisions {
            count(&mut rev_proxies, r, *n);
        }
        let stale = stale_view(&partial, judged.into_iter().map(|(_, s, n)| (s, n)).collect(), live, &inj_hidden);
        if let (None, Some(r)) = (stale.stale, &stale.reason) {
            unknown.insert("stale", r.clone());
        }

        // Config scoping follows the proxies that run now; without any, the injecting revision.
        let main_rev = revisions.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(r, _)| r.clone());
        let scope = scope_for(&inj, main_rev.as_deref().or(decision.revision.as_deref()));
        let has_sidecar = any_of(&[pods_known.then_some(with_proxy > 0), desired.is_some().then_some(decision.inject)]);
        let ambient = is_ambient(ns, ns_known.then_some(ns_labels), &t, has_sidecar);
        let mut ambient_hidden = Vec::new();
        if ambient.is_none() {
            ambient_hidden =
                [if ns_known { None } else { Some(Input::Namespace) }, (!pods_known).then_some(Input::Pod)]
                    .into_iter()
                    .flatten()
                    .chain(inj_hidden.iter().copied())
                    .collect();
            note(&mut unknown, &partial, "ambient", &ambient_hidden);
        }
        let mut mtls = pas.workload_mode(ns, t.labels, &scope);
        let mut mtls_hidden = partial.mtls(ns, true);
        let disabled = mtls.mode == MtlsMode::Disable || mtls.ports.values().any(|m| *m == MtlsMode::Disable);
        if ambient == Some(true) {
            // ztunnel ignores DISABLE; it behaves as PERMISSIVE.
            let fix = |m: MtlsMode| if m == MtlsMode::Disable { MtlsMode::Permissive } else { m };
            mtls.mode = fix(mtls.mode);
            mtls.ports.values_mut().for_each(|m| *m = fix(*m));
        } else if ambient.is_none() && disabled {
            mtls_hidden.extend(ambient_hidden);
        }
        let mtls = match note(&mut unknown, &partial, "mtls", &mtls_hidden) {
            true => WorkloadMtlsView { mode: None, source: None, ports: BTreeMap::new() },
            false => WorkloadMtlsView { mode: Some(mtls.mode), source: mtls.source, ports: mtls.ports },
        };
        let authz = match note(&mut unknown, &partial, "authorization", &partial.authorization(ns)) {
            true => None,
            false => Some(aps.workload(ns, t.labels, &scope)),
        };
        let services = match note(&mut unknown, &partial, "services", &[Input::Service]) {
            true => None,
            false => {
                let mut names: Vec<String> = services
                    .get(ns)
                    .map(|idx| idx.selected_by(t.labels).into_iter().map(String::from).collect())
                    .unwrap_or_default();
                names.sort();
                Some(names)
            }
        };
        note(&mut unknown, &partial, "pods", &[Input::Pod]);
        let injection = injection_view(&partial, &facts, &decision, &inj_hidden, &mut unknown);

        let known = |n: usize| pods_known.then_some(n);
        let proxy_revisions = pods_known.then(|| revisions.keys().cloned().collect::<Vec<_>>());
        let proxy_versions = pods_known.then(|| versions.keys().map(|v| v.to_string()).collect::<Vec<_>>());
        let gateway = is_gateway(&t);
        if gateway {
            view.control_plane.gateways.push(GatewayRow {
                namespace: ns.to_string(),
                kind: kind.to_string(),
                name: name.to_string(),
                pods: known(pods.len()),
                proxy_revisions: proxy_revisions.clone(),
                proxy_versions: proxy_versions.clone(),
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
            injection,
            pods: known(pods.len()),
            ready_pods: known(ready),
            pods_with_proxy: known(with_proxy),
            proxy_revisions,
            proxy_versions,
            stale: stale.stale,
            stale_reason: stale.reason,
            stale_kinds: stale.kinds,
            stale_unknown: stale.unknown,
            mtls,
            authorization_policies: authz.as_ref().map(|a| {
                a.policies
                    .iter()
                    .map(|p| PolicyRef {
                        name: p.name.clone(),
                        action: p.action.clone(),
                        effect: p.effect.as_str(),
                        dry_run: p.dry_run,
                    })
                    .collect()
            }),
            authorization: authz.as_ref().map(|a| a.verdict),
            authorization_notes: authz.map(|a| a.notes).unwrap_or_default(),
            services,
            ambient,
            gateway,
            unknown,
        });
    }

    for ns in &ns_names {
        let Some(labels) = ns_labels_of.get(ns) else { continue };
        let counts = ns_counts.get(ns).copied().unwrap_or_default();
        view.namespaces.push(namespace_row(ns, labels, &inj, &pas, &partial, counts));
    }
    let gateways = std::mem::take(&mut view.control_plane.gateways);
    view.control_plane = control_plane(&inj, &cp, &partial, &rev_proxies, proxies, gateways);
    view.root_namespace = (!partial.hidden.contains(Input::ConfigMap)).then_some(root);
    view.forbidden = partial.hidden.iter().map(|i| i.resource().to_string()).collect();
    view.warnings = warnings(snap, &inj, &cp);
    view
}
