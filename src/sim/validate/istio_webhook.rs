//! Istio's validating webhook (`validation.istio.io`, served by istiod), for the kinds the
//! simulated cluster serves: the checks of `pkg/config/validation/validation.go` and
//! `virtualservice.go` (istio/istio) that a well-typed object can still fail, worded as istiod
//! words them. It runs after the CRD schema accepted the object.

use serde_json::Value;

/// Error text as hashicorp/go-multierror prints it: one error bare unless it was collected as a
/// list, several as a numbered list.
#[derive(Default)]
struct Errs {
    list: Vec<String>,
    /// Collected through `multierror.Append` even when alone.
    listed: bool,
}

impl Errs {
    fn push(&mut self, e: impl Into<String>) {
        self.list.push(e.into());
    }

    fn text(&self) -> Option<String> {
        match self.list.len() {
            0 => None,
            1 if !self.listed => Some(self.list[0].clone()),
            1 => Some(format!("1 error occurred:\n\t* {}\n\n", self.list[0])),
            n => Some(format!("{n} errors occurred:\n\t* {}\n\n", self.list.join("\n\t* "))),
        }
    }
}

/// `labels.IsDNS1123Label` of Istio's own: upper case is allowed.
fn dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

fn wildcard_label(s: &str) -> bool {
    s == "*"
        || s.strip_prefix("*-").or_else(|| s.strip_prefix('*')).map_or(dns_label(s), |r| r.is_empty() || dns_label(r))
}

/// `ValidateDNS1123Labels` (pkg/config/validation/agent).
fn dns_labels(domain: &str) -> Result<(), String> {
    let parts: Vec<&str> = domain.split('.').collect();
    let tld = parts[parts.len() - 1];
    if tld.parse::<i64>().is_ok() {
        return Err(format!("domain name {domain:?} invalid (top level domain {tld:?} cannot be all-numeric)"));
    }
    for (i, l) in parts.iter().enumerate() {
        if i == parts.len() - 1 && l.is_empty() {
            return Ok(());
        }
        if !dns_label(l) {
            return Err(format!("domain name {domain:?} invalid (label {l:?} invalid)"));
        }
    }
    Ok(())
}

/// `ValidateWildcardDomain` (pkg/config/validation/agent): a wildcard only as the first label.
fn wildcard_domain(domain: &str) -> Result<(), String> {
    if domain.len() > 255 {
        return Err(format!("domain name {domain:?} too long (max 255)"));
    }
    if domain.is_empty() {
        return Err("empty domain name not allowed".into());
    }
    let (first, rest) = match domain.split_once('.') {
        Some((f, r)) => (f, Some(r)),
        None => (domain, None),
    };
    if !wildcard_label(first) {
        return Err(format!("domain name {domain:?} invalid (label {first:?} invalid)"));
    }
    rest.map_or(Ok(()), dns_labels)
}

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.get(key).and_then(Value::as_array).map_or(vec![], |a| a.iter().filter_map(Value::as_str).collect())
}

fn port_ok(n: i64) -> Result<(), String> {
    if (1..=65535).contains(&n) { Ok(()) } else { Err(format!("port number {n} must be in the range 1..65535")) }
}

