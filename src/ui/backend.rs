//! What the terminal UI needs from the apply engine, as a small trait: compute a preview, apply
//! a preview, read the journal. The run loop calls it from spawned tasks, never from the render
//! path; the app state only sees the results as messages. `make_backend` is the one place that
//! picks the implementation for a connection: the apply engine, or `Unavailable` (which says
//! why) when the engine cannot start, e.g. without a directory for its journal.

use crate::cluster::client::Connection;
use crate::mesh::Snapshot;
use crate::plan::{JournalEntry, Plan, Preview};
use futures::future::BoxFuture;
use std::sync::{Arc, RwLock};

/// How an apply is run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Take over fields other field managers own (server-side apply with force). Only set when
    /// the operator chose it in the confirmation.
    pub force_conflicts: bool,
    /// Apply past error findings about the plan's own objects; set only after the operator
    /// confirmed a second time.
    pub allow_errors: bool,
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
    /// Applies exactly what `preview` (of `plan`) showed, journaled, in order.
    fn apply(
        &self,
        plan: Plan,
        preview: Preview,
        options: ApplyOptions,
    ) -> BoxFuture<'static, Result<ApplyOutcome, ApplyError>>;
    /// Journal entries, newest first.
    fn journal(&self) -> BoxFuture<'static, Result<Vec<JournalEntry>, String>>;
}

/// The backend for a connection: the engine on the connection's client (which refuses writes
/// itself under `--read-only`), previewing against the UI's live `snapshot`.
pub fn make_backend(client: &kube::Client, conn: &Connection, snapshot: Arc<RwLock<Snapshot>>) -> Arc<dyn PlanBackend> {
    match crate::apply::Engine::new(client.clone(), conn.clone(), Default::default()) {
        Ok(engine) => Arc::new(crate::ui::engine_backend::EngineBackend::new(engine, snapshot)),
        Err(e) => Arc::new(Unavailable(format!("the apply engine did not start: {e:#}"))),
    }
}

/// Answers every request with why there is no engine, so staging still works.
pub struct Unavailable(pub String);

impl PlanBackend for Unavailable {
    fn preview(&self, _: Plan) -> BoxFuture<'static, Result<Preview, String>> {
        let why = self.0.clone();
        Box::pin(async move { Err(why) })
    }
    fn apply(&self, _: Plan, _: Preview, _: ApplyOptions) -> BoxFuture<'static, Result<ApplyOutcome, ApplyError>> {
        let why = self.0.clone();
        Box::pin(async move { Err(ApplyError::Failed(why)) })
    }
    fn journal(&self) -> BoxFuture<'static, Result<Vec<JournalEntry>, String>> {
        let why = self.0.clone();
        Box::pin(async move { Err(why) })
    }
}
