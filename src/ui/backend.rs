//! What the terminal UI needs from the apply engine, as a small trait: compute a preview, apply
//! a preview, read the journal. The run loop calls it from spawned tasks, never from the render
//! path; the app state only sees the results as messages. `make_backend` is the one place that
//! picks the implementation for a connection; until the engine is wired there it answers with
//! `Unavailable`, which says so instead of pretending.

use crate::cluster::client::Connection;
use crate::plan::{JournalEntry, Plan, Preview};
use futures::future::BoxFuture;
use std::sync::Arc;

/// How an apply is run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Take over fields other field managers own (server-side apply with force). Only set when
    /// the operator chose it in the confirmation.
    pub force_conflicts: bool,
}

/// What an apply did, in the words the rollout screen shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// The journal entry written for this apply.
    pub entry: Option<String>,
    /// "PeerAuthentication rng/default", in the order they were written.
    pub applied: Vec<String>,
    /// Objects not written, each with why (the failure, or "not attempted").
    pub not_applied: Vec<(String, String)>,
}

impl ApplyOutcome {
    pub fn complete(&self) -> bool {
        self.not_applied.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// A staged object changed in the cluster since the preview; nothing was written.
    ChangedSincePreview(String),
    /// The session is read-only; nothing was sent.
    ReadOnly,
    /// The apply could not start or stopped; the message says what was and was not applied.
    Failed(String),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::ChangedSincePreview(m) => write!(f, "changed since the preview: {m}"),
            ApplyError::ReadOnly => f.write_str("this session is read-only (--read-only): nothing was sent"),
            ApplyError::Failed(m) => f.write_str(m),
        }
    }
}

/// The engine as the UI sees it. Implementations own their client and journal; every method
/// returns a future the run loop spawns, so none of them may block.
pub trait PlanBackend: Send + Sync {
    /// Expands the plan and dry-runs every object against the API server.
    fn preview(&self, plan: Plan) -> BoxFuture<'static, Result<Preview, String>>;
    /// Applies exactly what `preview` showed, journaled, in order.
    fn apply(&self, preview: Preview, options: ApplyOptions) -> BoxFuture<'static, Result<ApplyOutcome, ApplyError>>;
    /// Journal entries, newest first.
    fn journal(&self) -> BoxFuture<'static, Result<Vec<JournalEntry>, String>>;
}

/// The backend for a connection. The lead wires the engine here
/// (`apply::Engine::new(client, conn, read_only)` behind this trait).
pub fn make_backend(client: &kube::Client, conn: &Connection, read_only: bool) -> Arc<dyn PlanBackend> {
    let _ = (client, conn, read_only);
    Arc::new(Unavailable)
}

/// Answers every request with "not in this build", so the screens still work for staging.
pub struct Unavailable;

const UNAVAILABLE: &str = "the apply engine is not part of this build: the plan can be staged and saved, not previewed";

impl PlanBackend for Unavailable {
    fn preview(&self, _: Plan) -> BoxFuture<'static, Result<Preview, String>> {
        Box::pin(async { Err(UNAVAILABLE.to_string()) })
    }
    fn apply(&self, _: Preview, _: ApplyOptions) -> BoxFuture<'static, Result<ApplyOutcome, ApplyError>> {
        Box::pin(async { Err(ApplyError::Failed(UNAVAILABLE.to_string())) })
    }
    fn journal(&self) -> BoxFuture<'static, Result<Vec<JournalEntry>, String>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
