//! Applying a preview: refuse what the preview says cannot or should not be sent, take the
//! cluster's apply lock, re-read every object and stop if what a change sets or depends on
//! moved since the preview, write the journal entry and sync it, then write each change in
//! order (`write.rs`: conditional on a fresh read, checked, retried only when safe),
//! recording each outcome before the next write, and stop at the first failure.

use super::http;
use super::journal::Journal;
use super::lock;
use super::write::{self, Item};
use crate::cluster::client::Connection;
use crate::plan::guard;
use crate::plan::{
    Action, ItemState, ItemStatus, JournalEntry, JournalItem, ObjRef, Op, Plan, Preview, PreviewItem, Severity, Undone,
};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Take over fields other managers own, for the items the preview showed as Conflict.
    pub force_conflicts: bool,
    /// Apply although the preview has error-level findings about the plan's own objects.
    pub allow_errors: bool,
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
    /// Forbidden, invalid or (without force) conflicting items, or error findings; the text
    /// names each.
    #[error("{0}")]
    Blocked(String),
    /// What these changes set or depend on moved in the cluster after the preview ("Kind
    /// NS/NAME: field is X, the preview showed Y"): preview again and confirm.
    #[error(
        "changed since the preview: {}; nothing was applied — preview the plan again and confirm the new diff",
        .0.join("; ")
    )]
    ChangedSincePreview(Vec<String>),
    #[error("read-only mode (--read-only): the plan was not applied")]
    ReadOnly,
    /// Another apply or undo to this cluster holds the lock.
    #[error(transparent)]
    Locked(#[from] lock::LockHeld),
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
                ItemState::Pending => format!("UNKNOWN      {what}: {}", i.error.as_deref().unwrap_or("")),
            };
            out.push_str(&line);
            out.push('\n');
            for n in &i.notes {
                out.push_str(&format!("             note: {n}\n"));
            }
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

/// What stops a preview from being applied as it is, one line per item or finding.
pub fn blockers(preview: &Preview, force_conflicts: bool, allow_errors: bool) -> Vec<String> {
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
    if !allow_errors {
        for f in preview.findings.iter().filter(|f| f.severity == Severity::Error) {
            let at = f.action.map(|a| format!(" (action {})", a + 1)).unwrap_or_default();
            out.push(format!("error{at}: {}; to apply anyway, confirm with --allow-errors", f.message));
        }
    }
    out
}

fn to_write(preview: &Preview) -> Vec<&PreviewItem> {
    preview.items.iter().filter(|i| i.status != ItemStatus::Unchanged).collect()
}

/// Who holds the apply lock, for a second apply to be told.
fn holder(conn: &Connection, plan: &Plan, user: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let what = match plan.actions.first() {
        Some(Action::Undo { entry }) => format!("undo of {entry}"),
        _ => format!("apply of {} action(s)", plan.actions.len()),
    };
    let on = if host.is_empty() { String::new() } else { format!(" on {host}") };
    format!(
        "meshdeck (pid {}{on}), user {user}, context {}, {what}, since {}",
        std::process::id(),
        conn.context,
        super::now_rfc3339()
    )
}

pub(super) struct Target<'a> {
    pub client: &'a kube::Client,
    pub conn: &'a Connection,
    pub journal: &'a Journal,
    /// The cluster's kube-system uid, when readable.
    pub cluster_uid: Option<String>,
}

