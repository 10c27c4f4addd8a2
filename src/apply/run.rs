//! Applying a preview: refuse what the preview says cannot or should not be sent, re-read every
//! object and stop if one changed since the preview, write the journal entry and sync it, then
//! send each change in order with field manager `meshdeck`, recording each outcome before the
//! next write, and stop at the first failure.

use super::http::{self, Write};
use super::journal::Journal;
use crate::cluster::client::Connection;
use crate::plan::{Action, ItemState, ItemStatus, JournalEntry, JournalItem, ObjRef, Op, Plan, Preview, PreviewItem};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Take over fields other managers own, for the items the preview showed as Conflict.
    pub force_conflicts: bool,
    /// Told of each step as it happens (the UI's progress line).
    pub progress: Option<tokio::sync::mpsc::UnboundedSender<ApplyEvent>>,
}

/// One step of an apply, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyEvent {
    /// The journal entry is on disk; writes start.
    Journaled {
        id: String,
    },
    Applied {
        index: usize,
        target: ObjRef,
    },
    Failed {
        index: usize,
        target: ObjRef,
        error: String,
    },
}

/// Why an apply did not start. Nothing was written when one of these is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyRefusal {
    /// Forbidden, invalid or (without force) conflicting items; the text names each.
    #[error("{0}")]
    Blocked(String),
    /// These objects changed in the cluster after the preview: preview again and confirm.
    #[error(
        "changed since the preview: {}; nothing was applied — preview the plan again and confirm the new diff",
        .0.join(", ")
    )]
    ChangedSincePreview(Vec<String>),
    #[error("read-only mode (--read-only): the plan was not applied")]
    ReadOnly,
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyReport {
    pub entry: JournalEntry,
    pub journal_path: std::path::PathBuf,
    /// Items the preview showed as Unchanged: nothing sent.
    pub unchanged: usize,
}

impl ApplyReport {
    /// True when every change was applied.
    pub fn ok(&self) -> bool {
        self.entry.items.iter().all(|i| i.state == ItemState::Applied)
    }

    /// Lines stating what was and was not applied.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for i in &self.entry.items {
            let what = format!("{} ({})", i.change.target.display(), i.change.why);
            let line = match i.state {
                ItemState::Applied => format!("applied      {what}"),
                ItemState::Failed => format!("FAILED       {what}: {}", i.error.as_deref().unwrap_or("")),
                ItemState::Skipped => format!("not applied  {what}"),
                ItemState::Pending => format!("unknown      {what}"),
            };
            out.push_str(&line);
            out.push('\n');
        }
        let applied = self.entry.items.iter().filter(|i| i.state == ItemState::Applied).count();
        let total = self.entry.items.len();
        if self.ok() {
            out.push_str(&format!("{applied} of {total} changes applied"));
        } else {
            out.push_str(&format!(
                "stopped at the first failure: {applied} of {total} changes applied, the rest not sent"
            ));
        }
        if self.unchanged > 0 {
            out.push_str(&format!(", {} unchanged", self.unchanged));
        }
        out.push_str(&format!("; journal entry {} ({})\n", self.entry.id, self.journal_path.display()));
        out
    }
}

fn rv(v: Option<&Value>) -> Option<&str> {
    v.and_then(|v| v.pointer("/metadata/resourceVersion")).and_then(Value::as_str)
}

/// What stops a preview from being applied as it is, one line per item.
pub fn blockers(preview: &Preview, force_conflicts: bool) -> Vec<String> {
    let mut out = Vec::new();
    for i in &preview.items {
        let what = format!("{} ({})", i.change.target.display(), i.change.why);
        match i.status {
            ItemStatus::Forbidden => {
                out.push(format!("{what}: forbidden: {}", i.error.as_deref().unwrap_or("access denied")))
            }
            ItemStatus::Invalid => {
                out.push(format!("{what}: refused by the API server: {}", i.error.as_deref().unwrap_or("")))
            }
            ItemStatus::Conflict if !force_conflicts => out.push(format!(
                "{what}: conflict: {}; to take these fields over for meshdeck, confirm with --force-conflicts",
                i.conflicts.join(", ")
            )),
            _ => {}
        }
    }
    out
}

fn to_write(preview: &Preview) -> Vec<&PreviewItem> {
    preview.items.iter().filter(|i| i.status != ItemStatus::Unchanged).collect()
}

