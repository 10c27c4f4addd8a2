//! istiod's webhook rules for the security kinds (PeerAuthentication, AuthorizationPolicy,
//! RequestAuthentication), from `pkg/config/validation/validation.go` (istio/istio).

use super::*;
use serde_json::Value;

/// `ValidatePeerAuthentication`.
pub(super) fn peer_authentication(spec: &Value, errs: &mut Errs) {
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
pub(super) fn authorization_policy(spec: &Value, name: &str, namespace: &str, errs: &mut Errs) {
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
pub(super) fn request_authentication(spec: &Value, errs: &mut Errs) {
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
