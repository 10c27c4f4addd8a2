//! Themes by meaning: the `Theme` struct of ratatui `Style`s that views ask for ("danger",
//! "muted", "mtls_strict"), and the loader that builds it from themes/*.toml with `inherits`,
//! a `[palette]` and per-slot `[styles]`. Pure: text in, `Theme` or a positioned error out; the
//! caller reads files. Views never name raw colours.

use crate::ui::config_file::{
    ConfigError, Lookup, Source, entries_in_order, expect_bool, expect_str, expect_table, inherit_chain, type_name,
    unknown_key,
};
use ratatui::style::{Color, Modifier, Style};
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::DeValue;

/// The themes that ship with meshdeck, embedded at build time.
pub const BUNDLED: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("basic", include_str!("../../themes/basic.toml")),
];

/// The theme used when nothing else is chosen or the chosen one fails to load.
pub const DEFAULT_THEME: &str = "dark";

/// The bundled theme source with this name.
pub fn bundled_source(name: &str) -> Option<Source> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(n, text)| Source::bundled(&format!("themes/{n}.toml"), text))
}

macro_rules! theme_slots {
    ($($(#[doc = $doc:literal])* $slot:ident => $fallback:expr,)*) => {
        /// Resolved styles, one per meaning. Field names equal the `[styles]` keys in theme files.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            /// Syntax-highlighting theme for YAML and diffs; "none" turns highlighting off.
            pub syntax_theme: String,
            $($(#[doc = $doc])* pub $slot: Style,)*
        }

        /// Every slot name, with the slot it falls back to when a theme leaves it unset. A
        /// fallback always names an earlier slot, so resolving in this order is enough.
        pub const SLOTS: &[(&str, Option<&str>)] = &[$((stringify!($slot), $fallback),)*];

        impl Theme {
            fn slot_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($slot) => Some(&mut self.$slot),)*
                    _ => None,
                }
            }

            /// The style of a slot by its file name, for tests and tools.
            pub fn slot(&self, name: &str) -> Option<Style> {
                match name {
                    $(stringify!($slot) => Some(self.$slot),)*
                    _ => None,
                }
            }

            fn blank() -> Theme {
                Theme { syntax_theme: "none".to_string(), $($slot: Style::default(),)* }
            }
        }
    };
}

theme_slots! {
    /// Ordinary text.
    text => None,
    /// Secondary text: ages, hints, empty-state messages.
    muted => Some("text"),
    /// Emphasis that is neither good nor bad news.
    accent => Some("text"),
    ok => Some("text"),
    warn => Some("text"),
    danger => Some("warn"),
    /// The selected row.
    selection => Some("accent"),
    /// Table column headers.
    header => Some("accent"),
    border => Some("muted"),
    border_focused => Some("accent"),
    /// Pane and popup titles.
    title => Some("accent"),
    status_bar => Some("text"),
    diff_add => Some("ok"),
    diff_del => Some("danger"),
    diff_hunk => Some("accent"),
    mtls_strict => Some("ok"),
    mtls_permissive => Some("warn"),
    mtls_disable => Some("danger"),
    /// A workload whose pods carry the sidecar.
    injected => Some("ok"),
    not_injected => Some("muted"),
    /// Data older than the last successful sync.
    stale => Some("warn"),
    cert_expiring => Some("warn"),
}

impl Theme {
    /// Border style of a pane, brighter when it has focus.
    pub fn border(&self, focused: bool) -> Style {
        if focused { self.border_focused } else { self.border }
    }

    /// The bundled default theme. Bundled themes are checked by tests, so this cannot fail in a
    /// released build; if it ever did, plain terminal colours are still usable.
    pub fn fallback() -> Theme {
        let mut no_lookup = |_: &str| Ok(None);
        bundled_source(DEFAULT_THEME).and_then(|src| load(src, None, &mut no_lookup).ok()).unwrap_or_else(Theme::blank)
    }
}

/// Builds a theme from `leaf` and its `inherits` chain. A user leaf without `inherits` takes
/// `default_parent` as its parent if given (how the user's theme.toml layers over the theme
/// named in settings). Bundled names are found without `lookup`; other names go to `lookup`.
/// A child's palette entries and style slots replace its parent's, slot by slot.
pub fn load(leaf: Source, default_parent: Option<&str>, lookup: &mut Lookup<'_>) -> Result<Theme, ConfigError> {
    let layers = inherit_chain("theme", leaf, default_parent, bundled_source, lookup, parse_layer, |l: &Layer| {
        l.inherits.clone()
    })?;
    let layers: Vec<Layer> = layers.into_iter().map(|(_, l)| l).collect();
    build(&layers)
}

struct Colour {
    text: String,
    /// An integer in the file: a terminal palette index, never a palette name.
    indexed: Option<u8>,
    at: ConfigError,
}

#[derive(Default)]
struct RawStyle {
    fg: Option<Colour>,
    bg: Option<Colour>,
    modifiers: Vec<(Modifier, bool)>,
}

