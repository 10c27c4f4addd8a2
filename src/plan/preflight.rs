//! Preflight: what a plan will do to the mesh, judged by deriving the mesh view before and
//! after the dry-run results (workloads whose effective mTLS or injection changes, callers a
//! STRICT mode cuts off, what an ALLOW policy shuts out). Pure: `now` is passed in.

use super::model::{Expanded, Finding, ObjRef, Op, Severity};
use crate::labels::Labels;
use crate::mesh::selector::subset;
use crate::mesh::snapshot::in_namespace;
use crate::mesh::{MtlsMode, Snapshot, WorkloadRow, derive};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Namespaces whose pods are not application callers.
const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

fn finding(severity: Severity, action: Option<usize>, message: String) -> Finding {
    Finding { severity, action, message }
}

/// The snapshot as it will be: the dry-run results put in (`None` removes the object), and
/// for a policy or route whose dry-run gave nothing, the body the plan sends.
fn after_snapshot(snapshot: &Snapshot, expanded: &Expanded, results: &[(ObjRef, Option<Value>)]) -> Snapshot {
    let mut snap = snapshot.clone();
    for (r, v) in results {
        match v {
            Some(v) => {
                let _ = snap.insert(v.clone());
            }
            None => {
                snap.remove(&r.kind, &r.namespace, &r.name);
            }
        }
    }
    for c in &expanded.changes {
        let whole = matches!(c.target.kind.as_str(), "PeerAuthentication" | "AuthorizationPolicy" | "VirtualService");
        if let (true, Op::Apply { body }) = (whole, &c.op)
            && !results.iter().any(|(r, _)| *r == c.target)
        {
            let _ = snap.insert(body.clone());
        }
    }
    snap
}

type RowKey<'a> = (&'a str, &'a str, &'a str);

fn key(r: &WorkloadRow) -> RowKey<'_> {
    (r.namespace.as_str(), r.kind.as_str(), r.name.as_str())
}

fn mode_str(m: Option<MtlsMode>) -> &'static str {
    m.map_or("unknown", MtlsMode::as_str)
}

/// Workloads that roll during the plan, as `Kind ns/name`.
fn rolled(expanded: &Expanded) -> BTreeSet<&str> {
    expanded.restarts.iter().filter(|r| r.cannot_roll.is_none()).map(|r| r.workload.as_str()).collect()
}

/// Pods of a row that will run without a sidecar once the plan's restarts are done.
fn plain_pods(row: &WorkloadRow, rolls: &BTreeSet<&str>) -> usize {
    if rolls.contains(format!("{} {}/{}", row.kind, row.namespace, row.name).as_str()) {
        if row.injection.expected == Some(true) { 0 } else { row.pods.unwrap_or(0) }
    } else {
        row.pods.unwrap_or(0).saturating_sub(row.pods_with_proxy.unwrap_or(0))
    }
}

fn is_control_plane(row: &WorkloadRow, root: &str) -> bool {
    row.namespace == root && row.name.starts_with("istiod")
}

