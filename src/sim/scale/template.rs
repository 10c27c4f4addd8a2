//! Byte templates for generated objects: one object of a shape is built once with marker
//! strings in place of everything that differs between objects, serialized, and cut at the
//! markers. Writing an object is then copying the fixed pieces and splicing its own strings
//! in, escaped as deep as the marker was (a name inside a JSON document that is itself a
//! string value gets escaped twice). It owns no object layout; the builders in `pod` and
//! `render` decide what an object holds.

use serde_json::Value;

/// The strings of one object that differ between objects of the same shape, one field a
/// slot. `markers()` and `slots()` list the fields in the same order, by construction.
macro_rules! vars {
    ($(#[$m:meta])* $name:ident { $($f:ident),* $(,)? }) => {
        $(#[$m])*
        pub(crate) struct $name {
            $(pub $f: String,)*
        }

        impl $name {
            pub(crate) const SLOTS: usize = [$(stringify!($f)),*].len();

            pub(crate) fn markers() -> Self {
                Self::from_fn($crate::sim::scale::template::marker)
            }

            /// Field `i` (in declaration order) set to `f(i)`.
            pub(crate) fn from_fn(f: impl Fn(usize) -> String) -> Self {
                let mut i = 0;
                $name { $($f: { i += 1; f(i - 1) },)* }
            }

            pub(crate) fn slots(&self) -> Vec<&str> {
                vec![$(self.$f.as_str()),*]
            }
        }
    };
}
pub(crate) use vars;

/// The marker standing for slot `i`. U+0001 never occurs in a generated object and JSON
/// escapes it, so the serialized marker shows how deep it sits: `\u0001` once escaped,
/// `\\u0001` twice.
pub(crate) fn marker(i: usize) -> String {
    format!("\u{1}{i}\u{1}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Splice {
    /// Where the fixed text before this slot ends in `text`.
    end: usize,
    slot: usize,
    /// How many times the value is JSON-escaped.
    depth: u32,
}

/// One shape of object, serialized and cut at its markers.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    text: Vec<u8>,
    splices: Vec<Splice>,
    slots: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TemplateError {
    #[error("scale template: serializing the shape failed: {0}")]
    Serialize(String),
    #[error("scale template: malformed marker at byte {0}")]
    Marker(usize),
    #[error("scale template: slot {0} is out of range (the shape has {1} slots)")]
    Slot(usize, usize),
}

const ESCAPED_MARK: &[u8] = b"u0001";

impl Template {
    /// Cuts `shape`, an object built from `markers()` of a vars struct with `slots` fields.
    pub(crate) fn new(shape: &Value, slots: usize) -> Result<Template, TemplateError> {
        let json = serde_json::to_vec(shape).map_err(|e| TemplateError::Serialize(e.to_string()))?;
        let mut text = Vec::with_capacity(json.len());
        let mut splices = Vec::new();
        let mut rest = &json[..];
        while let Some(at) = find(rest, ESCAPED_MARK) {
            let backslashes = rest[..at].iter().rev().take_while(|b| **b == b'\\').count();
            let offset = json.len() - rest.len();
            // Escaping `\u0001` again doubles its backslashes: 1, 2, 4 ...
            if !backslashes.is_power_of_two() {
                return Err(TemplateError::Marker(offset + at));
            }
            let depth = backslashes.trailing_zeros() + 1;
            let after = &rest[at + ESCAPED_MARK.len()..];
            let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
            let slot: usize = std::str::from_utf8(&after[..digits])
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or(TemplateError::Marker(offset + at))?;
            if slot >= slots {
                return Err(TemplateError::Slot(slot, slots));
            }
            let close = &after[digits..];
            let close_len = backslashes + ESCAPED_MARK.len();
            if close.len() < close_len
                || close[..backslashes].iter().any(|b| *b != b'\\')
                || &close[backslashes..close_len] != ESCAPED_MARK
            {
                return Err(TemplateError::Marker(offset + at));
            }
            text.extend_from_slice(&rest[..at - backslashes]);
            splices.push(Splice { end: text.len(), slot, depth });
            rest = &close[close_len..];
        }
        text.extend_from_slice(rest);
        Ok(Template { text, splices, slots })
    }

    /// Writes the object whose strings are `values`, in the order of `slots()`.
    /// Appends the template with `values` spliced in.
    pub(crate) fn write(&self, values: &[&str], out: &mut Vec<u8>) {
        debug_assert_eq!(values.len(), self.slots, "values for every slot");
        // Most values are checked once here rather than at each of their splices.
        let plain: Vec<bool> = values.iter().map(|v| plain(v)).collect();
        let spliced: usize = self.splices.iter().map(|s| values.get(s.slot).map_or(0, |v| v.len())).sum();
        out.reserve(self.text.len() + spliced + 16);
        let mut from = 0;
        for s in &self.splices {
            out.extend_from_slice(&self.text[from..s.end]);
            let value = values.get(s.slot).copied().unwrap_or_default();
            if plain.get(s.slot).copied().unwrap_or(false) {
                out.extend_from_slice(value.as_bytes());
            } else {
                push_escaped(out, value, s.depth);
            }
            from = s.end;
        }
        out.extend_from_slice(&self.text[from..]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Characters serde_json writes into a string as they are. Not short-circuiting, so it
/// compiles to a vector loop.
fn plain(s: &str) -> bool {
    s.bytes().fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
}

/// `s` as the inside of a JSON string, escaped `depth` times.
fn push_escaped(out: &mut Vec<u8>, s: &str, depth: u32) {
    let mut s = s.to_string();
    for _ in 0..depth {
        let quoted = serde_json::to_string(&s).unwrap_or_default();
        s = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_string();
    }
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    vars!(Two { a, b });

    fn shape(v: &Two) -> Value {
        json!({"a": v.a, "nested": json!({"b": v.b, "k": format!("x-{}", v.a)}).to_string(), "n": 1})
    }

    #[test]
    fn splices_values_escaped_as_deep_as_their_marker() {
        let t = Template::new(&shape(&Two::markers()), Two::SLOTS).unwrap();
        let cases = [
            ("cart", "scale-0001"),
            ("quote\"d", "back\\slash"),
            ("line\nbreak", "tab\tand \u{1} control"),
            ("", "ünïcödé"),
        ];
        for (a, b) in cases {
            let v = Two { a: a.into(), b: b.into() };
            let want = serde_json::to_vec(&shape(&v)).unwrap();
            let mut got = Vec::new();
            t.write(&v.slots(), &mut got);
            assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap(), "{a:?} {b:?}");
        }
    }

    #[test]
    fn rejects_broken_markers() {
        let cases = [
            (json!({"a": "\u{1}7\u{1}"}), TemplateError::Slot(7, 2)),
            (json!({"a": "\u{1}x\u{1}"}), TemplateError::Marker(7)),
            (json!({"a": "\u{1}0"}), TemplateError::Marker(7)),
            (json!({"a": "\\\u{1}0\u{1}"}), TemplateError::Marker(9)),
        ];
        for (shape, want) in cases {
            assert_eq!(Template::new(&shape, 2).unwrap_err(), want, "{shape}");
        }
    }
}
