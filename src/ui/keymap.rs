//! Keymaps: parse keymaps/*.toml into per-mode bindings, layer a user file over the bundled
//! one by (mode, key sequence), and turn key events into `Intent`s, chords included. Pure: text
//! in, `Keymap` and warnings out; the caller reads files. The help page is generated from the
//! resolved keymap here, so it cannot drift from what the keys do.

mod file;
#[cfg(test)]
mod tests;

use crate::ui::config_file::{ConfigError, Lookup, Source, inherit_chain};
use crate::ui::intent::Intent;
use crate::ui::keys::{Key, sequence_text};
use crossterm::event::{KeyEvent, KeyEventKind};
use file::{Layer, parse_layer};

/// The keymaps that ship with meshdeck, embedded at build time.
pub const BUNDLED: &[(&str, &str)] =
    &[("default", include_str!("../../keymaps/default.toml")), ("vim", include_str!("../../keymaps/vim.toml"))];

pub const DEFAULT_KEYMAP: &str = "default";

pub fn bundled_source(name: &str) -> Option<Source> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(n, text)| Source::bundled(&format!("keymaps/{n}.toml"), text))
}

/// A focus layer of the UI; each has a `[section]` in keymap files. Lookup tries the focused
/// mode, then `[global]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Global,
    /// Any list: namespaces, workloads, control plane.
    Table,
    /// The detail pane of one object.
    Detail,
    Help,
    /// Typing into the `:` command line.
    Command,
    /// Typing into the `/` filter line.
    Filter,
    /// The plan screen: staged actions, their preview and diffs.
    Preview,
    /// A staging form: typing into its fields.
    Form,
    /// The apply confirmation dialog.
    Confirm,
    /// The in-app YAML editor: every key without a binding edits the text.
    Editor,
    /// The journal of past applies.
    Journal,
}

impl Mode {
    pub const ALL: [Mode; 11] = [
        Mode::Global,
        Mode::Table,
        Mode::Detail,
        Mode::Help,
        Mode::Command,
        Mode::Filter,
        Mode::Preview,
        Mode::Form,
        Mode::Confirm,
        Mode::Editor,
        Mode::Journal,
    ];

    /// The section name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Table => "table",
            Mode::Detail => "detail",
            Mode::Help => "help",
            Mode::Command => "command",
            Mode::Filter => "filter",
            Mode::Preview => "preview",
            Mode::Form => "form",
            Mode::Confirm => "confirm",
            Mode::Editor => "editor",
            Mode::Journal => "journal",
        }
    }

    /// The heading of this mode's part of the help page.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Global => "Everywhere",
            Mode::Table => "Lists",
            Mode::Detail => "Details",
            Mode::Help => "Help",
            Mode::Command => "Command line",
            Mode::Filter => "Filter",
            Mode::Preview => "Plan and preview",
            Mode::Form => "Staging form",
            Mode::Confirm => "Apply confirmation",
            Mode::Editor => "YAML editor",
            Mode::Journal => "Journal",
        }
    }

    /// In modes where the user types text, plain characters belong to the text: only keys with
    /// Ctrl or Alt fall through to [global].
    pub fn is_text_input(self) -> bool {
        matches!(self, Mode::Command | Mode::Filter | Mode::Form | Mode::Confirm | Mode::Editor)
    }

    fn from_name(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub intent: Intent,
    pub desc: String,
}

/// Bindings per mode, in file order (bundled first, user additions after).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keymap {
    modes: [Vec<Binding>; 11],
}

/// What a key press amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Intent(Intent),
    /// The key starts a chord; wait for the next one.
    Pending,
    /// Nothing is bound. In text-input modes the caller then types the key into the line.
    Unbound,
}

/// Keys typed so far towards a chord. Kept apart from `Keymap` so the keymap can be shared
/// read-only; a change of mode drops a half-typed chord.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    keys: Vec<Key>,
    mode: Option<Mode>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The chord typed so far, for the status bar ("g").
    pub fn text(&self) -> String {
        sequence_text(&self.keys)
    }

    pub fn clear(&mut self) {
        self.keys.clear();
    }
}

