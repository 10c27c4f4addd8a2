//! Field sets computed from objects: what an applied configuration owns, and which fields
//! differ between two versions of an object. It reads values only; ownership bookkeeping is
//! in `apply`.

use super::PatchError;
use super::fieldset::FieldSet;
use super::schema::{self, ListKind};
use crate::sim::kinds::Kind;
use serde_json::{Map, Value};

/// Fields the server manages itself: nobody owns them.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The part of an object whose fields can be owned: without apiVersion, kind, status (the
/// status subresource tracks its own writers) and the server-managed metadata.
pub(crate) fn tracked(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(m) = out.as_object_mut() {
        for k in ["apiVersion", "kind", "status"] {
            m.shift_remove(k);
        }
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            for k in SERVER_METADATA {
                meta.shift_remove(*k);
            }
            if meta.is_empty() {
                m.shift_remove("metadata");
            }
        }
    }
    out
}

fn push(path: &[String], pe: String) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(pe);
    p
}

/// The fields an applied configuration sets: leaves, empty maps, atomic lists and maps,
/// keyed elements (as members, with their fields) and set items. Maps themselves are not
/// members, as in the API server's Apply entries.
pub(crate) fn applied_set(kind: &Kind, applied: &Value) -> Result<FieldSet, PatchError> {
    let mut set = FieldSet::default();
    if let Some(m) = tracked(applied).as_object() {
        walk_applied_map(kind, m, &mut Vec::new(), &[], &mut set)?;
    }
    Ok(set)
}

fn walk_applied_map(
    kind: &Kind,
    m: &Map<String, Value>,
    fields: &mut Vec<String>,
    path: &[String],
    set: &mut FieldSet,
) -> Result<(), PatchError> {
    for (k, v) in m {
        fields.push(k.clone());
        let here = push(path, format!("f:{k}"));
        walk_applied_value(kind, v, fields, &here, set)?;
        fields.pop();
    }
    Ok(())
}

fn walk_applied_value(
    kind: &Kind,
    v: &Value,
    fields: &mut Vec<String>,
    here: &[String],
    set: &mut FieldSet,
) -> Result<(), PatchError> {
    match v {
        Value::Object(m) if !m.is_empty() && !schema::is_atomic_map(kind, fields) => {
            walk_applied_map(kind, m, fields, here, set)
        }
        Value::Array(items) => match schema::list_kind(kind, fields) {
            ListKind::Atomic => {
                set.insert(here);
                Ok(())
            }
            ListKind::Set => {
                for item in items {
                    set.insert(&push(here, schema::value_pe(item)));
                }
                Ok(())
            }
            ListKind::Keyed(keys) => {
                let at = schema::dotted(fields);
                let mut seen = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let key = schema::require_key(item, keys, &at, i)?;
                    let pe = schema::key_pe(&key);
                    if seen.contains(&pe) {
                        return Err(PatchError::Invalid(format!(
                            "{at}: duplicate entries for key {}",
                            schema::render_path(std::slice::from_ref(&pe))
                        )));
                    }
                    let elem = push(here, pe.clone());
                    seen.push(pe);
                    set.insert(&elem);
                    if let Some(m) = item.as_object() {
                        walk_applied_map(kind, m, fields, &elem, set)?;
                    }
                }
                Ok(())
            }
        },
        _ => {
            set.insert(here);
            Ok(())
        }
    }
}

/// What changed between two versions of an object, as field sets.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

/// Compares the tracked parts of `old` (None: the object is new) and `new`.
pub(crate) fn compare(kind: &Kind, old: Option<&Value>, new: &Value) -> Comparison {
    let mut c = Comparison::default();
    let old = old.map(tracked).unwrap_or_else(|| Value::Object(Map::new()));
    let new = tracked(new);
    let empty = Map::new();
    let (o, n) = (old.as_object().unwrap_or(&empty), new.as_object().unwrap_or(&empty));
    compare_maps(kind, o, n, &mut Vec::new(), &[], &mut c);
    c
}

