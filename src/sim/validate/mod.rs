//! Admission validation of the simulated API server: what a real API server refuses (typed
//! decoding, the built-in kinds' validation, CRD structural schemas) and what Istio's
//! validating webhook refuses, with their status codes and wording. It judges objects and
//! returns refusals; it writes nothing and knows nothing of transport.
//!
//! Order, as in the real API server: a body is decoded first (a type error is refused before
//! anything else), then mutating admission runs (sidecar injection, in `ops`), then the kind's
//! validation (built-in rules, or a CRD's schema and rules: 422 Invalid), and last the
//! validating webhooks (Istio's: 400, `admission webhook "validation.istio.io" denied the
//! request: ...`). Dry runs go through all of it.

mod decode;
pub mod field;
mod istio_crd;
mod istio_webhook;
mod meta;
mod names;
mod schema;
#[cfg(test)]
mod tests;
mod workloads;

use crate::sim::kinds::Kind;
use field::FieldError;
use serde_json::{Value, json};

/// How a body reached the server: each path words a type error its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// POST or PUT of a whole object.
    Body,
    /// A JSON, merge or strategic merge patch, checked on the patched object.
    Patch,
    /// Server-side apply, checked on the applied configuration.
    Apply,
}

/// A refusal as the API server sends it: the Status' code, reason, message and details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    /// Empty when the real server sends none (a webhook's denial, an internal error).
    pub reason: String,
    pub message: String,
    pub details: Option<Value>,
}

impl Refusal {
    fn new(code: u16, reason: &str, message: String) -> Refusal {
        Refusal { code, reason: reason.into(), message, details: None }
    }
}

fn group_kind(kind: &Kind) -> String {
    if kind.group.is_empty() { kind.kind.to_string() } else { format!("{}.{}", kind.kind, kind.group) }
}

fn version_of(obj: &Value) -> String {
    let av = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    crate::sim::kinds::split_api_version(av).1.to_string()
}

/// 422 Invalid for field errors (`apierrors.NewInvalid`).
pub fn invalid(kind: &Kind, name: &str, errs: &[FieldError]) -> Refusal {
    let gk = group_kind(kind);
    Refusal {
        code: 422,
        reason: "Invalid".into(),
        message: format!("{gk} {} is invalid: {}", field::go_quote(name), field::aggregate(errs)),
        details: Some(json!({
            "name": name,
            "group": kind.group,
            "kind": kind.kind,
            "causes": errs.iter().map(FieldError::cause).collect::<Vec<_>>(),
        })),
    }
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

/// Is the body well typed for its kind? Worded for the path it came by.
pub fn typed(kind: &'static Kind, obj: &Value, via: Via) -> Result<(), Box<Refusal>> {
    let istio = istio_crd::spec_schema(kind.plural).filter(|_| kind.group.ends_with("istio.io"));
    // A custom resource's spec is typed by its schema only under server-side apply (the typed
    // conversion); other paths decode it as unstructured and leave types to validation.
    if via == Via::Apply
        && let (Some(s), Some(spec)) = (istio, obj.get("spec"))
    {
        let mut out = schema::Outcome::default();
        schema::check(s, spec, "spec", ".spec", &mut out);
        if let Some(m) = out.mistyped.first() {
            return Err(Box::new(apply_type_error(kind, obj, m.message())));
        }
    }
    let Err(e) = decode::check(kind, obj) else { return Ok(()) };
    Err(Box::new(match via {
        Via::Body => Refusal::new(
            400,
            "BadRequest",
            format!(
                "{} in version {:?} cannot be handled as a {}: {}",
                kind.kind,
                version_of(obj),
                kind.kind,
                e.go_message()
            ),
        ),
        Via::Patch => {
            // The JSON patcher's error names no kind and no object: `"" is invalid: patch: ...`.
            let err = field::invalid("patch", field::Shown::str(obj.to_string()), e.go_message());
            Refusal {
                code: 422,
                reason: "Invalid".into(),
                message: format!(" \"\" is invalid: {}", err.message()),
                details: Some(json!({"causes": [err.cause()]})),
            }
        }
        Via::Apply => apply_type_error(kind, obj, e.smd_message(obj)),
    }))
}

/// Server-side apply's typed conversion fails with a plain error, which the API server answers
/// as 500 with no reason.
fn apply_type_error(kind: &Kind, obj: &Value, detail: String) -> Refusal {
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let gv = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let gv = if gv.contains('/') { gv.to_string() } else { format!("/{gv}") };
    Refusal::new(
        500,
        "",
        format!("failed to create typed patch object ({ns}/{}; {gv}, Kind={}): {detail}", name_of(obj), kind.kind),
    )
}

/// The kind's validation on create (`old` is `None`) or update, then the validating webhook.
pub fn admit(kind: &'static Kind, obj: &Value, old: Option<&Value>) -> Result<(), Box<Refusal>> {
    let mut errs = Vec::new();
    meta::validate(kind, obj, old.is_none(), &mut errs);
    workloads::validate(kind, obj, old, &mut errs);
    let istio = istio_crd::spec_schema(kind.plural).filter(|_| kind.group.ends_with("istio.io"));
    if let Some(s) = istio {
        let mut out = schema::Outcome::default();
        schema::check(s, obj.get("spec").unwrap_or(&json!({})), "spec", ".spec", &mut out);
        errs.extend(out.errs);
    }
    if !errs.is_empty() {
        return Err(Box::new(invalid(kind, name_of(obj), &errs)));
    }
    if istio.is_some()
        && let Some(msg) = istio_webhook::deny(kind.plural, obj)
    {
        // The webhook answers without a code; the API server makes that a 400 and sets no reason.
        return Err(Box::new(Refusal::new(
            400,
            "",
            format!("admission webhook \"validation.istio.io\" denied the request: configuration is invalid: {msg}"),
        )));
    }
    Ok(())
}

/// `metadata.name` for `kind`, checked alone (generated names, the scenario loader).
pub fn name_refusal(kind: &Kind, name: &str) -> Option<Refusal> {
    let errs: Vec<FieldError> = meta::name_errors(kind, name)
        .into_iter()
        .map(|m| field::invalid("metadata.name", field::Shown::str(name), m))
        .collect();
    (!errs.is_empty()).then(|| invalid(kind, name, &errs))
}
