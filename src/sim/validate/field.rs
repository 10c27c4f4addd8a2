//! Field errors as the API server words them (`k8s.io/apimachinery/pkg/util/validation/field`):
//! `spec.selector: Invalid value: ...: field is immutable`, their `details.causes` entries, and
//! the aggregate a 422 message carries. Formatting only; no rules live here.

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrType {
    Invalid,
    Required,
    NotSupported,
    Forbidden,
    TooLong,
    Duplicate,
}

impl ErrType {
    fn text(self) -> &'static str {
        match self {
            ErrType::Invalid => "Invalid value",
            ErrType::Required => "Required value",
            ErrType::NotSupported => "Unsupported value",
            ErrType::Forbidden => "Forbidden",
            ErrType::TooLong => "Too long",
            ErrType::Duplicate => "Duplicate value",
        }
    }

    /// The `reason` of a Status cause.
    fn reason(self) -> &'static str {
        match self {
            ErrType::Invalid => "FieldValueInvalid",
            ErrType::Required => "FieldValueRequired",
            ErrType::NotSupported => "FieldValueNotSupported",
            ErrType::Forbidden => "FieldValueForbidden",
            ErrType::TooLong => "FieldValueTooLong",
            ErrType::Duplicate => "FieldValueDuplicate",
        }
    }
}

/// How the bad value is printed: Go prints strings quoted (`%q`), numbers and booleans bare,
/// and structs in Go syntax (`v1.LabelSelector{...}`), which callers render themselves.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Str(String),
    Raw(String),
}

impl Shown {
    pub fn str(s: impl Into<String>) -> Shown {
        Shown::Str(s.into())
    }

    fn render(&self) -> String {
        match self {
            Shown::Str(s) => go_quote(s),
            Shown::Raw(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub typ: ErrType,
    pub field: String,
    pub value: Option<Shown>,
    pub detail: String,
}

impl FieldError {
    /// What follows the field name, e.g. `Invalid value: "x": must be ...`.
    pub fn body(&self) -> String {
        let mut s = match (&self.value, self.typ) {
            (Some(v), ErrType::Invalid | ErrType::NotSupported | ErrType::Duplicate) => {
                format!("{}: {}", self.typ.text(), v.render())
            }
            _ => self.typ.text().to_string(),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.body())
    }

    pub fn cause(&self) -> Value {
        json!({"reason": self.typ.reason(), "message": self.body(), "field": self.field})
    }
}

pub fn invalid(field: impl Into<String>, value: Shown, detail: impl Into<String>) -> FieldError {
    FieldError { typ: ErrType::Invalid, field: field.into(), value: Some(value), detail: detail.into() }
}

pub fn required(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
    FieldError { typ: ErrType::Required, field: field.into(), value: None, detail: detail.into() }
}

pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
    FieldError { typ: ErrType::Forbidden, field: field.into(), value: None, detail: detail.into() }
}

pub fn duplicate(field: impl Into<String>, value: Shown) -> FieldError {
    FieldError { typ: ErrType::Duplicate, field: field.into(), value: Some(value), detail: String::new() }
}

pub fn too_long(field: impl Into<String>, max: usize) -> FieldError {
    FieldError {
        typ: ErrType::TooLong,
        field: field.into(),
        value: None,
        detail: format!("may not be more than {max} bytes"),
    }
}

/// `Unsupported value: "BOGUS": supported values: "UNSET", "DISABLE"`.
pub fn not_supported(field: impl Into<String>, value: Shown, valid: &[&str]) -> FieldError {
    let list: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
    FieldError {
        typ: ErrType::NotSupported,
        field: field.into(),
        value: Some(value),
        detail: format!("supported values: {}", list.join(", ")),
    }
}

/// The errors as one line, as Go's aggregate prints them: one message bare, several in
/// brackets, repeated messages once.
pub fn aggregate(errs: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        let m = e.message();
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    match seen.len() {
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// Go's `strconv.Quote`: double quotes, backslash escapes for quotes, backslashes and control
/// characters.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value in Go syntax as `%#v` prints the decoded type: maps of strings as
/// `map[string]string{"a":"b"}`, string lists as `[]string{"a"}`.
pub fn go_string_map(v: &Value) -> String {
    let Some(m) = v.as_object() else { return "map[string]string(nil)".into() };
    // Go prints map keys sorted.
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .iter()
        .map(|k| format!("{}:{}", go_quote(k), go_quote(m[k.as_str()].as_str().unwrap_or_default())))
        .collect();
    format!("map[string]string{{{}}}", parts.join(", "))
}

pub fn go_string_list(v: &Value) -> String {
    let Some(a) = v.as_array() else { return "[]string(nil)".into() };
    let parts: Vec<String> = a.iter().map(|s| go_quote(s.as_str().unwrap_or_default())).collect();
    format!("[]string{{{}}}", parts.join(", "))
}