/// `labels.Instance.Validate` (pkg/config/labels): tag keys and values; always collected as a
/// list.
fn tags(m: Option<&Value>, errs: &mut Errs) {
    for (k, v) in m.and_then(Value::as_object).into_iter().flatten() {
        let (prefix, name) = k.rsplit_once('/').map_or(("", k.as_str()), |(p, n)| (p, n));
        let name_ok = !name.is_empty()
            && name.len() <= 63
            && name.as_bytes()[0].is_ascii_alphanumeric()
            && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
            && name.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
        let prefix_ok = !k.contains('/') || (!prefix.is_empty() && prefix.split('.').all(dns_label));
        if !(name_ok && prefix_ok) {
            errs.push(format!("invalid tag key: {k:?}"));
            errs.listed = true;
        }
        let val = v.as_str().unwrap_or_default();
        let val_ok = val.is_empty()
            || (val.len() <= 63
                && val.as_bytes()[0].is_ascii_alphanumeric()
                && val.as_bytes()[val.len() - 1].is_ascii_alphanumeric()
                && val.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')));
        if !val_ok {
            errs.push(format!("invalid tag value: {val:?}"));
            errs.listed = true;
        }
    }
}

/// `validateExportTo`: `.`, `*` or namespace names, no duplicates, `*` alone.
fn export_to(namespace: &str, spec: &Value, errs: &mut Errs) {
    let entries = strings(spec, "exportTo");
    let mut seen: Vec<&str> = Vec::new();
    for e in &entries {
        let key = if *e == "." { namespace } else { e };
        if seen.contains(&key) {
            if key != *e {
                errs.push(format!("duplicate entries in exportTo: . and current namespace {namespace}"));
            } else {
                errs.push(format!("duplicate entries in exportTo for entry {e}"));
            }
            continue;
        }
        match key {
            "*" => seen.push(key),
            "~" => errs.push("exportTo ~ (none) is not allowed for Istio configuration objects"),
            k if k == namespace || dns_label(k) => seen.push(key),
            _ => errs.push("only .,*, or a valid DNS 1123 label is allowed as exportTo entry"),
        }
    }
    if seen.contains(&"*") && entries.len() > 1 {
        errs.push("cannot have both public (*) and non-public exportTo values for a resource");
    }
}

/// `validateWorkloadSelector`: no empty keys, no wildcards (an empty selector is only a warning).
fn workload_selector(sel: Option<&Value>, errs: &mut Errs) {
    for (k, v) in sel.and_then(|s| s.get("matchLabels")).and_then(Value::as_object).into_iter().flatten() {
        let v = v.as_str().unwrap_or_default();
        if k.is_empty() {
            errs.push(format!("empty key is not supported in selector: {:?}", format!("{k}={v}")));
        }
        if k.contains('*') || v.contains('*') {
            errs.push(format!("wildcard is not supported in selector: {:?}", format!("{k}={v}")));
        }
    }
}

/// `validateOneOfSelectorType` and `validatePolicyTargetReference`.
fn selector_or_targets(spec: &Value, errs: &mut Errs) {
    let set = ["selector", "targetRef"].iter().filter(|k| spec.get(**k).is_some_and(|v| !v.is_null())).count()
        + usize::from(spec.get("targetRefs").and_then(Value::as_array).is_some_and(|a| !a.is_empty()));
    if set > 1 {
        errs.push("only one of targetRefs or workloadSelector can be set");
    }
    workload_selector(spec.get("selector"), errs);
    let refs =
        spec.get("targetRef").into_iter().chain(spec.get("targetRefs").and_then(Value::as_array).into_iter().flatten());
    for r in refs {
        if r.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
            errs.push("targetRef name must be set");
        }
        if r.get("namespace").and_then(Value::as_str).is_some_and(|n| !n.is_empty()) {
            errs.push("targetRef namespace must not be set; cross namespace referencing is not supported");
        }
        let group = r.get("group").and_then(Value::as_str).unwrap_or_default();
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or_default();
        let allowed = matches!(
            (if group.is_empty() { "core" } else { group }, kind),
            ("core", "Service")
                | ("networking.istio.io", "ServiceEntry")
                | ("gateway.networking.k8s.io", "Gateway")
                | ("gateway.networking.k8s.io", "GatewayClass")
        );
        if !allowed {
            errs.push(format!(
                "targetRef must be to one of [core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1/Gateway gateway.networking.k8s.io/v1/GatewayClass] but was {group}/{kind}"
            ));
        }
    }
}

/// `ValidatePeerAuthentication`.
fn peer_authentication(spec: &Value, errs: &mut Errs) {
    let empty_selector = spec.pointer("/selector/matchLabels").and_then(Value::as_object).is_none_or(|m| m.is_empty());
    let plm = spec.get("portLevelMtls").and_then(Value::as_object);
    if empty_selector && plm.is_some_and(|m| !m.is_empty()) {
        errs.push("mesh/namespace peer authentication cannot have port level mTLS");
    }
    if plm.is_some_and(|m| m.is_empty()) {
        errs.push("port level mTLS, if defined, must have at least one element");
    }
    for k in plm.into_iter().flatten().map(|(k, _)| k) {
        if !k.parse::<i64>().is_ok_and(|p| (1..=65535).contains(&p)) {
            errs.push("port must be in range 1..65535");
        }
    }
    workload_selector(spec.get("selector"), errs);
}

