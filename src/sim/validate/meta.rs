//! Object metadata as the API server validates it on every write (`ValidateObjectMeta`): the
//! name for its kind, label keys and values, annotation keys and their total size.

use super::field::{self, FieldError, Shown};
use super::names;
use crate::sim::kinds::Kind;
use serde_json::Value;

/// The name rule the kind's strategy uses: most names are DNS subdomains, namespaces DNS
/// labels, services DNS-1035 labels.
pub fn name_errors(kind: &Kind, name: &str) -> Vec<String> {
    match (kind.group, kind.plural) {
        ("", "namespaces") => names::dns1123_label(name),
        ("", "services") => names::dns1035_label(name),
        _ => names::dns1123_subdomain(name),
    }
}

/// Name, labels and annotations. The name is checked only on create: it cannot change later.
pub fn validate(kind: &Kind, obj: &Value, creating: bool, errs: &mut Vec<FieldError>) {
    let meta = obj.get("metadata");
    if creating {
        match meta.and_then(|m| m.get("name")).and_then(Value::as_str).filter(|n| !n.is_empty()) {
            None => errs.push(field::required("metadata.name", "name or generateName is required")),
            Some(name) => {
                for m in name_errors(kind, name) {
                    errs.push(field::invalid("metadata.name", Shown::str(name), m));
                }
            }
        }
    }
    if let Some(labels) = meta.and_then(|m| m.get("labels")).and_then(Value::as_object) {
        labels_errors(labels, "metadata.labels", errs);
    }
    if let Some(ann) = meta.and_then(|m| m.get("annotations")).and_then(Value::as_object) {
        let mut total = 0;
        for (k, v) in ann {
            for m in names::qualified_name(&k.to_lowercase()) {
                errs.push(field::invalid("metadata.annotations", Shown::str(k.as_str()), m));
            }
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        // TotalAnnotationSizeLimitB: 256 KiB of keys and values together.
        if total > 256 * 1024 {
            errs.push(field::too_long("metadata.annotations", 256 * 1024));
        }
    }
}

/// `ValidateLabels`: every key a qualified name, every value a label value; errors name the map,
/// not the key, as the API server's do.
pub fn labels_errors(labels: &serde_json::Map<String, Value>, path: &str, errs: &mut Vec<FieldError>) {
    for (k, v) in labels {
        for m in names::qualified_name(k) {
            errs.push(field::invalid(path, Shown::str(k.as_str()), m));
        }
        let v = v.as_str().unwrap_or_default();
        for m in names::label_value(v) {
            errs.push(field::invalid(path, Shown::str(v), m));
        }
    }
}
