//! Filling a preview from the cluster: for each change of an expanded plan, the live object, an
//! access review for the verb, a server-side dry-run of exactly the body that will be sent, and
//! the diff of live against the dry-run result. Reads and dry-runs only; never writes.

use super::http::{self, Access, ApiError, Write};
use crate::cluster::client::Connection;
use crate::mesh::Snapshot;
use crate::plan::{self, Change, ItemStatus, JournalEntry, ObjRef, Op, Plan, Preview, PreviewItem};
use serde_json::Value;
use std::collections::HashMap;

/// The RBAC verb a change needs.
pub(super) fn verb_of(op: &Op, exists: bool) -> &'static str {
    match op {
        Op::Apply { .. } if !exists => "create",
        Op::Apply { .. } | Op::Patch { .. } => "patch",
        Op::Delete { .. } => "delete",
    }
}

pub(super) async fn preview(
    client: &kube::Client,
    conn: &Connection,
    plan: &Plan,
    snapshot: &Snapshot,
    journal: &[JournalEntry],
    now: &str,
) -> anyhow::Result<Preview> {
    let cx = plan::Context { snapshot, journal, now };
    let expanded = plan::expand(plan, &cx).map_err(anyhow::Error::msg)?;
    let mut reviews: HashMap<(String, ObjRef), Option<String>> = HashMap::new();
    let mut items = Vec::with_capacity(expanded.changes.len());
    let mut results = Vec::with_capacity(expanded.changes.len());
    for change in &expanded.changes {
        let item = preview_one(client, change, &mut reviews).await?;
        results.push((change.target.clone(), item.result.clone()));
        items.push(item);
    }
    // Preflight judges the objects as the dry-run says they will be.
    let findings = plan::preflight(snapshot, &expanded, &results, now);
    Ok(Preview::new(&conn.context, items, &expanded, findings))
}

fn blank(change: &Change, live: Option<Value>) -> PreviewItem {
    PreviewItem {
        change: change.clone(),
        managed_by: live.as_ref().and_then(plan::managed_by),
        live,
        result: None,
        diff: String::new(),
        status: ItemStatus::Invalid,
        conflicts: Vec::new(),
        error: None,
    }
}

fn refused(mut item: PreviewItem, e: &ApiError) -> PreviewItem {
    item.status = if e.code == 403 { ItemStatus::Forbidden } else { ItemStatus::Invalid };
    item.error = Some(format!("{}: {e}", item.change.target.display()));
    item
}

async fn preview_one(
    client: &kube::Client,
    change: &Change,
    reviews: &mut HashMap<(String, ObjRef), Option<String>>,
) -> anyhow::Result<PreviewItem> {
    let target = &change.target;
    let live = match http::get(client, target).await {
        Ok(v) => v,
        Err(e) if e.code == 403 => return Ok(refused(blank(change, None), &e)),
        Err(e) => anyhow::bail!("reading {}: {e}", target.display()),
    };
    // What will be sent keeps the fields earlier plans applied, or the apply would drop them.
    let mut change = change.clone();
    if let (Op::Apply { body }, Some(l)) = (&mut change.op, live.as_ref()) {
        plan::carry_owned(body, l, plan::FIELD_MANAGER);
    }
    let change = &change;
    let mut item = blank(change, live.clone());
    let verb = verb_of(&change.op, live.is_some());
    // RBAC may name single objects (resourceNames), so one review per object and verb.
    let key = (verb.to_string(), target.clone());
    let denied = match reviews.get(&key) {
        Some(d) => d.clone(),
        None => {
            let d = http::may(client, &Access { verb, target })
                .await
                .map_err(|e| anyhow::anyhow!("asking whether {verb} {} is allowed: {e}", target.display()))?;
            reviews.insert(key, d.clone());
            d
        }
    };
    if let Some(reason) = denied {
        item.status = ItemStatus::Forbidden;
        item.error = Some(format!("may not {verb} {}: {reason}", target.display()));
        return Ok(item);
    }
    let label = label_of(target);
    dry_run(client, change, item, &label).await.map_err(|e| {
        // Only the server's answer about the object says the plan is wrong; a server that
        // failed to answer says nothing, so the preview fails rather than show a refusal.
        anyhow::anyhow!(
            "the API server did not answer the dry-run of {} ({e}); nothing is known to be wrong with the plan: preview it again",
            target.display()
        )
    })
}

