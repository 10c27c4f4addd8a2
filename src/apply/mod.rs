//! The engine: the one shell between a plan and the cluster, used alike by the terminal UI and
//! the headless commands. It previews a plan (expansion against a fresh snapshot, access
//! reviews, server-side dry-runs of exactly what will be sent, diffs, preflight), applies a
//! preview (journal first, then each write in order, stopping at the first failure), keeps the
//! journal, and waits for rollouts. The rules of what a plan means live in `plan/`; nothing
//! here decides what to change, only how to send it safely.
//!
//! The API the UI calls:
//! - [`Engine::new`] with a client from `cluster::client::connect_with` and its `Connection`;
//! - [`Engine::snapshot`], or reuse the UI's live snapshot with [`Engine::preview_with`];
//! - [`Engine::preview`] → [`Preview`] (every item keeps the exact body that will be sent);
//! - [`Engine::apply`] with [`ApplyOptions`] → [`ApplyReport`], or an [`ApplyRefusal`]
//!   (downcast from the `anyhow::Error`) when the preview must be shown again;
//! - [`Engine::wait_rollouts`] after an apply that restarted workloads;
//! - [`Engine::journal`] for the list of entries and `undo` (a plan with one `Undo` action).

pub mod http;
pub mod journal;
pub mod lock;
mod preview;
mod recover;
mod run;
mod wait;
mod write;

pub use journal::Journal;
pub use run::{ApplyEvent, ApplyOptions, ApplyRefusal, ApplyReport, blockers};
pub use wait::RolloutProgress;

use crate::cluster::client::Connection;
use crate::mesh::Snapshot;
use crate::plan::{Action, Plan, Preview};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The journal's directory; `None` for [`journal::default_dir`].
    pub journal_dir: Option<PathBuf>,
    /// How long [`Engine::snapshot`] waits for every kind to list.
    pub sync_timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { journal_dir: None, sync_timeout: Duration::from_secs(120) }
    }
}

pub struct Engine {
    client: kube::Client,
    conn: Connection,
    journal: Journal,
    opts: EngineOptions,
    /// The cluster's kube-system uid, read once; `None` inside when RBAC hides it.
    cluster_uid: tokio::sync::OnceCell<Option<String>>,
}

impl Engine {
    /// An engine for one connection; opens (creates) the journal directory.
    pub fn new(client: kube::Client, conn: Connection, opts: EngineOptions) -> anyhow::Result<Engine> {
        let dir = match &opts.journal_dir {
            Some(d) => d.clone(),
            None => journal::default_dir()?,
        };
        Ok(Engine { client, conn, journal: Journal::open(dir)?, opts, cluster_uid: Default::default() })
    }

