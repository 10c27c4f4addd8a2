//! The inverse of a journal entry: what deletes the objects an apply created and restores
//! the exact prior values of the fields it changed. Every restoring patch first `test`s that
//! the field still holds what meshdeck wrote, so an undo never clobbers a later change by
//! someone else (DESIGN.md, "Safety of changes"). Pure.

use super::diff::for_display;
use super::json::{escape, leaves};
use super::model::{Change, ItemState, JournalEntry, JournalItem, Op};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The changes that undo `entry`: its applied items in reverse order. A created object is
/// deleted (by uid, so a namesake created since is left alone); a changed object gets a
/// tested JSON patch; a deleted object is applied again. Fields the apply did not change
/// are left out. `action` is 0 on every change.
pub fn inverse(entry: &JournalEntry) -> Vec<Change> {
    let mut out = Vec::new();
    for item in entry.items.iter().rev().filter(|i| i.state == ItemState::Applied) {
        let op = match (&item.before, &item.change.op) {
            (None, Op::Delete { .. }) => continue,
            (None, _) => {
                let uid = item.after.as_ref().and_then(|a| a.pointer("/metadata/uid")).and_then(Value::as_str);
                Op::Delete { uid: uid.map(String::from) }
            }
            (Some(before), Op::Apply { body }) => Op::Patch { ops: undo_apply(item, before, body) },
            (Some(before), Op::Patch { ops }) => Op::Patch { ops: undo_patch(before, ops) },
            (Some(before), Op::Delete { .. }) => Op::Apply { body: for_display(before) },
        };
        if matches!(&op, Op::Patch { ops } if ops.is_empty()) {
            continue;
        }
        out.push(Change {
            target: item.change.target.clone(),
            op,
            action: 0,
            why: format!("undo: {}", item.change.why),
        });
    }
    out
}

/// Leaves out of `entry` what earlier undos of it that stopped part way already put back, so
/// undoing it again finishes the job instead of failing on what is already restored. An item
/// counts as put back when an entry that `undoes` this one applied its inverse ("undo: …" of
/// the same object).
pub fn forget_undone(entry: &mut JournalEntry, journal: &[JournalEntry]) {
    let undos: Vec<&JournalEntry> = journal.iter().filter(|u| u.undoes.as_deref() == Some(entry.id.as_str())).collect();
    for item in entry.items.iter_mut().filter(|i| i.state == ItemState::Applied) {
        let why = format!("undo: {}", item.change.why);
        let put_back = undos
            .iter()
            .flat_map(|u| &u.items)
            .any(|u| u.state == ItemState::Applied && u.change.target == item.change.target && u.change.why == why);
        if put_back {
            item.state = ItemState::Skipped;
        }
    }
}

fn test(path: &str, value: &Value) -> Value {
    json!({"op": "test", "path": path, "value": value})
}

/// Leaves of a sub-value, with their pointers; an empty map is a leaf.
fn subtree_leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                subtree_leaves(child, &format!("{prefix}/{}", escape(k)), out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn undo_apply(item: &JournalItem, before: &Value, body: &Value) -> Vec<Value> {
    let after = item.after.as_ref();
    let (mut tests, mut replaces, mut removals) = (Vec::new(), Vec::new(), Vec::new());
    for (path, applied) in leaves(body) {
        let now = after.and_then(|a| a.pointer(&path)).cloned().unwrap_or(applied);
        let was = before.pointer(&path);
        if was == Some(&now) {
            continue;
        }
        tests.push(test(&path, &now));
        match was {
            Some(v) => replaces.push(json!({"op": "replace", "path": path, "value": v})),
            None => removals.push(path),
        }
    }
    // A map the apply brought into being (annotations where there were none) goes away as a
    // whole when everything in it is meshdeck's, rather than being left behind empty.
    let removed: BTreeSet<&str> = removals.iter().map(String::as_str).collect();
    let mut collapsed: Vec<String> = Vec::new();
    for path in &removals {
        let tokens: Vec<&str> = path.split('/').skip(1).collect();
        let mut chosen = path.clone();
        for k in 1..tokens.len() {
            let anc = format!("/{}", tokens[..k].join("/"));
            if anc == "/metadata" || before.pointer(&anc).is_some() {
                continue;
            }
            let Some(sub) = after.and_then(|a| a.pointer(&anc)) else { continue };
            let mut inside = Vec::new();
            subtree_leaves(sub, &anc, &mut inside);
            if inside.iter().all(|l| removed.contains(l.as_str())) {
                chosen = anc;
                break;
            }
        }
        if !collapsed.contains(&chosen) {
            collapsed.push(chosen);
        }
    }
    let removes = collapsed.iter().map(|p| json!({"op": "remove", "path": p}));
    tests.into_iter().chain(replaces).chain(removes).collect()
}

fn undo_patch(before: &Value, ops: &[Value]) -> Vec<Value> {
    let (mut tests, mut edits) = (Vec::new(), Vec::new());
    for op in ops.iter().rev() {
        let Some(path) = op.get("path").and_then(Value::as_str) else { continue };
        let was = before.pointer(path);
        match op.get("op").and_then(Value::as_str) {
            Some("remove") => {
                if let Some(v) = was {
                    edits.push(json!({"op": "add", "path": path, "value": v}));
                }
            }
            Some("add" | "replace") => {
                if let Some(v) = op.get("value") {
                    tests.push(test(path, v));
                }
                edits.push(match was {
                    Some(v) => json!({"op": "replace", "path": path, "value": v}),
                    None => json!({"op": "remove", "path": path}),
                });
            }
            _ => {}
        }
    }
    tests.into_iter().chain(edits).collect()
}
