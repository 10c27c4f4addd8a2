//! istiod's webhook rules for the networking kinds (VirtualService, Gateway, DestinationRule,
//! ServiceEntry), from `pkg/config/validation/validation.go` and `virtualservice.go`
//! (istio/istio).

use super::*;
use serde_json::Value;

/// `validateGatewayNames`: `NAMESPACE/NAME`, a name, or `mesh`.
fn gateway_names(names: &[&str], errs: &mut Errs) {
    for g in names {
        match g.split_once('/') {
            None => {
                if let Err(e) = dns_labels(g).and_then(|()| {
                    if g.len() > 255 { Err(format!("domain name {g:?} too long (max 255)")) } else { Ok(()) }
                }) {
                    errs.push(e);
                }
                return;
            }
            Some((ns, name)) => {
                if ns.is_empty() || name.is_empty() {
                    errs.push("config namespace and gateway name cannot be empty");
                }
                if !dns_label(ns) {
                    errs.push(format!("invalid value for namespace: {ns:?}"));
                }
                if !dns_label(name) {
                    errs.push(format!("invalid value for gateway name: {name:?}"));
                }
            }
        }
    }
}

fn destination(d: Option<&Value>, errs: &mut Errs) {
    let Some(d) = d.filter(|d| !d.is_null()) else { return };
    let host = d.get("host").and_then(Value::as_str).unwrap_or_default();
    if host == "*" {
        errs.push(format!("invalid destination host {host}"));
    } else if let Err(e) = wildcard_domain(host) {
        errs.push(e);
    }
    if let Some(s) = d.get("subset").and_then(Value::as_str).filter(|s| !s.is_empty())
        && !dns_label(s)
    {
        errs.push(format!("subset name is invalid: {s}"));
    }
    if let Some(p) = d.get("port").filter(|p| !p.is_null())
        && let Err(e) = port_ok(p.get("number").and_then(Value::as_i64).unwrap_or(0))
    {
        errs.push(e);
    }
}

/// `validateHTTPRouteDestinations` / `validateRouteDestinations`: weights not negative, not all
/// zero when there are several.
fn route_destinations(routes: &[Value], errs: &mut Errs) {
    let mut total = 0;
    for r in routes {
        if r.get("destination").is_none_or(Value::is_null) {
            errs.push("destination is required");
            errs.listed = true;
        }
        destination(r.get("destination"), errs);
        let w = r.get("weight").and_then(Value::as_i64).unwrap_or(0);
        if w < 0 {
            errs.push(format!("weight {w} < 0"));
        }
        total += w;
    }
    if routes.len() > 1 && total == 0 {
        errs.push("total destination weight = 0");
    }
}

fn http_route(r: &Value, delegate: bool, errs: &mut Errs) {
    let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
    let routes = r.get("route").and_then(Value::as_array);
    let has = |k: &str| r.get(k).is_some_and(|v| !v.is_null());
    if !delegate && has("delegate") {
        if has("redirect") {
            errs.push(format!("root HTTP route {name} must not specify redirect"));
        }
        if r.get("route").is_some_and(|v| !v.is_null()) {
            errs.push(format!("root HTTP route {name} must not specify route"));
        }
    } else {
        if delegate && has("delegate") {
            errs.push("delegate HTTP route cannot contain delegate");
        }
        let routed = routes.is_some_and(|a| !a.is_empty());
        if has("redirect") {
            if routed {
                errs.push("HTTP route cannot contain both route and redirect");
            }
            if has("directResponse") {
                errs.push("HTTP route rule cannot contain both direct_response and redirect");
            }
        } else if has("directResponse") {
            if routed {
                errs.push("HTTP route cannot contain both route and direct_response");
            }
        } else if !routed {
            errs.push("HTTP route, redirect or direct_response is required");
        }
    }
    for m in r.get("match").and_then(Value::as_array).into_iter().flatten() {
        if let Some(p) = m.get("port").and_then(Value::as_i64).filter(|p| *p != 0)
            && let Err(e) = port_ok(p)
        {
            errs.push(e);
        }
        tags(m.get("sourceLabels"), errs);
        gateway_names(&strings(m, "gateways"), errs);
    }
    destination(r.get("mirror"), errs);
    route_destinations(routes.map_or(&[][..], Vec::as_slice), errs);
}

