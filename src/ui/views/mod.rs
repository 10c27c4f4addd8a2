//! Drawing the screens from the app state and the mesh view. Views read and never mutate;
//! the layout function is shared with the run loop so mouse clicks map to the rows drawn.

mod control_plane;
mod detail;
mod dialogs;
mod journal;
mod namespaces;
mod plan;
mod workloads;

#[cfg(test)]
mod tests;

pub(crate) use crate::mesh::view::UNKNOWN;
use crate::mesh::{MeshView, Snapshot};
use crate::ui::app::{App, Screen};
use crate::ui::keymap::{Keymap, Mode, help_sections};
use crate::ui::theme::Theme;
use crate::ui::widgets::help::HelpOverlay;
use crate::ui::widgets::status_bar::StatusBar;
use crate::ui::widgets::table::TableView;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    pub table: Rect,
    pub detail: Option<Rect>,
    pub line: Rect,
    pub status: Rect,
}

/// Wide terminals show the detail pane beside the table all the time; narrow ones show it
/// instead of the table when it is opened.
pub const SIDE_BY_SIDE: u16 = 140;

pub fn layout(area: Rect, app: &App) -> Areas {
    let h = area.height;
    let title = Rect { height: 1.min(h), ..area };
    let status = Rect { y: area.y + h.saturating_sub(1), height: 1.min(h), ..area };
    let line = Rect { y: area.y + h.saturating_sub(2), height: u16::from(h >= 3), ..area };
    let body = Rect { y: area.y + 1, height: h.saturating_sub(3), ..area };
    let has_detail = !matches!(app.screen, Screen::Namespaces) && !app.screen.is_plan_side();
    if has_detail && area.width >= SIDE_BY_SIDE {
        let left = area.width * 55 / 100;
        let table = Rect { width: left, ..body };
        let detail = Rect { x: body.x + left + 1, width: body.width - left - 1, ..body };
        Areas { title, table, detail: Some(detail), line, status }
    } else if has_detail && app.detail_open {
        Areas { title, table: Rect { height: 0, ..body }, detail: Some(body), line, status }
    } else {
        Areas { title, table: body, detail: None, line, status }
    }
}

/// Draws everything; returns where the text cursor goes when typing.
pub fn render(
    app: &App,
    snap: Option<&Snapshot>,
    theme: &Theme,
    keymap: &Keymap,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    buf.set_style(area, theme.text);
    let a = layout(area, app);
    title_line(app, theme, a.title, buf);
    let view: &MeshView = &app.view;
    if a.table.height > 0 {
        match app.screen {
            Screen::Namespaces => namespaces::render(app, view, theme, a.table, buf),
            Screen::Workloads => workloads::render(app, view, theme, a.table, buf),
            Screen::ControlPlane => control_plane::render(app, view, theme, a.table, buf),
            Screen::Plan => plan::render(app, theme, a.table, buf),
            Screen::Journal => journal::render_journal(app, theme, a.table, buf),
            Screen::Rollout => journal::render_rollout(app, view, theme, a.table, buf),
        }
    }
    if let Some(d) = a.detail {
        detail::render(app, view, snap, theme, d, buf);
    }
    let mut cursor = None;
    match app.mode {
        Mode::Command => cursor = Some(app.input.render(":", a.line, buf, theme)),
        Mode::Filter => cursor = Some(app.input.render("/", a.line, buf, theme)),
        _ => app.notices.render(a.line, buf, theme),
    }
    // The view warns of each forbidden kind it knew of when derived; count the others once.
    let unnamed = app.sync.forbidden.iter().filter(|k| !app.view.forbidden.contains(k)).count();
    let warnings = app.view.warnings.len() + unnamed;
    StatusBar {
        context: &app.sync.context,
        server: &app.sync.server,
        sync: &app.sync.text,
        stale: app.sync.stale,
        pending_keys: "",
        warnings,
        staged: app.plan.plan.actions.len(),
    }
    .render(a.status, buf, theme);
    let body = Rect { y: area.y + 1, height: area.height.saturating_sub(3), ..area };
    match app.mode {
        Mode::Form => {
            if let Some(f) = &app.form {
                cursor = dialogs::form(f, theme, body, buf);
            }
        }
        Mode::Confirm => {
            if let Some(c) = &app.plan.confirm {
                cursor = dialogs::confirm(app, c, theme, body, buf);
            }
        }
        Mode::Editor => {
            if let Some(ed) = &app.plan.editor {
                dialogs::editor(ed, theme, body, buf);
            }
        }
        _ => {}
    }
    if app.mode == Mode::Help {
        let sections = help_sections(keymap);
        HelpOverlay { sections: &sections, scroll: usize::from(app.help_scroll) }.render(area, buf, theme);
    }
    cursor
}

fn title_line(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let scope = match (app.screen, &app.namespace) {
        (Screen::Workloads, Some(ns)) => format!(" · {ns}"),
        (Screen::Workloads, None) => " · all namespaces".into(),
        _ => String::new(),
    };
    let count = match app.screen {
        Screen::Plan => app.plan.plan.actions.len(),
        Screen::Journal => app.plan.journal.entries.len(),
        Screen::Rollout => app.plan.rollout.as_ref().map_or(0, |r| r.restarts.len()),
        _ => app.current_rows().len(),
    };
    let mut spans = vec![
        Span::styled(" meshdeck ", theme.title),
        Span::styled(format!("{}{scope}", app.screen.title()), theme.accent),
        Span::styled(format!(" ({count})"), theme.muted),
    ];
    if !app.filter.is_empty() {
        spans.push(Span::styled(format!("  /{}", app.filter), theme.warn));
    }
    let hint = match app.screen {
        Screen::Plan => "   d remove  e edit  A apply  Esc back",
        Screen::Journal => "   Enter show  u undo  Esc back",
        Screen::Rollout => "   Esc back",
        _ => "   ? help  : command  / filter",
    };
    spans.push(Span::styled(hint, theme.muted));
    Line::from(spans).render(area, buf);
}

/// A cell whose value a forbidden kind hides (the detail pane and warnings say which).
pub(crate) fn unknown_cell<'a>(theme: &Theme) -> ratatui::widgets::Cell<'a> {
    ratatui::widgets::Cell::from(Span::styled(UNKNOWN, theme.muted))
}

/// Empty-state text for a table.
pub(crate) fn empty_text(app: &App, what: &str) -> String {
    if app.filter.is_empty() { format!("No {what}") } else { format!("No {what} match \"{}\"", app.filter) }
}

/// The header with the sort column marked.
pub(crate) fn header(names: &[&'static str], sort_column: usize, reverse: bool) -> Vec<String> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| if i == sort_column { format!("{n}{}", if reverse { "↓" } else { "↑" }) } else { n.to_string() })
        .collect()
}

pub(crate) fn table_view<'a>(
    app: &App,
    header: &'a [&'a str],
    widths: &'a [ratatui::layout::Constraint],
    empty: &'a str,
) -> TableView<'a> {
    TableView { header, widths, len: app.current_rows().len(), window: app.window(), empty }
}
