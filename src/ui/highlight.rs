//! Diff highlighting: syntect's `Diff` syntax with the theme's `syntax_theme`, converted to
//! ratatui styles, and a cache by content so a diff is highlighted once, never per frame. The
//! run loop calls this off the UI task when a preview arrives. With `syntax_theme = "none"`
//! (or an unknown name) lines take the theme's `diff_add`, `diff_del` and `diff_hunk` slots.

use crate::ui::app::plan_state::Highlighted;
use crate::ui::theme::Theme;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::SyntaxSet;

struct Assets {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

/// Loaded once, on first use: decoding the bundled sets costs milliseconds.
fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets { syntaxes: SyntaxSet::load_defaults_newlines(), themes: ThemeSet::load_defaults() })
}

fn convert(style: syntect::highlighting::Style) -> Style {
    let c = style.foreground;
    let mut out = Style::new().fg(Color::Rgb(c.r, c.g, c.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        out = out.add_modifier(Modifier::UNDERLINED);
    }
    out
}

/// Styles by the line's first character, from the theme's slots.
fn plain(diff: &str, theme: &Theme) -> Vec<Line<'static>> {
    diff.lines()
        .map(|l| {
            let style = if l.starts_with("+++") || l.starts_with("---") {
                theme.muted
            } else if l.starts_with('+') {
                theme.diff_add
            } else if l.starts_with('-') {
                theme.diff_del
            } else if l.starts_with("@@") {
                theme.diff_hunk
            } else {
                theme.text
            };
            Line::from(Span::styled(l.to_string(), style))
        })
        .collect()
}

/// The diff as styled lines.
pub fn diff_lines(diff: &str, theme: &Theme) -> Vec<Line<'static>> {
    let a = assets();
    let (Some(syntax), Some(st)) = (a.syntaxes.find_syntax_by_name("Diff"), a.themes.themes.get(&theme.syntax_theme))
    else {
        return plain(diff, theme);
    };
    let mut h = HighlightLines::new(syntax, st);
    let mut out = Vec::new();
    for line in syntect::util::LinesWithEndings::from(diff) {
        let Ok(ranges) = h.highlight_line(line, &a.syntaxes) else {
            return plain(diff, theme);
        };
        let spans: Vec<Span<'static>> = ranges
            .into_iter()
            .map(|(style, text)| Span::styled(text.trim_end_matches(['\n', '\r']).to_string(), convert(style)))
            .filter(|s| !s.content.is_empty())
            .collect();
        out.push(Line::from(spans));
    }
    out
}

/// Highlighted diffs by content and syntax theme, shared by every preview of a session so a
/// recomputed preview only highlights what changed.
#[derive(Clone, Default)]
pub struct Cache {
    map: Arc<Mutex<HashMap<u64, Highlighted>>>,
}

/// Entries kept before the cache starts over; a session rarely sees more distinct diffs.
const MAX_ENTRIES: usize = 512;

impl Cache {
    pub fn get(&self, diff: &str, theme: &Theme) -> Highlighted {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        diff.hash(&mut hasher);
        theme.syntax_theme.hash(&mut hasher);
        let key = hasher.finish();
        if let Some(hit) = self.map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return hit.clone();
        }
        let lines: Highlighted = diff_lines(diff, theme).into();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, lines.clone());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "--- live\n+++ result\n@@ -1,2 +1,2 @@\n spec:\n-  mode: PERMISSIVE\n+  mode: STRICT\n";

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn syntect_colours_added_and_removed_lines_differently() {
        let theme = Theme::fallback();
        assert_ne!(theme.syntax_theme, "none", "the default theme names a syntect theme");
        let lines = diff_lines(DIFF, &theme);
        let texts: Vec<String> = lines.iter().map(text).collect();
        assert_eq!(texts, DIFF.lines().collect::<Vec<_>>());
        let fg = |i: usize| lines[i].spans.first().and_then(|s| s.style.fg);
        assert!(matches!(fg(4), Some(Color::Rgb(..))), "{:?}", lines[4]);
        assert_ne!(fg(4), fg(5), "a removed and an added line look different");
        assert_ne!(fg(3), fg(5), "context and added lines look different");
    }

    #[test]
    fn without_a_syntax_theme_the_slots_apply() {
        let mut theme = Theme::fallback();
        theme.syntax_theme = "none".into();
        let lines = diff_lines(DIFF, &theme);
        assert_eq!(lines[4].spans[0].style, theme.diff_del);
        assert_eq!(lines[5].spans[0].style, theme.diff_add);
        assert_eq!(lines[2].spans[0].style, theme.diff_hunk);
    }

    #[test]
    fn the_cache_returns_the_same_lines_for_the_same_diff() {
        let theme = Theme::fallback();
        let cache = Cache::default();
        let a = cache.get(DIFF, &theme);
        let b = cache.get(DIFF, &theme);
        assert!(Arc::ptr_eq(&a, &b), "highlighted once");
        let c = cache.get("+x\n", &theme);
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
