//! `meshdeck inventory`: the mesh view, headless, as JSON (the documented contract), YAML or
//! a plain table. Formatting only; the caller connects and derives.

use crate::mesh::MeshView;
use crate::mesh::view::UNKNOWN;
use std::borrow::Cow;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// The view limited to one namespace: its row, its workloads; the control plane stays whole.
/// Without a namespace the view is borrowed as it is (at 100,000 pods a copy is megabytes).
pub fn scoped<'a>(view: &'a MeshView, namespace: Option<&str>) -> Cow<'a, MeshView> {
    match namespace {
        None => Cow::Borrowed(view),
        Some(ns) => {
            let mut v = view.clone();
            v.namespaces.retain(|n| n.name == ns);
            v.workloads.retain(|w| w.namespace == ns);
            Cow::Owned(v)
        }
    }
}

pub fn render(view: &MeshView, format: Format) -> String {
    let mut out = Vec::new();
    // Writing into a Vec fails only if serialization does, which the view's types never do.
    let _ = write(view, format, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Renders straight into `out`, so the JSON of a large view is never held whole in memory.
pub fn write(view: &MeshView, format: Format, out: &mut impl Write) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, view).map_err(std::io::Error::other)?;
            out.write_all(b"\n")
        }
        Format::Yaml => out.write_all(serde_yaml::to_string(view).unwrap_or_default().as_bytes()),
        Format::Table => out.write_all(table(view).as_bytes()),
    }
}

fn ratio(part: Option<usize>, whole: Option<usize>) -> String {
    match (part, whole) {
        (Some(p), Some(w)) => format!("{p}/{w}"),
        _ => UNKNOWN.into(),
    }
}

fn table(view: &MeshView) -> String {
    let mut out = String::new();
    let mut rows = vec![vec![
        "NAMESPACE".to_string(),
        "INJECTION".into(),
        "REVISION".into(),
        "PROXIES".into(),
        "WORKLOADS".into(),
        "MTLS".into(),
    ]];
    for n in &view.namespaces {
        rows.push(vec![
            n.name.clone(),
            n.injection.mode.unwrap_or(UNKNOWN).to_string(),
            match n.injection.expected {
                None => UNKNOWN.into(),
                Some(_) => n.injection.revision.clone().unwrap_or_else(|| "-".into()),
            },
            ratio(n.pods_with_proxy, n.pods),
            n.workloads.to_string(),
            n.mtls.mode.map_or(UNKNOWN, |m| m.as_str()).to_string(),
        ]);
    }
    out.push_str(&columns(&rows, "   "));
    out.push('\n');
    let mut rows = vec![vec![
        "NAMESPACE".to_string(),
        "KIND".into(),
        "NAME".into(),
        "INJECT".into(),
        "PROXIES".into(),
        "VERSIONS".into(),
        "STALE".into(),
        "MTLS".into(),
        "AUTHZ".into(),
    ]];
    for w in &view.workloads {
        rows.push(vec![
            w.namespace.clone(),
            w.kind.clone(),
            w.name.clone(),
            match w.injection.expected {
                Some(true) => w.injection.revision.clone().unwrap_or_else(|| "yes".into()),
                Some(false) => "no".into(),
                None => UNKNOWN.into(),
            },
            ratio(w.pods_with_proxy, w.pods),
            match &w.proxy_versions {
                None => UNKNOWN.into(),
                Some(v) if v.is_empty() => "-".into(),
                Some(v) => v.join(","),
            },
            match w.stale {
                Some(true) => "yes",
                Some(false) => "-",
                None => UNKNOWN,
            }
            .into(),
            w.mtls.mode.map_or(UNKNOWN, |m| m.as_str()).to_string(),
            w.authorization.unwrap_or(UNKNOWN).to_string(),
        ]);
    }
    out.push_str(&columns(&rows, "   "));
    out
}

/// Rows as left-aligned columns separated by `gap`, trailing spaces trimmed: the plain-text
/// tables of the headless commands.
pub(crate) fn columns(rows: &[Vec<String>], gap: &str) -> String {
    let n = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..n).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join(gap).trim_end());
        out.push('\n');
    }
    out
}
