//! The workloads screen: per workload, whether new pods get a sidecar and from which
//! revision, proxies running, their versions, staleness, effective mTLS and authorization.
//! Narrow terminals drop the kind and version columns rather than squeezing the names.

use super::namespaces::{mtls_style, proxies_cell};
use super::{empty_text, header, table_view};
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
        3 if w.injection.expected => Cell::from(Span::styled(
            format!("yes {}", w.injection.revision.as_deref().unwrap_or_default()),
            theme.injected,
        )),
        3 => Cell::from(Span::styled("no", theme.not_injected)),
        4 => proxies_cell(theme, w.pods_with_proxy, w.pods),
        5 => Cell::from(w.proxy_versions.join(",")),
        6 if w.stale => Cell::from(Span::styled("yes", theme.stale)),
        6 => Cell::from(Span::styled("-", theme.muted)),
        7 => Cell::from(Span::styled(w.mtls.mode.as_str(), mtls_style(theme, w.mtls.mode))),
        _ => {
            let style = match w.authorization {
                "deny-all" => theme.danger,
                "restricted" => theme.warn,
                _ => theme.muted,
            };
            Cell::from(Span::styled(w.authorization, style))
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
