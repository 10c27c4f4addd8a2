//! A windowed table: the caller says how many rows there are and builds only the ones on
//! screen, through a callback, so 100,000 rows cost the same to draw as 50 (PERF.md §4). Also
//! `Window`, the selection and scroll position that callers keep in their state.

use crate::ui::intent::Intent;
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{
    Cell, Row, Scrollbar, ScrollbarOrientation, ScrollbarState, StatefulWidget, Table, TableState, Widget,
};
use std::ops::Range;

/// Selected row and first row on screen of a list of `len` rows shown `height` rows at a time.
/// Every method keeps the selection inside the list and on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub selected: usize,
    pub offset: usize,
}

impl Window {
    /// The rows a viewport of `height` shows: from `offset`, moved just enough to include the
    /// selection, and never leaving empty rows at the bottom when there are rows above.
    pub fn visible(&self, len: usize, height: usize) -> Range<usize> {
        if len == 0 || height == 0 {
            return 0..0;
        }
        let selected = self.selected.min(len - 1);
        let mut offset = self.offset.min(len.saturating_sub(height));
        if selected < offset {
            offset = selected;
        } else if selected >= offset + height {
            offset = selected + 1 - height;
        }
        offset..(offset + height).min(len)
    }

    /// Selects `index` (clamped) and scrolls as little as needed to show it.
    pub fn select(&mut self, index: usize, len: usize, height: usize) {
        self.selected = index.min(len.saturating_sub(1));
        self.offset = self.visible(len, height).start;
    }

    /// Moves the selection by `delta` rows; a page move scrolls the view by the same amount so
    /// the selection keeps its place on screen.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        let target = self.selected.saturating_add_signed(delta);
        if delta.unsigned_abs() >= height.max(1) {
            self.offset = self.offset.saturating_add_signed(delta);
        }
        self.select(target, len, height);
    }

    /// Carries out a movement intent; returns false for intents that are not movements.
    pub fn apply(&mut self, intent: Intent, len: usize, height: usize) -> bool {
        let page = height.max(1) as isize;
        match intent {
            Intent::Up => self.move_by(-1, len, height),
            Intent::Down => self.move_by(1, len, height),
            Intent::PageUp => self.move_by(-page, len, height),
            Intent::PageDown => self.move_by(page, len, height),
            Intent::Top => self.select(0, len, height),
            Intent::Bottom => self.select(usize::MAX, len, height),
            _ => return false,
        }
        true
    }
}

/// What to draw; rows come from the callback given to `render`.
pub struct TableView<'a> {
    pub header: &'a [&'a str],
    pub widths: &'a [Constraint],
    /// Number of rows in the (filtered, sorted) list.
    pub len: usize,
    pub window: Window,
    /// Shown in place of rows when the list is empty ("No workloads match \"foo\"").
    pub empty: &'a str,
}

impl TableView<'_> {
    /// Rows of data the table shows in `area` (one line goes to the header).
    pub fn body_height(area: Rect) -> usize {
        usize::from(area.height.saturating_sub(1))
    }

    /// Draws the header, the visible rows and, when the list is longer than the view, a
    /// scrollbar in the last column. `row(i)` is called once for each visible index only.
    pub fn render<'r>(&self, area: Rect, buf: &mut Buffer, theme: &Theme, mut row: impl FnMut(usize) -> Row<'r>) {
        buf.set_style(area, theme.text);
        let height = Self::body_height(area);
        let visible = self.window.visible(self.len, height);
        let scrolls = self.len > height && area.width > 1;
        let mut table_area = area;
        if scrolls {
            table_area.width -= 1;
        }
        let rows: Vec<Row<'r>> = visible.clone().map(&mut row).collect();
        let header = Row::new(self.header.iter().map(|h| Cell::from(*h))).style(theme.header);
        let table = Table::new(rows, self.widths.iter().copied())
            .header(header)
            .style(theme.text)
            .row_highlight_style(theme.selection)
            .column_spacing(2);
        let mut state = TableState::default();
        if !visible.is_empty() && self.window.selected < self.len {
            state.select(Some(self.window.selected.min(self.len - 1) - visible.start));
        }
        StatefulWidget::render(table, table_area, buf, &mut state);
        if self.len == 0 && area.height > 1 {
            let line = Line::styled(self.empty, theme.muted);
            line.render(Rect { y: area.y + 1, height: 1, ..area }, buf);
        }
        if scrolls {
            let body = Rect { y: area.y + 1, height: area.height - 1, ..area };
            let mut bar = ScrollbarState::new(self.len.saturating_sub(height) + 1)
                .position(visible.start)
                .viewport_content_length(height);
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .track_symbol(Some("│"))
                .track_style(theme.border)
                .thumb_style(theme.accent)
                .render(body, buf, &mut bar);
        }
    }
}

#[cfg(test)]
mod tests;
