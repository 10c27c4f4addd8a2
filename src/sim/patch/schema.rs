//! The little schema knowledge the patch code needs: which lists merge by key (and on which
//! fields), which are sets of scalars, which maps are atomic, and how a list element is named
//! in a field path. It knows field names, not types; it changes no values.

use super::PatchError;
use crate::sim::kinds::Kind;
use serde_json::{Map, Value};

/// How a list is merged and owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// Replaced and owned as a whole.
    Atomic,
    /// A set of scalars (`metadata.finalizers`): merged by value, items owned one by one.
    Set,
    /// Elements identified by these fields, sorted by name; the first is the strategic
    /// merge patch's `patchMergeKey`, the rest only matter to server-side apply.
    Keyed(&'static [&'static str]),
}

const NAME: &[&str] = &["name"];
const CONTAINER_PORT: &[&str] = &["containerPort", "protocol"];
const SERVICE_PORT: &[&str] = &["port", "protocol"];

/// The CRDs (Istio's) carry no list or patch-strategy markers beyond those of ObjectMeta.
pub(crate) fn is_builtin(kind: &Kind) -> bool {
    !kind.group.ends_with("istio.io")
}

/// The list at `fields` (the field names from the object's root; list elements add nothing).
pub(crate) fn list_kind(kind: &Kind, fields: &[String]) -> ListKind {
    let Some(last) = fields.last().map(String::as_str) else { return ListKind::Atomic };
    let parent = if fields.len() >= 2 { fields[fields.len() - 2].as_str() } else { "" };
    if parent == "metadata" {
        return match last {
            "finalizers" => ListKind::Set,
            "ownerReferences" => ListKind::Keyed(&["uid"]),
            _ => ListKind::Atomic,
        };
    }
    if !is_builtin(kind) {
        return ListKind::Atomic;
    }
    let in_container = matches!(parent, "containers" | "initContainers" | "ephemeralContainers");
    match last {
        "containers" | "initContainers" | "ephemeralContainers" | "volumes" | "imagePullSecrets" | "webhooks" => {
            ListKind::Keyed(NAME)
        }
        "env" if in_container => ListKind::Keyed(NAME),
        "volumeMounts" if in_container => ListKind::Keyed(&["mountPath"]),
        "ports" if in_container => ListKind::Keyed(CONTAINER_PORT),
        "ports" if kind.kind == "Service" && fields.len() == 2 && parent == "spec" => ListKind::Keyed(SERVICE_PORT),
        "conditions" => ListKind::Keyed(&["type"]),
        "hostAliases" => ListKind::Keyed(&["ip"]),
        "topologySpreadConstraints" => ListKind::Keyed(&["topologyKey"]),
        _ => ListKind::Atomic,
    }
}

/// Label selectors are atomic in the built-in types (`+structType=atomic`, and Service's
/// `spec.selector` is `+mapType=atomic`): server-side apply owns and replaces them whole.
pub(crate) fn is_atomic_map(kind: &Kind, fields: &[String]) -> bool {
    is_builtin(kind)
        && fields.len() >= 2
        && matches!(
            fields.last().map(String::as_str),
            Some("selector" | "podSelector" | "namespaceSelector" | "labelSelector" | "objectSelector")
        )
}

/// The value a key field takes when an element leaves it out (the API server defaults it).
fn key_default(field: &str) -> Option<Value> {
    (field == "protocol").then(|| Value::String("TCP".into()))
}

/// The key of `elem` in a keyed list as a JSON object with sorted fields, e.g.
/// `{"containerPort":8080,"protocol":"TCP"}`; `None` when a key field without a default is
/// missing or the element is not an object.
pub(crate) fn element_key(elem: &Value, keys: &[&str]) -> Option<Map<String, Value>> {
    let obj = elem.as_object()?;
    let mut out = Map::new();
    for k in keys {
        match obj.get(*k).filter(|v| !v.is_null()).cloned().or_else(|| key_default(k)) {
            Some(v) => {
                out.insert((*k).to_string(), v);
            }
            None => return None,
        }
    }
    Some(out)
}

/// Like `element_key`, failing with the API server's wording when a key field is missing.
pub(crate) fn require_key(
    elem: &Value,
    keys: &[&str],
    at: &str,
    index: usize,
) -> Result<Map<String, Value>, PatchError> {
    element_key(elem, keys).ok_or_else(|| {
        let missing = keys.iter().find(|k| elem.get(**k).is_none_or(Value::is_null)).copied().unwrap_or(keys[0]);
        PatchError::Invalid(format!(
            "{at}: element {index}: associative list with keys has an element that omits key field {missing:?} (and doesn't have default value)"
        ))
    })
}

/// The fieldsV1 name of a keyed element: `k:{"name":"app"}`.
pub(crate) fn key_pe(key: &Map<String, Value>) -> String {
    format!("k:{}", Value::Object(key.clone()))
}

/// The fieldsV1 name of a set item: `v:"foo"`.
pub(crate) fn value_pe(v: &Value) -> String {
    format!("v:{v}")
}

/// Whether `elem` is the element a `k:` or `v:` path element names.
pub(crate) fn element_matches(elem: &Value, pe: &str) -> bool {
    if let Some(k) = pe.strip_prefix("k:") {
        let Ok(Value::Object(want)) = serde_json::from_str::<Value>(k) else { return false };
        want.iter()
            .all(|(f, v)| elem.get(f).filter(|x| !x.is_null()).cloned().or_else(|| key_default(f)).as_ref() == Some(v))
    } else if let Some(v) = pe.strip_prefix("v:") {
        serde_json::from_str::<Value>(v).is_ok_and(|want| &want == elem)
    } else {
        false
    }
}

/// The key field names a `k:` path element carries.
pub(crate) fn key_names(pe: &str) -> Vec<String> {
    match pe.strip_prefix("k:").and_then(|k| serde_json::from_str::<Value>(k).ok()) {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A path in Kubernetes' conflict notation: `.spec.template.spec.containers[name="app"].image`.
pub(crate) fn render_path(path: &[String]) -> String {
    let mut out = String::new();
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let parts: Vec<String> = match serde_json::from_str::<Value>(k) {
                Ok(Value::Object(m)) => m.iter().map(|(f, v)| format!("{f}={v}")).collect(),
                _ => vec![k.to_string()],
            };
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        } else if let Some(i) = pe.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        } else {
            out.push_str(pe);
        }
    }
    out
}

/// A field path for error messages: `.spec.template.spec.containers`.
pub(crate) fn dotted(fields: &[String]) -> String {
    fields.iter().map(|f| format!(".{f}")).collect()
}

/// Puts the elements `rank` knows into the order it gives, in the slots they already hold;
/// elements it does not know keep their places. Both `$setElementOrder` and server-side
/// apply's keyed lists order elements this way.
pub(crate) fn reorder_in_place(items: &mut [Value], rank: impl Fn(&Value) -> Option<usize>) {
    let slots: Vec<usize> = (0..items.len()).filter(|i| rank(&items[*i]).is_some()).collect();
    let mut ranked: Vec<(usize, Value)> =
        slots.iter().map(|i| (rank(&items[*i]).unwrap_or(0), items[*i].clone())).collect();
    ranked.sort_by_key(|(r, _)| *r);
    for (slot, (_, v)) in slots.into_iter().zip(ranked) {
        items[slot] = v;
    }
}
