//! Kubernetes strategic merge patch for the built-in kinds: maps merge, `null` deletes, lists
//! with a merge key merge element by element, the finalizers set merges by value, every
//! other list is replaced; and the directives kubectl sends (`$patch`, `$retainKeys`,
//! `$deleteFromPrimitiveList/…`, `$setElementOrder/…`). Custom resources are refused, as
//! the API server refuses them.

use super::PatchError;
use super::schema::{self, ListKind};
use crate::sim::kinds::Kind;
use serde_json::{Map, Value};

const DELETE_FROM: &str = "$deleteFromPrimitiveList/";
const ORDER: &str = "$setElementOrder/";

pub(crate) fn apply(kind: &Kind, live: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !schema::is_builtin(kind) {
        // The API server answers 415 UnsupportedMediaType here.
        return Err(PatchError::Invalid(format!(
            "strategic merge patch is not supported for custom resources ({}/{}, Kind={}): the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            kind.group,
            kind.preferred_version(),
            kind.kind
        )));
    }
    let Value::Object(p) = patch else {
        return Err(PatchError::Invalid("strategic merge patch: the patch must be a JSON object".into()));
    };
    let base = live.as_object().cloned().unwrap_or_default();
    if p.get("$patch").and_then(Value::as_str) == Some("delete") {
        return Err(PatchError::Invalid(
            "strategic merge patch: $patch: delete is not allowed on the object itself".into(),
        ));
    }
    Ok(Value::Object(merge_map(kind, base, p, &mut Vec::new())?))
}

fn place(fields: &[String]) -> String {
    if fields.is_empty() { "the object".to_string() } else { schema::dotted(fields) }
}

fn is_directive(k: &str) -> bool {
    k == "$patch" || k == "$retainKeys" || k.starts_with(DELETE_FROM) || k.starts_with(ORDER)
}

fn merge_map(
    kind: &Kind,
    mut orig: Map<String, Value>,
    patch: &Map<String, Value>,
    fields: &mut Vec<String>,
) -> Result<Map<String, Value>, PatchError> {
    match patch.get("$patch") {
        None => {}
        Some(Value::String(s)) if s == "merge" => {}
        Some(Value::String(s)) if s == "replace" => orig = Map::new(),
        Some(other) => return Err(PatchError::Invalid(format!("{}: unknown patch type: {other}", place(fields)))),
    }
    if let Some(keep) = patch.get("$retainKeys") {
        let Some(keep) = keep.as_array() else {
            return Err(PatchError::Invalid(format!("{}: $retainKeys must be a list of field names", place(fields))));
        };
        orig.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
    for (k, v) in patch.iter().filter(|(k, _)| k.starts_with(DELETE_FROM)) {
        let field = &k[DELETE_FROM.len()..];
        let Some(gone) = v.as_array() else {
            return Err(PatchError::Invalid(format!("{}: {k} must be a list", place(fields))));
        };
        if let Some(Value::Array(items)) = orig.get_mut(field) {
            items.retain(|i| !gone.contains(i));
        }
    }
    for (k, v) in patch.iter().filter(|(k, _)| !is_directive(k)) {
        fields.push(k.clone());
        let merged = merge_value(kind, orig.get(k).cloned(), v, fields);
        fields.pop();
        match merged? {
            Some(x) => {
                orig.insert(k.clone(), x);
            }
            None => {
                orig.shift_remove(k);
            }
        }
    }
    for (k, order) in patch.iter().filter(|(k, _)| k.starts_with(ORDER)) {
        let field = &k[ORDER.len()..];
        let Some(order) = order.as_array() else {
            return Err(PatchError::Invalid(format!("{}: {k} must be a list", place(fields))));
        };
        fields.push(field.to_string());
        let how = schema::list_kind(kind, fields);
        fields.pop();
        if let Some(Value::Array(items)) = orig.get_mut(field) {
            match how {
                ListKind::Keyed(keys) => {
                    let key = keys[0];
                    schema::reorder_in_place(items, |e| {
                        e.get(key).and_then(|kv| order.iter().position(|o| o.get(key) == Some(kv)))
                    })
                }
                _ => schema::reorder_in_place(items, |e| order.iter().position(|o| o == e)),
            }
        }
    }
    Ok(orig)
}

/// Merges one patch value into the original; `None` means the field goes away.
fn merge_value(
    kind: &Kind,
    orig: Option<Value>,
    patch: &Value,
    fields: &mut Vec<String>,
) -> Result<Option<Value>, PatchError> {
    match patch {
        Value::Null => Ok(None),
        Value::Object(p) => {
            if p.get("$patch").and_then(Value::as_str) == Some("delete") {
                return Ok(None);
            }
            let base = match orig {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            Ok(Some(Value::Object(merge_map(kind, base, p, fields)?)))
        }
        Value::Array(items) => Ok(Some(Value::Array(merge_list(kind, orig, items, fields)?))),
        other => Ok(Some(other.clone())),
    }
}

fn is_replace_marker(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.len() == 1 && m.get("$patch").and_then(Value::as_str) == Some("replace"))
}

fn merge_list(
    kind: &Kind,
    orig: Option<Value>,
    items: &[Value],
    fields: &mut Vec<String>,
) -> Result<Vec<Value>, PatchError> {
    let mut base = match orig {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    if items.iter().any(is_replace_marker) {
        base.clear();
    }
    let items = items.iter().filter(|i| !is_replace_marker(i));
    match schema::list_kind(kind, fields) {
        ListKind::Atomic => Ok(items.cloned().collect()),
        ListKind::Set => {
            for item in items {
                if !base.contains(item) {
                    base.push(item.clone());
                }
            }
            Ok(base)
        }
        ListKind::Keyed(keys) => {
            let key = keys[0];
            let at = schema::dotted(fields);
            for (i, item) in items.enumerate() {
                let Some(obj) = item.as_object() else {
                    return Err(PatchError::Invalid(format!(
                        "{at}: element {i}: expected an object in a list merged by {key:?}, got {item}"
                    )));
                };
                let Some(kv) = obj.get(key).filter(|v| !v.is_null()) else {
                    return Err(PatchError::Invalid(format!(
                        "{at}: map: {item} does not contain declared merge key: {key}"
                    )));
                };
                let pos = base.iter().position(|e| e.get(key) == Some(kv));
                if obj.get("$patch").and_then(Value::as_str) == Some("delete") {
                    base.retain(|e| e.get(key) != Some(kv));
                    continue;
                }
                let cur = pos.and_then(|p| base[p].as_object().cloned()).unwrap_or_default();
                let merged = Value::Object(merge_map(kind, cur, obj, fields)?);
                match pos {
                    Some(p) => base[p] = merged,
                    None => base.push(merged),
                }
            }
            Ok(base)
        }
    }
}
