//! Text forms of a preview and a journal for the terminal: the per-object diff (colored when
//! writing to a terminal), conflicts, refusals, findings, restarts and the summary.

use crate::plan::{ItemStatus, JournalEntry, Preview, Severity};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn status_word(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Create => "create",
        ItemStatus::Change => "change",
        ItemStatus::Unchanged => "unchanged",
        ItemStatus::Delete => "delete",
        ItemStatus::Conflict => "CONFLICT",
        ItemStatus::Forbidden => "FORBIDDEN",
        ItemStatus::Invalid => "INVALID",
    }
}

pub fn preview_text(p: &Preview, color: bool) -> String {
    let paint = |code: &str, s: &str| if color { format!("{code}{s}{RESET}") } else { s.to_string() };
    let mut out = format!("context {}\n\n", p.context);
    for (n, i) in p.items.iter().enumerate() {
        let head = format!("{}. {} [{}] {}", n + 1, i.change.target.display(), status_word(i.status), i.change.why);
        out.push_str(&paint(BOLD, &head));
        out.push('\n');
        if let Some(m) = &i.managed_by {
            out.push_str(&format!("   managed by {m}: a change here may be reverted; consider `meshdeck export`\n"));
        }
        for c in &i.conflicts {
            out.push_str(&format!("   conflict: {c}\n"));
        }
        // A conflict's error repeats its fields; a refusal after the conflicts is news.
        if let Some(e) = &i.error
            && (i.conflicts.is_empty() || i.status != ItemStatus::Conflict)
        {
            out.push_str(&format!("   {e}\n"));
        }
        for line in i.diff.lines() {
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                paint(BOLD, line)
            } else if line.starts_with('+') {
                paint(GREEN, line)
            } else if line.starts_with('-') {
                paint(RED, line)
            } else if line.starts_with("@@") {
                paint(CYAN, line)
            } else {
                line.to_string()
            };
            out.push_str("   ");
            out.push_str(&painted);
            out.push('\n');
        }
        out.push('\n');
    }
    if !p.restarts.is_empty() {
        out.push_str("restarts:\n");
        for r in &p.restarts {
            match &r.cannot_roll {
                Some(why) => out.push_str(&format!("  {} cannot roll: {why}\n", r.workload)),
                None => out.push_str(&format!("  {}: {} pods, {} at a time\n", r.workload, r.pods, r.batch)),
            }
        }
    }
    if !p.findings.is_empty() {
        out.push_str("findings:\n");
        for f in &p.findings {
            let sev = match f.severity {
                Severity::Info => "info",
                Severity::Warning => "warning",
                Severity::Error => "error",
            };
            let at = f.action.map(|a| format!(" (action {})", a + 1)).unwrap_or_default();
            out.push_str(&format!("  {sev}{at}: {}\n", f.message));
        }
    }
    let s = &p.summary;
    out.push_str(&format!(
        "summary: {} to create, {} to change, {} unchanged, {} to delete, {} blocked, {} pods to restart\n",
        s.created, s.changed, s.unchanged, s.deleted, s.blocked, s.pods_to_restart
    ));
    out
}

/// The journal as a table, oldest first.
pub fn journal_table(entries: &[JournalEntry]) -> String {
    let mut rows = vec![
        ["ID", "TIME", "CONTEXT", "SERVER", "USER", "STATE", "APPLIED", "UNDOES", "ACTIONS"].map(String::from).to_vec(),
    ];
    for e in entries {
        let applied = e.items.iter().filter(|i| i.state == crate::plan::ItemState::Applied).count();
        let actions: Vec<String> = e.plan.actions.iter().map(|a| a.summary()).collect();
        let state = match &e.undone {
            Some(u) => format!("undone by {}", u.by),
            None => e.state().to_string(),
        };
        rows.push(vec![
            e.id.clone(),
            e.time.clone(),
            e.context.clone(),
            e.server.clone(),
            e.user.clone(),
            state,
            format!("{applied}/{}", e.items.len()),
            e.undoes.clone().unwrap_or_else(|| "-".into()),
            actions.join("; "),
        ]);
    }
    crate::inventory::columns(&rows, "  ")
}
