//! Export of a plan as files for a pull request, kustomize-friendly: one file per change,
//! named `NN-kind-namespace-name.yaml` (NN its place in the plan, kind lowercase, no
//! namespace part for cluster-scoped objects), plus a `kustomization.yaml`.
//!
//! The rule: an applied object with no live object (`PreviewItem::live` is `None`) is a new
//! resource, written in full and listed under `resources`. A change to an existing object is
//! listed under `patches`, which kustomize applies to the base that holds that object (the
//! repository adds it to `resources`): an apply body as a strategic-merge patch, a JSON
//! patch as a JSON6902 patch with its target (without the `test` operations, which guard
//! live writes and would only break the build), a delete as a `$patch: delete` patch.
//! Pure: it returns (file name, text) pairs and writes nothing.

use super::model::{ObjRef, Op};
use super::preview::PreviewItem;
use serde_json::{Value, json};

fn file_name(i: usize, r: &ObjRef) -> String {
    let kind = r.kind.to_lowercase();
    if r.namespace.is_empty() {
        format!("{:02}-{kind}-{}.yaml", i + 1, r.name)
    } else {
        format!("{:02}-{kind}-{}-{}.yaml", i + 1, r.namespace, r.name)
    }
}

fn to_yaml(v: &Value, what: &str) -> Result<String, String> {
    serde_yaml::to_string(v).map_err(|e| format!("{what}: cannot write YAML: {e}"))
}

fn patch_target(r: &ObjRef) -> Value {
    let (group, version) = r.api_version.split_once('/').unwrap_or(("", r.api_version.as_str()));
    let mut t = json!({"group": group, "version": version, "kind": r.kind, "name": r.name});
    if !r.namespace.is_empty() {
        t["namespace"] = json!(r.namespace);
    }
    t
}

fn identity(r: &ObjRef) -> Value {
    let mut meta = json!({"name": r.name});
    if !r.namespace.is_empty() {
        meta["namespace"] = json!(r.namespace);
    }
    json!({"apiVersion": r.api_version, "kind": r.kind, "metadata": meta})
}

/// The files of an export, `kustomization.yaml` last. Err when there is nothing to export.
pub fn export(items: &[PreviewItem]) -> Result<Vec<(String, String)>, String> {
    if items.is_empty() {
        return Err("the plan has no changes to export".into());
    }
    let (mut files, mut resources, mut patches) = (Vec::new(), Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        let r = &item.change.target;
        let name = file_name(i, r);
        let what = r.display();
        let text = match &item.change.op {
            Op::Apply { body } if item.live.is_none() => {
                resources.push(json!(name));
                to_yaml(body, &what)?
            }
            Op::Apply { body } => {
                patches.push(json!({"path": name}));
                to_yaml(body, &what)?
            }
            Op::Patch { ops } => {
                let ops: Vec<&Value> = ops.iter().filter(|o| o["op"] != "test").collect();
                patches.push(json!({"path": name, "target": patch_target(r)}));
                to_yaml(&json!(ops), &what)?
            }
            Op::Delete { .. } => {
                let mut v = identity(r);
                v["$patch"] = json!("delete");
                patches.push(json!({"path": name}));
                to_yaml(&v, &what)?
            }
        };
        files.push((name, text));
    }
    let mut k = json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"});
    if !resources.is_empty() {
        k["resources"] = json!(resources);
    }
    if !patches.is_empty() {
        k["patches"] = json!(patches);
    }
    let header = "# Exported by meshdeck. `resources` are new objects; `patches` change existing ones and\n\
                  # apply to the base that holds them: add that base to `resources`.\n";
    files.push(("kustomization.yaml".into(), format!("{header}{}", to_yaml(&k, "kustomization.yaml")?)));
    Ok(files)
}
