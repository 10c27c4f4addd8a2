//! What an apply checks around each write: whether the fields a change sets or depends on
//! still hold the values its preview showed (status and unrelated fields may move: a rollout
//! updates a Deployment's status every second), how a write is made conditional on the read
//! it was checked against, and, when a write's answer was lost, whether it took effect. Pure.

use super::json::{escape, leaves};
use super::model::{FIELD_MANAGER, Op};
use serde_json::{Value, json};

fn rv(v: &Value) -> Option<&str> {
    v.pointer("/metadata/resourceVersion").and_then(Value::as_str)
}

fn uid(v: &Value) -> Option<&str> {
    v.pointer("/metadata/uid").and_then(Value::as_str)
}

/// `/metadata/labels/istio.io~1rev` → `metadata.labels.istio.io/rev`.
pub fn field_name(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 60 { format!("{}…", s.chars().take(59).collect::<String>()) } else { s }
        }
    }
}

/// The fieldsV1 set meshdeck's server-side apply owns on an object, if any.
fn owned(obj: &Value) -> Option<&Value> {
    obj.pointer("/metadata/managedFields")?.as_array()?.iter().find_map(|e| {
        (e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)
            && e.get("operation").and_then(Value::as_str) == Some("Apply"))
        .then(|| e.get("fieldsV1"))
        .flatten()
    })
}

/// The JSON pointers a change writes or depends on.
fn relevant(op: &Op) -> Vec<String> {
    match op {
        Op::Apply { body } => {
            leaves(body).into_iter().map(|(p, _)| p).filter(|p| p != "/metadata/resourceVersion").collect()
        }
        Op::Patch { ops } => {
            let mut out: Vec<String> = Vec::new();
            for p in ops.iter().filter_map(|o| o.get("path").and_then(Value::as_str)) {
                if p != "/metadata/resourceVersion" && !out.iter().any(|q| q == p) {
                    out.push(p.to_string());
                }
            }
            out
        }
        Op::Delete { .. } => Vec::new(),
    }
}

/// Leaf pointers where `a` and `b` differ, for objects compared whole.
fn differing(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                differing(v, y.get(k).unwrap_or(&Value::Null), &format!("{path}/{}", escape(k)), out);
            }
            for (k, v) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                differing(&Value::Null, v, &format!("{path}/{}", escape(k)), out);
            }
        }
        _ if a != b => out.push(path.to_string()),
        _ => {}
    }
}

/// What moved on the object since `seen` (the preview's read, or this apply's own last write
/// of it) that matters to `op`: one line per field, naming it with both values. Empty when
/// the write may go ahead as previewed. Fields meshdeck's field manager owns always matter:
/// a body re-sent without a field another apply by meshdeck just added would remove it.
pub fn moved(op: &Op, seen: Option<&Value>, now: Option<&Value>) -> Vec<String> {
    let (seen, now) = match (seen, now) {
        (None, None) => return Vec::new(),
        (None, Some(n)) => {
            let by = n.pointer("/metadata/managedFields/0/manager").and_then(Value::as_str).unwrap_or("another client");
            return vec![format!("it did not exist in the preview and has since been created (by {by})")];
        }
        (Some(_), None) => return vec!["it has been deleted since the preview".into()],
        (Some(s), Some(n)) => (s, n),
    };
    if uid(seen) != uid(now) {
        return vec!["it has been deleted and created again since the preview".into()];
    }
    let mut out = Vec::new();
    match op {
        Op::Delete { .. } => {
            let mut paths = Vec::new();
            differing(&super::for_display(seen), &super::for_display(now), "", &mut paths);
            for p in paths {
                out.push(format!(
                    "{} is {}, the preview showed {}",
                    field_name(&p),
                    shown(now.pointer(&p)),
                    shown(seen.pointer(&p))
                ));
            }
        }
        _ => {
            for p in relevant(op) {
                let (was, is) = (seen.pointer(&p), now.pointer(&p));
                if was != is {
                    out.push(format!("{} is {}, the preview showed {}", field_name(&p), shown(is), shown(was)));
                }
            }
        }
    }
    if matches!(op, Op::Apply { .. }) && owned(seen) != owned(now) {
        let (mut was, mut is) = (Vec::new(), Vec::new());
        owned_fields(owned(seen), "", &mut was);
        owned_fields(owned(now), "", &mut is);
        let added: Vec<&str> = is.iter().filter(|f| !was.contains(f)).map(String::as_str).collect();
        let dropped: Vec<&str> = was.iter().filter(|f| !is.contains(f)).map(String::as_str).collect();
        if !added.is_empty() {
            out.push(format!(
                "another apply by meshdeck has since set {}, which the previewed body would remove",
                added.join(", ")
            ));
        }
        if !dropped.is_empty() {
            out.push(format!(
                "meshdeck no longer owns {} (another client took it over or removed it)",
                dropped.join(", ")
            ));
        }
    }
    out
}

