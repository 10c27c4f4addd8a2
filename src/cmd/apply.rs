//! `meshdeck apply` and `meshdeck undo`: preview, show, confirm (on a terminal only; a context
//! whose name contains `prod` needs its name typed), apply through the engine, report, and
//! optionally wait for rollouts.

use super::{EXIT_ERROR, render};
use crate::apply::{ApplyOptions, Engine};
use crate::cli::{ApplyArgs, ConfirmArgs, UndoArgs};
use crate::cluster::client::Connected;
use crate::plan::{Action, ItemStatus, Plan};
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

pub async fn run_apply(args: ApplyArgs, connected: Connected) -> anyhow::Result<u8> {
    let plan = super::plan_file::to_preview(&args.plan.file)?;
    let engine = super::engine(connected)?;
    let place = args.plan.file.display().to_string();
    apply_plan(&engine, &plan, &args.confirm, &place).await
}

pub async fn run_undo(args: UndoArgs, connected: Connected) -> anyhow::Result<u8> {
    let engine = super::engine(connected)?;
    let entry = if args.entry == "last" {
        let server = &engine.connection().server;
        engine.entries(false).await?.pop().ok_or_else(|| {
            anyhow::anyhow!(
                "the journal in {} has no entry for this cluster ({server}); `meshdeck journal --all` lists every cluster's",
                engine.journal().dir().display()
            )
        })?
    } else {
        engine.journal().get(&args.entry)?
    };
    if let Some(refusal) = entry.undone_refusal() {
        anyhow::bail!(refusal);
    }
    let plan = Plan { actions: vec![Action::Undo { entry: entry.id.clone() }], ..Plan::default() };
    apply_plan(&engine, &plan, &args.confirm, "undo").await
}

async fn apply_plan(engine: &Engine, plan: &Plan, confirm: &ConfirmArgs, place: &str) -> anyhow::Result<u8> {
    let preview = engine.preview(plan).await.map_err(|e| anyhow::anyhow!("{place}: {e:#}"))?;
    let color = std::io::stdout().is_terminal();
    out!("{}", render::preview_text(&preview, color))?;
    if !preview.has_changes() {
        outln!("nothing to apply")?;
        return Ok(0);
    }
    let blockers = crate::apply::blockers(&preview, confirm.force_conflicts, confirm.allow_errors);
    if !blockers.is_empty() {
        anyhow::bail!("{place}: the plan cannot be applied:\n  {}", blockers.join("\n  "));
    }
    if !confirm.yes {
        let context = &engine.connection().context;
        let forced: Vec<&str> = preview
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Conflict)
            .flat_map(|i| i.conflicts.iter().map(String::as_str))
            .collect();
        if !ask(context, &forced)? {
            eprintln!("meshdeck: not applied");
            return Ok(EXIT_ERROR);
        }
    }
    let report = engine
        .apply(
            plan,
            &preview,
            &ApplyOptions {
                force_conflicts: confirm.force_conflicts,
                allow_errors: confirm.allow_errors,
                progress: None,
            },
        )
        .await?;
    out!("{}", report.describe())?;
    if !report.ok() {
        return Ok(EXIT_ERROR);
    }
    if confirm.wait {
        let mut show = |p: &crate::apply::RolloutProgress| eprintln!("  {}: {}", p.workload, p.text);
        engine.wait_rollouts(&report, Duration::from_secs(confirm.timeout), &mut show).await?;
        outln!("every restarted workload has rolled out")?;
    }
    Ok(0)
}

/// Asks on the terminal; refuses without one.
fn ask(context: &str, forced: &[&str]) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to apply without confirmation: no terminal to ask on; pass --yes to confirm");
    }
    let mut err = std::io::stderr();
    if !forced.is_empty() {
        writeln!(err, "confirming takes over these fields for meshdeck: {}", forced.join(", "))?;
    }
    let prompt = if context.contains("prod") {
        format!("context {context} looks like production: type its name to apply: ")
    } else {
        format!("apply to context {context}? [y/N] ")
    };
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let answer = line.trim();
    Ok(if context.contains("prod") { answer == context } else { matches!(answer, "y" | "Y" | "yes") })
}
