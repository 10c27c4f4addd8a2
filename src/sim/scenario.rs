//! Scenarios: plain multi-document Kubernetes YAML loaded into the simulated cluster the way
//! `kubectl apply -f` would, file by file, waiting for workloads to settle in between. It
//! finds and parses files and applies objects through `ops::Cluster`; it never writes to the
//! store directly and holds no Istio knowledge of its own.

mod apply;
mod settle;

use super::kinds::{self, Kind};
use super::ops::{Cluster, OpError};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use apply::{LAST_APPLIED, MANAGER};

const ISTIO: &str = include_str!("../../assets/scenarios/istio.yaml");
const DEMO_APPS: &str = include_str!("../../assets/scenarios/demo/10-apps.yaml");
const DEMO_PROMOTE: &str = include_str!("../../assets/scenarios/demo/20-promote.yaml");

/// Names `builtin` knows, for help texts and error messages.
pub const BUILTIN_NAMES: &[&str] = &["istio", "demo"];

/// The files of a built-in scenario, in the order they are applied.
pub fn builtin(name: &str) -> Option<Vec<(&'static str, &'static str)>> {
    match name {
        "istio" => Some(vec![("istio.yaml", ISTIO)]),
        "demo" => {
            Some(vec![("istio.yaml", ISTIO), ("demo/10-apps.yaml", DEMO_APPS), ("demo/20-promote.yaml", DEMO_PROMOTE)])
        }
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{arg:?} is neither a built-in scenario ({}) nor a file or folder", BUILTIN_NAMES.join(", "))]
    Unknown { arg: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: no *.yaml or *.yml files in this folder")]
    EmptyFolder { path: String },
    #[error("{file}: document {doc} (line {line}): {message}")]
    Parse { file: String, doc: usize, line: usize, message: String },
    #[error("{file}: document {doc} (line {line}): unknown kind {kind:?} in apiVersion {api_version:?}")]
    UnknownKind { file: String, doc: usize, line: usize, api_version: String, kind: String },
    #[error("{file}: document {doc} (line {line}): {kind} {name:?}: {error}")]
    Apply { file: String, doc: usize, line: usize, kind: String, name: String, error: Box<OpError> },
}

/// Resolves a scenario argument: a built-in name, a YAML file, or a folder whose `*.yaml` and
/// `*.yml` files load in name order. Returns (file name, text) pairs.
pub fn resolve(arg: &str) -> Result<Vec<(String, String)>, ScenarioError> {
    if let Some(files) = builtin(arg) {
        return Ok(files.into_iter().map(|(n, t)| (n.to_string(), t.to_string())).collect());
    }
    let path = Path::new(arg);
    let io = |p: &Path, e: std::io::Error| ScenarioError::Io { path: p.display().to_string(), message: e.to_string() };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ScenarioError::Unknown { arg: arg.to_string() });
        }
        Err(e) => return Err(io(path, e)),
    };
    if !meta.is_dir() {
        let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        return Ok(vec![(path.display().to_string(), text)]);
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| io(path, e))? {
        let p = entry.map_err(|e| io(path, e))?.path();
        let yaml = p.extension().and_then(|e| e.to_str()).is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && p.is_file() {
            names.push(p);
        }
    }
    if names.is_empty() {
        return Err(ScenarioError::EmptyFolder { path: path.display().to_string() });
    }
    names.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    names
        .into_iter()
        .map(|p| std::fs::read_to_string(&p).map(|t| (p.display().to_string(), t)).map_err(|e| io(&p, e)))
        .collect()
}

/// One object of a file, with where it came from for error messages.
#[derive(Debug, Clone)]
struct Doc {
    /// 1-based, counting non-empty documents.
    index: usize,
    /// 1-based line of the document's first line in the file.
    line: usize,
    value: Value,
}

/// Splits on `---` lines the way kubectl's YAML reader does: a separator line is `---` followed
/// by nothing but blanks or a comment. Returns each chunk with its first line (1-based).
fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start = 1;
    let mut cur = String::new();
    for (i, line) in text.lines().enumerate() {
        let rest = line.strip_prefix("---").map(str::trim);
        if rest.is_some_and(|r| r.is_empty() || r.starts_with('#')) {
            out.push((start, std::mem::take(&mut cur)));
            start = i + 2;
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    out.push((start, cur));
    out
}

fn parse_located(file: &str, text: &str) -> Result<Vec<Doc>, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut docs = Vec::new();
    let mut index = 0;
    for (line, chunk) in split_documents(text) {
        let err =
            |doc: usize, at: usize, message: String| ScenarioError::Parse { file: file.into(), doc, line: at, message };
        let value: Value = serde_yaml::from_str(&chunk).map_err(|e| {
            let at = e.location().map_or(line, |l| line + l.line() - 1);
            err(index + 1, at, e.to_string())
        })?;
        if value.is_null() {
            continue;
        }
        index += 1;
        if !value.is_object() {
            return Err(err(index, line, "a document must be a mapping with apiVersion and kind".into()));
        }
        let is_list = value.get("kind").and_then(Value::as_str) == Some("List");
        if !is_list {
            docs.push(Doc { index, line, value });
            continue;
        }
        let Some(items) = value.get("items").and_then(Value::as_array) else {
            return Err(err(index, line, "a List needs an items array".into()));
        };
        for (i, item) in items.iter().enumerate() {
            if !item.is_object() {
                return Err(err(index, line, format!("List item {i} is not a mapping")));
            }
            docs.push(Doc { index, line, value: item.clone() });
        }
    }
    Ok(docs)
}