/// The dotted names of the fields in a fieldsV1 set: `f:name` steps, list items by their key.
fn owned_fields(set: Option<&Value>, prefix: &str, out: &mut Vec<String>) {
    let Some(map) = set.and_then(Value::as_object) else { return };
    let mut leaf = true;
    for (k, v) in map {
        let step = if let Some(name) = k.strip_prefix("f:") {
            if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
        } else if let Some(key) = k.strip_prefix("k:").or_else(|| k.strip_prefix("v:")) {
            format!("{prefix}[{key}]")
        } else {
            continue;
        };
        leaf = false;
        owned_fields(Some(v), &step, out);
    }
    if leaf && !prefix.is_empty() {
        out.push(prefix.to_string());
    }
}

/// The change made conditional on `read`, the object as just read and checked: a server-side
/// apply carries its resourceVersion (the API server refuses it with 409 if the object moved
/// since), a JSON patch first tests the resourceVersion, a delete has uid and resourceVersion
/// preconditions. An object that did not exist is created without a version.
pub fn conditional(op: &Op, read: Option<&Value>) -> Op {
    let Some(version) = read.and_then(rv) else { return op.clone() };
    match op {
        Op::Apply { body } => {
            let mut body = body.clone();
            if let Some(m) = body.as_object_mut() {
                let meta = m.entry("metadata").or_insert_with(|| json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.insert("resourceVersion".into(), json!(version));
                }
            }
            Op::Apply { body }
        }
        Op::Patch { ops } => {
            let mut out = vec![json!({"op": "test", "path": "/metadata/resourceVersion", "value": version})];
            out.extend(ops.iter().cloned());
            Op::Patch { ops: out }
        }
        Op::Delete { uid: want } => Op::Delete { uid: want.clone().or_else(|| read.and_then(uid).map(String::from)) },
    }
}

/// True when an API error says the conditional write found the object moved since its read:
/// a 409 without field-manager conflicts, or the resourceVersion test of a JSON patch.
pub fn lost_race(code: u16, message: &str, field_conflicts: bool) -> bool {
    (code == 409 && !field_conflicts) || (code == 422 && message.contains("/metadata/resourceVersion"))
}

/// After a write whose answer was lost or was a transient error: did it take effect? `read`
/// is the object it was conditional on, `now` the object as read again. A write that took
/// effect changed the version and left every field it sets as it set it.
pub fn took_effect(op: &Op, read: Option<&Value>, now: Option<&Value>) -> bool {
    match op {
        Op::Delete { .. } => match (read, now) {
            (_, None) => true,
            (Some(r), Some(n)) => uid(r) != uid(n),
            (None, Some(_)) => false,
        },
        Op::Apply { body } => {
            let Some(now) = now else { return false };
            if read.is_some_and(|r| rv(r) == rv(now)) {
                return false;
            }
            leaves(body)
                .iter()
                .filter(|(p, _)| p != "/metadata/resourceVersion")
                .all(|(p, v)| now.pointer(p) == Some(v))
        }
        Op::Patch { ops } => {
            let (Some(read), Some(now)) = (read, now) else { return false };
            if rv(read) == rv(now) {
                return false;
            }
            // The patch replayed on the object it was conditional on gives what it would have made.
            let Ok(patch) = serde_json::from_value::<json_patch::Patch>(Value::Array(ops.clone())) else {
                return false;
            };
            let mut want = read.clone();
            if json_patch::patch(&mut want, &patch.0).is_err() {
                return false;
            }
            relevant(op).iter().all(|p| want.pointer(p) == now.pointer(p))
        }
    }
}
