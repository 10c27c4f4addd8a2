//! mtls, allow and route: the Istio objects an action creates or updates — PeerAuthentication
//! (ISTIO.md §4), AuthorizationPolicy (§5), VirtualService bound to a Gateway (§6).

use super::Builder;
use crate::mesh::Snapshot;
use crate::mesh::snapshot::in_namespace;
use crate::plan::model::{MtlsMode, ObjRef, Severity};
use crate::plan::target::{Caller, ServiceRef, Target};
use serde_json::{Value, json};

pub const PA_API: &str = "security.istio.io/v1";
pub const VS_API: &str = "networking.istio.io/v1";

/// `meshConfig.trustDomain` of the mesh config `root_namespace` reads; `cluster.local` by default.
pub fn trust_domain(snap: &Snapshot) -> String {
    let mut cms: Vec<_> = snap.mesh_configs.values().collect();
    cms.sort_by_key(|m| (m.metadata.name != "istio", m.metadata.name.clone(), m.metadata.namespace.clone()));
    cms.first().and_then(|m| m.trust_domain.clone()).unwrap_or_else(|| "cluster.local".into())
}

/// The name of the selector-less PeerAuthentication in `ns` that wins (the oldest; ties by
/// name, ISTIO.md §4.2), or `default` when there is none.
fn scope_pa_name(snap: &Snapshot, ns: &str) -> String {
    in_namespace(&snap.peer_authentications, ns)
        .filter(|pa| pa.spec.selector.as_ref().is_none_or(|s| s.match_labels.is_empty()))
        .min_by_key(|pa| (pa.metadata.creation_timestamp.clone().unwrap_or_default(), pa.metadata.name.clone()))
        .map(|pa| pa.metadata.name.clone())
        .unwrap_or_else(|| "default".into())
}

