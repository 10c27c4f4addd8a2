//! Istio's validating webhook (`validation.istio.io`, served by istiod), for the kinds the
//! simulated cluster serves: the checks of `pkg/config/validation/validation.go` and
//! `virtualservice.go` (istio/istio) that a well-typed object can still fail, worded as istiod
//! words them. It runs after the CRD schema accepted the object.

use serde_json::Value;

mod networking;
mod security;

/// Error text as hashicorp/go-multierror prints it: one error bare unless it was collected as a
/// list, several as a numbered list.
#[derive(Default)]
pub(super) struct Errs {
    pub(super) list: Vec<String>,
    /// Collected through `multierror.Append` even when alone.
    pub(super) listed: bool,
}

impl Errs {
    pub(super) fn push(&mut self, e: impl Into<String>) {
        self.list.push(e.into());
    }

    pub(super) fn text(&self) -> Option<String> {
        match self.list.len() {
            0 => None,
            1 if !self.listed => Some(self.list[0].clone()),
            1 => Some(format!("1 error occurred:\n\t* {}\n\n", self.list[0])),
            n => Some(format!("{n} errors occurred:\n\t* {}\n\n", self.list.join("\n\t* "))),
        }
    }
}

/// `labels.IsDNS1123Label` of Istio's own: upper case is allowed.
pub(super) fn dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

pub(super) fn wildcard_label(s: &str) -> bool {
    s == "*"
        || s.strip_prefix("*-").or_else(|| s.strip_prefix('*')).map_or(dns_label(s), |r| r.is_empty() || dns_label(r))
}

/// `ValidateDNS1123Labels` (pkg/config/validation/agent).
pub(super) fn dns_labels(domain: &str) -> Result<(), String> {
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
pub(super) fn wildcard_domain(domain: &str) -> Result<(), String> {
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

pub(super) fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

pub(super) fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.get(key).and_then(Value::as_array).map_or(vec![], |a| a.iter().filter_map(Value::as_str).collect())
}

pub(super) fn port_ok(n: i64) -> Result<(), String> {
    if (1..=65535).contains(&n) { Ok(()) } else { Err(format!("port number {n} must be in the range 1..65535")) }
}

/// `labels.Instance.Validate` (pkg/config/labels): tag keys and values; always collected as a
/// list.
pub(super) fn tags(m: Option<&Value>, errs: &mut Errs) {
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
pub(super) fn export_to(namespace: &str, spec: &Value, errs: &mut Errs) {
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
pub(super) fn workload_selector(sel: Option<&Value>, errs: &mut Errs) {
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
pub(super) fn selector_or_targets(spec: &Value, errs: &mut Errs) {
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
        "peerauthentications" => security::peer_authentication(spec, &mut errs),
        "authorizationpolicies" => security::authorization_policy(spec, name, namespace, &mut errs),
        "requestauthentications" => security::request_authentication(spec, &mut errs),
        "virtualservices" => networking::virtual_service(spec, namespace, &mut errs),
        "gateways" => networking::gateway(spec, name, &mut errs),
        "destinationrules" => networking::destination_rule(spec, namespace, &mut errs),
        "serviceentries" => networking::service_entry(spec, &mut errs),
        _ => {}
    }
    errs.text()
}
