//! Small pure helpers the controllers share: reading object fields, owner references,
//! selectors, int-or-percent values, template hashes and status conditions. No store access
//! and no IO here.

use crate::labels::{Requirement, Selector};
use crate::sim::clock::parse_rfc3339;
use crate::sim::kinds::{self, Kind};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

pub const MANAGER: &str = "kube-controller-manager";

pub fn kind(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).expect("served kind")
}

pub fn pods() -> &'static Kind {
    kind("", "pods")
}

pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

pub fn int_at(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

pub fn name(v: &Value) -> &str {
    str_at(v, "/metadata/name")
}

pub fn uid(v: &Value) -> &str {
    str_at(v, "/metadata/uid")
}

pub fn generation(v: &Value) -> i64 {
    int_at(v, "/metadata/generation").unwrap_or(0)
}

pub fn created(v: &Value) -> &str {
    str_at(v, "/metadata/creationTimestamp")
}

/// The owner reference marked `controller: true`, as (apiVersion, kind, name, uid).
pub fn controller_of(v: &Value) -> Option<(&str, &str, &str, &str)> {
    v.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| (str_at(r, "/apiVersion"), str_at(r, "/kind"), str_at(r, "/name"), str_at(r, "/uid")))
}

pub fn controlled_by(v: &Value, owner_uid: &str) -> bool {
    controller_of(v).is_some_and(|(_, _, _, u)| u == owner_uid)
}

/// An ownerReference naming `owner` as the controller, as controllers write it.
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": str_at(owner, "/apiVersion"),
        "kind": str_at(owner, "/kind"),
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// A `metav1.LabelSelector` as a store selector, so lists filter on labels before rendering
/// objects. An operator Kubernetes does not know selects nothing.
pub fn selector_of(sel: Option<&Value>) -> Selector {
    let mut reqs = Vec::new();
    let Some(sel) = sel else { return Selector(reqs) };
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            reqs.push(Requirement::Eq(k.clone(), v.as_str().unwrap_or_default().to_string()));
        }
    }
    for e in sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = str_at(e, "/key").to_string();
        let values: Vec<String> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default();
        reqs.push(match str_at(e, "/operator") {
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            "DoesNotExist" => Requirement::DoesNotExist(key),
            _ => Requirement::In(key, Vec::new()),
        });
    }
    Selector(reqs)
}

