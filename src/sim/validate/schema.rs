//! A small structural schema, as a CustomResourceDefinition's `openAPIV3Schema` describes a
//! custom resource, and its validation with the API server's messages: types, enums, required
//! fields, bounds, and the `x-kubernetes-validations` rules (written as Rust predicates). Fields
//! a schema does not describe are left alone. Definitions live with their kinds (`istio_crd`).

use super::field::{self, FieldError, Shown};
use serde_json::Value;

/// A CEL rule of the schema: it holds when the predicate is true; otherwise the node is
/// reported with the rule's message.
#[derive(Clone, Copy)]
pub struct Cel(pub fn(&Value) -> bool, pub &'static str);

pub enum S {
    Str,
    /// A string of at most this many bytes.
    StrMax(usize),
    Enum(&'static [&'static str]),
    /// An integer within inclusive bounds.
    Int(i64, i64),
    Num,
    Bool,
    /// Properties, required property names, rules on the object.
    Obj(&'static [(&'static str, S)], &'static [&'static str], &'static [Cel]),
    Arr(&'static S),
    /// `additionalProperties`: every value with this schema.
    Map(&'static S, &'static [Cel]),
    /// A node the schema keeps as it is (`x-kubernetes-preserve-unknown-fields`), or one this
    /// simulation does not describe.
    Any,
    /// A rule on a scalar or list node.
    Ruled(&'static S, &'static [Cel]),
}

pub const INT32: S = S::Int(i32::MIN as i64, i32::MAX as i64);
pub const UINT32: S = S::Int(0, u32::MAX as i64);

/// A value of the wrong type, as server-side apply's typed conversion meets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mistyped {
    /// structured-merge-diff's path, e.g. `.spec.mtls.mode`.
    pub smd_path: String,
    pub expected: &'static str,
    pub found: Value,
}

#[derive(Default)]
pub struct Outcome {
    pub errs: Vec<FieldError>,
    pub mistyped: Vec<Mistyped>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

fn expected_type(s: &S) -> &'static str {
    match s {
        S::Str | S::StrMax(_) | S::Enum(_) => "string",
        S::Int(..) => "integer",
        S::Num => "number",
        S::Bool => "boolean",
        S::Obj(..) | S::Map(..) => "object",
        S::Arr(_) => "array",
        S::Any => "",
        S::Ruled(inner, _) => expected_type(inner),
    }
}

fn type_ok(s: &S, v: &Value) -> bool {
    match expected_type(s) {
        "" => true,
        "number" => v.is_number(),
        t => type_name(v) == t,
    }
}

fn rules(rules: &[Cel], v: &Value, path: &str, out: &mut Outcome) {
    for Cel(ok, msg) in rules {
        if !ok(v) {
            out.errs.push(field::invalid(path, Shown::str(type_name(v)), *msg));
        }
    }
}

/// Validates `v` at `path` (`spec`) against `s`; `smd` is the same place in
/// structured-merge-diff's notation (`.spec`).
pub fn check(s: &S, v: &Value, path: &str, smd: &str, out: &mut Outcome) {
    if !type_ok(s, v) {
        let want = expected_type(s);
        let got = type_name(v);
        out.errs.push(field::invalid(
            path,
            Shown::str(got),
            format!("{path} in body must be of type {want}: \"{got}\""),
        ));
        out.mistyped.push(Mistyped { smd_path: smd.to_string(), expected: want, found: v.clone() });
        return;
    }
    match s {
        S::Str | S::Bool | S::Num | S::Any => {}
        S::StrMax(max) => {
            if v.as_str().is_some_and(|s| s.len() > *max) {
                out.errs.push(field::too_long(path, *max));
            }
        }
        S::Enum(values) => {
            let got = v.as_str().unwrap_or_default();
            if !values.contains(&got) {
                out.errs.push(field::not_supported(path, Shown::str(got), values));
            }
        }
        S::Int(min, max) => {
            let n = v.as_i64().unwrap_or(0);
            if n < *min {
                out.errs.push(field::invalid(
                    path,
                    Shown::Raw(n.to_string()),
                    format!("{path} in body should be greater than or equal to {min}"),
                ));
            } else if n > *max {
                out.errs.push(field::invalid(
                    path,
                    Shown::Raw(n.to_string()),
                    format!("{path} in body should be less than or equal to {max}"),
                ));
            }
        }
        S::Obj(props, required, cel) => {
            for r in *required {
                if v.get(*r).is_none() {
                    out.errs.push(field::required(format!("{path}.{r}"), ""));
                }
            }
            for (name, sub) in *props {
                if let Some(x) = v.get(*name) {
                    check(sub, x, &format!("{path}.{name}"), &format!("{smd}.{name}"), out);
                }
            }
            rules(cel, v, path, out);
        }
        S::Arr(item) => {
            for (i, x) in v.as_array().into_iter().flatten().enumerate() {
                let key = x.get("name").and_then(Value::as_str).map_or(format!("[{i}]"), |n| format!("[name=\"{n}\"]"));
                check(item, x, &format!("{path}[{i}]"), &format!("{smd}{key}"), out);
            }
        }
        S::Map(item, cel) => {
            for (k, x) in v.as_object().into_iter().flatten() {
                check(item, x, &format!("{path}[{k}]"), &format!("{smd}.{k}"), out);
            }
            rules(cel, v, path, out);
        }
        S::Ruled(inner, cel) => {
            check(inner, v, path, smd, out);
            rules(cel, v, path, out);
        }
    }
}

impl Mistyped {
    /// structured-merge-diff's complaint, as a server-side apply of a custom resource reports it.
    pub fn message(&self) -> String {
        let got = format!("&value.valueUnstructured{{Value:{}}}", self.found);
        let what = match self.expected {
            "integer" | "number" => format!(
                "expected numeric (int or float), got {}",
                match &self.found {
                    Value::String(_) => "string",
                    Value::Bool(_) => "bool",
                    Value::Array(_) => "[]interface {}",
                    Value::Object(_) => "map[string]interface {}",
                    _ => "<nil>",
                }
            ),
            "string" => format!("expected string, got {got}"),
            "boolean" => format!("expected boolean, got {got}"),
            "array" => format!("expected list, got {got}"),
            _ => format!("expected map, got {got}"),
        };
        format!("{}: {what}", self.smd_path)
    }
}

/// Go's `time.ParseDuration` units, for the rules that read durations (`duration(self)`).
pub fn duration_ms(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ns" => 1e-6,
            "us" | "µs" | "μs" => 1e-3,
            "ms" => 1.0,
            "s" => 1e3,
            "m" => 6e4,
            "h" => 3.6e6,
            _ => return None,
        };
        total += num * factor;
        rest = &rest[unit_end..];
    }
    Some(if neg { -total } else { total })
}

/// `duration(self) >= duration('1ms')`, the rule Istio puts on every duration field.
pub const DURATION: Cel =
    Cel(|v| v.as_str().and_then(duration_ms).is_some_and(|ms| ms >= 1.0), "must be a valid duration greater than 1ms");
pub const DURATION_STR: S = S::Ruled(&S::Str, &[DURATION]);
