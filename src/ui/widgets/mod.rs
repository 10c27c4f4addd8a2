//! Reusable widgets that know nothing about the mesh: a windowed table, the status bar, the
//! help overlay, the command/filter input line and the notice line. Each renders straight into
//! a ratatui `Buffer` from borrowed data and a `&Theme`, and keeps no state of its own beyond
//! the small state structs callers own (`Window`, `InputLine`, `Notices`).

pub mod help;
pub mod input;
pub mod notice;
pub mod status_bar;
pub mod table;

use ratatui::text::Span;

/// Display width of a string in terminal columns.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to at most `max` columns, ending in "…" when something was cut.
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = width(c.encode_utf8(&mut [0; 4]));
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
pub(crate) mod test_util {
    use ratatui::buffer::Buffer;
    use ratatui::style::Style;

    /// Asserts that the cell at (x, y) shows `slot`: its colours and modifiers, where set.
    #[track_caller]
    pub fn assert_slot(buf: &Buffer, x: u16, y: u16, slot: Style, what: &str) {
        let cell = &buf[(x, y)];
        if let Some(fg) = slot.fg {
            assert_eq!(cell.fg, fg, "{what}: fg at ({x}, {y})");
        }
        if let Some(bg) = slot.bg {
            assert_eq!(cell.bg, bg, "{what}: bg at ({x}, {y})");
        }
        assert!(cell.modifier.contains(slot.add_modifier), "{what}: modifiers at ({x}, {y}): {:?}", cell.modifier);
    }

    /// The buffer's rows as strings, trailing spaces kept, for comparing whole lines.
    pub fn lines(buf: &Buffer) -> Vec<String> {
        let area = buf.area;
        (area.top()..area.bottom())
            .map(|y| (area.left()..area.right()).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        let cases =
            [("hello", 10, "hello"), ("hello", 5, "hello"), ("hello", 4, "hel…"), ("hello", 1, "…"), ("hello", 0, "")];
        for (s, max, want) in cases {
            assert_eq!(fit(s, max), want, "{s} {max}");
        }
        assert_eq!(fit("日本語です", 5), "日本…", "wide characters count two columns");
    }
}
