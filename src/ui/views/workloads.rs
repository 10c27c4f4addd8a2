//! The workloads screen: per workload, whether new pods get a sidecar and from which
//! revision, proxies running, their versions, staleness, effective mTLS and authorization.
//! Narrow terminals drop the kind and version columns rather than squeezing the names. A cell
//! a forbidden kind hides shows `?`; the detail pane says why.

use super::namespaces::{mtls_cell, proxies_cell};
use super::{empty_text, header, table_view, unknown_cell};
use crate::mesh::{MeshView, WorkloadRow};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

const NAMES: [&str; 9] = ["NAMESPACE", "NAME", "KIND", "INJECT", "PROXIES", "VERSION", "STALE", "MTLS", "AUTHZ"];

/// Below this width the KIND and VERSION columns are left out.
const WIDE: u16 = 120;

fn cell<'a>(w: &'a WorkloadRow, theme: &Theme, column: usize) -> Cell<'a> {
    match column {
        0 => Cell::from(w.namespace.as_str()),
        1 => Cell::from(w.name.as_str()),
        2 => Cell::from(w.kind.as_str()),
        3 => match w.injection.expected {
            Some(true) => Cell::from(Span::styled(
                format!("yes {}", w.injection.revision.as_deref().unwrap_or_default()),
                theme.injected,
            )),
            Some(false) => Cell::from(Span::styled("no", theme.not_injected)),
            None => unknown_cell(theme),
        },
        4 => proxies_cell(theme, w.pods_with_proxy, w.pods),
        5 => match &w.proxy_versions {
            Some(v) => Cell::from(v.join(",")),
            None => unknown_cell(theme),
        },
        6 => match w.stale {
            Some(true) => Cell::from(Span::styled("yes", theme.stale)),
            Some(false) => Cell::from(Span::styled("-", theme.muted)),
            None => unknown_cell(theme),
        },
        7 => mtls_cell(theme, w.mtls.mode),
        _ => {
            let Some(verdict) = w.authorization else { return unknown_cell(theme) };
            let style = match verdict {
                "deny-all" => theme.danger,
                "restricted" => theme.warn,
                _ => theme.muted,
            };
            Cell::from(Span::styled(verdict, style))
        }
    }
}

pub fn render(app: &App, view: &MeshView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let sort = app.sort[1];
    let all = header(&NAMES, sort.column, sort.reverse);
    let widths = [
        Constraint::Fill(2),
        Constraint::Fill(3),
        Constraint::Length(11),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(10),
        Constraint::Length(10),
    ];
    // One namespace: its column says nothing, so it goes.
    let shown: Vec<usize> = (0..NAMES.len())
        .filter(|&c| !(c == 0 && app.namespace.is_some()))
        .filter(|&c| area.width >= WIDE || !matches!(c, 2 | 5))
        .collect();
    let head: Vec<&str> = shown.iter().map(|&c| all[c].as_str()).collect();
    let widths: Vec<Constraint> = shown.iter().map(|&c| widths[c]).collect();
    let empty = empty_text(app, "workloads");
    let rows = app.current_rows();
    table_view(app, &head, &widths, &empty).render(area, buf, theme, |i| {
        let w = &view.workloads[rows[i]];
        Row::new(shown.iter().map(|&c| cell(w, theme, c)).collect::<Vec<_>>())
    });
}
