//! Type checking of bodies, as the API server's decoding into its Go structs does it: a body is
//! decoded into k8s-openapi's typed struct for its kind (the Istio kinds: their metadata only;
//! their specs are the CRD schemas' business), and a failure is described the way Go's JSON
//! decoder and structured-merge-diff describe it, so each write path can word its refusal.

use crate::sim::kinds::Kind;
use k8s_openapi::api::{admissionregistration, apps, autoscaling, batch, core, policy};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

/// Where decoding failed and what was there.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeError {
    /// Each step from the object's root: a field or map key, or a list index.
    pub path: Vec<Step>,
    /// serde's account of the failure, e.g. `invalid type: string "many", expected i32`.
    pub serde: String,
    /// The innermost Go struct holding the failing field, e.g. `DeploymentSpec`.
    pub go_struct: String,
    /// The Go type at the failing position, e.g. `int32`, `v1.Container`.
    pub go_type: String,
    /// The JSON value found there.
    pub found: Value,
    /// Which of `path`'s keys are struct fields (Go's field path leaves out map keys).
    pub field_steps: Vec<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

fn decode<T: DeserializeOwned>(v: &Value) -> Result<(), (Vec<Step>, String)> {
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(_) => Ok(()),
        Err(e) => {
            let path = e
                .path()
                .iter()
                .filter_map(|s| match s {
                    Segment::Seq { index } => Some(Step::Index(*index)),
                    Segment::Map { key } => Some(Step::Key(key.clone())),
                    _ => None,
                })
                .collect();
            Err((path, e.into_inner().to_string()))
        }
    }
}

/// Decodes into the kind's typed struct; `None` for kinds without one here.
fn decode_kind(kind: &Kind, v: &Value) -> Option<Result<(), (Vec<Step>, String)>> {
    Some(match (kind.group, kind.plural) {
        ("", "namespaces") => decode::<core::v1::Namespace>(v),
        ("", "pods") => decode::<core::v1::Pod>(v),
        ("", "services") => decode::<core::v1::Service>(v),
        ("", "serviceaccounts") => decode::<core::v1::ServiceAccount>(v),
        ("", "configmaps") => decode::<core::v1::ConfigMap>(v),
        ("", "secrets") => decode::<core::v1::Secret>(v),
        ("", "events") => decode::<core::v1::Event>(v),
        ("", "nodes") => decode::<core::v1::Node>(v),
        ("apps", "deployments") => decode::<apps::v1::Deployment>(v),
        ("apps", "replicasets") => decode::<apps::v1::ReplicaSet>(v),
        ("apps", "statefulsets") => decode::<apps::v1::StatefulSet>(v),
        ("apps", "daemonsets") => decode::<apps::v1::DaemonSet>(v),
        ("batch", "jobs") => decode::<batch::v1::Job>(v),
        ("policy", "poddisruptionbudgets") => decode::<policy::v1::PodDisruptionBudget>(v),
        ("autoscaling", "horizontalpodautoscalers") => decode::<autoscaling::v2::HorizontalPodAutoscaler>(v),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => {
            decode::<admissionregistration::v1::MutatingWebhookConfiguration>(v)
        }
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            decode::<admissionregistration::v1::ValidatingWebhookConfiguration>(v)
        }
        _ => return None,
    })
}

/// A custom resource's metadata is typed like every object's.
fn decode_any(kind: &Kind, v: &Value) -> Result<(), (Vec<Step>, String)> {
    match decode_kind(kind, v) {
        Some(r) => r,
        None => match v.get("metadata") {
            Some(m) => decode::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>(m).map_err(|(mut p, e)| {
                p.insert(0, Step::Key("metadata".into()));
                (p, e)
            }),
            None => Ok(()),
        },
    }
}

fn at<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, s| match s {
        Step::Key(k) => cur.get(k),
        Step::Index(i) => cur.get(*i),
    })
}

fn set_at(v: &mut Value, path: &[Step], to: Value) {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => match cur.get_mut(k) {
                Some(c) => c,
                None => return,
            },
            Step::Index(i) => match cur.get_mut(*i) {
                Some(c) => c,
                None => return,
            },
        };
    }
    *cur = to;
}

/// The "expected" part of serde's message: `i32`, `a string`, `DeploymentSpec`.
fn expected(serde: &str) -> &str {
    serde.rsplit_once(", expected ").map_or("", |(_, e)| e.trim())
}

/// What the decoder expects at `path`, found by putting a number there and decoding again.
fn probe(kind: &Kind, obj: &Value, path: &[Step], with: Value) -> Option<String> {
    if path.is_empty() {
        return Some(kind.kind.to_string());
    }
    let mut o = obj.clone();
    set_at(&mut o, path, with);
    match decode_any(kind, &o) {
        Err((p, e)) if p == path => Some(expected(&e).to_string()),
        _ => None,
    }
}

fn is_struct_name(e: &str) -> bool {
    !e.is_empty() && e.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && !e.contains(' ')
}