/// `ValidateVirtualService`.
pub(super) fn virtual_service(spec: &Value, namespace: &str, errs: &mut Errs) {
    let hosts = strings(spec, "hosts");
    let gateways = strings(spec, "gateways");
    let nonempty = |k: &str| spec.get(k).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let delegate = hosts.is_empty();
    if delegate {
        if !gateways.is_empty() {
            errs.push("delegate virtual service must have no gateways specified");
        }
        if nonempty("tls") {
            errs.push("delegate virtual service must have no tls route specified");
        }
        if nonempty("tcp") {
            errs.push("delegate virtual service must have no tcp route specified");
        }
    }
    // It is bound to gateways when it names some and not `mesh`; otherwise to the mesh.
    let to_gateway = !gateways.is_empty() && !gateways.contains(&"mesh");
    let mesh = !to_gateway;
    if !gateways.is_empty() {
        gateway_names(&gateways, errs);
    }
    let mut all_valid = true;
    for h in &hosts {
        match wildcard_domain(h) {
            Err(e) if !is_ip(h) => {
                errs.push(e);
                all_valid = false;
            }
            Ok(()) if mesh && *h == "*" => {
                errs.push("wildcard host * is not allowed for virtual services bound to the mesh gateway");
                all_valid = false;
            }
            _ => {}
        }
    }
    if all_valid {
        for (i, a) in hosts.iter().enumerate() {
            for b in &hosts[i + 1..] {
                if a == b {
                    errs.push(format!("duplicate hosts in virtual service: {a} & {b}"));
                }
            }
        }
    }
    if !nonempty("http") && !nonempty("tcp") && !nonempty("tls") {
        errs.push("http, tcp or tls must be provided in virtual service");
    }
    for r in spec.get("http").and_then(Value::as_array).into_iter().flatten() {
        if r.is_null() {
            errs.push("http route may not be null");
            continue;
        }
        http_route(r, delegate, errs);
    }
    for r in spec.get("tls").and_then(Value::as_array).into_iter().flatten() {
        if r.get("match").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            errs.push("TLS route must have at least one match condition");
        }
        let routes = r.get("route").and_then(Value::as_array);
        if routes.is_none_or(Vec::is_empty) {
            errs.push("TLS route is required");
        }
        route_destinations(routes.map_or(&[][..], Vec::as_slice), errs);
    }
    for r in spec.get("tcp").and_then(Value::as_array).into_iter().flatten() {
        for m in r.get("match").and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = m.get("port").and_then(Value::as_i64).filter(|p| *p != 0)
                && let Err(e) = port_ok(p)
            {
                errs.push(e);
            }
            tags(m.get("sourceLabels"), errs);
            gateway_names(&strings(m, "gateways"), errs);
        }
        let routes = r.get("route").and_then(Value::as_array);
        if routes.is_none_or(Vec::is_empty) {
            errs.push("TCP route is required");
        }
        route_destinations(routes.map_or(&[][..], Vec::as_slice), errs);
    }
    export_to(namespace, spec, errs);
}

/// `validateServer`'s host check: `NAMESPACE/HOST` (or a bare host), hosts fully qualified.
fn gateway_host(h: &str, errs: &mut Errs) {
    let host = match h.split_once('/') {
        None => h,
        Some((ns, host)) => {
            if ns.is_empty() || host.is_empty() {
                errs.push("config namespace and dnsName in host entry cannot be empty");
            }
            if ns != "*" && ns != "." && !dns_label(ns) {
                errs.push(format!("invalid namespace value {ns:?} in gateway"));
            }
            host
        }
    };
    if host != "*" && !host.contains('.') {
        errs.push("short names (non FQDN) are not allowed");
    }
    if let Err(e) = wildcard_domain(host)
        && !is_ip(host)
    {
        errs.push(e);
    }
    if host.contains('*') && host.len() != 1 && !host.starts_with("*.") {
        errs.push(format!("partial wildcard {host:?} not allowed"));
    }
}

const PROTOCOLS: [&str; 12] =
    ["HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB", "TCP", "TLS", "MONGO", "REDIS", "MYSQL", "UDP", "HTTP_PROXY"];

