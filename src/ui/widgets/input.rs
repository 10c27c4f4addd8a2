//! The one-line text input used by the `:` command line and the `/` filter: the text and
//! cursor (`InputLine`, owned by the caller's state), readline-style editing keys, and drawing
//! with a prompt, scrolled sideways so the cursor stays visible. Enter, Esc and Tab are not
//! handled here: the keymap turns them into intents first, and only unbound keys come here.

use crate::ui::theme::Theme;
use crate::ui::widgets::width;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputLine {
    text: String,
    /// Byte offset into `text`, always on a character boundary.
    cursor: usize,
}

impl InputLine {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Replaces the text and puts the cursor at its end (history, completion).
    pub fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.len();
    }

    pub fn clear(&mut self) {
        self.set("");
    }

    /// Inserts text at the cursor; line breaks in pasted text become spaces.
    pub fn insert_str(&mut self, s: &str) {
        let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        self.text.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
    }

    /// Applies an editing key: characters, Backspace, Delete, Left/Right, Home/End, and
    /// <C-a> <C-e> <C-b> <C-f> <C-u> <C-k> <C-w>. Returns false for keys it does not know.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.len(),
            KeyCode::Char('b') if ctrl => self.cursor = self.prev(self.cursor),
            KeyCode::Char('f') if ctrl => self.cursor = self.next(self.cursor),
            KeyCode::Char('u') if ctrl => {
                self.text.drain(..self.cursor);
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => self.text.truncate(self.cursor),
            KeyCode::Char('w') if ctrl => {
                let start = self.word_start();
                self.text.drain(start..self.cursor);
                self.cursor = start;
            }
            KeyCode::Char(_) if ctrl || key.modifiers.contains(KeyModifiers::ALT) => return false,
            KeyCode::Char(c) => self.insert_str(c.encode_utf8(&mut [0; 4])),
            KeyCode::Backspace if self.cursor > 0 => {
                let start = self.prev(self.cursor);
                self.text.drain(start..self.cursor);
                self.cursor = start;
            }
            KeyCode::Delete if self.cursor < self.text.len() => {
                let end = self.next(self.cursor);
                self.text.drain(self.cursor..end);
            }
            KeyCode::Backspace | KeyCode::Delete => {}
            KeyCode::Left => self.cursor = self.prev(self.cursor),
            KeyCode::Right => self.cursor = self.next(self.cursor),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.len(),
            _ => return false,
        }
        true
    }

    fn prev(&self, i: usize) -> usize {
        self.text[..i].char_indices().next_back().map_or(0, |(j, _)| j)
    }

    fn next(&self, i: usize) -> usize {
        self.text[i..].chars().next().map_or(i, |c| i + c.len_utf8())
    }

    /// Start of the word before the cursor, skipping spaces first (as <C-w> does in a shell).
    fn word_start(&self) -> usize {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        trimmed.rfind(char::is_whitespace).map_or(0, |i| i + 1)
    }

    /// Draws `prompt` and the text, and returns where the terminal cursor belongs
    /// (for `Frame::set_cursor_position`). Long text scrolls so the cursor stays in view.
    pub fn render(&self, prompt: &str, area: Rect, buf: &mut Buffer, theme: &Theme) -> Position {
        let line = Rect { height: area.height.min(1), ..area };
        buf.set_style(line, theme.text);
        if line.is_empty() {
            return area.as_position();
        }
        let (x, _) = buf.set_stringn(line.x, line.y, prompt, usize::from(line.width), theme.accent);
        let room = usize::from(line.right().saturating_sub(x));
        if room == 0 {
            return Position::new(x.min(line.right() - 1), line.y);
        }
        // Skip characters from the left until the cursor fits, keeping one column for it.
        let mut start = 0;
        while width(&self.text[start..self.cursor]) >= room {
            start = self.next(start);
        }
        buf.set_stringn(x, line.y, &self.text[start..], room, theme.text);
        let cursor_x = x + width(&self.text[start..self.cursor]) as u16;
        Position::new(cursor_x, line.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::widgets::test_util::{assert_slot, lines};

    fn keys(line: &mut InputLine, keys: &[KeyEvent]) {
        for k in keys {
            line.edit(k);
        }
    }

    fn ch(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn code(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn editing_keys() {
        // (start text, keys) -> (text, cursor)
        let cases: [(&str, Vec<KeyEvent>, &str, usize); 9] = [
            ("", vec![ch('a'), ch('b')], "ab", 2),
            ("abc", vec![code(KeyCode::Backspace)], "ab", 2),
            ("abc", vec![code(KeyCode::Home), code(KeyCode::Delete)], "bc", 0),
            ("abc", vec![code(KeyCode::Left), ch('X')], "abXc", 3),
            (
                "héllo",
                vec![code(KeyCode::Left), code(KeyCode::Left), code(KeyCode::Left), code(KeyCode::Backspace)],
                "hllo",
                1,
            ),
            ("ns foo bar  ", vec![ctrl('w')], "ns foo ", 7),
            ("ns foo", vec![ctrl('a'), ctrl('f'), ctrl('k')], "n", 1),
            ("ns foo", vec![code(KeyCode::Left), ctrl('u')], "o", 0),
            ("", vec![code(KeyCode::Backspace), code(KeyCode::Delete), code(KeyCode::Left)], "", 0),
        ];
        for (start, ks, text, cursor) in cases {
            let mut line = InputLine::default();
            line.set(start);
            keys(&mut line, &ks);
            assert_eq!((line.text(), line.cursor), (text, cursor), "from {start:?}");
        }
        let mut line = InputLine::default();
        assert!(!line.edit(&code(KeyCode::Up)), "not an editing key");
        assert!(!line.edit(&ctrl('c')), "left to the keymap");
    }

    #[test]
    fn paste_flattens_line_breaks() {
        let mut line = InputLine::default();
        line.insert_str("a\nb\tc");
        assert_eq!(line.text(), "a b c");
    }

    #[test]
    fn draws_prompt_and_text_and_places_the_cursor() {
        let theme = Theme::fallback();
        let area = Rect::new(0, 0, 10, 1);
        let mut line = InputLine::default();
        line.set("istio");
        let mut buf = Buffer::empty(area);
        let pos = line.render("/", area, &mut buf, &theme);
        assert_eq!(lines(&buf), ["/istio    "]);
        assert_eq!(pos, Position::new(6, 0));
        assert_slot(&buf, 0, 0, theme.accent, "prompt");

        line.set("namespace istio-system");
        let mut buf = Buffer::empty(area);
        let pos = line.render(":", area, &mut buf, &theme);
        assert_eq!(lines(&buf), [":o-system "], "scrolled so the cursor at the end shows");
        assert_eq!(pos, Position::new(9, 0));

        line.edit(&code(KeyCode::Home));
        let mut buf = Buffer::empty(area);
        let pos = line.render(":", area, &mut buf, &theme);
        assert_eq!(lines(&buf), [":namespace"]);
        assert_eq!(pos, Position::new(1, 0));
    }
}
