//! The status bar: where the data comes from and how fresh it is on the left (context ·
//! server · sync state), what needs attention on the right (a half-typed chord, warnings,
//! staged changes). When space runs short the right side stays whole and the left is cut.

use crate::ui::theme::Theme;
use crate::ui::widgets::{fit, width};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

pub struct StatusBar<'a> {
    pub context: &'a str,
    pub server: &'a str,
    /// "synced", "syncing 43,500 pods", "stale 2m · reconnecting: connection refused".
    pub sync: &'a str,
    /// Draws `sync` in the theme's `stale` style.
    pub stale: bool,
    /// Keys typed so far towards a chord (`Pending::text`).
    pub pending_keys: &'a str,
    pub warnings: usize,
    pub staged: usize,
}

const SEP: &str = " · ";

impl StatusBar<'_> {
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        if area.height == 0 {
            return;
        }
        let area = Rect { height: 1, ..area };
        buf.set_style(area, theme.status_bar);

        let mut right: Vec<Span<'_>> = Vec::new();
        let mut push = |text: String, style: Style| {
            if !right.is_empty() {
                right.push(Span::raw(SEP));
            }
            right.push(Span::styled(text, style));
        };
        if !self.pending_keys.is_empty() {
            push(format!("{}…", self.pending_keys), theme.accent);
        }
        if self.warnings > 0 {
            let noun = if self.warnings == 1 { "warning" } else { "warnings" };
            push(format!("⚠ {} {noun}", self.warnings), theme.warn);
        }
        if self.staged > 0 {
            push(format!("{} staged", self.staged), theme.accent);
        }
        let right = Line::from(right);
        let total = usize::from(area.width);
        let right_width = right.width().min(total);
        let right_x = area.x + (total - right_width) as u16;
        right.render(Rect { x: right_x, width: right_width as u16, ..area }, buf);

        // One column of padding on the left, one space before the right side. When the left
        // side does not fit, the server goes first, then the context: freshness matters most.
        let room = total.saturating_sub(right_width + 2);
        let sync_style = if self.stale { theme.stale } else { theme.muted };
        let choices: [&[&str]; 3] = [&[self.context, self.server], &[self.context], &[]];
        let mut left = Line::default();
        for names in choices {
            let mut parts: Vec<(&str, Style)> =
                names.iter().filter(|n| !n.is_empty()).map(|n| (*n, Style::new())).collect();
            if !self.sync.is_empty() {
                parts.push((self.sync, sync_style));
            }
            let text_width: usize =
                parts.iter().map(|(t, _)| width(t)).sum::<usize>() + width(SEP) * parts.len().saturating_sub(1);
            if text_width <= room || names.is_empty() {
                let mut spans = Vec::new();
                for (i, (text, style)) in parts.into_iter().enumerate() {
                    if i > 0 {
                        spans.push(Span::raw(SEP));
                    }
                    spans.push(Span::styled(fit(text, room), style));
                }
                left = Line::from(spans);
                break;
            }
        }
        if area.width > 1 {
            let left_width = left.width().min(room) as u16;
            left.render(Rect { x: area.x + 1, width: left_width, ..area }, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::widgets::test_util::{assert_slot, lines};

    fn bar<'a>(sync: &'a str, stale: bool, pending: &'a str, warnings: usize, staged: usize) -> StatusBar<'a> {
        StatusBar {
            context: "sim-admin",
            server: "127.0.0.1:6443",
            sync,
            stale,
            pending_keys: pending,
            warnings,
            staged,
        }
    }

    fn draw(bar: &StatusBar<'_>, width: u16) -> (Buffer, String) {
        let area = Rect::new(0, 0, width, 1);
        let mut buf = Buffer::empty(area);
        bar.render(area, &mut buf, &Theme::fallback());
        let line = lines(&buf).remove(0);
        (buf, line)
    }

    #[test]
    fn lays_out_left_and_right() {
        let cases = [
            (bar("synced", false, "", 0, 0), 60, " sim-admin · 127.0.0.1:6443 · synced"),
            (bar("synced", false, "g", 2, 3), 60, " sim-admin · synced             g… · ⚠ 2 warnings · 3 staged"),
            (bar("stale 2m", true, "", 1, 0), 50, " sim-admin · 127.0.0.1:6443 · stale 2m ⚠ 1 warning"),
            (bar("synced", false, "", 0, 12), 30, " sim-admin · synced  12 staged"),
            (bar("synced", false, "", 0, 0), 12, " synced"),
            (bar("reconnecting since 10:42:07", true, "", 0, 0), 12, " reconnect…"),
            // Why it is reconnecting outranks the server and the context.
            (
                bar("stale 5s · reconnecting: 401 Unauthorized: the credentials were not accepted", true, "", 0, 2),
                90,
                " stale 5s · reconnecting: 401 Unauthorized: the credentials were not accepted     2 staged",
            ),
        ];
        for (b, width, want) in cases {
            let (_, got) = draw(&b, width);
            assert_eq!(got.trim_end(), want.trim_end(), "width {width}");
        }
    }

    #[test]
    fn stale_data_and_warnings_use_their_slots() {
        let theme = Theme::fallback();
        let (buf, line) = draw(&bar("stale 2m", true, "", 1, 0), 50);
        let stale_x = line[..line.find("stale").unwrap()].chars().count() as u16;
        assert_slot(&buf, stale_x, 0, theme.stale, "sync text");
        assert_slot(&buf, 49, 0, theme.warn, "warning count");
        assert_slot(&buf, 0, 0, theme.status_bar, "bar background");
    }
}