/// `ValidateAuthorizationPolicy`; its errors carry the policy's name.
fn authorization_policy(spec: &Value, name: &str, namespace: &str, errs: &mut Errs) {
    let mut e = Errs::default();
    selector_or_targets(spec, &mut e);
    let action = spec.get("action").and_then(Value::as_str).unwrap_or("ALLOW");
    let rules = spec.get("rules").filter(|r| !r.is_null());
    let provider = spec.get("provider").filter(|p| !p.is_null());
    if action == "CUSTOM" {
        if rules.is_none() {
            e.push("CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request");
        } else if provider.and_then(|p| p.get("name")).and_then(Value::as_str).is_none_or(str::is_empty) {
            e.push("`provider.name` must not be empty");
        }
    }
    if provider.is_some() && action != "CUSTOM" {
        e.push(format!("`provider` must not be with non CUSTOM action, found {action}"));
    }
    if action == "DENY" && rules.is_none() {
        e.push("DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request");
    }
    for (i, rule) in rules.and_then(Value::as_array).into_iter().flatten().enumerate() {
        if rule.is_null() {
            e.push(format!("`rule` must not be nil, found at rule {i}"));
            continue;
        }
        if rule.get("from").and_then(Value::as_array).is_some_and(Vec::is_empty) {
            e.push(format!("`from` must not be empty, found at rule {i}"));
        }
        for from in rule.get("from").and_then(Value::as_array).into_iter().flatten() {
            match from.get("source").filter(|s| !s.is_null()) {
                None => e.push(format!("`from.source` must not be nil, found at rule {i}")),
                Some(src) => {
                    let filled = src
                        .as_object()
                        .is_some_and(|m| m.values().any(|v| v.as_array().is_some_and(|a| !a.is_empty())));
                    if !filled {
                        e.push(format!("`from.source` must not be empty, found at rule {i}"));
                    }
                    for (k, v) in src.as_object().into_iter().flatten() {
                        if v.as_array().is_some_and(|a| a.iter().any(|x| x.as_str() == Some(""))) {
                            e.push(format!("empty value not allowed, found in {}", capitalized(k)));
                        }
                    }
                }
            }
        }
        if rule.get("to").and_then(Value::as_array).is_some_and(Vec::is_empty) {
            e.push(format!("`to` must not be empty, found at rule {i}"));
        }
        for to in rule.get("to").and_then(Value::as_array).into_iter().flatten() {
            match to.get("operation").filter(|s| !s.is_null()) {
                None => e.push(format!("`to.operation` must not be nil, found at rule {i}")),
                Some(op) => {
                    let filled =
                        op.as_object().is_some_and(|m| m.values().any(|v| v.as_array().is_some_and(|a| !a.is_empty())));
                    if !filled {
                        e.push(format!("`to.operation` must not be empty, found at rule {i}"));
                    }
                }
            }
        }
        for when in rule.get("when").and_then(Value::as_array).into_iter().flatten() {
            let key = when.get("key").and_then(Value::as_str).unwrap_or_default();
            if key.is_empty() {
                e.push("`key` must not be empty");
            } else if strings(when, "values").is_empty() && strings(when, "notValues").is_empty() {
                e.push(format!("at least one of `values` or `notValues` must be set for key {key}"));
            }
        }
    }
    // multierror.Prefix names the policy on every error.
    let prefix = format!("invalid policy {name}.{namespace}:");
    errs.listed |= e.list.len() > 1 || e.listed;
    errs.list.extend(e.list.into_iter().map(|m| format!("{prefix} {m}")));
}

/// `security.CheckEmptyValues` names the field with its Go name.
fn capitalized(k: &str) -> String {
    let mut c = k.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// `ValidateRequestAuthentication` and `validateJwtRule`.
fn request_authentication(spec: &Value, errs: &mut Errs) {
    selector_or_targets(spec, errs);
    for rule in spec.get("jwtRules").and_then(Value::as_array).into_iter().flatten() {
        let issuer = rule.get("issuer").and_then(Value::as_str).unwrap_or_default();
        let uri = rule.get("jwksUri").and_then(Value::as_str).unwrap_or_default();
        if issuer.is_empty() && uri.is_empty() {
            errs.push("issuer or jwksUri must be non-empty string");
            errs.listed = true;
        }
        if strings(rule, "audiences").iter().any(|a| a.is_empty()) {
            errs.push("audience must be non-empty string");
            errs.listed = true;
        }
    }
}

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
fn virtual_service(spec: &Value, namespace: &str, errs: &mut Errs) {
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
fn gateway(spec: &Value, name: &str, errs: &mut Errs) {
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
fn destination_rule(spec: &Value, namespace: &str, errs: &mut Errs) {
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
fn service_entry(spec: &Value, errs: &mut Errs) {
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

/// What istiod's webhook says about an Istio object that passed the CRD schema, or `None`.
pub fn deny(plural: &str, obj: &Value) -> Option<String> {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let namespace = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let mut errs = Errs::default();
    // `validateMetadata`: only AuthorizationPolicy may carry the dry-run annotation.
    if plural != "authorizationpolicies" && obj.pointer("/metadata/annotations/istio.io~1dry-run").is_some() {
        errs.push(format!(
            "{namespace}/{name} has unsupported annotation istio.io/dry-run, please remove the annotation"
        ));
        return errs.text();
    }
    match plural {
        "peerauthentications" => peer_authentication(spec, &mut errs),
        "authorizationpolicies" => authorization_policy(spec, name, namespace, &mut errs),
        "requestauthentications" => request_authentication(spec, &mut errs),
        "virtualservices" => virtual_service(spec, namespace, &mut errs),
        "gateways" => gateway(spec, name, &mut errs),
        "destinationrules" => destination_rule(spec, namespace, &mut errs),
        "serviceentries" => service_entry(spec, &mut errs),
        _ => {}
    }
    errs.text()
}