pub(super) async fn apply(
    client: &kube::Client,
    conn: &Connection,
    journal: &Journal,
    plan: &Plan,
    preview: &Preview,
    opts: &ApplyOptions,
) -> anyhow::Result<ApplyReport> {
    if conn.read_only {
        return Err(ApplyRefusal::ReadOnly.into());
    }
    let blocked = blockers(preview, opts.force_conflicts);
    if !blocked.is_empty() {
        return Err(ApplyRefusal::Blocked(format!("the plan cannot be applied:\n  {}", blocked.join("\n  "))).into());
    }
    let items = to_write(preview);
    let mut befores = Vec::with_capacity(items.len());
    let mut moved = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for i in &items {
        let now = http::get(client, &i.change.target)
            .await
            .map_err(|e| anyhow::anyhow!("re-reading {}: {e}", i.change.target.display()))?;
        let was = rv(i.live.as_ref());
        // An object two changes write is compared once: its second preview read the same version.
        if seen.insert(i.change.target.clone()) && rv(now.as_ref()) != was {
            moved.push(i.change.target.display());
        }
        befores.push(now);
    }
    if !moved.is_empty() {
        moved.dedup();
        return Err(ApplyRefusal::ChangedSincePreview(moved).into());
    }
    let user = match http::whoami(client).await {
        Some(u) => u,
        None => conn.user.clone(),
    };
    let now = time::OffsetDateTime::now_utc();
    let undoes = plan.actions.iter().find_map(|a| match a {
        Action::Undo { entry } => Some(entry.clone()),
        _ => None,
    });
    let mut entry = JournalEntry {
        id: format!("{}-{}", super::format_utc(now, true), suffix()),
        time: super::format_utc(now, false),
        context: conn.context.clone(),
        server: conn.server.clone(),
        user,
        plan: plan.clone(),
        items: items
            .iter()
            .zip(befores)
            .map(|(i, before)| JournalItem {
                change: i.change.clone(),
                before,
                after: None,
                state: ItemState::Pending,
                error: None,
            })
            .collect(),
        undoes,
    };
    journal.save(&entry)?;
    let tell = |ev: ApplyEvent| {
        if let Some(tx) = &opts.progress {
            let _ = tx.send(ev);
        }
    };
    tell(ApplyEvent::Journaled { id: entry.id.clone() });
    let mut failed = false;
    for (index, item) in items.iter().enumerate() {
        if failed {
            entry.items[index].state = ItemState::Skipped;
            continue;
        }
        let target = &item.change.target;
        let result = match &item.change.op {
            Op::Apply { body } => {
                let force = opts.force_conflicts && item.status == ItemStatus::Conflict;
                http::apply(client, target, body, force, Write::Real).await.map(Some)
            }
            Op::Patch { ops } => http::json_patch(client, target, ops, Write::Real).await.map(Some),
            Op::Delete { uid } => http::delete(client, target, uid.as_deref(), Write::Real).await.map(|_| None),
        };
        match result {
            Ok(after) => {
                entry.items[index].state = ItemState::Applied;
                entry.items[index].after = after;
                tell(ApplyEvent::Applied { index, target: target.clone() });
            }
            Err(e) => {
                let msg = if e.code == 409 && !e.conflicts().is_empty() {
                    format!(
                        "{}: a conflict that was not in the preview: {}; preview again",
                        target.display(),
                        e.conflicts().join(", ")
                    )
                } else {
                    format!("{}: {e}", target.display())
                };
                entry.items[index].state = ItemState::Failed;
                entry.items[index].error = Some(msg.clone());
                tell(ApplyEvent::Failed { index, target: target.clone(), error: msg });
                failed = true;
            }
        }
        // The outcome is on disk before the next write.
        journal.save(&entry)?;
    }
    journal.save(&entry)?;
    Ok(ApplyReport { journal_path: journal.path_of(&entry.id), entry, unchanged: preview.items.len() - items.len() })
}

fn suffix() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    (0..4).map(|_| char::from(b"0123456789abcdef"[r.random_range(0..16)])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Change, Expanded};
    use serde_json::json;

    fn item(status: ItemStatus, conflicts: &[&str], error: Option<&str>) -> PreviewItem {
        PreviewItem {
            change: Change {
                target: ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default"),
                op: Op::Apply { body: json!({}) },
                action: 0,
                why: "mtls STRICT".into(),
            },
            live: None,
            result: None,
            diff: String::new(),
            status,
            conflicts: conflicts.iter().map(|s| s.to_string()).collect(),
            error: error.map(str::to_string),
            managed_by: None,
        }
    }

    #[test]
    fn blockers_name_the_object_and_the_way_out() {
        let p = Preview::new(
            "sim-admin",
            vec![
                item(ItemStatus::Change, &[], None),
                item(ItemStatus::Conflict, &["spec.mtls.mode owned by kubectl-client-side-apply"], None),
                item(ItemStatus::Forbidden, &[], Some("may not patch PeerAuthentication rng/default: RBAC")),
            ],
            &Expanded::default(),
            Vec::new(),
        );
        let b = blockers(&p, false);
        assert_eq!(
            b,
            vec![
                "PeerAuthentication rng/default (mtls STRICT): conflict: spec.mtls.mode owned by kubectl-client-side-apply; to take these fields over for meshdeck, confirm with --force-conflicts".to_string(),
                "PeerAuthentication rng/default (mtls STRICT): forbidden: may not patch PeerAuthentication rng/default: RBAC".to_string(),
            ]
        );
        assert_eq!(blockers(&p, true).len(), 1);
    }
}