/// An int-or-percent (`maxSurge`, `maxUnavailable`, `minAvailable`) against `total`;
/// percentages round up or down as the caller's field demands. Malformed values count as 0.
pub fn scaled_value(v: Option<&Value>, total: i64, round_up: bool) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => match s.strip_suffix('%').map(str::parse::<i64>) {
            Some(Ok(p)) => {
                let num = p * total;
                if round_up { (num + 99).div_euclid(100) } else { num.div_euclid(100) }
            }
            Some(Err(_)) => 0,
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// JSON with object keys sorted, so equal objects hash equally whatever their key order.
pub fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical(&m[*k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The pod-template hash Kubernetes puts in `pod-template-hash` and
/// `controller-revision-hash`: a 32-bit FNV-1a of the template (and collision count),
/// written in decimal and then spelled with the API server's vowel-free alphabet.
pub fn template_hash(template: &Value, collision_count: i64) -> String {
    let mut s = String::new();
    canonical(template, &mut s);
    if collision_count > 0 {
        s.push_str(&collision_count.to_string());
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    safe_encode(&h.to_string())
}

fn safe_encode(s: &str) -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes().map(|b| ALPHA[b as usize % ALPHA.len()] as char).collect()
}

/// The template with the `pod-template-hash` label removed, for comparing a Deployment's
/// template with its ReplicaSets'.
pub fn without_hash_label(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(l) = t.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        l.remove("pod-template-hash");
    }
    t
}

pub fn templates_equal(a: &Value, b: &Value) -> bool {
    let (mut x, mut y) = (String::new(), String::new());
    canonical(&without_hash_label(a), &mut x);
    canonical(&without_hash_label(b), &mut y);
    x == y
}

pub fn find_condition<'a>(obj: &'a Value, ty: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?.as_array()?.iter().find(|c| str_at(c, "/type") == ty)
}

pub fn condition_true(obj: &Value, ty: &str) -> bool {
    find_condition(obj, ty).is_some_and(|c| str_at(c, "/status") == "True")
}

/// Sets a condition in a `conditions` array the way Kubernetes' controllers do: unchanged
/// when status and reason match; otherwise the condition moves to the end, keeping its
/// `lastTransitionTime` when only the reason changed. `with_update_time` adds
/// `lastUpdateTime` (Deployments do, most kinds do not).
pub fn set_condition(
    conds: &mut Vec<Value>,
    ty: &str,
    status: &str,
    reason: &str,
    msg: &str,
    now: &str,
    with_update_time: bool,
) {
    let pos = conds.iter().position(|c| str_at(c, "/type") == ty);
    if let Some(i) = pos
        && str_at(&conds[i], "/status") == status
        && str_at(&conds[i], "/reason") == reason
    {
        return;
    }
    let old = pos.map(|i| conds.remove(i));
    let transition = match &old {
        Some(o) if str_at(o, "/status") == status => o.get("lastTransitionTime").cloned().unwrap_or(json!(now)),
        _ => json!(now),
    };
    let mut c = serde_json::Map::new();
    c.insert("type".into(), json!(ty));
    c.insert("status".into(), json!(status));
    if with_update_time {
        c.insert("lastUpdateTime".into(), json!(now));
    }
    c.insert("lastTransitionTime".into(), transition);
    c.insert("reason".into(), json!(reason));
    c.insert("message".into(), json!(msg));
    conds.push(Value::Object(c));
}

pub fn remove_condition(conds: &mut Vec<Value>, ty: &str) {
    conds.retain(|c| str_at(c, "/type") != ty);
}

/// Seconds since a `metav1.Time`, None when absent or malformed.
pub fn age(ts: &str, now: SystemTime) -> Option<Duration> {
    parse_rfc3339(ts).map(|t| now.duration_since(t).unwrap_or_default())
}

pub fn pod_ready(pod: &Value) -> bool {
    condition_true(pod, "Ready")
}

pub fn pod_terminal(pod: &Value) -> bool {
    matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed")
}

/// Ready for at least `min_ready` seconds (Kubernetes' "available").
pub fn pod_available(pod: &Value, min_ready: i64, now: SystemTime) -> bool {
    if !pod_ready(pod) {
        return false;
    }
    if min_ready <= 0 {
        return true;
    }
    let since = find_condition(pod, "Ready").map(|c| str_at(c, "/lastTransitionTime")).unwrap_or_default();
    age(since, now).is_some_and(|a| a.as_secs() as i64 >= min_ready)
}

/// When a ready pod becomes available, for scheduling a re-check; None if it never will
/// or already is.
pub fn pod_available_in(pod: &Value, min_ready: i64, now: SystemTime) -> Option<Duration> {
    if min_ready <= 0 || !pod_ready(pod) {
        return None;
    }
    let since = find_condition(pod, "Ready").map(|c| str_at(c, "/lastTransitionTime")).unwrap_or_default();
    let a = age(since, now)?;
    let need = Duration::from_secs(min_ready as u64);
    (a < need).then(|| need - a + Duration::from_millis(200))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_or_percent_rounds_like_kubernetes() {
        let cases: &[(Value, i64, bool, i64)] = &[
            (json!("25%"), 3, true, 1),
            (json!("25%"), 3, false, 0),
            (json!("25%"), 4, false, 1),
            (json!("50%"), 5, true, 3),
            (json!("50%"), 5, false, 2),
            (json!("100%"), 7, false, 7),
            (json!(2), 10, false, 2),
            (json!("3"), 10, true, 3),
            (json!("x%"), 10, true, 0),
        ];
        for (v, total, up, want) in cases {
            assert_eq!(scaled_value(Some(v), *total, *up), *want, "{v} of {total} up={up}");
        }
        assert_eq!(scaled_value(None, 10, true), 0);
    }

    #[test]
    fn template_hash_ignores_key_order_and_uses_safe_alphabet() {
        let a = json!({"metadata":{"labels":{"app":"web","v":"1"}},"spec":{"containers":[{"name":"a","image":"x"}]}});
        let b = json!({"spec":{"containers":[{"image":"x","name":"a"}]},"metadata":{"labels":{"v":"1","app":"web"}}});
        assert_eq!(template_hash(&a, 0), template_hash(&b, 0));
        assert_ne!(template_hash(&a, 0), template_hash(&a, 1));
        let h = template_hash(&a, 0);
        assert!(h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)), "{h}");
        assert!((1..=10).contains(&h.len()));
    }

    #[test]
    fn templates_compare_without_hash_label() {
        let a = json!({"metadata":{"labels":{"app":"web","pod-template-hash":"abc"}},"spec":{}});
        let b = json!({"metadata":{"labels":{"app":"web"}},"spec":{}});
        let c = json!({"metadata":{"labels":{"app":"api"}},"spec":{}});
        assert!(templates_equal(&a, &b));
        assert!(!templates_equal(&a, &c));
    }

    #[test]
    fn conditions_keep_transition_time_and_move_on_change() {
        let mut conds = Vec::new();
        set_condition(&mut conds, "Progressing", "True", "NewReplicaSetCreated", "m1", "t1", true);
        set_condition(&mut conds, "Available", "False", "MinimumReplicasUnavailable", "m2", "t1", true);
        // Same status and reason: untouched, stays first.
        set_condition(&mut conds, "Progressing", "True", "NewReplicaSetCreated", "m1", "t2", true);
        assert_eq!(conds[0]["type"], "Progressing");
        assert_eq!(conds[0]["lastUpdateTime"], "t1");
        // New reason, same status: moves last, transition time kept, update time new.
        set_condition(&mut conds, "Progressing", "True", "ReplicaSetUpdated", "m3", "t3", true);
        assert_eq!(conds[1]["type"], "Progressing");
        assert_eq!(conds[1]["lastTransitionTime"], "t1");
        assert_eq!(conds[1]["lastUpdateTime"], "t3");
        // New status: new transition time.
        set_condition(&mut conds, "Available", "True", "MinimumReplicasAvailable", "m4", "t4", false);
        assert_eq!(conds[1]["type"], "Available");
        assert_eq!(conds[1]["lastTransitionTime"], "t4");
        assert!(conds[1].get("lastUpdateTime").is_none());
    }

    #[test]
    fn selectors_from_label_selector_objects() {
        let l = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let sel = selector_of(Some(&json!({"matchLabels":{"app":"web"},
            "matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]}]})));
        assert!(sel.matches(&l(&[("app", "web"), ("tier", "a")])));
        assert!(!sel.matches(&l(&[("app", "web"), ("tier", "c")])));
        let odd = selector_of(Some(&json!({"matchExpressions":[{"key":"x","operator":"Near"}]})));
        assert!(!odd.matches(&l(&[("x", "1")])));
    }
}
