//! Diffs for the preview: objects without server-owned noise, as YAML, in unified form.
//! Pure text processing.

use serde_json::Value;

/// The object as the preview shows it: without managedFields, resourceVersion, generation,
/// uid, creationTimestamp, selfLink and `status`, which the server owns.
pub fn for_display(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"] {
                meta.remove(k);
            }
        }
    }
    v
}

fn yaml(v: Option<&Value>) -> String {
    match v {
        Some(v) => serde_yaml::to_string(&for_display(v)).unwrap_or_default(),
        None => String::new(),
    }
}

/// Unified diff (3 lines of context) of two objects as YAML after `for_display`, headed
/// `--- live/<label>` and `+++ dry-run/<label>`; empty when they are equal. `None` is an
/// absent object (created or deleted).
pub fn unified(old: Option<&Value>, new: Option<&Value>, label: &str) -> String {
    let (a, b) = (yaml(old), yaml(new));
    if a == b {
        return String::new();
    }
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{label}"), &format!("dry-run/{label}"))
        .to_string()
}
