//! Stand-ins for the pure functions `plan/` provides (display form, unified diff, preflight,
//! GitOps ownership), so the engine has one place to call them through.

use crate::mesh::Snapshot;
use crate::plan::{Expanded, Finding, ObjRef};
use serde_json::Value;

pub fn for_display(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"] {
            m.remove(k);
        }
    }
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    v
}

pub fn unified(old: Option<&Value>, new: Option<&Value>, label: &str) -> String {
    let y =
        |v: Option<&Value>| v.map(|v| serde_yaml::to_string(&for_display(v)).unwrap_or_default()).unwrap_or_default();
    let (a, b) = (y(old), y(new));
    if a == b {
        return String::new();
    }
    let mut out = format!("--- {label} (live)\n+++ {label} (after)\n");
    for l in a.lines() {
        if !b.lines().any(|x| x == l) {
            out.push_str(&format!("-{l}\n"));
        }
    }
    for l in b.lines() {
        if !a.lines().any(|x| x == l) {
            out.push_str(&format!("+{l}\n"));
        }
    }
    out
}

pub fn preflight(_s: &Snapshot, _e: &Expanded, _live: &[(ObjRef, Option<Value>)], _now: &str) -> Vec<Finding> {
    Vec::new()
}

pub fn managed_by(_v: &Value) -> Option<String> {
    None
}

/// One YAML file per object a plan applies, and a kustomization listing them.
pub fn export_files(e: &Expanded) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (n, c) in e.changes.iter().enumerate() {
        if let crate::plan::Op::Apply { body } = &c.op {
            let t = &c.target;
            let name = format!("{:02}-{}-{}-{}.yaml", n + 1, t.kind.to_ascii_lowercase(), t.namespace, t.name);
            files.push((name.replace("--", "-"), serde_yaml::to_string(body).unwrap_or_default()));
        }
    }
    let list: Vec<String> = files.iter().map(|(n, _)| format!("  - {n}\n")).collect();
    files.push((
        "kustomization.yaml".into(),
        format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{}", list.concat()),
    ));
    files
}