/// `ValidateGateway` and `validateServer`.
pub(super) fn gateway(spec: &Value, name: &str, errs: &mut Errs) {
    if !dns_label(name) {
        errs.push(format!("invalid gateway name: {name:?}"));
    }
    let servers = spec.get("servers").and_then(Value::as_array);
    if servers.is_none_or(Vec::is_empty) {
        errs.push("gateway must have at least one server");
    }
    let mut port_names: Vec<&str> = Vec::new();
    for s in servers.into_iter().flatten() {
        let hosts = strings(s, "hosts");
        if hosts.is_empty() {
            errs.push("server config must contain at least one host");
        }
        for h in hosts {
            gateway_host(h, errs);
        }
        let Some(port) = s.get("port").filter(|p| !p.is_null()) else {
            errs.push("port is required");
            continue;
        };
        let proto = port.get("protocol").and_then(Value::as_str).unwrap_or_default();
        let known = PROTOCOLS.iter().any(|p| p.eq_ignore_ascii_case(proto));
        if !known {
            errs.push(format!("invalid protocol {proto:?}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"));
        }
        if let Err(e) = port_ok(port.get("number").and_then(Value::as_i64).unwrap_or(0)) {
            errs.push(e);
        }
        if port.get("targetPort").and_then(Value::as_i64).is_some_and(|t| t > 0) {
            errs.push("targetPort has no impact on Gateways");
        }
        let pname = port.get("name").and_then(Value::as_str).unwrap_or_default();
        if port_names.contains(&pname) {
            errs.push(format!("port names in servers must be unique: duplicate name {pname}"));
        }
        port_names.push(pname);
        if pname.is_empty() {
            errs.push(format!(
                "port name must be set: number:{} protocol:{proto:?}",
                port.get("number").unwrap_or(&Value::Null)
            ));
        }
        let tls_proto = proto.eq_ignore_ascii_case("HTTPS") || proto.eq_ignore_ascii_case("TLS");
        let http_proto =
            ["HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY"].iter().any(|p| p.eq_ignore_ascii_case(proto));
        let tls = s.get("tls").filter(|t| !t.is_null());
        if known && tls_proto && tls.is_none() {
            errs.push("server must have TLS settings for HTTPS/TLS protocols");
        }
        if let Some(t) = tls.filter(|_| known && !tls_proto) {
            // `IsPassThroughServer`: an unset mode is PASSTHROUGH, so `httpsRedirect` alone passes.
            let passthrough = matches!(
                t.get("mode").and_then(Value::as_str).unwrap_or("PASSTHROUGH"),
                "PASSTHROUGH" | "AUTO_PASSTHROUGH"
            );
            let material = ["caCertificates", "privateKey", "serverCertificate"]
                .iter()
                .any(|k| t.get(*k).and_then(Value::as_str).is_some_and(|v| !v.is_empty()));
            if !http_proto {
                errs.push("server cannot have TLS settings for non HTTPS/TLS ports");
            } else if !passthrough || material {
                errs.push("server cannot have TLS settings for plain text HTTP ports");
            }
        }
        if let Some(t) = tls
            && t.get("mode").and_then(Value::as_str) == Some("ISTIO_MUTUAL")
            && t.get("credentialName").and_then(Value::as_str).is_some_and(|c| !c.is_empty())
        {
            errs.push("ISTIO_MUTUAL TLS cannot have associated credentialName");
        }
    }
}

/// `ValidateDestinationRule`.
pub(super) fn destination_rule(spec: &Value, namespace: &str, errs: &mut Errs) {
    if let Err(e) = wildcard_domain(spec.get("host").and_then(Value::as_str).unwrap_or_default()) {
        errs.push(e);
    }
    let mut names: Vec<&str> = Vec::new();
    for s in spec.get("subsets").and_then(Value::as_array).into_iter().flatten() {
        let n = s.get("name").and_then(Value::as_str).unwrap_or_default();
        if names.contains(&n) {
            errs.push(format!("duplicate subset names: {n}"));
        }
        names.push(n);
        if n.is_empty() {
            errs.push("subset name cannot be empty");
        } else if !dns_label(n) {
            errs.push(format!("subset name is invalid: {n}"));
        }
        tags(s.get("labels"), errs);
    }
    export_to(namespace, spec, errs);
    workload_selector(spec.get("workloadSelector"), errs);
}

/// `ValidateServiceEntry`, its host and port checks.
pub(super) fn service_entry(spec: &Value, errs: &mut Errs) {
    for h in strings(spec, "hosts") {
        if h == "*" {
            errs.push("invalid host *");
        } else if let Err(e) = wildcard_domain(h) {
            errs.push(e);
        }
    }
    for p in spec.get("ports").and_then(Value::as_array).into_iter().flatten() {
        if let Err(e) = port_ok(p.get("number").and_then(Value::as_i64).unwrap_or(0)) {
            errs.push(e);
        }
    }
}