    /// The cluster's identity: the uid of its kube-system namespace, which survives a change of
    /// address or context name and differs between two clusters at one address. `None` when
    /// it cannot be read (RBAC); callers then fall back to the server address.
    pub async fn cluster_uid(&self) -> Option<String> {
        self.cluster_uid
            .get_or_init(|| async {
                let ns = crate::plan::ObjRef::new("v1", "Namespace", "", "kube-system");
                match http::get(&self.client, &ns).await {
                    Ok(Some(v)) => v.pointer("/metadata/uid").and_then(serde_json::Value::as_str).map(String::from),
                    Ok(None) => None,
                    Err(e) => {
                        tracing::info!("the cluster's identity (kube-system uid) cannot be read: {e}");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// The journal's entries for this cluster (every cluster's with `all`), oldest first.
    pub async fn entries(&self, all: bool) -> anyhow::Result<Vec<crate::plan::JournalEntry>> {
        if all {
            return self.list().await;
        }
        let uid = self.cluster_uid().await;
        self.entries_of(uid.as_deref()).await
    }

    /// The journal's entries of the cluster with kube-system uid `uid` at this engine's server
    /// (by the server alone when `uid` is unknown), oldest first.
    pub async fn entries_of(&self, uid: Option<&str>) -> anyhow::Result<Vec<crate::plan::JournalEntry>> {
        let mut entries = self.list().await?;
        entries.retain(|e| e.is_of_cluster(&self.conn.server, uid));
        Ok(entries)
    }

    /// Every entry, read off the async task: a journal is a directory of files.
    async fn list(&self) -> anyhow::Result<Vec<crate::plan::JournalEntry>> {
        let journal = self.journal.clone();
        tokio::task::spawn_blocking(move || journal.list()).await?
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// A one-shot snapshot of every kind the mesh model reads.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let live = crate::cluster::live::Live::start(self.client.clone(), self.conn.context.clone());
        live.synced(self.opts.sync_timeout)
            .await
            .map_err(|e| anyhow::anyhow!("{e} (context {}, {})", self.conn.context, self.conn.server))?;
        let snap = live.snapshot();
        let guard = snap.read().unwrap_or_else(|e| e.into_inner());
        Ok(guard.clone())
    }

    /// Previews `plan` against a fresh snapshot. See [`Engine::preview_with`].
    pub async fn preview(&self, plan: &Plan) -> anyhow::Result<Preview> {
        let snap = self.snapshot().await?;
        self.preview_with(plan, &snap).await
    }

    /// Previews `plan` against `snapshot` (the UI passes its live one): expands it, then per
    /// change reads the live object, asks whether the user may write it, dry-runs exactly what
    /// will be sent and diffs live against the dry-run result. Errors are for a plan that does
    /// not expand or a cluster that cannot be reached; a change the server would refuse is an
    /// item with status Forbidden, Invalid or Conflict.
    pub async fn preview_with(&self, plan: &Plan, snapshot: &Snapshot) -> anyhow::Result<Preview> {
        let undone: Vec<&str> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Undo { entry } => Some(entry.as_str()),
                _ => None,
            })
            .collect();
        // Only this cluster's entries can be undone here; `last` is this cluster's last.
        let (mut entries, uid) = if undone.is_empty() {
            (Vec::new(), None)
        } else {
            let uid = self.cluster_uid().await;
            (self.list().await?, uid)
        };
        if let Some(e) = entries
            .iter()
            .find(|e| undone.contains(&e.id.as_str()) && !e.is_of_cluster(&self.conn.server, uid.as_deref()))
        {
            let ident = |server: &str, uid: Option<&str>| match uid {
                Some(u) => format!("{server}, kube-system uid {u}"),
                None => server.to_string(),
            };
            anyhow::bail!(
                "journal entry {} was applied to another cluster ({}), not to this one ({}); undo it with a context of that cluster",
                e.id,
                ident(&e.server, e.cluster_uid.as_deref()),
                ident(&self.conn.server, uid.as_deref()),
            );
        }
        entries.retain(|e| e.is_of_cluster(&self.conn.server, uid.as_deref()));
        // An apply killed midway left Pending items: settle them before their inverse is made.
        let last = entries.last().map(|e| e.id.clone());
        let named = |e: &crate::plan::JournalEntry| {
            undone.contains(&e.id.as_str()) || (undone.contains(&"last") && Some(&e.id) == last.as_ref())
        };
        for e in entries.iter_mut().filter(|e| named(e)) {
            recover::settle(&self.client, e).await?;
        }
        // What an earlier undo that stopped part way already put back is not put back twice.
        let partial = entries.clone();
        for e in entries.iter_mut().filter(|e| named(e)) {
            crate::plan::forget_undone(e, &partial);
        }
        preview::preview(&self.client, &self.conn, plan, snapshot, &entries, &now_rfc3339()).await
    }

    /// Applies a preview of `plan` (see [`run`] for the guarantees).
    pub async fn apply(&self, plan: &Plan, preview: &Preview, opts: &ApplyOptions) -> anyhow::Result<ApplyReport> {
        let to = run::Target {
            client: &self.client,
            conn: &self.conn,
            journal: &self.journal,
            cluster_uid: self.cluster_uid().await,
        };
        run::apply(to, plan, preview, opts).await
    }

    /// Waits until every workload an apply changed has rolled out, reporting each step.
    pub async fn wait_rollouts(
        &self,
        report: &ApplyReport,
        timeout: Duration,
        progress: &mut (dyn FnMut(&RolloutProgress) + Send),
    ) -> anyhow::Result<()> {
        wait::wait(&self.client, report, timeout, progress).await
    }
}

/// The current time as RFC 3339 UTC to the second, as plans and journals store it.
pub fn now_rfc3339() -> String {
    format_utc(time::OffsetDateTime::now_utc(), false)
}

/// `2026-11-27T01:30:00Z`, or `20261127T013000.042Z` when `compact`: journal ids sort by time,
/// and two applies within one second still sort in order.
pub fn format_utc(t: time::OffsetDateTime, compact: bool) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    if compact {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    } else {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_format_as_stored() {
        let t = time::macros::datetime!(2026-11-27 01:30:05.042 +2);
        assert_eq!(super::format_utc(t, false), "2026-11-26T23:30:05Z");
        assert_eq!(super::format_utc(t, true), "20261126T233005.042Z");
    }
}
