//! JSON helpers the plan rules share: JSON-pointer escaping, merging partial bodies, and the
//! leaf fields of a server-side-apply body. Pure functions on `serde_json::Value`.

use serde_json::{Map, Value, json};

/// One JSON-pointer token: `~` → `~0`, `/` → `~1` (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer from unescaped tokens.
pub fn pointer(tokens: &[&str]) -> String {
    tokens.iter().map(|t| format!("/{}", escape(t))).collect()
}

/// `/metadata/labels/<key>`.
pub fn label_path(key: &str) -> String {
    pointer(&["metadata", "labels", key])
}

/// A `test` then `remove` of one field: fails rather than remove a value that moved.
pub fn test_and_remove(path: &str, value: &Value) -> Vec<Value> {
    vec![json!({"op": "test", "path": path, "value": value}), json!({"op": "remove", "path": path})]
}

/// Merges `add` into `base`: objects recursively, anything else replaced by `add`.
pub fn merge(base: &mut Value, add: &Value) {
    match (base, add) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, v) in a {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, a) => *b = a.clone(),
    }
}

/// Builds `{a: {b: {…: value}}}` from unescaped tokens.
pub fn nest(tokens: &[&str], value: Value) -> Value {
    tokens.iter().rev().fold(value, |inner, t| {
        let mut m = Map::new();
        m.insert(t.to_string(), inner);
        Value::Object(m)
    })
}

/// The leaf fields of an apply body as (pointer, value): nested maps are walked, lists and
/// scalars are leaves. The identity fields (apiVersion, kind, metadata.name,
/// metadata.namespace) are left out: they select the object rather than change it.
pub fn leaves(body: &Value) -> Vec<(String, Value)> {
    fn walk(v: &Value, path: &str, depth: usize, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    let skip = match depth {
                        0 => k == "apiVersion" || k == "kind",
                        1 => path == "/metadata" && (k == "name" || k == "namespace"),
                        _ => false,
                    };
                    if !skip {
                        walk(child, &format!("{path}/{}", escape(k)), depth + 1, out);
                    }
                }
            }
            // An empty map at the top level sets nothing; deeper down it is a value.
            Value::Object(_) if depth <= 1 => {}
            _ => out.push((path.to_string(), v.clone())),
        }
    }
    let mut out = Vec::new();
    walk(body, "", 0, &mut out);
    out
}
