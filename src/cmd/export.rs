//! `meshdeck export`: a plan's objects as one YAML file each, for a pull request instead of an
//! apply. The preview reads and dry-runs against the cluster; nothing is written to it.

use crate::cli::ExportArgs;
use crate::cluster::client::Connected;
use anyhow::Context;

pub async fn run_export(args: ExportArgs, connected: Connected) -> anyhow::Result<u8> {
    let plan = super::plan_file::to_preview(&args.plan.file)?;
    let engine = super::engine(connected)?;
    let place = args.plan.file.display();
    // The dry-run results, so the files hold what the cluster would store.
    let preview = engine.preview(&plan).await.map_err(|e| anyhow::anyhow!("{place}: {e:#}"))?;
    let files = crate::plan::export(&preview.items).map_err(|e| anyhow::anyhow!("{place}: {e}"))?;
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    for (name, text) in &files {
        let p = args.dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        outln!("{}", p.display())?;
    }
    Ok(0)
}
