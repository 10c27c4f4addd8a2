//! The workloads screen: per workload, whether new pods get a sidecar and from which
//! revision, proxies running, their versions, staleness, effective mTLS and authorization.

use super::namespaces::{mtls_style, proxies_cell};
use super::{empty_text, header, table_view};
use crate::mesh::MeshView;
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

const NAMES: [&str; 9] = ["NAMESPACE", "NAME", "KIND", "INJECT", "PROXIES", "VERSION", "STALE", "MTLS", "AUTHZ"];

pub fn render(app: &App, view: &MeshView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let sort = app.sort[1];
    let all = header(&NAMES, sort.column, sort.reverse);
    // One namespace: its column says nothing, so it goes.
    let skip_ns = app.namespace.is_some();
    let head: Vec<&str> = all.iter().skip(usize::from(skip_ns)).map(String::as_str).collect();
    let mut widths = vec![
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
    if skip_ns {
        widths.remove(0);
    }
    let empty = empty_text(app, "workloads");
    let rows = app.current_rows();
    table_view(app, &head, &widths, &empty).render(area, buf, theme, |i| {
        let w = &view.workloads[rows[i]];
        let inject = if w.injection.expected {
            Span::styled(format!("yes {}", w.injection.revision.clone().unwrap_or_default()), theme.injected)
        } else {
            Span::styled("no", theme.not_injected)
        };
        let stale = if w.stale { Span::styled("yes", theme.stale) } else { Span::styled("-", theme.muted) };
        let authz_style = match w.authorization {
            "deny-all" => theme.danger,
            "restricted" => theme.warn,
            _ => theme.muted,
        };
        let mut cells = vec![
            Cell::from(w.namespace.clone()),
            Cell::from(w.name.clone()),
            Cell::from(w.kind.clone()),
            Cell::from(inject),
            proxies_cell(theme, w.pods_with_proxy, w.pods),
            Cell::from(w.proxy_versions.join(",")),
            Cell::from(stale),
            Cell::from(Span::styled(w.mtls.mode.as_str(), mtls_style(theme, w.mtls.mode))),
            Cell::from(Span::styled(w.authorization, authz_style)),
        ];
        if skip_ns {
            cells.remove(0);
        }
        Row::new(cells)
    });
}
