//! The detail pane: why a workload is (or is not) injected, the mTLS mode and the policy that
//! sets it, the authorization policies, its services and pods with their proxies; for a
//! revision, its version, image, tags and proxies. A value a forbidden kind hides shows `?`
//! with the reason.

use super::UNKNOWN;
use super::namespaces::mtls_style;
use crate::mesh::{MeshView, Snapshot, WorkloadRow};
use crate::ui::app::{App, Screen};
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

fn field<'a>(theme: &Theme, name: &'a str, value: Vec<Span<'a>>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{name:<17}"), theme.header)];
    spans.extend(value);
    Line::from(spans)
}

/// `?` in the muted style, then why the value is unknown.
fn unknown<'a>(theme: &Theme, why: Option<&'a String>) -> Vec<Span<'a>> {
    let mut spans = vec![Span::styled(UNKNOWN, theme.muted)];
    if let Some(why) = why {
        spans.push(Span::styled(format!("  {why}"), theme.muted));
    }
    spans
}

fn workload_lines<'a>(w: &'a WorkloadRow, snap: Option<&Snapshot>, theme: &Theme) -> Vec<Line<'a>> {
    let mut l = vec![
        Line::from(vec![
            Span::styled(w.name.as_str(), theme.title),
            Span::styled(format!("  {} in {}", w.kind, w.namespace), theme.muted),
        ]),
        Line::raw(""),
    ];
    let inj = match w.injection.expected {
        Some(true) => Span::styled(
            format!("new pods get a sidecar from {}", w.injection.revision.as_deref().unwrap_or("?")),
            theme.injected,
        ),
        Some(false) => Span::styled("new pods get no sidecar", theme.not_injected),
        None => Span::styled(format!("{UNKNOWN} whether new pods get a sidecar"), theme.muted),
    };
    l.push(field(theme, "Injection", vec![inj]));
    l.push(field(theme, "  why", vec![Span::raw(w.injection.reason.as_str())]));
    if w.injection.conflict == Some(true) {
        l.push(field(theme, "", vec![Span::styled("more than one webhook selects these pods", theme.danger)]));
    }
    let list = |l: &[String]| if l.is_empty() { "-".into() } else { l.join(", ") };
    let proxies = match (w.pods_with_proxy, w.pods, &w.proxy_revisions, &w.proxy_versions) {
        (Some(with), Some(pods), Some(revisions), Some(versions)) => {
            vec![Span::raw(format!("{with}/{pods} pods · revisions {} · versions {}", list(revisions), list(versions)))]
        }
        _ => unknown(theme, w.unknown.get("pods")),
    };
    l.push(field(theme, "Proxies", proxies));
    let stale = match (w.stale, &w.stale_reason) {
        (Some(true), Some(r)) => vec![Span::styled(r.as_str(), theme.stale)],
        (None, r) => unknown(theme, r.as_ref()),
        _ => vec![Span::styled("no", theme.muted)],
    };
    l.push(field(theme, "Stale", stale));
    let mtls = match w.mtls.mode {
        Some(mode) => vec![
            Span::styled(mode.as_str(), mtls_style(theme, mode)),
            Span::styled(
                match &w.mtls.source {
                    Some(s) => format!("  set by PeerAuthentication {s}"),
                    None => "  no PeerAuthentication applies (default)".into(),
                },
                theme.muted,
            ),
        ],
        None => unknown(theme, w.unknown.get("mtls")),
    };
    l.push(field(theme, "mTLS", mtls));
    for (port, mode) in &w.mtls.ports {
        l.push(field(
            theme,
            "",
            vec![Span::raw(format!("port {port}: ")), Span::styled(mode.as_str(), mtls_style(theme, *mode))],
        ));
    }
    let authz = match w.authorization {
        Some(verdict) => {
            let style = match verdict {
                "deny-all" => theme.danger,
                "restricted" => theme.warn,
                _ => theme.muted,
            };
            vec![Span::styled(verdict, style)]
        }
        None => unknown(theme, w.unknown.get("authorization")),
    };
    l.push(field(theme, "Authorization", authz));
    for p in w.authorization_policies.iter().flatten() {
        let dry = if p.dry_run { " (dry-run, not enforced)" } else { "" };
        l.push(field(theme, "", vec![Span::raw(format!("{} {} — {}{dry}", p.action, p.name, p.effect))]));
    }
    for n in &w.authorization_notes {
        l.push(field(theme, "", vec![Span::styled(n.as_str(), theme.warn)]));
    }
    l.push(field(theme, "Service account", vec![Span::raw(w.service_account.as_str())]));
    let services = match &w.services {
        Some(s) => vec![Span::raw(list(s))],
        None => unknown(theme, w.unknown.get("services")),
    };
    l.push(field(theme, "Services", services));
    if let Some(snap) = snap {
        let pods = crate::mesh::pods_of(snap, &w.namespace, &w.kind, &w.name);
        l.push(Line::raw(""));
        l.push(Line::styled(format!("Pods ({})", pods.len()), theme.header));
        for p in pods.iter().take(50) {
            let proxy = match (&p.proxy_version, &p.proxy_revision) {
                (Some(v), Some(r)) => Span::styled(format!("proxy {v} ({r})"), theme.injected),
                (Some(v), None) => Span::styled(format!("proxy {v}"), theme.injected),
                _ => Span::styled("no proxy", theme.not_injected),
            };
            l.push(Line::from(vec![
                Span::raw(format!("  {}  ", p.name)),
                Span::styled(format!("{}/{} ready  ", p.ready, p.containers), theme.muted),
                proxy,
                Span::styled(format!("  [{}]", p.container_names.join(",")), theme.muted),
            ]));
        }
        if pods.len() > 50 {
            l.push(Line::styled(format!("  … and {} more", pods.len() - 50), theme.muted));
        }
    }
    l
}

pub fn render(app: &App, view: &MeshView, snap: Option<&Snapshot>, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::LEFT | Borders::TOP)
        .border_style(theme.border(app.detail_open))
        .title(" detail ");
    let lines: Vec<Line<'_>> = match (app.screen, app.selected()) {
        (Screen::Workloads, Some(i)) => workload_lines(&view.workloads[i], snap, theme),
        (Screen::ControlPlane, Some(i)) => {
            let cp = &view.control_plane;
            let r = &cp.revisions[i];
            let tags = match &r.tags {
                Some(t) => vec![Span::raw(if t.is_empty() { "-".into() } else { t.join(", ") })],
                None => unknown(theme, cp.unknown.get("tags")),
            };
            let image = match (&r.expected_proxy_image, cp.unknown.get("expectedProxyImage")) {
                (Some(i), _) => vec![Span::raw(i.as_str())],
                (None, why) => unknown(theme, why),
            };
            let proxies = match r.proxies {
                Some(n) => vec![Span::raw(format!("{n} pods injected by this revision"))],
                None => unknown(theme, cp.unknown.get("proxies")),
            };
            vec![
                Line::styled(format!("{}/{}", r.namespace, r.name), theme.title),
                Line::raw(""),
                field(theme, "Version", vec![Span::raw(r.version.clone().unwrap_or_else(|| "?".into()))]),
                field(theme, "Replicas", vec![Span::raw(format!("{} ready of {}", r.ready_replicas, r.replicas))]),
                field(theme, "Tags", tags),
                field(theme, "Proxy image", image),
                field(theme, "Proxies", proxies),
            ]
        }
        _ => vec![Line::styled("Nothing selected", theme.muted)],
    };
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).render(area, buf);
}