enum Hit {
    Exact(Intent),
    Prefix,
    Miss,
}

impl Keymap {
    /// The bundled default keymap. Tests check that it loads, so this never comes back empty in
    /// a released build.
    pub fn fallback() -> Keymap {
        let mut no_lookup = |_: &str| Ok(None);
        bundled_source(DEFAULT_KEYMAP)
            .and_then(|src| load(src, None, &mut no_lookup).ok())
            .map(|(k, _)| k)
            .unwrap_or_default()
    }

    pub fn bindings(&self, mode: Mode) -> &[Binding] {
        &self.modes[mode as usize]
    }

    /// Turns one key event into an intent for the focused `mode`. A sequence that fails half
    /// way is dropped and its last key tried on its own, so `g` then `j` still moves down.
    /// Key releases (sent only by terminals with enhanced keyboard reporting) are `Unbound`.
    pub fn resolve(&self, pending: &mut Pending, event: &KeyEvent, mode: Mode) -> Resolution {
        if event.kind == KeyEventKind::Release {
            return Resolution::Unbound;
        }
        let Some(key) = Key::from_event(event) else {
            pending.clear();
            return Resolution::Unbound;
        };
        if pending.mode != Some(mode) {
            pending.keys.clear();
            pending.mode = Some(mode);
        }
        pending.keys.push(key);
        if let Some(r) = self.settle(pending, mode) {
            return r;
        }
        let was_chord = pending.keys.len() > 1;
        pending.keys.clear();
        if was_chord {
            pending.keys.push(key);
            if let Some(r) = self.settle(pending, mode) {
                return r;
            }
            pending.keys.clear();
        }
        Resolution::Unbound
    }

    fn settle(&self, pending: &mut Pending, mode: Mode) -> Option<Resolution> {
        match self.lookup(&pending.keys, mode) {
            Hit::Exact(i) => {
                pending.keys.clear();
                Some(Resolution::Intent(i))
            }
            Hit::Prefix => Some(Resolution::Pending),
            Hit::Miss => None,
        }
    }

    fn lookup(&self, seq: &[Key], mode: Mode) -> Hit {
        for m in [mode, Mode::Global] {
            if m == Mode::Global && mode.is_text_input() && !seq[0].has_command_modifier() {
                continue;
            }
            // The editor owns its Ctrl keys (undo, word moves); only [editor] bindings apply.
            if m == Mode::Global && mode == Mode::Editor {
                continue;
            }
            let bindings = self.bindings(m);
            if let Some(b) = bindings.iter().find(|b| b.keys == seq) {
                return Hit::Exact(b.intent);
            }
            if bindings.iter().any(|b| b.keys.len() > seq.len() && b.keys.starts_with(seq)) {
                return Hit::Prefix;
            }
            if m == Mode::Global {
                break;
            }
        }
        Hit::Miss
    }
}

/// One mode's part of the help page: its title and (keys, description) rows.
pub type HelpSection = (String, Vec<(String, String)>);

/// The help page for a keymap: one section per mode that has bindings, keys that do the same
/// thing on one row ("k, <Up>"). Unbound (`noop`) keys are left out.
pub fn help_sections(keymap: &Keymap) -> Vec<HelpSection> {
    let mut sections = Vec::new();
    for mode in Mode::ALL {
        let mut rows: Vec<(Intent, String, Vec<String>)> = Vec::new();
        for b in keymap.bindings(mode).iter().filter(|b| b.intent != Intent::Noop) {
            let keys = sequence_text(&b.keys);
            match rows.iter_mut().find(|(i, d, _)| *i == b.intent && *d == b.desc) {
                Some(row) => row.2.push(keys),
                None => rows.push((b.intent, b.desc.clone(), vec![keys])),
            }
        }
        if !rows.is_empty() {
            let rows = rows.into_iter().map(|(_, desc, keys)| (keys.join(", "), desc)).collect();
            sections.push((mode.title().to_string(), rows));
        }
    }
    sections
}

