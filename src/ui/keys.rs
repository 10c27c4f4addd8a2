//! `Key`: one key press as keymaps write it (`j`, `G`, `<C-c>`, `<S-Tab>`, `<PageDown>`), its
//! parser and printer, and the normalisation of crossterm key events into it. No bindings
//! here: that is keymap.rs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyName {
    /// A printable character; its case carries Shift.
    Char(char),
    Enter,
    Esc,
    Tab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

/// A key with the modifiers that matter for bindings: Ctrl, Alt and (for non-characters) Shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub name: KeyName,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

const NAMED: &[(&str, KeyName)] = &[
    ("Enter", KeyName::Enter),
    ("CR", KeyName::Enter),
    ("Esc", KeyName::Esc),
    ("Escape", KeyName::Esc),
    ("Tab", KeyName::Tab),
    ("BS", KeyName::Backspace),
    ("Backspace", KeyName::Backspace),
    ("Del", KeyName::Delete),
    ("Delete", KeyName::Delete),
    ("Insert", KeyName::Insert),
    ("Up", KeyName::Up),
    ("Down", KeyName::Down),
    ("Left", KeyName::Left),
    ("Right", KeyName::Right),
    ("PageUp", KeyName::PageUp),
    ("PageDown", KeyName::PageDown),
    ("Home", KeyName::Home),
    ("End", KeyName::End),
    ("Space", KeyName::Char(' ')),
    ("lt", KeyName::Char('<')),
];

impl Key {
    pub const fn plain(name: KeyName) -> Key {
        Key { name, ctrl: false, alt: false, shift: false }
    }

    /// Parses keymap notation: a single character, or `<…>` with optional `C-`, `A-` (or `M-`)
    /// and `S-` prefixes around a character or a key name (`Enter`, `Esc`, `Up`, `PageDown`,
    /// `Tab`, `Space`, `F1`…). Names are case-insensitive.
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(Key::plain(KeyName::Char(c)));
        }
        let Some(inner) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
            return Err(format!("unknown key \"{text}\" (write one character, or a name like <Enter> or <C-d>)"));
        };
        let mut key = Key::plain(KeyName::Esc);
        let mut rest = inner;
        while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
            match rest.as_bytes()[0].to_ascii_uppercase() {
                b'C' => key.ctrl = true,
                b'A' | b'M' => key.alt = true,
                b'S' => key.shift = true,
                _ => break,
            }
            rest = &rest[2..];
        }
        let mut chars = rest.chars();
        key.name = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyName::Char(c),
            _ => named(rest).ok_or_else(|| format!("unknown key \"{text}\""))?,
        };
        if let KeyName::Char(c) = key.name
            && key.shift
        {
            // Shift on a character is its upper case, the way terminals report it.
            key.name = KeyName::Char(c.to_uppercase().next().unwrap_or(c));
            key.shift = false;
        }
        Ok(key)
    }

    /// The key a crossterm event stands for. Shift is folded into characters (terminals send
    /// `G`, sometimes with and sometimes without the Shift flag) and BackTab becomes `<S-Tab>`.
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let m = ev.modifiers;
        let mut key = Key {
            name: KeyName::Esc,
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            shift: m.contains(KeyModifiers::SHIFT),
        };
        key.name = match ev.code {
            KeyCode::Char(c) => {
                key.shift = false;
                KeyName::Char(c)
            }
            KeyCode::Enter => KeyName::Enter,
            KeyCode::Esc => KeyName::Esc,
            KeyCode::Tab => KeyName::Tab,
            KeyCode::BackTab => {
                key.shift = true;
                KeyName::Tab
            }
            KeyCode::Backspace => KeyName::Backspace,
            KeyCode::Delete => KeyName::Delete,
            KeyCode::Insert => KeyName::Insert,
            KeyCode::Up => KeyName::Up,
            KeyCode::Down => KeyName::Down,
            KeyCode::Left => KeyName::Left,
            KeyCode::Right => KeyName::Right,
            KeyCode::PageUp => KeyName::PageUp,
            KeyCode::PageDown => KeyName::PageDown,
            KeyCode::Home => KeyName::Home,
            KeyCode::End => KeyName::End,
            KeyCode::F(n) => KeyName::F(n),
            _ => return None,
        };
        Some(key)
    }

    fn is_bare_char(&self) -> bool {
        matches!(self.name, KeyName::Char(c) if c != ' ' && c != '<') && !self.ctrl && !self.alt
    }

    /// True for keys written with Ctrl or Alt: the only ones that reach [global] bindings while
    /// the user types into the command line or filter.
    pub fn has_command_modifier(&self) -> bool {
        self.ctrl || self.alt
    }
}