struct Layer {
    inherits: Option<(String, Range<usize>)>,
    syntax_theme: Option<String>,
    palette: Vec<(String, Color)>,
    styles: Vec<(String, RawStyle)>,
}

const TOP_KEYS: &[&str] = &["inherits", "syntax_theme", "palette", "styles"];
const STYLE_KEYS: &[&str] = &["fg", "bg", "bold", "italic", "underline", "dim", "reversed"];

fn parse_layer(src: &Source) -> Result<Layer, ConfigError> {
    let doc = src.parse()?;
    let mut layer = Layer { inherits: None, syntax_theme: None, palette: Vec::new(), styles: Vec::new() };
    for (key, value) in entries_in_order(&doc) {
        match key.get_ref().as_ref() {
            "inherits" => layer.inherits = Some((expect_str(src, "inherits", value)?.to_string(), value.span())),
            "syntax_theme" => layer.syntax_theme = Some(expect_str(src, "syntax_theme", value)?.to_string()),
            "palette" => {
                for (name, v) in entries_in_order(expect_table(src, "palette", value)?) {
                    let path = format!("palette.{}", name.get_ref());
                    let c = colour(src, &path, v)?;
                    let parsed = match c.indexed {
                        Some(i) => Color::Indexed(i),
                        None => parse_colour(&c.text).ok_or_else(|| unknown_colour(&c))?,
                    };
                    layer.palette.push((name.get_ref().to_string(), parsed));
                }
            }
            "styles" => {
                for (slot, v) in entries_in_order(expect_table(src, "styles", value)?) {
                    let name = slot.get_ref().as_ref();
                    if !SLOTS.iter().any(|(s, _)| *s == name) {
                        return Err(src.error_at(slot.span(), format!("styles: unknown slot \"{name}\"")));
                    }
                    layer.styles.push((name.to_string(), parse_style(src, &format!("styles.{name}"), v)?));
                }
            }
            _ => return Err(unknown_key(src, "", key, TOP_KEYS)),
        }
    }
    Ok(layer)
}

fn parse_style(src: &Source, path: &str, v: &Spanned<DeValue<'_>>) -> Result<RawStyle, ConfigError> {
    let mut style = RawStyle::default();
    for (key, value) in entries_in_order(expect_table(src, path, v)?) {
        let attr = key.get_ref().as_ref();
        let here = format!("{path}.{attr}");
        let modifier = match attr {
            "fg" => {
                style.fg = Some(colour(src, &here, value)?);
                continue;
            }
            "bg" => {
                style.bg = Some(colour(src, &here, value)?);
                continue;
            }
            "bold" => Modifier::BOLD,
            "italic" => Modifier::ITALIC,
            "underline" => Modifier::UNDERLINED,
            "dim" => Modifier::DIM,
            "reversed" => Modifier::REVERSED,
            _ => return Err(unknown_key(src, path, key, STYLE_KEYS)),
        };
        style.modifiers.push((modifier, expect_bool(src, &here, value)?));
    }
    Ok(style)
}

fn colour(src: &Source, path: &str, v: &Spanned<DeValue<'_>>) -> Result<Colour, ConfigError> {
    let at = |what: String| src.error_at(v.span(), what);
    match v.get_ref() {
        DeValue::String(s) => Ok(Colour { text: s.to_string(), indexed: None, at: at(path.to_string()) }),
        DeValue::Integer(i) => match i.as_str().parse::<u8>() {
            Ok(n) if i.radix() == 10 => Ok(Colour { text: n.to_string(), indexed: Some(n), at: at(path.to_string()) }),
            _ => Err(at(format!("{path}: colour index {} is not between 0 and 255", i.as_str()))),
        },
        other => Err(at(format!("{path}: expected a colour name, \"#rrggbb\" or 0-255, found {}", type_name(other)))),
    }
}

/// A colour as theme files write it: a ratatui colour name ("red", "darkgray", "reset"),
/// "#rrggbb", or a palette index "0".."255".
fn parse_colour(text: &str) -> Option<Color> {
    if text.starts_with('#') && text.len() != 7 {
        return None;
    }
    text.parse::<Color>().ok()
}

fn unknown_colour(c: &Colour) -> ConfigError {
    let mut e = c.at.clone();
    e.what = format!("{}: unknown colour \"{}\"", e.what, c.text);
    e
}