pub(super) async fn apply(
    to: Target<'_>,
    plan: &Plan,
    preview: &Preview,
    opts: &ApplyOptions,
) -> anyhow::Result<ApplyReport> {
    let Target { client, conn, journal, cluster_uid } = to;
    if conn.read_only {
        return Err(ApplyRefusal::ReadOnly.into());
    }
    let blocked = blockers(preview, opts.force_conflicts, opts.allow_errors);
    if !blocked.is_empty() {
        return Err(ApplyRefusal::Blocked(format!("the plan cannot be applied:\n  {}", blocked.join("\n  "))).into());
    }
    let user = match http::whoami(client).await {
        Some(u) => u,
        None => conn.user.clone(),
    };
    let lock_path = lock::lock_path(journal.dir(), cluster_uid.as_deref().unwrap_or(&conn.server));
    let who = holder(conn, plan, &user);
    // Taking the lock may wait a moment for a holder to say who it is: off the async task.
    let _lock = tokio::task::spawn_blocking(move || lock::try_acquire(&lock_path, &who)).await???;
    let items = to_write(preview);
    let mut befores = Vec::with_capacity(items.len());
    let mut moved = Vec::new();
    let mut read: HashMap<&ObjRef, Option<Value>> = HashMap::new();
    for i in &items {
        // An object two changes write is read and checked once: its second preview read the
        // same state.
        let target = &i.change.target;
        if !read.contains_key(target) {
            let now =
                http::get(client, target).await.map_err(|e| anyhow::anyhow!("re-reading {}: {e}", target.display()))?;
            let m = guard::moved(&i.change.op, i.live.as_ref(), now.as_ref());
            if !m.is_empty() {
                moved.push(format!("{} ({})", target.display(), m.join("; ")));
            }
            read.insert(target, now);
        }
        befores.push(read[target].clone());
    }
    if !moved.is_empty() {
        return Err(ApplyRefusal::ChangedSincePreview(moved).into());
    }
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
        cluster_uid,
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
                notes: Vec::new(),
            })
            .collect(),
        undoes,
        undone: None,
    };
    journal.save(&entry)?;
    let tell = |ev: ApplyEvent| {
        if let Some(tx) = &opts.progress {
            let _ = tx.send(ev);
        }
    };
    tell(ApplyEvent::Journaled { id: entry.id.clone() });
    // What this apply itself last wrote to an object: the next change of the same object is
    // checked against that, not against the preview's read that it has since replaced.
    let mut written: HashMap<ObjRef, Option<Value>> = HashMap::new();
    let mut failed = false;
    for (index, item) in items.iter().enumerate() {
        if failed {
            entry.items[index].state = ItemState::Skipped;
            continue;
        }
        let target = &item.change.target;
        let seen = match written.get(target) {
            Some(after) => after.clone(),
            None => item.live.clone(),
        };
        let it = Item {
            index,
            target,
            op: &item.change.op,
            seen: seen.as_ref(),
            force: opts.force_conflicts && item.status == ItemStatus::Conflict,
        };
        if write::write(client, journal, &mut entry, it).await {
            let after = entry.items[index].after.clone();
            written.insert(target.clone(), if matches!(item.change.op, Op::Delete { .. }) { None } else { after });
            tell(ApplyEvent::Applied { index, target: target.clone() });
        } else {
            let error = entry.items[index].error.clone().unwrap_or_default();
            tell(ApplyEvent::Failed { index, target: target.clone(), error });
            failed = true;
        }
    }
    journal.save(&entry)?;
    let report =
        ApplyReport { journal_path: journal.path_of(&entry.id), entry, unchanged: preview.items.len() - items.len() };
    if let Some(undone) = report.entry.undoes.as_deref()
        && report.ok()
    {
        mark_undone(journal, undone, &report.entry)?;
    }
    Ok(report)
}

/// Records on an entry that `by` undid it, so a second undo says so instead of failing.
fn mark_undone(journal: &Journal, id: &str, by: &JournalEntry) -> anyhow::Result<()> {
    let mut e = journal.get(id)?;
    e.undone = Some(Undone { by: by.id.clone(), at: by.time.clone() });
    journal.save(&e)
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
        let b = blockers(&p, false, false);
        assert_eq!(
            b,
            vec![
                "PeerAuthentication rng/default (mtls STRICT): conflict: spec.mtls.mode owned by kubectl-client-side-apply; to take these fields over for meshdeck, confirm with --force-conflicts".to_string(),
                "PeerAuthentication rng/default (mtls STRICT): forbidden: may not patch PeerAuthentication rng/default: RBAC".to_string(),
            ]
        );
        assert_eq!(blockers(&p, true, false).len(), 1);
    }
}
