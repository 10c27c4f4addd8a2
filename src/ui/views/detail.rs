//! The detail pane: why a workload is (or is not) injected, the mTLS mode and the policy that
//! sets it, the authorization policies, its services and pods with their proxies; for a
//! revision, its version, image, tags and proxies.

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

fn workload_lines<'a>(w: &'a WorkloadRow, snap: Option<&Snapshot>, theme: &Theme) -> Vec<Line<'a>> {
    let mut l = vec![
        Line::from(vec![
            Span::styled(w.name.as_str(), theme.title),
            Span::styled(format!("  {} in {}", w.kind, w.namespace), theme.muted),
        ]),
        Line::raw(""),
    ];
    let inj = if w.injection.expected {
        Span::styled(
            format!("new pods get a sidecar from {}", w.injection.revision.as_deref().unwrap_or("?")),
            theme.injected,
        )
    } else {
        Span::styled("new pods get no sidecar", theme.not_injected)
    };
    l.push(field(theme, "Injection", vec![inj]));
    l.push(field(theme, "  why", vec![Span::raw(w.injection.reason.as_str())]));
    if w.injection.conflict {
        l.push(field(theme, "", vec![Span::styled("more than one webhook selects these pods", theme.danger)]));
    }
    l.push(field(
        theme,
        "Proxies",
        vec![Span::raw(format!(
            "{}/{} pods · revisions {} · versions {}",
            w.pods_with_proxy,
            w.pods,
            if w.proxy_revisions.is_empty() { "-".into() } else { w.proxy_revisions.join(", ") },
            if w.proxy_versions.is_empty() { "-".into() } else { w.proxy_versions.join(", ") }
        ))],
    ));
    match &w.stale_reason {
        Some(r) if w.stale => l.push(field(theme, "Stale", vec![Span::styled(r.as_str(), theme.stale)])),
        _ => l.push(field(theme, "Stale", vec![Span::styled("no", theme.muted)])),
    }
    let mut mtls = vec![Span::styled(w.mtls.mode.as_str(), mtls_style(theme, w.mtls.mode))];
    mtls.push(Span::styled(
        match &w.mtls.source {
            Some(s) => format!("  set by PeerAuthentication {s}"),
            None => "  no PeerAuthentication applies (default)".into(),
        },
        theme.muted,
    ));
    l.push(field(theme, "mTLS", mtls));
    for (port, mode) in &w.mtls.ports {
        l.push(field(
            theme,
            "",
            vec![Span::raw(format!("port {port}: ")), Span::styled(mode.as_str(), mtls_style(theme, *mode))],
        ));
    }
    let authz_style = match w.authorization {
        "deny-all" => theme.danger,
        "restricted" => theme.warn,
        _ => theme.muted,
    };
    l.push(field(theme, "Authorization", vec![Span::styled(w.authorization, authz_style)]));
    for p in &w.authorization_policies {
        let dry = if p.dry_run { " (dry-run, not enforced)" } else { "" };
        l.push(field(theme, "", vec![Span::raw(format!("{} {} — {}{dry}", p.action, p.name, p.effect))]));
    }
    for n in &w.authorization_notes {
        l.push(field(theme, "", vec![Span::styled(n.as_str(), theme.warn)]));
    }
    l.push(field(theme, "Service account", vec![Span::raw(w.service_account.as_str())]));
    l.push(field(
        theme,
        "Services",
        vec![Span::raw(if w.services.is_empty() { "-".to_string() } else { w.services.join(", ") })],
    ));
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
            let r = &view.control_plane.revisions[i];
            vec![
                Line::styled(format!("{}/{}", r.namespace, r.name), theme.title),
                Line::raw(""),
                field(theme, "Version", vec![Span::raw(r.version.clone().unwrap_or_else(|| "?".into()))]),
                field(theme, "Replicas", vec![Span::raw(format!("{} ready of {}", r.ready_replicas, r.replicas))]),
                field(theme, "Tags", vec![Span::raw(if r.tags.is_empty() { "-".into() } else { r.tags.join(", ") })]),
                field(
                    theme,
                    "Proxy image",
                    vec![Span::raw(r.expected_proxy_image.clone().unwrap_or_else(|| "?".into()))],
                ),
                field(theme, "Proxies", vec![Span::raw(format!("{} pods injected by this revision", r.proxies))]),
            ]
        }
        _ => vec![Line::styled("Nothing selected", theme.muted)],
    };
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).render(area, buf);
}
