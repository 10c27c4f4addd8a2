//! inject, uninject and revision: the injection labels of a namespace (`istio-injection` or
//! `istio.io/rev`, never both) or of a workload's pod template (ISTIO.md §1, §9.4).

use super::restart::{restart_namespace, restart_workload};
use super::{Builder, namespace_ref, workload_ref};
use crate::mesh::injection::{Injectors, PodFacts, decide};
use crate::plan::json::{label_path, nest, test_and_remove};
use crate::plan::model::Severity;
use crate::plan::target::Target;
use serde_json::{Value, json};

pub const NS_INJECTION: &str = "istio-injection";
pub const REV: &str = "istio.io/rev";
pub const POD_INJECT: &str = "sidecar.istio.io/inject";

/// A revision or tag must own an injector webhook, else nothing would inject.
fn check_revision(b: &Builder, r: &str) -> Result<(), String> {
    let inj = Injectors::new(b.snap);
    if inj.known_names.contains(r) || inj.tags.contains_key(r) {
        return Ok(());
    }
    let mut known: Vec<&str> = inj.known_names.iter().chain(inj.tags.keys()).map(String::as_str).collect();
    known.sort();
    known.dedup();
    if known.is_empty() {
        Err(format!("revision {r} is not known: no injector webhook exists"))
    } else {
        Err(format!("revision or tag {r} is not known; known: {}", known.join(", ")))
    }
}

fn set_ns_label(b: &mut Builder, ns: &str, key: &str, value: &str, why: &str) {
    let target = namespace_ref(ns);
    b.drop_removals(&target, &label_path(key));
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {key: value}}});
    b.apply(target, body, why);
}

/// Takes a label away: out of the staged body if an earlier action put it there, and by a
/// tested JSON patch if the live namespace has it (another manager may own it).
fn remove_ns_label(b: &mut Builder, ns: &str, key: &str, why: &str) {
    let target = namespace_ref(ns);
    if let Some(labels) =
        b.apply_body(&target).and_then(|v| v.pointer_mut("/metadata/labels")).and_then(Value::as_object_mut)
    {
        labels.remove(key);
    }
    let live = b.snap.namespaces.get(ns).and_then(|n| n.metadata.labels.get(key)).cloned();
    if let Some(v) = live {
        b.patch(target, test_and_remove(&label_path(key), &json!(v)), why);
    }
}

fn namespace_outcome(b: &mut Builder, ns: &str, restarted_at: Option<&str>, gain: bool) {
    match restarted_at {
        Some(at) => restart_namespace(b, ns, at),
        None => {
            let msg = if gain {
                format!(
                    "running pods in {ns} get a sidecar only when restarted; stage a restart of ns/{ns} or its workloads"
                )
            } else {
                format!(
                    "running pods in {ns} keep their sidecar until restarted; stage a restart of ns/{ns} or its workloads"
                )
            };
            b.finding(Severity::Info, msg);
        }
    }
}

/// Warns when no webhook would inject a plain pod of the namespace as the plan leaves it.
fn check_namespace_injects(b: &mut Builder, ns: &str) {
    let labels = b.ns_labels(ns);
    let inj = Injectors::new(b.snap);
    let empty = Default::default();
    let facts = PodFacts { namespace: ns, labels: &empty, annotations: &empty, host_network: false };
    let d = decide(&inj, &labels, &facts);
    if !d.inject {
        b.finding(Severity::Warning, format!("pods created in {ns} would still get no sidecar: {}", d.reason));
    }
}

