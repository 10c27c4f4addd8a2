//! The plan screen: the staged actions, then the preview's objects with their status, the
//! summary and findings, and the selected object's diff (highlighted lines computed when the
//! preview arrived; this view only slices them). Wide terminals put the diff beside the list.

use super::SIDE_BY_SIDE;
use crate::plan::{ItemStatus, Preview, Severity};
use crate::ui::app::{App, PlanRow, PreviewState};
use crate::ui::theme::Theme;
use crate::ui::widgets::table::TableView;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Widget};

pub fn status_text(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Create => "create",
        ItemStatus::Change => "change",
        ItemStatus::Unchanged => "unchanged",
        ItemStatus::Delete => "delete",
        ItemStatus::Conflict => "conflict",
        ItemStatus::Forbidden => "forbidden",
        ItemStatus::Invalid => "invalid",
    }
}

pub fn status_style(theme: &Theme, s: ItemStatus) -> Style {
    match s {
        ItemStatus::Create => theme.diff_add,
        ItemStatus::Change => theme.accent,
        ItemStatus::Unchanged => theme.muted,
        ItemStatus::Delete => theme.diff_del,
        ItemStatus::Conflict | ItemStatus::Forbidden | ItemStatus::Invalid => theme.danger,
    }
}

/// The lines under the list: the preview's state or summary, then the findings.
fn summary_lines<'a>(app: &'a App, theme: &Theme) -> Vec<Line<'a>> {
    let p = &app.plan;
    let mut out = Vec::new();
    if p.plan.actions.is_empty() {
        out.push(Line::styled(
            "Nothing staged: on a namespace or workload press i inject, I uninject, r restart, m mTLS, a allow, t route, v revision",
            theme.muted,
        ));
        return out;
    }
    match (&p.preview, p.ready()) {
        (_, Some((preview, _))) => {
            out.push(summary_line(preview, theme));
            for f in &preview.findings {
                let (mark, style) = match f.severity {
                    Severity::Error => ("✖ ", theme.danger),
                    Severity::Warning => ("⚠ ", theme.warn),
                    Severity::Info => ("· ", theme.muted),
                };
                out.push(Line::from(vec![Span::styled(mark, style), Span::styled(f.message.as_str(), style)]));
            }
        }
        (PreviewState::Failed(e), _) => {
            out.push(Line::styled(format!("✖ the preview failed: {e}"), theme.danger));
            out.push(Line::styled("p tries again", theme.muted));
        }
        (PreviewState::Computing, _) => out.push(Line::styled("computing the preview…", theme.accent)),
        _ => out.push(Line::styled("the preview is out of date: p computes it", theme.muted)),
    }
    out
}

fn summary_line<'a>(preview: &Preview, theme: &Theme) -> Line<'a> {
    let s = preview.summary;
    let mut spans = vec![
        Span::styled(format!("{} create", s.created), theme.diff_add),
        Span::styled(" · ", theme.muted),
        Span::styled(format!("{} change", s.changed), theme.accent),
        Span::styled(" · ", theme.muted),
        Span::styled(format!("{} unchanged", s.unchanged), theme.muted),
    ];
    if s.deleted > 0 {
        spans.push(Span::styled(format!(" · {} delete", s.deleted), theme.diff_del));
    }
    if s.blocked > 0 {
        spans.push(Span::styled(format!(" · {} blocked", s.blocked), theme.danger));
    }
    spans.push(Span::styled(format!(" · {} pods to restart", s.pods_to_restart), theme.warn));
    Line::from(spans)
}