fn named(name: &str) -> Option<KeyName> {
    if let Some(n) = name.strip_prefix(['F', 'f']).and_then(|n| n.parse::<u8>().ok())
        && (1..=24).contains(&n)
    {
        return Some(KeyName::F(n));
    }
    NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, k)| *k)
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_bare_char()
            && let KeyName::Char(c) = self.name
        {
            return write!(f, "{c}");
        }
        f.write_str("<")?;
        if self.ctrl {
            f.write_str("C-")?;
        }
        if self.alt {
            f.write_str("A-")?;
        }
        if self.shift {
            f.write_str("S-")?;
        }
        match self.name {
            KeyName::Char(' ') => f.write_str("Space")?,
            KeyName::Char('<') => f.write_str("lt")?,
            KeyName::Char(c) => write!(f, "{c}")?,
            KeyName::F(n) => write!(f, "F{n}")?,
            other => {
                let text = NAMED.iter().find(|(_, k)| *k == other).map_or("?", |(n, _)| *n);
                f.write_str(text)?;
            }
        }
        f.write_str(">")
    }
}

/// A key sequence as help and messages show it: `gg`, `<C-c>`, `g<Tab>`.
pub fn sequence_text(keys: &[Key]) -> String {
    keys.iter().map(Key::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn k(name: KeyName, ctrl: bool, alt: bool, shift: bool) -> Key {
        Key { name, ctrl, alt, shift }
    }

    #[test]
    fn parses_notation() {
        let cases = [
            ("j", k(KeyName::Char('j'), false, false, false)),
            ("G", k(KeyName::Char('G'), false, false, false)),
            (":", k(KeyName::Char(':'), false, false, false)),
            ("<", k(KeyName::Char('<'), false, false, false)),
            ("<C-c>", k(KeyName::Char('c'), true, false, false)),
            ("<c-d>", k(KeyName::Char('d'), true, false, false)),
            ("<A-x>", k(KeyName::Char('x'), false, true, false)),
            ("<M-x>", k(KeyName::Char('x'), false, true, false)),
            ("<S-a>", k(KeyName::Char('A'), false, false, false)),
            ("<Enter>", k(KeyName::Enter, false, false, false)),
            ("<esc>", k(KeyName::Esc, false, false, false)),
            ("<Up>", k(KeyName::Up, false, false, false)),
            ("<PageDown>", k(KeyName::PageDown, false, false, false)),
            ("<Tab>", k(KeyName::Tab, false, false, false)),
            ("<S-Tab>", k(KeyName::Tab, false, false, true)),
            ("<Space>", k(KeyName::Char(' '), false, false, false)),
            ("<F5>", k(KeyName::F(5), false, false, false)),
            ("<C-->", k(KeyName::Char('-'), true, false, false)),
        ];
        for (text, want) in cases {
            assert_eq!(Key::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_bad_notation() {
        let cases = [
            ("jk", "unknown key \"jk\" (write one character, or a name like <Enter> or <C-d>)"),
            ("<Foo>", "unknown key \"<Foo>\""),
            ("<C-Foo>", "unknown key \"<C-Foo>\""),
            ("<F99>", "unknown key \"<F99>\""),
            ("", "unknown key \"\" (write one character, or a name like <Enter> or <C-d>)"),
        ];
        for (text, want) in cases {
            assert_eq!(Key::parse(text), Err(want.to_string()), "{text}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["j", "G", "<C-c>", "<A-x>", "<S-Tab>", "<Enter>", "<PageDown>", "<Space>", "<lt>", "<F12>"] {
            let key = Key::parse(text).unwrap();
            assert_eq!(key.to_string(), text);
        }
        let gg = [Key::parse("g").unwrap(), Key::parse("g").unwrap()];
        assert_eq!(sequence_text(&gg), "gg");
    }

    #[test]
    fn events_normalise_to_notation() {
        let ev = |code, mods| KeyEvent::new_with_kind(code, mods, KeyEventKind::Press);
        let cases = [
            (ev(KeyCode::Char('G'), KeyModifiers::SHIFT), "G"),
            (ev(KeyCode::Char('G'), KeyModifiers::NONE), "G"),
            (ev(KeyCode::Char('c'), KeyModifiers::CONTROL), "<C-c>"),
            (ev(KeyCode::BackTab, KeyModifiers::SHIFT), "<S-Tab>"),
            (ev(KeyCode::BackTab, KeyModifiers::NONE), "<S-Tab>"),
            (ev(KeyCode::PageDown, KeyModifiers::NONE), "<PageDown>"),
            (ev(KeyCode::Char(' '), KeyModifiers::NONE), "<Space>"),
        ];
        for (event, want) in cases {
            assert_eq!(Key::from_event(&event), Some(Key::parse(want).unwrap()), "{want}");
        }
        assert_eq!(Key::from_event(&ev(KeyCode::CapsLock, KeyModifiers::NONE)), None);
    }
}
