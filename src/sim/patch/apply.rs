//! Field ownership: server-side apply (merge, prune, conflicts) and the `Update` entries of
//! ordinary writes, both kept in `metadata.managedFields`. Pure functions on values.

use super::fields::{self, Comparison};
use super::fieldset::FieldSet;
use super::managed::{self, Entry};
use super::schema::{self, ListKind};
use super::{Conflict, PatchError};
use crate::sim::kinds::Kind;
use serde_json::{Map, Value};

fn api_version(obj: &Value) -> String {
    obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string()
}

pub(crate) fn server_side_apply(
    kind: &Kind,
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, PatchError> {
    if manager.is_empty() {
        return Err(PatchError::Invalid("PATCH with an apply patch requires a fieldManager".into()));
    }
    let mut applied = applied.clone();
    let Some(root) = applied.as_object_mut() else {
        return Err(PatchError::Invalid("apply: the applied configuration must be a JSON object".into()));
    };
    if let Some(Value::Object(meta)) = root.get_mut("metadata") {
        meta.shift_remove("managedFields");
    }
    let new_set = fields::applied_set(kind, &applied)?;
    let entries = live.map(managed::read).unwrap_or_default();
    let last = entries.iter().find(|e| e.is(manager, "Apply")).map(|e| e.set.clone());
    let mut others: Vec<Entry> = entries.into_iter().filter(|e| !e.is(manager, "Apply")).collect();
    let owned = others.iter().fold(new_set.clone(), |acc, e| acc.union(&e.set));

    let empty = Value::Object(Map::new());
    let mut merged = merge_applied(kind, Some(live.unwrap_or(&empty)), &applied, &mut Vec::new()).unwrap_or(empty);
    if let Some(last) = &last {
        // Fields this manager applied before and nobody owns any longer leave the object.
        for path in last.difference(&owned).members() {
            remove_unowned(&mut merged, &path, 0, &owned);
        }
    }

    let cmp = fields::compare(kind, live, &merged);
    let changed = cmp.added.union(&cmp.modified).union(&cmp.removed.intersection(&new_set));
    let mut conflicts = Vec::new();
    for e in &others {
        for path in e.set.intersection(&changed).members() {
            conflicts.push(Conflict { manager: e.manager.clone(), field: schema::render_path(&path) });
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(PatchError::Conflicts(conflicts));
    }
    // A no-op apply leaves the object, its entry's time included, as it was.
    if let Some(live) = live
        && cmp.is_empty()
        && last.as_ref() == Some(&new_set)
    {
        return Ok(live.clone());
    }

    for e in &mut others {
        e.set = e.set.difference(&changed);
    }
    drop_removed(&mut others, &cmp);
    others.push(Entry {
        manager: manager.to_string(),
        operation: "Apply".into(),
        api_version: api_version(&applied),
        time: now.to_string(),
        subresource: String::new(),
        set: new_set,
    });
    managed::write(&mut merged, others);
    Ok(merged)
}

/// Fields that left the object leave every manager's set.
fn drop_removed(entries: &mut [Entry], cmp: &Comparison) {
    let removed = cmp.removed.members();
    for e in entries {
        for r in &removed {
            e.set.remove_subtree(r);
        }
    }
}

pub(crate) fn track_update(kind: &Kind, old: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
    if manager.is_empty() {
        return;
    }
    let cmp = fields::compare(kind, old, new);
    if cmp.is_empty() {
        return;
    }
    let changed = cmp.added.union(&cmp.modified);
    let mut entries = managed::read(new);
    for e in entries.iter_mut().filter(|e| !e.is(manager, "Update")) {
        e.set = e.set.difference(&changed);
    }
    drop_removed(&mut entries, &cmp);
    let av = api_version(new);
    match entries.iter_mut().find(|e| e.is(manager, "Update")) {
        Some(e) => {
            e.set = e.set.union(&changed);
            e.time = now.to_string();
            e.api_version = av;
        }
        None => entries.push(Entry {
            manager: manager.to_string(),
            operation: "Update".into(),
            api_version: av,
            time: now.to_string(),
            subresource: String::new(),
            set: changed,
        }),
    }
    managed::write(new, entries);
}

/// Merges an applied configuration into the live object: maps merge, keyed lists merge by
/// key (in the applied order), sets merge by value, everything else is replaced; `null`
/// removes. `None` means the field goes away.
fn merge_applied(kind: &Kind, live: Option<&Value>, applied: &Value, fields: &mut Vec<String>) -> Option<Value> {
    match applied {
        Value::Null => None,
        Value::Object(a) if !schema::is_atomic_map(kind, fields) => {
            let mut base = match live {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            for (k, v) in a {
                fields.push(k.clone());
                let r = merge_applied(kind, base.get(k), v, fields);
                fields.pop();
                match r {
                    Some(x) => {
                        base.insert(k.clone(), x);
                    }
                    None => {
                        base.shift_remove(k);
                    }
                }
            }
            Some(Value::Object(base))
        }
        Value::Array(items) => {
            let mut base = match live {
                Some(Value::Array(l)) => l.clone(),
                _ => Vec::new(),
            };
            match schema::list_kind(kind, fields) {
                ListKind::Atomic => return Some(applied.clone()),
                ListKind::Set => {
                    for item in items {
                        if !base.contains(item) {
                            base.push(item.clone());
                        }
                    }
                }
                ListKind::Keyed(keys) => {
                    let applied_keys: Vec<_> = items.iter().map(|i| schema::element_key(i, keys)).collect();
                    for (item, key) in items.iter().zip(&applied_keys) {
                        let pos = base.iter().position(|e| key.is_some() && schema::element_key(e, keys) == *key);
                        let merged = merge_applied(kind, pos.map(|p| &base[p]), item, fields);
                        match (pos, merged) {
                            (Some(p), Some(m)) => base[p] = m,
                            (None, Some(m)) => base.push(m),
                            (Some(p), None) => {
                                base.remove(p);
                            }
                            (None, None) => {}
                        }
                    }
                    schema::reorder_in_place(&mut base, |e| {
                        let k = schema::element_key(e, keys)?;
                        applied_keys.iter().position(|a| a.as_ref() == Some(&k))
                    });
                }
            }
            Some(Value::Array(base))
        }
        other => Some(other.clone()),
    }
}

/// Removes the field at `path` from `cur` (the value at depth `depth`), keeping what lies
/// below it that `owned` still owns. Maps and lists it empties go too, unless owned.
fn remove_unowned(cur: &mut Value, path: &[String], depth: usize, owned: &FieldSet) {
    let Some(pe) = path.get(depth) else { return };
    let last = depth + 1 == path.len();
    let keep = owned.node(&path[..=depth]).filter(|n| !n.is_empty());
    match cur {
        Value::Object(m) => {
            let Some(f) = pe.strip_prefix("f:") else { return };
            let Some(child) = m.get_mut(f) else { return };
            // A list element that stays keeps its key fields.
            if last && depth > 0 && schema::key_names(&path[depth - 1]).iter().any(|k| k == f) {
                return;
            }
            if last {
                match keep {
                    Some(k) => retain_owned(child, k, &[]),
                    None => {
                        m.shift_remove(f);
                    }
                }
                return;
            }
            remove_unowned(child, path, depth + 1, owned);
            let emptied = match child {
                Value::Object(c) => c.is_empty(),
                Value::Array(c) => c.is_empty(),
                _ => false,
            };
            // Root fields (spec, metadata) stay; emptied labels, annotations and lists go.
            if emptied && depth >= 1 && !owned.contains(&path[..=depth]) {
                m.shift_remove(f);
            }
        }
        Value::Array(items) => {
            let Some(i) = items.iter().position(|e| schema::element_matches(e, pe)) else { return };
            if !last {
                remove_unowned(&mut items[i], path, depth + 1, owned);
                return;
            }
            match keep {
                Some(k) => retain_owned(&mut items[i], k, &schema::key_names(pe)),
                None => {
                    items.remove(i);
                }
            }
        }
        _ => {}
    }
}

/// Keeps only the parts of `v` that `keep` owns (and the key fields of a list element).
fn retain_owned(v: &mut Value, keep: &FieldSet, key_fields: &[String]) {
    if keep.member {
        return;
    }
    match v {
        Value::Object(m) => m.retain(|k, child| {
            if key_fields.contains(k) {
                return true;
            }
            match keep.children.get(&format!("f:{k}")) {
                Some(n) => {
                    retain_owned(child, n, &[]);
                    true
                }
                None => false,
            }
        }),
        Value::Array(items) => {
            items.retain_mut(|e| match keep.children.iter().find(|(pe, _)| schema::element_matches(e, pe)) {
                Some((pe, n)) => {
                    retain_owned(e, n, &schema::key_names(pe));
                    true
                }
                None => false,
            })
        }
        _ => {}
    }
}