fn build(layers: &[Layer]) -> Result<Theme, ConfigError> {
    let mut palette: HashMap<&str, Color> = HashMap::new();
    for layer in layers {
        for (n, c) in &layer.palette {
            palette.insert(n, *c);
        }
    }
    let resolve_colour = |c: &Colour| -> Result<Color, ConfigError> {
        if let Some(i) = c.indexed {
            return Ok(Color::Indexed(i));
        }
        match palette.get(c.text.as_str()) {
            Some(col) => Ok(*col),
            None => parse_colour(&c.text).ok_or_else(|| unknown_colour(c)),
        }
    };
    let mut theme = Theme::blank();
    let mut set: HashMap<&str, Style> = HashMap::new();
    for layer in layers {
        if let Some(s) = &layer.syntax_theme {
            theme.syntax_theme = s.clone();
        }
        for (slot, raw) in &layer.styles {
            let mut style = Style::default();
            if let Some(fg) = &raw.fg {
                style = style.fg(resolve_colour(fg)?);
            }
            if let Some(bg) = &raw.bg {
                style = style.bg(resolve_colour(bg)?);
            }
            for (m, on) in &raw.modifiers {
                style = if *on { style.add_modifier(*m) } else { style.remove_modifier(*m) };
            }
            set.insert(slot, style);
        }
    }
    for (slot, fallback) in SLOTS {
        let style = set.get(slot).copied().or_else(|| fallback.and_then(|f| theme.slot(f))).unwrap_or_default();
        if let Some(s) = theme.slot_mut(slot) {
            *s = style;
        }
    }
    Ok(theme)
}

/// Which slots a theme file sets itself (not through `inherits` or fallbacks). Tests use it
/// to check that bundled standalone themes set every slot.
pub fn slots_set_by(src: &Source) -> Result<Vec<String>, ConfigError> {
    Ok(parse_layer(src)?.styles.into_iter().map(|(s, _)| s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Source {
        Source::user("t.toml", text.to_string())
    }

    fn no_lookup(_: &str) -> Result<Option<Source>, ConfigError> {
        Ok(None)
    }

    #[test]
    fn colours_in_every_notation() {
        let t = load(
            user(
                "[palette]\nteal = \"#2aa198\"\n[styles]\n\
                 text = { fg = \"reset\" }\nmuted = { fg = \"darkgray\" }\naccent = { fg = \"teal\", bold = true }\n\
                 ok = { fg = 208 }\nwarn = { fg = \"214\", bg = \"#000000\" }\n",
            ),
            None,
            &mut no_lookup,
        )
        .unwrap();
        assert_eq!(t.text, Style::new().fg(Color::Reset));
        assert_eq!(t.muted, Style::new().fg(Color::DarkGray));
        assert_eq!(t.accent, Style::new().fg(Color::Rgb(0x2a, 0xa1, 0x98)).add_modifier(Modifier::BOLD));
        assert_eq!(t.ok, Style::new().fg(Color::Indexed(208)));
        assert_eq!(t.warn, Style::new().fg(Color::Indexed(214)).bg(Color::Rgb(0, 0, 0)));
    }

    #[test]
    fn missing_slots_follow_the_fallback_table() {
        let t = load(
            user("[styles]\ntext = { fg = \"white\" }\nwarn = { fg = \"yellow\" }\nok = { fg = \"green\" }\n"),
            None,
            &mut no_lookup,
        )
        .unwrap();
        let yellow = Style::new().fg(Color::Yellow);
        assert_eq!(t.danger, yellow, "danger -> warn");
        assert_eq!(t.mtls_disable, yellow, "mtls_disable -> danger -> warn");
        assert_eq!(t.diff_add, Style::new().fg(Color::Green), "diff_add -> ok");
        assert_eq!(t.border, Style::new().fg(Color::White), "border -> muted -> text");
    }

    #[test]
    fn fallbacks_point_to_earlier_slots() {
        for (i, (slot, fallback)) in SLOTS.iter().enumerate() {
            if let Some(f) = fallback {
                let j = SLOTS.iter().position(|(s, _)| s == f).unwrap_or(usize::MAX);
                assert!(j < i, "{slot} falls back to {f}, which is not an earlier slot");
            }
        }
    }

    #[test]
    fn user_file_overrides_per_slot_and_child_palette_recolours_parent() {
        let mut lookup = |name: &str| -> Result<Option<Source>, ConfigError> {
            Ok((name == "base").then(|| {
                Source::user(
                    "base.toml",
                    "[palette]\nmain = \"blue\"\n[styles]\ntext = { fg = \"main\" }\nwarn = { fg = \"yellow\", bold = true }\n"
                        .into(),
                )
            }))
        };
        let t = load(
            user("inherits = \"base\"\n[palette]\nmain = \"cyan\"\n[styles]\nwarn = { fg = \"red\" }\n"),
            None,
            &mut lookup,
        )
        .unwrap();
        assert_eq!(t.text, Style::new().fg(Color::Cyan));
        assert_eq!(t.warn, Style::new().fg(Color::Red), "the whole slot is replaced, bold included");
    }

    #[test]
    fn default_parent_applies_only_without_inherits() {
        let t = load(user("[styles]\nwarn = { fg = \"red\" }\n"), Some("light"), &mut no_lookup).unwrap();
        let light = load(bundled_source("light").unwrap(), None, &mut no_lookup).unwrap();
        assert_eq!(t.text, light.text);
        assert_eq!(t.warn, Style::new().fg(Color::Red));
    }

    #[test]
    fn bundled_default_loads() {
        let t = Theme::fallback();
        assert_ne!(t.selection, Style::default());
    }
}