fn compare_maps(
    kind: &Kind,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    fields: &mut Vec<String>,
    path: &[String],
    c: &mut Comparison,
) {
    for (k, nv) in n {
        fields.push(k.clone());
        let here = push(path, format!("f:{k}"));
        match o.get(k) {
            Some(ov) => compare_values(kind, ov, nv, fields, &here, c),
            None => added_value(kind, nv, fields, &here, &mut c.added),
        }
        fields.pop();
    }
    for k in o.keys().filter(|k| !n.contains_key(*k)) {
        c.removed.insert(&push(path, format!("f:{k}")));
    }
}

fn compare_values(kind: &Kind, ov: &Value, nv: &Value, fields: &mut Vec<String>, here: &[String], c: &mut Comparison) {
    match (ov, nv) {
        (Value::Object(o), Value::Object(n)) if !schema::is_atomic_map(kind, fields) => {
            // An empty map is owned as a leaf, so emptying one modifies it.
            if n.is_empty() && !o.is_empty() {
                c.modified.insert(here);
            }
            compare_maps(kind, o, n, fields, here, c)
        }
        (Value::Array(o), Value::Array(n)) => match schema::list_kind(kind, fields) {
            ListKind::Atomic => {
                if o != n {
                    c.modified.insert(here);
                }
            }
            ListKind::Set => {
                for item in n.iter().filter(|i| !o.contains(i)) {
                    c.added.insert(&push(here, schema::value_pe(item)));
                }
                for item in o.iter().filter(|i| !n.contains(i)) {
                    c.removed.insert(&push(here, schema::value_pe(item)));
                }
            }
            ListKind::Keyed(keys) => {
                let key_of = |e: &Value| schema::element_key(e, keys).map(|k| schema::key_pe(&k));
                let old_keys: Vec<Option<String>> = o.iter().map(key_of).collect();
                let mut new_keys = Vec::new();
                for item in n {
                    let Some(pe) = key_of(item) else { continue };
                    let elem = push(here, pe.clone());
                    let empty = Map::new();
                    let nm = item.as_object().unwrap_or(&empty);
                    match old_keys.iter().position(|k| k.as_ref() == Some(&pe)) {
                        Some(i) => compare_maps(kind, o[i].as_object().unwrap_or(&empty), nm, fields, &elem, c),
                        None => {
                            c.added.insert(&elem);
                            added_map(kind, nm, fields, &elem, &mut c.added);
                        }
                    }
                    new_keys.push(pe);
                }
                for pe in old_keys.into_iter().flatten().filter(|k| !new_keys.contains(k)) {
                    c.removed.insert(&push(here, pe));
                }
            }
        },
        _ => {
            if ov != nv {
                c.modified.insert(here);
            }
        }
    }
}

/// Records a value that did not exist before. A new map of scalars (labels, data, a
/// pointer-to-struct of scalars) is a member itself, as the API server's Update entries show
/// with `".":{}`.
fn added_value(kind: &Kind, v: &Value, fields: &mut Vec<String>, here: &[String], set: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() && !schema::is_atomic_map(kind, fields) => {
            if m.values().all(|x| !x.is_object() && !x.is_array()) {
                set.insert(here);
            }
            added_map(kind, m, fields, here, set);
        }
        Value::Array(items) => match schema::list_kind(kind, fields) {
            ListKind::Atomic => set.insert(here),
            ListKind::Set => {
                for item in items {
                    set.insert(&push(here, schema::value_pe(item)));
                }
            }
            ListKind::Keyed(keys) => {
                for item in items {
                    let (Some(key), Some(m)) = (schema::element_key(item, keys), item.as_object()) else { continue };
                    let elem = push(here, schema::key_pe(&key));
                    set.insert(&elem);
                    added_map(kind, m, fields, &elem, set);
                }
            }
        },
        _ => set.insert(here),
    }
}

fn added_map(kind: &Kind, m: &Map<String, Value>, fields: &mut Vec<String>, path: &[String], set: &mut FieldSet) {
    for (k, v) in m {
        fields.push(k.clone());
        added_value(kind, v, fields, &push(path, format!("f:{k}")), set);
        fields.pop();
    }
}
