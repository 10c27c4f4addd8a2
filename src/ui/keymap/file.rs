//! Reading one keymap file into a `Layer`: modes, key sequences, intents and descriptions,
//! with positioned errors for anything unknown or bound twice. Merging layers is keymap.rs's job.

use super::Mode;
use crate::ui::config_file::{ConfigError, Source, entries_in_order, expect_str, expect_table, type_name, unknown_key};
use crate::ui::intent::Intent;
use crate::ui::keys::{Key, sequence_text};
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::DeValue;

pub(super) struct RawBinding {
    pub(super) keys: Vec<Key>,
    pub(super) intent: Intent,
    pub(super) desc: Option<String>,
    pub(super) on_span: Range<usize>,
}

pub(super) struct Layer {
    pub(super) inherits: Option<(String, Range<usize>)>,
    pub(super) modes: Vec<(Mode, Vec<RawBinding>)>,
}

const BINDING_KEYS: &[&str] = &["on", "run", "desc"];

pub(super) fn parse_layer(src: &Source) -> Result<Layer, ConfigError> {
    let doc = src.parse()?;
    let mut layer = Layer { inherits: None, modes: Vec::new() };
    for (key, value) in entries_in_order(&doc) {
        let name = key.get_ref().as_ref();
        if name == "inherits" {
            layer.inherits = Some((expect_str(src, "inherits", value)?.to_string(), value.span()));
            continue;
        }
        let Some(mode) = Mode::from_name(name) else {
            let known: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
            return Err(src.error_at(
                key.span(),
                format!("unknown mode [{name}] (expected inherits or one of: {})", known.join(", ")),
            ));
        };
        let path = format!("[{name}]");
        let mut bindings = Vec::new();
        for (k, v) in entries_in_order(expect_table(src, &path, value)?) {
            if k.get_ref().as_ref() != "keys" {
                return Err(unknown_key(src, &path, k, &["keys"]));
            }
            let DeValue::Array(items) = v.get_ref() else {
                return Err(
                    src.error_at(v.span(), format!("{path} keys: expected an array, found {}", type_name(v.get_ref())))
                );
            };
            for (n, item) in items.iter().enumerate() {
                bindings.push(parse_binding(src, &format!("{path} keys[{n}]"), mode, item)?);
            }
        }
        let mut seen: HashMap<&[Key], usize> = HashMap::new();
        for b in &bindings {
            let line = src.error_at(b.on_span.clone(), "").line;
            if let Some(first) = seen.insert(&b.keys, line) {
                return Err(src.error_at(
                    b.on_span.clone(),
                    format!(
                        "[{name}] \"{}\": bound twice in this file (first on line {first})",
                        sequence_text(&b.keys)
                    ),
                ));
            }
        }
        layer.modes.push((mode, bindings));
    }
    Ok(layer)
}

fn parse_binding(src: &Source, path: &str, mode: Mode, item: &Spanned<DeValue<'_>>) -> Result<RawBinding, ConfigError> {
    let table = expect_table(src, path, item)?;
    let (mut on, mut run, mut desc) = (None, None, None);
    for (k, v) in entries_in_order(table) {
        match k.get_ref().as_ref() {
            "on" => on = Some(v),
            "run" => run = Some(v),
            "desc" => desc = Some(expect_str(src, &format!("{path} desc"), v)?.to_string()),
            _ => return Err(unknown_key(src, path, k, BINDING_KEYS)),
        }
    }
    let on = on.ok_or_else(|| src.error_at(item.span(), format!("{path}: missing \"on\"")))?;
    let keys = parse_on(src, path, on)?;
    let shown = sequence_text(&keys);
    let run =
        run.ok_or_else(|| src.error_at(item.span(), format!("[{}] \"{shown}\": missing \"run\"", mode.name())))?;
    let run_name = expect_str(src, &format!("[{}] \"{shown}\" run", mode.name()), run)?;
    let intent = Intent::from_name(run_name).ok_or_else(|| {
        src.error_at(run.span(), format!("[{}] \"{shown}\": unknown run \"{run_name}\"", mode.name()))
    })?;
    Ok(RawBinding { keys, intent, desc, on_span: on.span() })
}

fn parse_on(src: &Source, path: &str, on: &Spanned<DeValue<'_>>) -> Result<Vec<Key>, ConfigError> {
    let one = |v: &Spanned<DeValue<'_>>| -> Result<Key, ConfigError> {
        let text = expect_str(src, &format!("{path} on"), v)?;
        Key::parse(text).map_err(|e| src.error_at(v.span(), format!("{path} on: {e}")))
    };
    match on.get_ref() {
        DeValue::Array(items) if items.is_empty() => Err(src.error_at(on.span(), format!("{path} on: no keys"))),
        DeValue::Array(items) => items.iter().map(one).collect(),
        _ => Ok(vec![one(on)?]),
    }
}
