//! Background work for the plan screens: previews, applies and journal reads run as spawned
//! tasks against the `PlanBackend`, and their results come back to the run loop on one channel
//! as `TaskResult`s. Preview diffs are highlighted here, off the UI task. Also the plan file:
//! read at start, written (atomically) after each change.

use crate::plan::{Plan, Preview};
use crate::ui::app::TaskResult;
use crate::ui::backend::{ApplyOptions, PlanBackend};
use crate::ui::highlight;
use crate::ui::theme::Theme;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::mpsc;

pub struct Tasks {
    tx: mpsc::UnboundedSender<TaskResult>,
    pub rx: mpsc::UnboundedReceiver<TaskResult>,
    cache: highlight::Cache,
    theme: Arc<Theme>,
}

impl Tasks {
    pub fn new(theme: Theme) -> Tasks {
        let (tx, rx) = mpsc::unbounded_channel();
        Tasks { tx, rx, cache: highlight::Cache::default(), theme: Arc::new(theme) }
    }

    pub fn preview(&self, backend: Arc<dyn PlanBackend>, plan: Plan, generation: u64) {
        let (tx, cache, theme) = (self.tx.clone(), self.cache.clone(), self.theme.clone());
        tokio::spawn(async move {
            let result = backend.preview(plan).await;
            let lines = match &result {
                Ok(p) => highlight_all(p, cache, theme).await,
                Err(_) => Vec::new(),
            };
            let _ = tx.send(TaskResult::Previewed { generation, result, lines });
        });
    }

    pub fn apply(&self, backend: Arc<dyn PlanBackend>, plan: Plan, preview: Preview, options: ApplyOptions) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(TaskResult::Applied(backend.apply(plan, preview, options).await));
        });
    }

    pub fn journal(&self, backend: Arc<dyn PlanBackend>) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(TaskResult::Journal(backend.journal().await));
        });
    }
}

async fn highlight_all(
    p: &Preview,
    cache: highlight::Cache,
    theme: Arc<Theme>,
) -> Vec<crate::ui::app::plan_state::Highlighted> {
    let diffs: Vec<String> = p.items.iter().map(|i| i.diff.clone()).collect();
    tokio::task::spawn_blocking(move || diffs.iter().map(|d| cache.get(d, &theme)).collect()).await.unwrap_or_default()
}

/// Reads the plan file; a missing file is an empty plan.
pub fn load_plan(path: &Path) -> Result<Plan, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Plan::from_yaml(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Plan::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes the plan file through a temporary file and a rename, so a reader (a headless
/// `meshdeck diff` in another terminal) never sees half a plan.
pub fn save_plan(path: &Path, plan: &Plan) -> Result<(), String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, plan.to_yaml())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, MtlsMode, Target};

    #[test]
    fn the_plan_file_round_trips_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meshdeck-plan.yaml");
        assert_eq!(load_plan(&path).unwrap(), Plan::default());
        let mut plan = Plan::default();
        plan.actions.push(Action::Mtls { target: Target::Namespace("rng".into()), mode: MtlsMode::Strict });
        save_plan(&path, &plan).unwrap();
        assert_eq!(load_plan(&path).unwrap(), plan);
        std::fs::write(&path, "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions: [{action: frob}]\n").unwrap();
        let err = load_plan(&path).unwrap_err();
        assert!(err.starts_with(&format!("{}:", path.display())), "{err}");
    }
}
