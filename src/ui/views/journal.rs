//! The journal screen (past applies: time, context, user, actions, state; Enter shows an
//! entry's objects) and the rollout screen (what an apply wrote or did not, and the restarted
//! workloads' pods from the live view: ready, with a proxy).

use super::{SIDE_BY_SIDE, UNKNOWN};
use crate::mesh::MeshView;
use crate::plan::{ItemState, JournalEntry};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use crate::ui::widgets::table::TableView;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Widget};

fn actions_text(e: &JournalEntry) -> String {
    let first = e.plan.actions.first().map(|a| a.summary()).unwrap_or_default();
    match e.plan.actions.len() {
        0 => "-".into(),
        1 => first,
        n => format!("{first} (+{} more)", n - 1),
    }
}

pub fn render_journal(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let j = &app.plan.journal;
    let (list_area, detail) = if !j.open {
        (area, None)
    } else if area.width >= SIDE_BY_SIDE {
        let w = area.width * 55 / 100;
        (Rect { width: w, ..area }, Some(Rect { x: area.x + w + 1, width: area.width - w - 1, ..area }))
    } else {
        let h = area.height / 2;
        (Rect { height: h, ..area }, Some(Rect { y: area.y + h, height: area.height - h, ..area }))
    };
    let empty = match (&j.error, j.loading) {
        (Some(e), _) => format!("The journal could not be read: {e}"),
        (None, true) => "reading the journal…".to_string(),
        (None, false) => "No applies yet".to_string(),
    };
    let widths = [
        Constraint::Length(20),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Fill(1),
        Constraint::Length(10),
    ];
    let view = TableView {
        header: &["TIME", "CONTEXT", "USER", "ACTIONS", "STATE"],
        widths: &widths,
        len: j.entries.len(),
        window: j.window,
        empty: &empty,
    };
    view.render(list_area, buf, theme, |i| {
        let e = &j.entries[i];
        let state = e.state();
        let style = match state {
            "applied" => theme.ok,
            "undone" => theme.muted,
            _ => theme.warn,
        };
        let mut actions = actions_text(e);
        if let Some(u) = &e.undoes {
            actions = format!("undo of {u}");
        }
        Row::new(vec![
            Cell::from(e.time.clone()),
            Cell::from(e.context.clone()),
            Cell::from(e.user.clone()),
            Cell::from(actions),
            Cell::from(Span::styled(state, style)),
        ])
    });
    let (Some(area), Some(e)) = (detail, j.entries.get(j.window.selected)) else { return };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(format!(" {} ", e.id), theme.title));
    let inner = block.inner(area);
    block.render(area, buf);
    let mut lines = vec![Line::styled(format!("{} · {} · {}", e.time, e.context, e.user), theme.muted)];
    lines.extend(e.plan.actions.iter().map(|a| Line::styled(format!("· {}", a.summary()), theme.accent)));
    for item in &e.items {
        let (word, style) = match item.state {
            ItemState::Applied => ("applied", theme.ok),
            ItemState::Failed => ("failed", theme.danger),
            ItemState::Pending => ("pending", theme.warn),
            ItemState::Skipped => ("skipped", theme.muted),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{word:<8} "), style),
            Span::raw(item.change.target.display()),
        ]));
        if let Some(err) = &item.error {
            lines.push(Line::styled(format!("         {err}"), theme.danger));
        }
    }
    lines.push(Line::styled("u stages the undo of this entry", theme.muted));
    for (i, l) in lines.iter().take(usize::from(inner.height)).enumerate() {
        buf.set_line(inner.x, inner.y + i as u16, l, inner.width);
    }
}

pub fn render_rollout(app: &App, view: &MeshView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(r) = &app.plan.rollout else { return };
    let mut lines = Vec::new();
    match &r.outcome {
        None => lines.push(Line::styled("applying… (journal first, then each object in order)", theme.accent)),
        Some(Err(e)) => lines.push(Line::styled(format!("✖ {e}"), theme.danger)),
        Some(Ok(o)) => {
            let entry = o.entry.as_deref().map(|e| format!(" (journal entry {e})")).unwrap_or_default();
            let (head, style) = if o.complete() { ("applied", theme.ok) } else { ("stopped", theme.danger) };
            lines.push(Line::styled(format!("{head}: {} written{entry}", o.applied.len()), style));
            lines.extend(o.applied.iter().map(|a| Line::styled(format!("  ✓ {a}"), theme.ok)));
            for (what, why) in &o.not_applied {
                lines.push(Line::styled(format!("  ✗ {what}: {why}"), theme.danger));
            }
        }
    }
    lines.push(Line::default());
    let top = (lines.len() as u16).min(area.height / 2);
    for (i, l) in lines.iter().take(usize::from(top)).enumerate() {
        buf.set_line(area.x, area.y + i as u16, l, area.width);
    }
    let table = Rect { y: area.y + top, height: area.height - top, ..area };
    let widths = [Constraint::Fill(1), Constraint::Length(8), Constraint::Length(8), Constraint::Length(22)];
    let view_rows: Vec<_> = r.restarts.iter().map(|rs| (rs, find(view, &rs.workload))).collect();
    let tv = TableView {
        header: &["RESTARTING", "READY", "PROXIES", "STATE"],
        widths: &widths,
        len: view_rows.len(),
        window: Default::default(),
        empty: "No workload restarts",
    };
    tv.render(table, buf, theme, |i| {
        let (rs, w) = view_rows[i];
        let (ready, proxies, state, style) = match (w, &rs.cannot_roll) {
            (_, Some(why)) => ("-".into(), "-".into(), why.clone(), theme.warn),
            (Some(w), None) => match (w.pods, w.pods_with_proxy, w.ready_pods) {
                (Some(pods), Some(with_proxy), Some(ready_pods)) => {
                    let done = pods > 0 && with_proxy == pods && ready_pods == pods;
                    let state = if done { "ready" } else { "rolling" };
                    (
                        format!("{ready_pods}/{pods}"),
                        format!("{with_proxy}/{pods}"),
                        state.to_string(),
                        if done { theme.ok } else { theme.accent },
                    )
                }
                _ => (UNKNOWN.into(), UNKNOWN.into(), "pods are hidden from this user".into(), theme.muted),
            },
            (None, None) => ("?".into(), "?".into(), "not in the live view".into(), theme.muted),
        };
        Row::new(vec![
            Cell::from(rs.workload.clone()),
            Cell::from(ready),
            Cell::from(proxies),
            Cell::from(Span::styled(state, style)),
        ])
    });
}

/// The live row of "Deployment rng/numbers-api".
fn find<'a>(view: &'a MeshView, workload: &str) -> Option<&'a crate::mesh::WorkloadRow> {
    let (kind, rest) = workload.split_once(' ')?;
    let (ns, name) = rest.split_once('/')?;
    view.workloads.iter().find(|w| w.kind == kind && w.namespace == ns && w.name == name)
}