/// Findings for the plan whose expansion is `expanded` and whose dry-run gave `results`.
pub fn preflight(
    snapshot: &Snapshot,
    expanded: &Expanded,
    results: &[(ObjRef, Option<Value>)],
    now: &str,
) -> Vec<Finding> {
    let t: SystemTime = OffsetDateTime::parse(now, &Rfc3339).map(SystemTime::from).unwrap_or(SystemTime::UNIX_EPOCH);
    let after_snap = after_snapshot(snapshot, expanded, results);
    let before = derive(snapshot, t);
    let after = derive(&after_snap, t);
    let before_rows: BTreeMap<RowKey, &WorkloadRow> = before.workloads.iter().map(|r| (key(r), r)).collect();
    let rolls = rolled(expanded);
    let mut out = Vec::new();

    let mut newly_strict: BTreeMap<&str, Vec<&WorkloadRow>> = BTreeMap::new();
    for row in &after.workloads {
        let Some(old) = before_rows.get(&key(row)) else { continue };
        let id = format!("{}/{}", row.namespace, row.name);
        if old.mtls.mode != row.mtls.mode {
            let source = row.mtls.source.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
            out.push(finding(
                Severity::Info,
                None,
                format!("{id}: mTLS {} → {}{source}", mode_str(old.mtls.mode), mode_str(row.mtls.mode)),
            ));
            let serves_mtls = plain_pods(row, &rolls) < row.pods.unwrap_or(0) || row.pods_with_proxy.unwrap_or(0) > 0;
            if row.mtls.mode == Some(MtlsMode::Strict) && serves_mtls {
                newly_strict.entry(row.namespace.as_str()).or_default().push(row);
            }
        }
        let (was, is) = (&old.injection, &row.injection);
        if was.expected != is.expected || (is.expected == Some(true) && was.revision != is.revision) {
            let msg = match (is.expected, is.revision.as_deref()) {
                (Some(true), Some(r)) => format!("{id}: new pods get a sidecar of revision {r}"),
                (Some(true), None) => format!("{id}: new pods get a sidecar"),
                (Some(false), _) => format!("{id}: new pods get no sidecar ({})", is.reason),
                (None, _) => format!("{id}: whether new pods get a sidecar is {}", is.reason),
            };
            out.push(finding(Severity::Info, None, msg));
        }
    }

    // The snapshot's own root (istio-system when no mesh config can be read): a hidden
    // ConfigMap must not make istiod look like a workload STRICT would cut off.
    let root = after_snap.root_namespace();
    for (ns, servers) in &newly_strict {
        let mut pods = 0;
        let (mut other, mut same) = (Vec::new(), Vec::new());
        for row in &after.workloads {
            if SYSTEM_NAMESPACES.contains(&row.namespace.as_str())
                || is_control_plane(row, &root)
                || servers.iter().any(|s| key(s) == key(row))
            {
                continue;
            }
            let n = plain_pods(row, &rolls);
            if n == 0 {
                continue;
            }
            pods += n;
            let line =
                format!("{}/{} ({}, {n} pod{})", row.namespace, row.name, row.kind, if n == 1 { "" } else { "s" });
            if row.namespace == *ns { same.push(line) } else { other.push(line) }
        }
        if pods == 0 {
            continue;
        }
        let names: Vec<String> = servers.iter().map(|s| format!("{}/{}", s.namespace, s.name)).collect();
        let mut parts = Vec::new();
        if !other.is_empty() {
            parts.push(format!("in other namespaces: {}", other.join(", ")));
        }
        if !same.is_empty() {
            parts.push(format!("in {ns}: {}", same.join(", ")));
        }
        out.push(finding(
            Severity::Warning,
            None,
            format!(
                "STRICT mTLS on {} refuses plaintext: {pods} pod{} without a sidecar could call {} and would be cut off — {}",
                names.join(", "),
                if pods == 1 { "" } else { "s" },
                if servers.len() == 1 { "it" } else { "them" },
                parts.join("; ")
            ),
        ));
    }

    out.extend(allow_findings(&after_snap, expanded, results));
    out
}

/// Parses `<td>/ns/<ns>/sa/<sa>`.
fn principal_sa(p: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = p.split('/').collect();
    match parts.as_slice() {
        [_, "ns", ns, "sa", sa] => Some((ns, sa)),
        _ => None,
    }
}

fn matches_pattern(pattern: &str, value: &str) -> bool {
    pattern == "*"
        || pattern == value
        || pattern.strip_suffix('*').is_some_and(|p| value.starts_with(p))
        || pattern.strip_prefix('*').is_some_and(|s| value.ends_with(s))
}

fn strings<'a>(v: &'a Value, field: &str) -> Vec<&'a str> {
    v.get(field).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Does some rule let a caller with this principal and namespace in (whatever its `to`)?
fn allows(rules: &[Value], principal: &str, ns: &str) -> bool {
    rules.iter().any(|rule| {
        let Some(from) = rule.get("from").and_then(Value::as_array).filter(|f| !f.is_empty()) else {
            return true;
        };
        from.iter().any(|f| {
            let src = f.get("source").cloned().unwrap_or(Value::Null);
            let (ps, nss) = (strings(&src, "principals"), strings(&src, "namespaces"));
            (ps.is_empty() || ps.iter().any(|p| matches_pattern(p, principal)))
                && (nss.is_empty() || nss.iter().any(|n| matches_pattern(n, ns)))
        })
    })
}