fn list(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let p = &app.plan;
    let rows = p.rows();
    let preview = match &p.preview {
        PreviewState::Ready { preview, .. } => Some(preview),
        _ => None,
    };
    let widths = [Constraint::Length(9), Constraint::Fill(1)];
    let view = TableView {
        header: &["", "STAGED ACTIONS, THEN OBJECTS"],
        widths: &widths,
        len: rows.len(),
        window: p.window,
        empty: "Nothing staged",
    };
    view.render(area, buf, theme, |i| match rows[i] {
        PlanRow::Action(a) => Row::new(vec![
            Cell::from(Span::styled(format!("{}.", a + 1), theme.accent)),
            Cell::from(p.plan.actions[a].summary()),
        ]),
        PlanRow::Item(n) => {
            let Some(item) = preview.and_then(|pr| pr.items.get(n)) else { return Row::new(Vec::<Cell>::new()) };
            let mut what = item.change.target.display();
            if p.plan.edits.iter().any(|e| e.target == item.change.target) {
                what.push_str(" (edited)");
            }
            if let Some(m) = &item.managed_by {
                what.push_str(&format!(" · managed by {m}"));
            }
            Row::new(vec![
                Cell::from(Span::styled(status_text(item.status), status_style(theme, item.status))),
                Cell::from(what),
            ])
        }
    });
}

/// The selected object's notes (conflicts, owner, error) and diff, or the selected action's
/// objects.
fn diff_pane(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let p = &app.plan;
    let ready = p.ready();
    let (title, mut head, body): (String, Vec<Line>, &[Line<'static>]) = match (p.selected_row(), ready) {
        (Some(PlanRow::Item(i)), Some((preview, lines))) => {
            let item = &preview.items[i];
            let mut head = Vec::new();
            head.push(Line::styled(
                format!("{} · {}", item.change.why, status_text(item.status)),
                status_style(theme, item.status),
            ));
            for c in &item.conflicts {
                head.push(Line::styled(format!("conflict: {c} (take it over in the apply dialog)"), theme.danger));
            }
            if let Some(m) = &item.managed_by {
                head.push(Line::styled(format!("managed by {m}: change it there, or export the plan"), theme.warn));
            }
            if let Some(e) = &item.error {
                head.push(Line::styled(format!("✖ {e}"), theme.danger));
            }
            (item.change.target.display(), head, lines.get(i).map(|l| &l[..]).unwrap_or(&[]))
        }
        (Some(PlanRow::Action(a)), _) => {
            let mut head = vec![Line::styled(p.plan.actions[a].summary(), theme.accent)];
            if let Some((preview, _)) = ready {
                for item in preview.items.iter().filter(|it| it.change.action == a) {
                    head.push(Line::from(vec![
                        Span::styled(format!("{:<10}", status_text(item.status)), status_style(theme, item.status)),
                        Span::raw(item.change.target.display()),
                        Span::styled(format!("  {}", item.change.why), theme.muted),
                    ]));
                }
            }
            (format!("Action {}", a + 1), head, &[])
        }
        _ => (String::new(), vec![], &[]),
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(format!(" {title} "), theme.title));
    let inner = block.inner(area);
    block.render(area, buf);
    if body.is_empty() && head.is_empty() {
        return;
    }
    head.push(Line::default());
    let skip = usize::from(p.diff_scroll);
    for (y, line) in (inner.y..inner.bottom()).zip(head.iter().chain(body.iter().skip(skip))) {
        buf.set_line(inner.x, y, line, inner.width);
    }
}

pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let summary = summary_lines(app, theme);
    let rows = app.plan.rows().len() as u16;
    let (left, right) = if area.width >= SIDE_BY_SIDE {
        let w = area.width * 45 / 100;
        (Rect { width: w, ..area }, Rect { x: area.x + w + 1, width: area.width - w - 1, ..area })
    } else {
        let top = (rows + 1 + summary.len().min(4) as u16 + 1).min(area.height * 45 / 100).max(4).min(area.height);
        (Rect { height: top, ..area }, Rect { y: area.y + top, height: area.height - top, ..area })
    };
    // The list takes what its rows need, the summary and findings follow right under it.
    let wanted = (summary.len() as u16).min(left.height.saturating_sub(3) / 2).max(1);
    let list_h = (rows + 1).max(2).min(left.height.saturating_sub(wanted + 1));
    let list_area = Rect { height: list_h, ..left };
    let sum_area = Rect { y: left.y + list_h + 1, height: left.height.saturating_sub(list_h + 1), ..left };
    list(app, theme, list_area, buf);
    for (i, line) in summary.iter().take(usize::from(sum_area.height)).enumerate() {
        buf.set_line(sum_area.x, sum_area.y + i as u16, line, sum_area.width);
    }
    diff_pane(app, theme, right, buf);
}
