//! An entry left by an apply that was killed: its items are still Pending, and the last one
//! may or may not have reached the cluster. Before undoing such an entry, each Pending item is
//! settled against the cluster: an object that moved from its `before` state is taken as
//! written (its live state becomes `after`), one that did not as never sent. Reads only.

use super::http;
use crate::plan::{ItemState, JournalEntry, Op};
use serde_json::Value;

fn rv(v: Option<&Value>) -> Option<&str> {
    v.and_then(|v| v.pointer("/metadata/resourceVersion")).and_then(Value::as_str)
}

/// Settles the Pending items of `entry` in place; true when any was.
pub async fn settle(client: &kube::Client, entry: &mut JournalEntry) -> anyhow::Result<bool> {
    let mut any = false;
    for item in entry.items.iter_mut().filter(|i| i.state == ItemState::Pending) {
        let target = &item.change.target;
        let live = http::get(client, target).await.map_err(|e| anyhow::anyhow!("reading {}: {e}", target.display()))?;
        let written = match (&item.change.op, &item.before, &live) {
            (Op::Delete { .. }, Some(_), None) => true,
            (_, None, Some(_)) => true,
            (_, Some(_), Some(_)) => rv(item.before.as_ref()) != rv(live.as_ref()),
            _ => false,
        };
        item.state = if written { ItemState::Applied } else { ItemState::Skipped };
        item.after = if written { live } else { None };
        item.error = Some("the apply was interrupted; settled against the cluster before undo".into());
        any = true;
    }
    Ok(any)
}