/// Resolves a VirtualService destination host to (namespace, service).
fn service_of_host<'a>(host: &'a str, vs_ns: &'a str) -> (&'a str, &'a str) {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => (vs_ns, name),
        [name, ns, ..] => (ns, name),
        [] => (vs_ns, host),
    }
}

fn allow_findings(snap: &Snapshot, expanded: &Expanded, results: &[(ObjRef, Option<Value>)]) -> Vec<Finding> {
    let mut out = Vec::new();
    let td = super::expand::trust_domain(snap);
    for c in expanded.changes.iter().filter(|c| c.target.kind == "AuthorizationPolicy") {
        let Op::Apply { body } = &c.op else { continue };
        let policy = results.iter().find(|(r, _)| *r == c.target).and_then(|(_, v)| v.as_ref()).unwrap_or(body);
        let spec = policy.get("spec").cloned().unwrap_or(Value::Null);
        if spec.get("action").and_then(Value::as_str).unwrap_or("ALLOW") != "ALLOW" {
            continue;
        }
        let name = c.target.display();
        let rules: Vec<Value> = spec.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
        out.push(finding(
            Severity::Info,
            Some(c.action),
            format!("{name}: the workloads it selects deny every caller it does not list"),
        ));
        for rule in &rules {
            for f in rule.get("from").and_then(Value::as_array).into_iter().flatten() {
                for p in strings(&f["source"], "principals") {
                    let known = match principal_sa(p) {
                        Some((ns, sa)) if !p.contains('*') => {
                            snap.service_accounts.contains_key(&(ns.into(), sa.into()))
                        }
                        _ => true,
                    };
                    if !known {
                        out.push(finding(
                            Severity::Warning,
                            Some(c.action),
                            format!("{name}: principal {p} matches no service account"),
                        ));
                    }
                }
            }
        }
        let selector: Labels = spec
            .pointer("/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
            .unwrap_or_default();
        let ns = c.target.namespace.as_str();
        let selected: Vec<&Labels> = snap
            .workloads
            .values()
            .filter(|w| w.metadata.namespace == ns && subset(&selector, &w.template.metadata.labels))
            .map(|w| &*w.template.metadata.labels)
            .collect();
        // Services of the namespace that reach the selected pods.
        let services: BTreeSet<&str> = in_namespace(&snap.services, ns)
            .filter(|s| {
                s.spec.selector.as_ref().is_some_and(|sel| !sel.is_empty() && selected.iter().any(|l| subset(sel, l)))
            })
            .map(|s| s.metadata.name.as_str())
            .collect();
        let mut reported = BTreeSet::new();
        for vs in snap.virtual_services.values() {
            let vs_ns = vs.metadata.namespace.as_str();
            let reaches = vs.spec.http.iter().flat_map(|h| &h.route).filter_map(|r| r.destination.as_ref()).any(|d| {
                let (sns, sname) = service_of_host(&d.host, vs_ns);
                sns == ns && services.contains(sname)
            });
            if !reaches {
                continue;
            }
            for g in vs.spec.gateways.iter().filter(|g| *g != "mesh") {
                let (gns, gname) = g.split_once('/').unwrap_or((vs_ns, g.as_str()));
                let Some(gw) = snap.gateways.get(&(gns.to_string(), gname.to_string())) else { continue };
                if gw.spec.selector.is_empty() {
                    continue;
                }
                for w in snap.workloads.values().filter(|w| subset(&gw.spec.selector, &w.template.metadata.labels)) {
                    let sa =
                        w.template.spec.service_account_name.as_deref().filter(|s| !s.is_empty()).unwrap_or("default");
                    let principal = format!("{td}/ns/{}/sa/{sa}", w.metadata.namespace);
                    if allows(&rules, &principal, &w.metadata.namespace) || !reported.insert(principal.clone()) {
                        continue;
                    }
                    out.push(finding(
                        Severity::Warning,
                        Some(c.action),
                        format!(
                            "{name} does not allow gateway {}/{} (principal {principal}), which VirtualService {vs_ns}/{} routes here through {gns}/{gname}: its requests will be denied",
                            w.metadata.namespace, w.metadata.name, vs.metadata.name
                        ),
                    ));
                }
            }
        }
    }
    out
}