/// Parses multi-document YAML into objects: empty documents are skipped, a `kind: List`
/// contributes its items. Errors name the file, the document and its line.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Value>, ScenarioError> {
    Ok(parse_located(file, text)?.into_iter().map(|d| d.value).collect())
}

/// What `kubectl apply` would have printed for an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Applied {
    pub file: String,
    pub kind: &'static Kind,
    pub namespace: String,
    pub name: String,
    pub outcome: Outcome,
}

impl Applied {
    /// kubectl's line for it, e.g. `deployment.apps/checkout configured`.
    pub fn kubectl_line(&self) -> String {
        let what = match self.outcome {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
        };
        let kind = self.kind.kind.to_lowercase();
        if self.kind.group.is_empty() {
            format!("{kind}/{} {what}", self.name)
        } else {
            format!("{kind}.{}/{} {what}", self.kind.group, self.name)
        }
    }
}

/// A settle wait that ran out of time before `next_file` was applied.
#[derive(Debug, Clone)]
pub struct Unsettled {
    pub next_file: String,
    /// `kind namespace/name` of each workload still rolling out.
    pub pending: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub applied: Vec<Applied>,
    pub unsettled: Vec<Unsettled>,
}

#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// How long to wait between files for workloads to roll out before going on anyway.
    pub settle_timeout: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { settle_timeout: Duration::from_secs(60) }
    }
}

/// Applies scenario files in order, as `kubectl apply -f` per file, waiting up to 60 s
/// between files for the workloads to settle.
pub async fn load(cluster: &Arc<Cluster>, files: &[(String, String)]) -> Result<LoadReport, ScenarioError> {
    load_with(cluster, files, LoadOptions::default()).await
}

pub async fn load_with(
    cluster: &Arc<Cluster>,
    files: &[(String, String)],
    opts: LoadOptions,
) -> Result<LoadReport, ScenarioError> {
    let mut report = LoadReport::default();
    // Only what the scenario touched is waited for: generated objects are settled by
    // construction, and rendering thousands of them on every event would be wasted work.
    let mut namespaces = std::collections::BTreeSet::new();
    for (i, (file, text)) in files.iter().enumerate() {
        let docs = parse_located(file, text)?;
        let mut typed = Vec::with_capacity(docs.len());
        for doc in docs {
            let kind = kind_of(file, &doc)?;
            typed.push((kind, doc));
        }
        if i > 0
            && let Err(pending) = settle::wait(cluster, &namespaces, opts.settle_timeout).await
        {
            tracing::warn!(
                next_file = %file,
                pending = %pending.join(", "),
                "workloads did not settle within {:?}; applying the next file anyway",
                opts.settle_timeout
            );
            report.unsettled.push(Unsettled { next_file: file.clone(), pending });
        }
        // Namespaces first, as their contents need them; otherwise document order.
        typed.sort_by_key(|(k, _)| !(k.group.is_empty() && k.plural == "namespaces"));
        for (kind, doc) in typed {
            let (ns, name, outcome) =
                apply::apply(cluster, kind, doc.value).map_err(|(name, error)| ScenarioError::Apply {
                    file: file.clone(),
                    doc: doc.index,
                    line: doc.line,
                    kind: kind.kind.to_string(),
                    name,
                    error: Box::new(error),
                })?;
            if kind.namespaced {
                namespaces.insert(ns.clone());
            }
            report.applied.push(Applied { file: file.clone(), kind, namespace: ns, name, outcome });
        }
    }
    Ok(report)
}

fn kind_of(file: &str, doc: &Doc) -> Result<&'static Kind, ScenarioError> {
    let field = |f: &str| doc.value.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    if api_version.is_empty() || kind.is_empty() {
        return Err(ScenarioError::Parse {
            file: file.into(),
            doc: doc.index,
            line: doc.line,
            message: "apiVersion and kind are required".into(),
        });
    }
    match kinds::by_api_version_kind(&api_version, &kind) {
        Some(k) if !k.virtual_only => Ok(k),
        _ => Err(ScenarioError::UnknownKind { file: file.into(), doc: doc.index, line: doc.line, api_version, kind }),
    }
}

#[cfg(test)]
mod tests;
