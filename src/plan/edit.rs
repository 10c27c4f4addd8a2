//! A hand-edited staged object: parsed from YAML with the line and column of any error, and
//! checked to still be the object it replaces. Pure.

use super::model::ObjRef;
use serde_json::Value;

/// The identity fields an edit may not change, as (field, JSON pointer, the staged value).
fn identity(target: &ObjRef) -> [(&'static str, &'static str, &str); 4] {
    [
        ("apiVersion", "/apiVersion", target.api_version.as_str()),
        ("kind", "/kind", target.kind.as_str()),
        ("metadata.name", "/metadata/name", target.name.as_str()),
        ("metadata.namespace", "/metadata/namespace", target.namespace.as_str()),
    ]
}

/// The first identity field whose edited value differs: (field, edited value, staged value).
pub fn identity_mismatch<'a>(target: &'a ObjRef, body: &'a Value) -> Option<(&'static str, &'a str, &'a str)> {
    identity(target).into_iter().find_map(|(field, ptr, want)| {
        let have = body.pointer(ptr).and_then(Value::as_str).unwrap_or("");
        (have != want).then_some((field, have, want))
    })
}

/// Checks that an edited body still names the staged object: same apiVersion, kind,
/// metadata.name and metadata.namespace. The error names the field.
pub fn check_edit(target: &ObjRef, body: &Value) -> Result<(), String> {
    if !body.is_object() {
        return Err("the edited object is not a YAML mapping".into());
    }
    match identity_mismatch(target, body) {
        None => Ok(()),
        Some((field, have, want)) => Err(match (have.is_empty(), want.is_empty()) {
            (true, _) => format!("{field} is missing; the staged object's is `{want}`"),
            (false, true) => format!("{field} is `{have}`, but {} is cluster-scoped", target.display()),
            (false, false) => {
                format!("{field} is `{have}`; the staged object's is `{want}`, and an edit cannot change it")
            }
        }),
    }
}

/// Parses an edited object's YAML and checks it against the staged object. Errors read
/// `<place>:<line>:<column>: …` for YAML errors and `<place>: …` otherwise.
pub fn parse_edit(target: &ObjRef, text: &str, place: &str) -> Result<Value, String> {
    let body: Value = serde_yaml::from_str(text).map_err(|e| match e.location() {
        Some(l) => format!("{place}:{}:{}: {e}", l.line(), l.column()),
        None => format!("{place}: {e}"),
    })?;
    check_edit(target, &body).map_err(|e| format!("{place}: {e}"))?;
    Ok(body)
}