/// Go's name for the type serde expected.
fn go_type(kind: &Kind, obj: &Value, path: &[Step], exp: &str) -> String {
    match exp {
        "i32" => "int32".into(),
        "i64" => "int64".into(),
        "u32" => "uint32".into(),
        "u64" => "uint64".into(),
        "f64" => "float64".into(),
        "f32" => "float32".into(),
        "a boolean" => "bool".into(),
        "a string" => "string".into(),
        "a map" => "map[string]string".into(),
        "IntOrString" => "intstr.IntOrString".into(),
        "Quantity" => "resource.Quantity".into(),
        "a sequence" => {
            let mut elem = path.to_vec();
            elem.push(Step::Index(0));
            let mut o = obj.clone();
            set_at(&mut o, path, serde_json::json!([0]));
            match decode_any(kind, &o) {
                Err((p, e)) if p == elem => format!("[]{}", go_type(kind, &o, &elem, expected(&e))),
                _ => "[]interface {}".into(),
            }
        }
        s if is_struct_name(s) => {
            let pkg = if kind.group == "autoscaling" { "v2" } else { "v1" };
            format!("{pkg}.{s}")
        }
        other => other.to_string(),
    }
}

/// Type-checks `obj` as `kind`; the first failure, described.
pub fn check(kind: &Kind, obj: &Value) -> Result<(), Box<TypeError>> {
    let Err((path, serde)) = decode_any(kind, obj) else { return Ok(()) };
    let found = at(obj, &path).cloned().unwrap_or(Value::Null);
    // A key is a struct field when what holds it decodes as a struct; the last struct on the
    // way is the one Go names.
    let mut field_steps = Vec::with_capacity(path.len());
    let mut go_struct = kind.kind.to_string();
    for i in 0..path.len() {
        let holder = match path[i] {
            Step::Key(_) => probe(kind, obj, &path[..i], serde_json::json!(0)).filter(|e| is_struct_name(e)),
            Step::Index(_) => None,
        };
        field_steps.push(holder.is_some());
        if let Some(h) = holder {
            go_struct = h;
        }
    }
    let go_type = go_type(kind, obj, &path, expected(&serde));
    Err(Box::new(TypeError { path, serde, go_struct, go_type, found, field_steps }))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

impl TypeError {
    /// Go's field path: struct fields joined by dots, without indices or map keys.
    fn go_field(&self) -> String {
        self.path
            .iter()
            .zip(&self.field_steps)
            .filter_map(|(s, f)| match (s, f) {
                (Step::Key(k), true) => Some(k.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// encoding/json's `UnmarshalTypeError`, as the create and update paths report it.
    pub fn go_message(&self) -> String {
        if !self.serde.starts_with("invalid type") && !self.serde.starts_with("invalid value") {
            return format!("{}: {}", self.dotted(), self.serde);
        }
        let integer = self.go_type.starts_with("int") || self.go_type.starts_with("uint");
        let value = match &self.found {
            Value::Number(n) if integer => format!("number {n}"),
            other => json_kind(other).to_string(),
        };
        format!(
            "json: cannot unmarshal {value} into Go struct field {}.{} of type {}",
            self.go_struct,
            self.go_field(),
            self.go_type
        )
    }

    fn dotted(&self) -> String {
        let mut out = String::new();
        for s in &self.path {
            match s {
                Step::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// structured-merge-diff's path: `.spec.template.spec.containers[name="app"].image`.
    pub fn smd_path(&self, obj: &Value) -> String {
        smd_path(obj, &self.path)
    }

    /// structured-merge-diff's complaint about the value, as server-side apply reports it.
    pub fn smd_message(&self, obj: &Value) -> String {
        let got = smd_got(&self.found);
        let what = match self.go_type.as_str() {
            t if t.starts_with("int") || t.starts_with("uint") || t.starts_with("float") => {
                format!("expected numeric (int or float), got {}", go_dynamic_type(&self.found))
            }
            "string" | "resource.Quantity" => format!("expected string, got {got}"),
            "bool" => format!("expected boolean, got {got}"),
            t if t.starts_with("[]") => format!("expected list, got {got}"),
            _ => format!("expected map, got {got}"),
        };
        format!("{}: {what}", self.smd_path(obj))
    }
}

/// `%T` of the value Go's unstructured decoding made.
fn go_dynamic_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Null => "<nil>",
    }
}

fn smd_got(v: &Value) -> String {
    format!("&value.valueUnstructured{{Value:{}}}", v)
}

/// Lists of named items are keyed by name in structured-merge-diff's paths.
pub fn smd_path(obj: &Value, path: &[Step]) -> String {
    let mut out = String::new();
    let mut cur = Some(obj);
    for s in path {
        match s {
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
                cur = cur.and_then(|c| c.get(k));
            }
            Step::Index(i) => {
                let item = cur.and_then(|c| c.get(*i));
                match item.and_then(|it| it.get("name")).and_then(Value::as_str) {
                    Some(n) => out.push_str(&format!("[name=\"{n}\"]")),
                    None => out.push_str(&format!("[{i}]")),
                }
                cur = item;
            }
        }
    }
    out
}