pub fn mtls(b: &mut Builder, target: &Target, mode: MtlsMode) -> Result<(), String> {
    let (ns, name, selector) = match target {
        Target::Mesh => {
            let root = b.snap.root_namespace();
            b.namespace_exists(&root).map_err(|e| format!("the root namespace: {e}"))?;
            (root.clone(), scope_pa_name(b.snap, &root), None)
        }
        Target::Namespace(ns) => {
            b.namespace_exists(ns)?;
            (ns.clone(), scope_pa_name(b.snap, ns), None)
        }
        Target::Workload { kind, namespace, name } => {
            let w = b.workload(*kind, namespace, name)?;
            if w.selector.is_empty() {
                return Err(format!("{target} has no spec.selector.matchLabels to select its pods by"));
            }
            // A policy with exactly this selector already exists: update it rather than add a rival.
            let existing = in_namespace(&b.snap.peer_authentications, namespace)
                .filter(|pa| pa.spec.selector.as_ref().is_some_and(|s| s.match_labels == w.selector))
                .min_by_key(|pa| (pa.metadata.creation_timestamp.clone().unwrap_or_default(), pa.metadata.name.clone()))
                .map(|pa| pa.metadata.name.clone());
            (namespace.clone(), existing.unwrap_or_else(|| name.clone()), Some(w.selector.clone()))
        }
    };
    let mut spec = json!({"mtls": {"mode": mode.as_str()}});
    if let Some(sel) = selector {
        spec = json!({"selector": {"matchLabels": sel}, "mtls": {"mode": mode.as_str()}});
    }
    let body = json!({
        "apiVersion": PA_API,
        "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    });
    b.apply(ObjRef::new(PA_API, "PeerAuthentication", &ns, &name), body, &format!("mTLS {}", mode.as_str()));
    Ok(())
}

/// One ALLOW rule. Service accounts and namespaces go in separate sources: fields inside one
/// source are AND'ed (ISTIO.md §5.4), and each caller should be let in on its own.
fn allow_rule(td: &str, from: &[Caller], methods: &[String], paths: &[String], ports: &[u16]) -> Value {
    let principals: Vec<String> = from.iter().filter_map(|c| c.principal(td)).collect();
    let namespaces: Vec<&str> = from
        .iter()
        .filter_map(|c| match c {
            Caller::Namespace(ns) => Some(ns.as_str()),
            Caller::ServiceAccount { .. } => None,
        })
        .collect();
    let mut sources = Vec::new();
    if !principals.is_empty() {
        sources.push(json!({"source": {"principals": principals}}));
    }
    if !namespaces.is_empty() {
        sources.push(json!({"source": {"namespaces": namespaces}}));
    }
    let mut rule = json!({"from": sources});
    let mut op = serde_json::Map::new();
    if !methods.is_empty() {
        op.insert("methods".into(), json!(methods));
    }
    if !paths.is_empty() {
        op.insert("paths".into(), json!(paths));
    }
    if !ports.is_empty() {
        op.insert("ports".into(), json!(ports.iter().map(u16::to_string).collect::<Vec<_>>()));
    }
    if !op.is_empty() {
        rule["to"] = json!([{"operation": op}]);
    }
    rule
}

pub fn allow(
    b: &mut Builder,
    target: &Target,
    from: &[Caller],
    methods: &[String],
    paths: &[String],
    ports: &[u16],
) -> Result<(), String> {
    let Target::Workload { kind, namespace, name } = target else {
        return Err(format!("allow takes a workload (deploy/NS/NAME, sts/NS/NAME or ds/NS/NAME), not {target}"));
    };
    if from.is_empty() {
        return Err("allow needs at least one caller (sa/NS/NAME or ns/NS)".into());
    }
    let w = b.workload(*kind, namespace, name)?;
    if w.selector.is_empty() {
        return Err(format!("{target} has no spec.selector.matchLabels to select its pods by"));
    }
    for c in from {
        match c {
            Caller::ServiceAccount { namespace: ns, name: sa } => {
                if !b.snap.service_accounts.contains_key(&(ns.clone(), sa.clone())) {
                    b.finding(
                        Severity::Warning,
                        format!("service account {ns}/{sa} does not exist: the rule lets in nobody until it does"),
                    );
                }
            }
            Caller::Namespace(ns) => {
                if !b.snap.namespaces.contains_key(ns) {
                    b.finding(
                        Severity::Warning,
                        format!("namespace {ns} does not exist: the rule lets in nobody from it"),
                    );
                }
            }
        }
    }
    let rule = allow_rule(&trust_domain(b.snap), from, methods, paths, ports);
    let policy = format!("{name}-allow");
    let target_ref = ObjRef::new(PA_API, "AuthorizationPolicy", namespace, &policy);
    // Several allow actions on one workload add rules to one policy: lists are replaced by a
    // merge, so append here.
    if let Some(rules) =
        b.apply_body(&target_ref).and_then(|v| v.pointer_mut("/spec/rules")).and_then(Value::as_array_mut)
    {
        if !rules.contains(&rule) {
            rules.push(rule);
        }
        return Ok(());
    }
    let body = json!({
        "apiVersion": PA_API,
        "kind": "AuthorizationPolicy",
        "metadata": {"name": policy, "namespace": namespace},
        "spec": {"selector": {"matchLabels": w.selector}, "action": "ALLOW", "rules": [rule]},
    });
    b.apply(target_ref, body, "allow callers");
    Ok(())
}

/// Does a Gateway server host (`[ns/]dnsName`) admit `host` from a VirtualService in `vs_ns`?
fn server_admits(server_host: &str, host: &str, vs_ns: &str, gw_ns: &str) -> bool {
    let (ns_part, dns) = match server_host.split_once('/') {
        Some((n, d)) => (n, d),
        None => ("*", server_host),
    };
    let ns_ok = ns_part == "*" || ns_part == vs_ns || (ns_part == "." && vs_ns == gw_ns);
    let dns_ok = dns == "*" || dns == host || dns.strip_prefix('*').is_some_and(|suffix| host.ends_with(suffix));
    ns_ok && dns_ok
}

pub fn route(
    b: &mut Builder,
    svc: &ServiceRef,
    hosts: &[String],
    gateway: &str,
    export_to: &[String],
) -> Result<(), String> {
    if hosts.is_empty() {
        return Err("route needs at least one host".into());
    }
    b.namespace_exists(&svc.namespace)?;
    let service = b
        .snap
        .services
        .get(&(svc.namespace.clone(), svc.name.clone()))
        .ok_or_else(|| format!("service {}/{} does not exist", svc.namespace, svc.name))?;
    let Some((gw_ns, gw_name)) = gateway.split_once('/').filter(|(n, g)| !n.is_empty() && !g.is_empty()) else {
        return Err(format!("gateway `{gateway}`: expected NS/NAME"));
    };
    let gw = b
        .snap
        .gateways
        .get(&(gw_ns.to_string(), gw_name.to_string()))
        .ok_or_else(|| format!("gateway {gw_ns}/{gw_name} does not exist"))?;
    let ports: Vec<i64> = service.spec.ports.iter().filter_map(|p| p.port).collect();
    let Some(&port) = ports.first() else {
        return Err(format!("service {}/{} has no ports", svc.namespace, svc.name));
    };
    if ports.len() > 1 {
        b.finding(
            Severity::Warning,
            format!(
                "service {}/{} has {} ports: routing to the first, {port}; edit the VirtualService to pick another",
                svc.namespace,
                svc.name,
                ports.len()
            ),
        );
    }
    for h in hosts {
        let admitted =
            gw.spec.servers.iter().flat_map(|s| &s.hosts).any(|sh| server_admits(sh, h, &svc.namespace, gw_ns));
        if !admitted {
            b.finding(
                Severity::Warning,
                format!("gateway {gw_ns}/{gw_name} lists no server host matching {h}: the gateway will not route it (IST0132)"),
            );
        }
    }
    if !export_to.is_empty() {
        // Visibility is checked against the namespace of the gateway's pods (ISTIO.md §6.1).
        let pod_namespaces: Vec<&str> = b
            .snap
            .workloads
            .values()
            .filter(|w| {
                !gw.spec.selector.is_empty()
                    && crate::mesh::selector::subset(&gw.spec.selector, &w.template.metadata.labels)
            })
            .map(|w| w.metadata.namespace.as_str())
            .collect();
        let visible = |ns: &str| export_to.iter().any(|e| e == "*" || e == ns || (e == "." && ns == svc.namespace));
        if !pod_namespaces.is_empty() && !pod_namespaces.iter().any(|ns| visible(ns)) {
            b.finding(
                Severity::Warning,
                format!(
                    "exportTo {} hides the VirtualService from the gateway's pods in {}",
                    export_to.join(","),
                    pod_namespaces.join(",")
                ),
            );
        }
    }
    let mut spec = json!({
        "hosts": hosts,
        "gateways": [format!("{gw_ns}/{gw_name}")],
    });
    if !export_to.is_empty() {
        spec["exportTo"] = json!(export_to);
    }
    spec["http"] = json!([{"route": [{"destination": {
        "host": format!("{}.{}.svc.cluster.local", svc.name, svc.namespace),
        "port": {"number": port},
    }}]}]);
    let body = json!({
        "apiVersion": VS_API,
        "kind": "VirtualService",
        "metadata": {"name": svc.name, "namespace": svc.namespace},
        "spec": spec,
    });
    b.apply(ObjRef::new(VS_API, "VirtualService", &svc.namespace, &svc.name), body, "route through the gateway");
    Ok(())
}
