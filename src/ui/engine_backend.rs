//! The apply engine behind the UI's `PlanBackend`: previews against the UI's live snapshot (a
//! copy taken off the UI task, so the engine never waits for a second sync), applies through
//! `apply::Engine`, reads its journal, and turns its reports and refusals into the UI's words.

use crate::apply::{ApplyRefusal, ApplyReport, Engine};
use crate::mesh::Snapshot;
use crate::plan::{ItemState, JournalEntry, Plan, Preview};
use crate::ui::backend::{ApplyError, ApplyOptions, ApplyOutcome, PlanBackend};
use futures::future::BoxFuture;
use std::sync::{Arc, RwLock};

pub struct EngineBackend {
    engine: Arc<Engine>,
    snapshot: Arc<RwLock<Snapshot>>,
}

impl EngineBackend {
    pub fn new(engine: Engine, snapshot: Arc<RwLock<Snapshot>>) -> EngineBackend {
        EngineBackend { engine: Arc::new(engine), snapshot }
    }
}

/// The apply's journal entry, item by item, as the rollout screen lists it.
pub fn outcome(report: &ApplyReport) -> ApplyOutcome {
    let mut out = ApplyOutcome { entry: Some(report.entry.id.clone()), ..ApplyOutcome::default() };
    for i in &report.entry.items {
        let what = format!("{} ({})", i.change.target.display(), i.change.why);
        match i.state {
            ItemState::Applied => out.applied.push(what),
            ItemState::Failed => out.not_applied.push((what, i.error.clone().unwrap_or_else(|| "failed".into()))),
            ItemState::Skipped => out.not_applied.push((what, "not sent: an earlier change failed".into())),
            ItemState::Pending => out.not_applied.push((what, "unknown: the write did not report back".into())),
        }
    }
    out
}

fn apply_error(e: anyhow::Error) -> ApplyError {
    match e.downcast_ref::<ApplyRefusal>() {
        Some(ApplyRefusal::ChangedSincePreview(objs)) => ApplyError::ChangedSincePreview(objs.join(", ")),
        Some(ApplyRefusal::ReadOnly) => ApplyError::ReadOnly,
        Some(ApplyRefusal::Blocked(m)) => ApplyError::Failed(format!("nothing was applied: {m}")),
        Some(ApplyRefusal::Locked(held)) => ApplyError::Failed(format!("nothing was applied: {held}")),
        None => ApplyError::Failed(format!("{e:#}")),
    }
}

impl PlanBackend for EngineBackend {
    fn preview(&self, plan: Plan) -> BoxFuture<'static, Result<Preview, String>> {
        let (engine, snapshot) = (self.engine.clone(), self.snapshot.clone());
        Box::pin(async move {
            let snap = tokio::task::spawn_blocking(move || snapshot.read().unwrap_or_else(|e| e.into_inner()).clone())
                .await
                .map_err(|e| e.to_string())?;
            engine.preview_with(&plan, &snap).await.map_err(|e| format!("{e:#}"))
        })
    }

    fn apply(
        &self,
        plan: Plan,
        preview: Preview,
        options: ApplyOptions,
    ) -> BoxFuture<'static, Result<ApplyOutcome, ApplyError>> {
        let engine = self.engine.clone();
        Box::pin(async move {
            let opts = crate::apply::ApplyOptions {
                force_conflicts: options.force_conflicts,
                allow_errors: options.allow_errors,
                progress: None,
            };
            engine.apply(&plan, &preview, &opts).await.map(|r| outcome(&r)).map_err(apply_error)
        })
    }

    fn journal(&self) -> BoxFuture<'static, Result<Vec<JournalEntry>, String>> {
        let engine = self.engine.clone();
        Box::pin(async move {
            // Only this cluster's: an entry of another cluster cannot be undone here.
            let mut entries = engine.entries(false).await.map_err(|e| format!("{e:#}"))?;
            entries.reverse(); // newest first
            Ok(entries)
        })
    }
}
