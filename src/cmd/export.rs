//! `meshdeck export`: a plan's objects as one YAML file each, for a pull request instead of an
//! apply. Expansion reads the cluster; nothing is written to it.

use crate::cli::{ExportArgs, GlobalArgs};
use anyhow::Context;

pub async fn run_export(args: ExportArgs, global: GlobalArgs) -> anyhow::Result<u8> {
    let plan = super::load_plan(&args.plan.file, false)?;
    let engine = super::engine(&global).await?;
    let snap = engine.snapshot().await?;
    let entries = if plan.actions.iter().any(|a| matches!(a, crate::plan::Action::Undo { .. })) {
        engine.journal().list()?
    } else {
        Vec::new()
    };
    let now = crate::apply::now_rfc3339();
    let cx = crate::plan::Context { snapshot: &snap, journal: &entries, now: &now };
    let expanded = crate::plan::expand(&plan, &cx).map_err(|e| anyhow::anyhow!("{}: {e}", args.plan.file.display()))?;
    let files = crate::apply::export_files(&expanded);
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    for (name, text) in &files {
        let p = args.dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        println!("{}", p.display());
    }
    Ok(0)
}
