//! Notices: short messages for the user (a bad config file, a failed request) kept in a small
//! queue the caller owns, and a one-line widget that shows the newest with a count of the rest.
//! Expiry is the caller's business: this module has no clock.

use crate::ui::config_file::ConfigError;
use crate::ui::theme::Theme;
use crate::ui::widgets::{fit, width};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
}

impl Notice {
    pub fn warn(text: impl Into<String>) -> Notice {
        Notice { level: Level::Warn, text: text.into() }
    }
}

impl From<&ConfigError> for Notice {
    fn from(e: &ConfigError) -> Notice {
        Notice::warn(e.to_string())
    }
}

/// The newest notices, oldest dropped first beyond `MAX_NOTICES`.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    items: VecDeque<Notice>,
}

pub const MAX_NOTICES: usize = 50;

impl Notices {
    /// Adds a notice; one equal to the newest is not repeated.
    pub fn push(&mut self, notice: Notice) {
        if self.items.back() == Some(&notice) {
            return;
        }
        if self.items.len() == MAX_NOTICES {
            self.items.pop_front();
        }
        self.items.push_back(notice);
    }

    /// Removes the newest notice (the one on screen).
    pub fn dismiss(&mut self) -> Option<Notice> {
        self.items.pop_back()
    }

    pub fn newest(&self) -> Option<&Notice> {
        self.items.back()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Notice> {
        self.items.iter()
    }

    /// Draws the newest notice on one line, "(+N more)" after it when others wait. Draws
    /// nothing when there is none.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(notice) = self.newest() else { return };
        if area.is_empty() {
            return;
        }
        let (mark, style) = match notice.level {
            Level::Info => ("", theme.text),
            Level::Warn => ("⚠ ", theme.warn),
            Level::Error => ("✖ ", theme.danger),
        };
        let more = if self.len() > 1 { format!(" (+{} more)", self.len() - 1) } else { String::new() };
        let room = usize::from(area.width).saturating_sub(width(mark) + width(&more));
        let line = Line::from(vec![
            Span::styled(mark, style),
            Span::styled(fit(&notice.text, room), style),
            Span::styled(more, theme.muted),
        ]);
        line.render(Rect { height: 1, ..area }, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::widgets::test_util::{assert_slot, lines};

    #[test]
    fn queue_keeps_newest_without_repeats() {
        let mut n = Notices::default();
        n.push(Notice::warn("a"));
        n.push(Notice::warn("b"));
        n.push(Notice::warn("b"));
        assert_eq!(n.len(), 2);
        assert_eq!(n.dismiss(), Some(Notice::warn("b")));
        assert_eq!(n.newest(), Some(&Notice::warn("a")));
        for i in 0..MAX_NOTICES + 5 {
            n.push(Notice::warn(i.to_string()));
        }
        assert_eq!(n.len(), MAX_NOTICES);
        assert_eq!(n.iter().next(), Some(&Notice::warn("5")), "oldest dropped first");
    }

    #[test]
    fn shows_a_config_warning_with_the_count_of_others() {
        let theme = Theme::fallback();
        let mut n = Notices::default();
        let e = ConfigError { file: "theme.toml".into(), line: 4, column: 9, what: "unknown colour \"yelow\"".into() };
        n.push(Notice { level: Level::Error, text: "older".into() });
        n.push(Notice::from(&e));
        let area = Rect::new(0, 0, 40, 1);
        let mut buf = Buffer::empty(area);
        n.render(area, &mut buf, &theme);
        assert_eq!(lines(&buf), ["⚠ theme.toml:4:9: unknown col… (+1 more)"]);
        assert_slot(&buf, 0, 0, theme.warn, "warning mark");
        assert_slot(&buf, 39, 0, theme.muted, "count");

        n.dismiss();
        let mut buf = Buffer::empty(area);
        n.render(area, &mut buf, &theme);
        assert_eq!(lines(&buf), ["✖ older                                 "]);
        assert_slot(&buf, 2, 0, theme.danger, "error text");
    }
}