pub fn inject(
    b: &mut Builder,
    target: &Target,
    revision: Option<&str>,
    restarted_at: Option<&str>,
) -> Result<(), String> {
    if let Some(r) = revision {
        check_revision(b, r)?;
    }
    match target {
        Target::Mesh => Err("inject takes a namespace or a workload, not the whole mesh".into()),
        Target::Namespace(ns) => {
            b.namespace_exists(ns)?;
            match revision {
                Some(r) => {
                    set_ns_label(b, ns, REV, r, "opt in to injection");
                    remove_ns_label(b, ns, NS_INJECTION, "istio-injection would override istio.io/rev");
                }
                None => {
                    set_ns_label(b, ns, NS_INJECTION, "enabled", "opt in to injection");
                    remove_ns_label(b, ns, REV, "istio-injection and istio.io/rev never both");
                }
            }
            check_namespace_injects(b, ns);
            namespace_outcome(b, ns, restarted_at, true);
            Ok(())
        }
        Target::Workload { kind, namespace, name } => {
            let w = b.workload(*kind, namespace, name)?;
            let ns_labels = b.ns_labels(namespace);
            if let Some(v) = ns_labels.get(NS_INJECTION).filter(|v| *v != "enabled") {
                b.finding(
                    Severity::Error,
                    format!(
                        "namespace {namespace} has {NS_INJECTION}={v}: no injector webhook selects its pods, so the pod label cannot opt {name} in (ISTIO.md §1.3); set the namespace label to enabled or remove it"
                    ),
                );
            }
            let mut labels = json!({POD_INJECT: "true"});
            if let Some(r) = revision {
                labels[REV] = json!(r);
            }
            let body =
                workload_body(*kind, namespace, name, &["spec", "template", "metadata", "labels"], labels.clone());
            b.apply(workload_ref(*kind, namespace, name), body, "opt in to injection");
            restart_workload(b, w, restarted_at);
            if ns_labels.get(NS_INJECTION).is_none_or(|v| v == "enabled") {
                let mut pod_labels: crate::labels::Labels = (*w.template.metadata.labels).clone();
                for (k, v) in labels.as_object().into_iter().flatten() {
                    pod_labels.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
                let inj = Injectors::new(b.snap);
                let facts = PodFacts {
                    namespace,
                    labels: &pod_labels,
                    annotations: &w.template.metadata.annotations,
                    host_network: w.template.spec.host_network,
                };
                let d = decide(&inj, &ns_labels, &facts);
                let wanted = revision.map(|r| inj.tags.get(r).map(String::as_str).unwrap_or(r));
                if !d.inject {
                    b.finding(Severity::Warning, format!("{target} would still get no sidecar: {}", d.reason));
                } else if let (Some(want), Some(got)) = (wanted, d.revision.as_deref())
                    && want != got
                {
                    b.finding(
                        Severity::Warning,
                        format!("{target} would be injected by revision {got}, not {want}: {}", d.reason),
                    );
                }
            }
            Ok(())
        }
    }
}

pub fn uninject(b: &mut Builder, target: &Target, restarted_at: Option<&str>) -> Result<(), String> {
    match target {
        Target::Mesh => Err("uninject takes a namespace or a workload, not the whole mesh".into()),
        Target::Namespace(ns) => {
            b.namespace_exists(ns)?;
            let before = b.ns_labels(ns);
            if !before.contains_key(NS_INJECTION) && !before.contains_key(REV) {
                b.finding(
                    Severity::Info,
                    format!("namespace {ns} has neither {NS_INJECTION} nor {REV}: nothing to remove"),
                );
            }
            remove_ns_label(b, ns, NS_INJECTION, "opt out of injection");
            remove_ns_label(b, ns, REV, "opt out of injection");
            namespace_outcome(b, ns, restarted_at, false);
            Ok(())
        }
        Target::Workload { kind, namespace, name } => {
            let w = b.workload(*kind, namespace, name)?;
            let body = workload_body(
                *kind,
                namespace,
                name,
                &["spec", "template", "metadata", "labels"],
                json!({POD_INJECT: "false"}),
            );
            b.apply(workload_ref(*kind, namespace, name), body, "opt out of injection");
            restart_workload(b, w, restarted_at);
            Ok(())
        }
    }
}

pub fn revision(b: &mut Builder, target: &Target, to: &str, restarted_at: Option<&str>) -> Result<(), String> {
    let Target::Namespace(ns) = target else {
        return Err(format!("revision takes a namespace (ns/NS), not {target}"));
    };
    b.namespace_exists(ns)?;
    check_revision(b, to)?;
    set_ns_label(b, ns, REV, to, "move to revision");
    remove_ns_label(b, ns, NS_INJECTION, "istio-injection would override istio.io/rev");
    check_namespace_injects(b, ns);
    namespace_outcome(b, ns, restarted_at, true);
    Ok(())
}

/// `{apiVersion: apps/v1, kind, metadata{name, namespace}, <path>: value}`.
pub fn workload_body(
    kind: crate::mesh::types::WorkloadKind,
    ns: &str,
    name: &str,
    path: &[&str],
    value: Value,
) -> Value {
    let mut body = json!({"apiVersion": "apps/v1", "kind": kind.as_str(), "metadata": {"name": name, "namespace": ns}});
    crate::plan::json::merge(&mut body, &nest(path, value));
    body
}
