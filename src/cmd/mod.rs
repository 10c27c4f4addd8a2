//! The headless commands (`stage`, `diff`, `apply`, `undo`, `journal`, `export`): argument
//! handling, prompts and printing around the same engine the terminal UI uses. Each returns
//! the process exit code; errors (exit 2) are returned as `anyhow::Error`.

mod apply;
mod export;
pub mod health;
mod journal;
pub mod render;
mod stage;

pub use apply::{run_apply, run_undo};
pub use export::run_export;
pub use health::HealthExit;
pub use journal::run_journal;
pub use stage::run_stage;

use crate::apply::{Engine, EngineOptions};
use crate::cli::{DiffArgs, DiffFormat, GlobalArgs};
use crate::plan::Plan;
use anyhow::Context;
use std::io::IsTerminal;
use std::path::Path;

/// Exit codes of `diff` (and errors everywhere).
pub const EXIT_NO_CHANGES: u8 = 0;
pub const EXIT_CHANGES: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Reads a plan file; a missing file is an empty plan only when `missing_ok`.
pub fn load_plan(path: &Path, missing_ok: bool) -> anyhow::Result<Plan> {
    match std::fs::read_to_string(path) {
        Ok(text) => Plan::from_yaml(&text, &path.display().to_string()).map_err(anyhow::Error::msg),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && missing_ok => Ok(Plan::default()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

pub fn save_plan(path: &Path, plan: &Plan) -> anyhow::Result<()> {
    std::fs::write(path, plan.to_yaml()).with_context(|| format!("writing the plan {}", path.display()))
}

/// Connects (honouring `--read-only`) and opens the journal.
pub async fn engine(global: &GlobalArgs) -> anyhow::Result<Engine> {
    let (client, conn) =
        crate::cluster::client::connect_with(global.kubeconfig.as_deref(), global.context.as_deref(), global.read_only)
            .await?;
    Engine::new(client, conn, EngineOptions::default())
}

/// `meshdeck diff`: exit 0 when nothing would change, 1 when something would.
pub async fn run_diff(args: DiffArgs, global: GlobalArgs) -> anyhow::Result<u8> {
    let plan = load_plan(&args.plan.file, false)?;
    let engine = engine(&global).await?;
    let preview = engine.preview(&plan).await.map_err(|e| anyhow::anyhow!("{}: {e:#}", args.plan.file.display()))?;
    match args.output {
        DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&preview)?),
        DiffFormat::Text => print!("{}", render::preview_text(&preview, std::io::stdout().is_terminal())),
    }
    Ok(if preview.has_changes() { EXIT_CHANGES } else { EXIT_NO_CHANGES })
}
