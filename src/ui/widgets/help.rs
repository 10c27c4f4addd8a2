//! The help overlay: a popup listing the keymap's `help_sections`, flowing into two columns when
//! the screen is wide enough, scrolled by the caller. It draws what the keymap says, so the help
//! cannot disagree with the keys.

use crate::ui::keymap::HelpSection;
use crate::ui::theme::Theme;
use crate::ui::widgets::{fit, width};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Widget};

/// Popups are at most this wide, so rows stay readable on very wide terminals.
const MAX_WIDTH: u16 = 110;
/// A column narrower than this cannot show a key and its description side by side.
const MIN_COLUMN: u16 = 34;
const GUTTER: u16 = 3;
const MAX_KEYS_WIDTH: usize = 16;

pub struct HelpOverlay<'a> {
    pub sections: &'a [HelpSection],
    /// Lines scrolled off the top; `render` clamps it.
    pub scroll: usize,
}

#[derive(Clone, Copy)]
enum Item<'a> {
    Title(&'a str),
    /// A section's title repeated at the top of a column that starts inside the section.
    Continued(&'a str),
    Row(&'a str, &'a str),
    Blank,
}

impl<'a> HelpOverlay<'a> {
    /// Where the popup goes on a screen of `screen`.
    pub fn area(screen: Rect) -> Rect {
        let width = screen.width.saturating_sub(2).min(MAX_WIDTH).max(screen.width.min(20));
        let height = screen.height.saturating_sub(2).max(screen.height.min(5));
        Rect { x: screen.x + (screen.width - width) / 2, y: screen.y + (screen.height - height) / 2, width, height }
    }

    fn items(&self) -> Vec<Item<'a>> {
        let mut items = Vec::new();
        for (i, (title, rows)) in self.sections.iter().enumerate() {
            if i > 0 {
                items.push(Item::Blank);
            }
            items.push(Item::Title(title));
            items.extend(rows.iter().map(|(k, d)| Item::Row(k, d)));
        }
        items
    }

    fn columns(inner: Rect) -> u16 {
        if inner.width >= 2 * MIN_COLUMN + GUTTER { 2 } else { 1 }
    }

    /// The largest useful `scroll` on a screen of `screen`: beyond it nothing new comes into view.
    pub fn max_scroll(&self, screen: Rect) -> usize {
        let inner = Block::bordered().inner(Self::area(screen));
        let fits = usize::from(inner.height) * usize::from(Self::columns(inner));
        self.items().len().saturating_sub(fits)
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer, theme: &Theme) {
        let area = Self::area(screen);
        if area.width < 3 || area.height < 3 {
            return;
        }
        let items = self.items();
        let scroll = self.scroll.min(self.max_scroll(screen));
        let more = scroll < self.max_scroll(screen);
        let mut block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.border_focused)
            .style(theme.text)
            .title(Line::styled(" Keys ", theme.title))
            .title_bottom(Line::styled(" ?/Esc close ", theme.muted));
        if more {
            block = block.title_bottom(Line::styled(" ↓ more ", theme.accent).right_aligned());
        }
        let inner = block.inner(area);
        Clear.render(area, buf);
        block.render(area, buf);

        let columns = Self::columns(inner);
        let column_width = (inner.width - GUTTER * (columns - 1)) / columns;
        let keys_width = items
            .iter()
            .map(|i| if let Item::Row(k, _) = i { width(k) } else { 0 })
            .max()
            .unwrap_or(0)
            .min(MAX_KEYS_WIDTH);
        let mut title = "";
        for item in items.iter().take(scroll) {
            if let Item::Title(t) = item {
                title = t;
            }
        }
        let mut visible = items[scroll.min(items.len())..].iter().copied().peekable();
        for c in 0..columns {
            let x = inner.x + c * (column_width + GUTTER);
            if c > 0 && matches!(visible.peek(), Some(Item::Blank)) {
                visible.next();
            }
            let mut column_top = true;
            for y in inner.y..inner.bottom() {
                let item = if column_top && matches!(visible.peek(), Some(Item::Row(..))) {
                    Item::Continued(title)
                } else {
                    match visible.next() {
                        Some(item) => item,
                        None => return,
                    }
                };
                column_top = false;
                if let Item::Title(t) = item {
                    title = t;
                }
                let row = Rect { x, y, width: column_width, height: 1 };
                let line = match item {
                    Item::Title(t) => Line::styled(fit(t, usize::from(column_width)), theme.header),
                    Item::Continued(t) => {
                        Line::from(vec![Span::styled(t, theme.header), Span::styled(" (continued)", theme.muted)])
                    }
                    Item::Row(k, d) => {
                        let desc_width = usize::from(column_width).saturating_sub(keys_width + 2);
                        Line::from(vec![
                            Span::styled(format!("{:<keys_width$}  ", fit(k, keys_width)), theme.accent),
                            Span::styled(fit(d, desc_width), theme.text),
                        ])
                    }
                    Item::Blank => Line::default(),
                };
                line.render(row, buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::{Keymap, help_sections};
    use crate::ui::widgets::test_util::{assert_slot, lines};

    fn draw(sections: &[HelpSection], w: u16, h: u16, scroll: usize) -> Buffer {
        let screen = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(screen);
        HelpOverlay { sections, scroll }.render(screen, &mut buf, &Theme::fallback());
        buf
    }

    #[test]
    fn default_keymap_at_80x24() {
        let sections = help_sections(&Keymap::fallback());
        insta::assert_snapshot!(lines(&draw(&sections, 80, 24, 0)).join("\n"));
    }

    #[test]
    fn narrow_screens_get_one_column_and_scroll() {
        let sections: Vec<HelpSection> = vec![
            ("Everywhere".into(), vec![("q, <C-c>".into(), "Quit".into()), ("?".into(), "Help".into())]),
            ("Lists".into(), vec![("s".into(), "Sort".into())]),
        ];
        let buf = draw(&sections, 30, 7, 0);
        assert_eq!(
            lines(&buf),
            [
                "                              ",
                " ╭ Keys ────────────────────╮ ",
                " │Everywhere                │ ",
                " │q, <C-c>  Quit            │ ",
                " │?         Help            │ ",
                " ╰ ?/Esc close ───── ↓ more ╯ ",
                "                              ",
            ]
        );
        let theme = Theme::fallback();
        assert_slot(&buf, 2, 2, theme.header, "section title");
        assert_slot(&buf, 2, 3, theme.accent, "keys");
        assert_slot(&buf, 12, 3, theme.text, "description");

        let buf = draw(&sections, 30, 7, 1);
        assert_eq!(
            lines(&buf)[2..5],
            [" │Everywhere (continued)    │ ", " │q, <C-c>  Quit            │ ", " │?         Help            │ "]
        );
        assert_slot(&buf, 13, 2, theme.muted, "continuation mark");

        let scrolled = HelpOverlay { sections: &sections, scroll: 99 };
        assert_eq!(scrolled.max_scroll(Rect::new(0, 0, 30, 7)), 3);
        let buf = draw(&sections, 30, 7, 99);
        assert_eq!(
            lines(&buf)[2..5],
            [" │                          │ ", " │Lists                     │ ", " │s         Sort            │ "]
        );
    }
}
