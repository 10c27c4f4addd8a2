//! The control-plane screen: revisions with version, replicas, tags and the proxies each
//! injected; below, gateways and how many proxies run each version. `?` where a forbidden
//! kind hides the value.

use super::{UNKNOWN, empty_text, header, table_view, unknown_cell};
use crate::mesh::MeshView;
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Widget};

const NAMES: [&str; 5] = ["REVISION", "VERSION", "READY", "TAGS", "PROXIES"];

pub fn render(app: &App, view: &MeshView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let cp = &view.control_plane;
    let extra = (cp.gateways.len() + 3).min(usize::from(area.height / 2)) as u16;
    let table = Rect { height: area.height.saturating_sub(extra), ..area };
    let sort = app.sort[2];
    let head = header(&NAMES, sort.column, sort.reverse);
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let widths =
        [Constraint::Fill(2), Constraint::Length(9), Constraint::Length(7), Constraint::Fill(2), Constraint::Length(8)];
    let empty = empty_text(app, "istiod revisions");
    let rows = app.current_rows();
    table_view(app, &head, &widths, &empty).render(table, buf, theme, |i| {
        let r = &cp.revisions[rows[i]];
        let ready_style = if r.ready_replicas >= 1 { theme.ok } else { theme.danger };
        Row::new(vec![
            Cell::from(format!("{}/{}", r.namespace, r.name)),
            Cell::from(r.version.clone().unwrap_or_else(|| "?".into())),
            Cell::from(Span::styled(format!("{}/{}", r.ready_replicas, r.replicas), ready_style)),
            r.tags.as_ref().map_or_else(|| unknown_cell(theme), |t| Cell::from(t.join(","))),
            r.proxies.map_or_else(|| unknown_cell(theme), |n| Cell::from(n.to_string())),
        ])
    });
    let mut y = table.y + table.height;
    let mut line = |l: Line<'_>| {
        if y < area.y + area.height {
            l.render(Rect { y, height: 1, ..area }, buf);
            y += 1;
        }
    };
    let versions = match &cp.proxies {
        Some(p) => Span::raw(p.iter().map(|(v, n)| format!("{v}: {n}")).collect::<Vec<_>>().join("   ")),
        None => Span::styled(UNKNOWN, theme.muted),
    };
    line(Line::from(vec![Span::styled(" proxies by version  ", theme.header), versions]));
    line(Line::from(Span::styled(" gateways", theme.header)));
    let list = |l: &Option<Vec<String>>| l.as_ref().map_or_else(|| UNKNOWN.to_string(), |l| l.join(","));
    for g in &cp.gateways {
        line(Line::from(format!(
            "  {}/{} ({})  pods {}  revision {}  version {}",
            g.namespace,
            g.name,
            g.kind,
            g.pods.map_or_else(|| UNKNOWN.to_string(), |n| n.to_string()),
            list(&g.proxy_revisions),
            list(&g.proxy_versions)
        )));
    }
}
