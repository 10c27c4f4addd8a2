//! The namespaces screen: injection, revision, proxies, workloads and mTLS per namespace; `?`
//! where a forbidden kind hides the value.

use super::{empty_text, header, table_view, unknown_cell};
use crate::mesh::{MeshView, MtlsMode};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

const NAMES: [&str; 6] = ["NAME", "INJECTION", "REVISION", "PROXIES", "WORKLOADS", "MTLS"];

pub(crate) fn mtls_style(theme: &Theme, m: MtlsMode) -> ratatui::style::Style {
    match m {
        MtlsMode::Strict => theme.mtls_strict,
        MtlsMode::Permissive => theme.mtls_permissive,
        MtlsMode::Disable => theme.mtls_disable,
    }
}

pub(crate) fn mtls_cell<'a>(theme: &Theme, m: Option<MtlsMode>) -> Cell<'a> {
    match m {
        Some(m) => Cell::from(Span::styled(m.as_str(), mtls_style(theme, m))),
        None => unknown_cell(theme),
    }
}

pub(crate) fn proxies_cell<'a>(theme: &Theme, with: Option<usize>, total: Option<usize>) -> Cell<'a> {
    let (Some(with), Some(total)) = (with, total) else { return unknown_cell(theme) };
    let style = if total == 0 {
        theme.muted
    } else if with == total {
        theme.injected
    } else if with == 0 {
        theme.not_injected
    } else {
        theme.warn
    };
    Cell::from(Span::styled(format!("{with}/{total}"), style))
}

pub fn render(app: &App, view: &MeshView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let sort = app.sort[0];
    let head = header(&NAMES, sort.column, sort.reverse);
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let widths = [
        Constraint::Fill(3),
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(10),
    ];
    let empty = empty_text(app, "namespaces");
    let rows = app.current_rows();
    table_view(app, &head, &widths, &empty).render(area, buf, theme, |i| {
        let n = &view.namespaces[rows[i]];
        let mode = match n.injection.mode {
            Some(mode) => {
                let style = match mode {
                    "enabled" => theme.injected,
                    "disabled" => theme.not_injected,
                    _ => theme.muted,
                };
                Cell::from(Span::styled(mode, style))
            }
            None => unknown_cell(theme),
        };
        let revision = match n.injection.expected {
            Some(_) => Cell::from(n.injection.revision.clone().unwrap_or_else(|| "-".into())),
            None => unknown_cell(theme),
        };
        Row::new(vec![
            Cell::from(n.name.clone()),
            mode,
            revision,
            proxies_cell(theme, n.pods_with_proxy, n.pods),
            Cell::from(n.workloads.to_string()),
            mtls_cell(theme, n.mtls.mode),
        ])
    });
}
