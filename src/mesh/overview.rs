//! The namespace rows and the control-plane part of the view, from what the pass over the
//! workloads counted, and the view's warnings. Pure; a fact a hidden kind decides is left
//! unknown with its reason, as `partial` rules.

use super::derive::scope_for;
use super::hidden::Input;
use super::injection::{Injectors, PodFacts, namespace_injection};
use super::mtls::PeerAuthIndex;
use super::partial::{Partial, note};
use super::revision::ControlPlane;
use super::snapshot::Snapshot;
use super::view::*;
use crate::labels::Labels;
use std::collections::BTreeMap;

/// One namespace: its own labels, what a pod without injection labels gets there, its
/// namespace-wide mTLS, and `counts` (workloads, pods, pods with a proxy) of its rows.
pub(crate) fn namespace_row(
    ns: &str,
    labels: &Labels,
    inj: &Injectors,
    pas: &PeerAuthIndex,
    partial: &Partial,
    counts: (usize, usize, usize),
) -> NamespaceRow {
    let ns_known = !partial.hidden.contains(Input::Namespace);
    let pods_known = !partial.hidden.contains(Input::Pod);
    let ni = namespace_injection(inj, ns, labels);
    let empty = Labels::new();
    let plain = PodFacts { namespace: ns, labels: &empty, annotations: &empty, host_network: false };
    let mut unknown = Unknown::new();
    note(&mut unknown, partial, "injection.mode", &[Input::Namespace]);
    let mode = ns_known.then_some(ni.mode);
    let injection = match note(&mut unknown, partial, "injection.expected", &partial.injection(&plain, ni.selected)) {
        true => NamespaceInjectionView {
            mode,
            expected: None,
            revision: None,
            reason: unknown["injection.expected"].clone(),
        },
        false => NamespaceInjectionView {
            mode,
            expected: Some(ni.inject),
            revision: ni.revision.clone(),
            reason: partial.certain_refusal(&plain).unwrap_or(ni.reason),
        },
    };
    let mtls = match note(&mut unknown, partial, "mtls", &partial.mtls(ns, false)) {
        true => MtlsView { mode: None, source: None },
        false => {
            let m = pas.namespace_mode(ns, &scope_for(inj, ni.revision.as_deref()));
            MtlsView { mode: Some(m.mode), source: m.source }
        }
    };
    note(&mut unknown, partial, "pods", &[Input::Pod]);
    note(&mut unknown, partial, "ambient", &[Input::Namespace]);
    let (workloads, pods, pods_with_proxy) = counts;
    NamespaceRow {
        name: ns.to_string(),
        injection,
        mtls,
        workloads,
        pods: pods_known.then_some(pods),
        pods_with_proxy: pods_known.then_some(pods_with_proxy),
        ambient: ns_known.then(|| labels.get("istio.io/dataplane-mode").map(String::as_str) == Some("ambient")),
        unknown,
    }
}

/// Revisions with their tags and proxy counts, tags, and proxies by version.
pub(crate) fn control_plane(
    inj: &Injectors,
    cp: &ControlPlane,
    partial: &Partial,
    rev_proxies: &BTreeMap<String, usize>,
    proxies: BTreeMap<String, usize>,
    gateways: Vec<GatewayRow>,
) -> ControlPlaneView {
    let tags_known = !partial.hidden.contains(Input::MutatingWebhookConfiguration);
    let pods_known = !partial.hidden.contains(Input::Pod);
    let revisions = cp
        .revisions
        .values()
        .map(|r| RevisionRow {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            version: r.version.clone(),
            ready_replicas: r.ready_replicas,
            replicas: r.replicas,
            tags: tags_known.then(|| r.tags.clone()),
            expected_proxy_image: r.expected_proxy_image.clone(),
            proxies: pods_known.then(|| rev_proxies.get(&r.name).copied().unwrap_or(0)),
        })
        .collect();
    let mut unknown = Unknown::new();
    for (key, input) in [
        ("rootNamespace", Input::ConfigMap),
        ("revisions", Input::Deployment),
        ("tags", Input::MutatingWebhookConfiguration),
        ("proxies", Input::Pod),
        ("expectedProxyImage", Input::ConfigMap),
    ] {
        note(&mut unknown, partial, key, &[input]);
    }
    ControlPlaneView {
        revisions,
        tags: tags_known.then(|| inj.tags.clone()),
        gateways,
        proxies: pods_known.then_some(proxies),
        unknown,
    }
}

/// The forbidden kinds and what each hides, then objects that could not be read, then
/// control-plane problems.
pub(crate) fn warnings(snap: &Snapshot, inj: &Injectors, cp: &ControlPlane) -> Vec<String> {
    let mut out = snap.hidden.warnings();
    out.extend(snap.warnings.iter().cloned());
    out.extend(control_plane_warnings(snap, inj, cp));
    out
}

/// Webhooks pointing at a missing Service (IST0139) and tags pointing at a revision without
/// istiod; neither is asserted while the Services or Deployments that would disprove it are hidden.
fn control_plane_warnings(snap: &Snapshot, inj: &Injectors, cp: &ControlPlane) -> Vec<String> {
    let mut out = Vec::new();
    let services_known = !snap.hidden.contains(Input::Service);
    for w in &inj.webhooks {
        if let Some((ns, name)) = w.service
            && services_known
            && !snap.services.contains_key(&(ns.to_string(), name.to_string()))
        {
            out.push(format!(
                "webhook {}/{} points at Service {ns}/{name}, which does not exist: matching pods cannot be created (IST0139)",
                w.config, w.webhook
            ));
        }
    }
    for (tag, rev) in &inj.tags {
        if !cp.exists(rev) && cp.absence_known() {
            out.push(format!("tag {tag} points at revision {rev}, which has no istiod"));
        }
    }
    out
}