/// A refusal shown on the item; a transient failure is the caller's error.
fn refuse(item: PreviewItem, e: ApiError) -> Result<PreviewItem, ApiError> {
    if e.is_transient() { Err(e) } else { Ok(refused(item, &e)) }
}

/// The dry-run of one change, filling `item`; the error is the API's when it refused.
async fn dry_run(
    client: &kube::Client,
    change: &Change,
    mut item: PreviewItem,
    label: &str,
) -> Result<PreviewItem, ApiError> {
    let target = &change.target;
    let live = item.live.clone();
    match &change.op {
        Op::Apply { body } => match http::apply(client, target, body, false, Write::DryRun).await {
            Ok(result) => {
                item.status = compare(live.as_ref(), &result);
                item.diff = plan::unified(live.as_ref(), Some(&result), label);
                item.result = Some(result);
            }
            Err(e) if e.code == 409 && !e.conflicts().is_empty() => {
                item.conflicts = e.conflicts();
                item.error = Some(format!("{}: {}", target.display(), e.message));
                item.status = ItemStatus::Conflict;
                // Forced, only to show what taking the fields over would give.
                match http::apply(client, target, body, true, Write::DryRun).await {
                    Ok(result) => {
                        item.diff = plan::unified(live.as_ref(), Some(&result), label);
                        item.result = Some(result);
                    }
                    Err(e) => return refuse(item, e),
                }
            }
            Err(e) => return refuse(item, e),
        },
        Op::Patch { ops } => match http::json_patch(client, target, ops, Write::DryRun).await {
            Ok(result) => {
                item.status = compare(live.as_ref(), &result);
                item.diff = plan::unified(live.as_ref(), Some(&result), label);
                item.result = Some(result);
            }
            Err(e) if e.code == 404 => {
                item.status = ItemStatus::Invalid;
                item.error = Some(format!("{}: does not exist, so it cannot be patched", target.display()));
            }
            Err(e) => return refuse(item, e),
        },
        Op::Delete { uid } => {
            if live.is_none() {
                item.status = ItemStatus::Unchanged;
                return Ok(item);
            }
            match http::delete(client, target, uid.as_deref(), Write::DryRun).await {
                Ok(_) => {
                    item.status = ItemStatus::Delete;
                    item.diff = plan::unified(live.as_ref(), None, label);
                }
                Err(e) if e.code == 409 => {
                    item.status = ItemStatus::Invalid;
                    item.error = Some(format!(
                        "{}: it is no longer the object meshdeck created ({}); not deleting it",
                        target.display(),
                        e.message
                    ));
                }
                Err(e) => return refuse(item, e),
            }
        }
    }
    Ok(item)
}

fn label_of(r: &ObjRef) -> String {
    let kind = r.kind.to_ascii_lowercase();
    if r.namespace.is_empty() { format!("{kind}/{}", r.name) } else { format!("{kind}/{}/{}", r.namespace, r.name) }
}

fn compare(live: Option<&Value>, result: &Value) -> ItemStatus {
    match live {
        None => ItemStatus::Create,
        Some(l) if plan::for_display(l) == plan::for_display(result) => ItemStatus::Unchanged,
        Some(_) => ItemStatus::Change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verbs_and_statuses() {
        let apply = Op::Apply { body: json!({}) };
        assert_eq!(verb_of(&apply, false), "create");
        assert_eq!(verb_of(&apply, true), "patch");
        assert_eq!(verb_of(&Op::Patch { ops: vec![] }, true), "patch");
        assert_eq!(verb_of(&Op::Delete { uid: None }, true), "delete");
        let live = json!({"metadata": {"name": "a", "resourceVersion": "1"}, "spec": {"x": 1}});
        let same = json!({"metadata": {"name": "a", "resourceVersion": "1"}, "spec": {"x": 1}});
        let other = json!({"metadata": {"name": "a", "resourceVersion": "1"}, "spec": {"x": 2}});
        assert_eq!(compare(None, &same), ItemStatus::Create);
        assert_eq!(compare(Some(&live), &same), ItemStatus::Unchanged);
        assert_eq!(compare(Some(&live), &other), ItemStatus::Change);
    }
}