/// Loads `leaf` over its `inherits` chain (a user leaf without `inherits` layers over
/// `default_parent`). Later layers add bindings or replace them by (mode, key sequence);
/// `run = "noop"` unbinds. Errors reject the file; warnings (a binding that makes another
/// unreachable) come back with the keymap.
pub fn load(
    leaf: Source,
    default_parent: Option<&str>,
    lookup: &mut Lookup<'_>,
) -> Result<(Keymap, Vec<ConfigError>), ConfigError> {
    let layers = inherit_chain("keymap", leaf, default_parent, bundled_source, lookup, parse_layer, |l: &Layer| {
        l.inherits.clone()
    })?;
    let mut keymap = Keymap::default();
    let mut warnings = Vec::new();
    for (src, layer) in &layers {
        merge(&mut keymap, layer);
        warnings.extend(conflicts(&keymap, src, layer));
    }
    Ok((keymap, warnings))
}

fn merge(keymap: &mut Keymap, layer: &Layer) {
    for (mode, bindings) in &layer.modes {
        let list = &mut keymap.modes[*mode as usize];
        for raw in bindings {
            let desc = raw.desc.clone().unwrap_or_else(|| raw.intent.name().replace('_', " "));
            let binding = Binding { keys: raw.keys.clone(), intent: raw.intent, desc };
            let existing = list.iter().position(|b| b.keys == raw.keys);
            match (existing, raw.intent) {
                // Unbinding in [global] just removes; in a mode the noop stays so that it also
                // hides a [global] binding of the same keys.
                (Some(i), Intent::Noop) if *mode == Mode::Global => {
                    list.remove(i);
                }
                (Some(i), _) => list[i] = binding,
                (None, Intent::Noop) if *mode == Mode::Global => {}
                (None, _) => list.push(binding),
            }
        }
    }
}

/// Warnings for bindings of `layer` that hide, or are hidden by, another binding: one is a
/// strict prefix of the other in the same mode (the shorter fires first), or across a mode and
/// [global] (the mode's binding wins there).
fn conflicts(keymap: &Keymap, src: &Source, layer: &Layer) -> Vec<ConfigError> {
    let from_layer = |mode: Mode, keys: &[Key]| {
        layer.modes.iter().any(|(m, bs)| *m == mode && bs.iter().any(|b| b.keys == keys && b.intent != Intent::Noop))
    };
    let mut out = Vec::new();
    for (mode, raws) in &layer.modes {
        for raw in raws.iter().filter(|r| r.intent != Intent::Noop) {
            let others: Vec<Mode> = if *mode == Mode::Global { Mode::ALL.to_vec() } else { vec![*mode, Mode::Global] };
            for other in others {
                for b in keymap.bindings(other).iter().filter(|b| b.intent != Intent::Noop) {
                    let prefix = |a: &[Key], b: &[Key]| a.len() < b.len() && b.starts_with(a);
                    let mine_shorter = prefix(&raw.keys, &b.keys);
                    if !mine_shorter && !prefix(&b.keys, &raw.keys) {
                        continue;
                    }
                    // Same mode: the shorter wins. Across modes: the non-global one wins.
                    let i_win = if other == *mode { mine_shorter } else { *mode != Mode::Global };
                    if !i_win && from_layer(other, &b.keys) {
                        continue; // reported from the winner's side
                    }
                    let where_ = if other == *mode { String::new() } else { format!(" of [{}]", other.name()) };
                    let in_mode = if *mode == Mode::Global { other } else { *mode };
                    let there = if other == *mode { String::new() } else { format!(" in [{}]", in_mode.name()) };
                    let (mine, theirs) = (sequence_text(&raw.keys), sequence_text(&b.keys));
                    let what = if i_win {
                        format!(
                            "[{}] \"{mine}\" shadows \"{theirs}\" ({}){where_}, which can no longer be typed{there}",
                            mode.name(),
                            b.intent.name()
                        )
                    } else {
                        format!(
                            "[{}] \"{mine}\" can never be typed{there}: \"{theirs}\"{where_} is bound to {}",
                            mode.name(),
                            b.intent.name()
                        )
                    };
                    out.push(src.error_at(raw.on_span.clone(), what));
                }
            }
        }
    }
    out
}
