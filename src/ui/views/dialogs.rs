//! Popups over the current screen: the staging form, the apply confirmation and the YAML
//! editor. Each clears its rectangle, draws a bordered box and returns where the text cursor
//! goes, if anywhere.

use crate::ui::app::form::{Form, Value};
use crate::ui::app::{App, Confirm, Editor};
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

/// A box of `w`×`h` centred in `area`, shrunk to fit.
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn boxed(area: Rect, title: &str, theme: &Theme, buf: &mut Buffer) -> Rect {
    Clear.render(area, buf);
    buf.set_style(area, theme.text);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_focused)
        .title(Span::styled(format!(" {title} "), theme.title));
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

fn put(buf: &mut Buffer, inner: Rect, y: &mut u16, line: &Line) {
    if *y < inner.bottom() {
        buf.set_line(inner.x, *y, line, inner.width);
        *y += 1;
    }
}

pub fn form(f: &Form, theme: &Theme, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let h = f.fields.len() as u16 * 2 + 5;
    let inner = boxed(centred(area, 76, h), &f.title, theme, buf);
    let label_w = 11u16;
    let mut y = inner.y;
    let mut cursor = None;
    for (i, field) in f.fields.iter().enumerate() {
        if y + 1 >= inner.bottom() {
            break;
        }
        let focused = i == f.focus;
        let label_style = if focused { theme.accent } else { theme.muted };
        buf.set_stringn(
            inner.x,
            y,
            format!("{:>w$} ", field.label, w = usize::from(label_w - 1)),
            usize::from(label_w),
            label_style,
        );
        let value_area = Rect { x: inner.x + label_w, y, width: inner.width.saturating_sub(label_w), height: 1 };
        match &field.value {
            Value::Text(line) => {
                let pos = line.render("", value_area, buf, theme);
                if focused {
                    cursor = Some(pos);
                }
            }
            Value::Choice { .. } | Value::Toggle(_) => {
                let style = if focused { theme.selection } else { theme.text };
                let text = match field.value {
                    Value::Choice { .. } => format!("‹ {} ›", field.shown()),
                    _ => format!("[{}]", if field.shown() == "yes" { "x" } else { " " }),
                };
                buf.set_stringn(value_area.x, y, text, usize::from(value_area.width), style);
            }
        }
        buf.set_stringn(
            inner.x + label_w,
            y + 1,
            field.hint,
            usize::from(inner.width.saturating_sub(label_w)),
            theme.muted,
        );
        y += 2;
    }
    if let Some(e) = &f.error {
        put(buf, inner, &mut y, &Line::styled(format!("✖ {e}"), theme.danger));
    }
    let help = "Enter stage · Tab/↓ next · ←/→/Space change · Esc cancel";
    let last = inner.bottom().saturating_sub(1);
    buf.set_stringn(inner.x, last, help, usize::from(inner.width), theme.muted);
    cursor
}

pub fn confirm(app: &App, c: &Confirm, theme: &Theme, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let (preview, _) = app.plan.ready()?;
    let s = preview.summary;
    let title = format!("Apply to {}?", app.sync.context);
    let inner = boxed(centred(area, 72, 13), &title, theme, buf);
    let mut y = inner.y;
    put(
        buf,
        inner,
        &mut y,
        &Line::from(format!(
            "{} actions: {} create · {} change · {} unchanged · {} pods restart",
            app.plan.plan.actions.len(),
            s.created,
            s.changed,
            s.unchanged,
            s.pods_to_restart
        )),
    );
    put(
        buf,
        inner,
        &mut y,
        &Line::styled("A journal entry is written before the first write; u undoes it.", theme.muted),
    );
    if c.errors > 0 {
        put(
            buf,
            inner,
            &mut y,
            &Line::styled(
                format!(
                    "✖ {} error finding{} about this plan's objects (see the preview)",
                    c.errors,
                    if c.errors == 1 { "" } else { "s" }
                ),
                theme.danger,
            ),
        );
    }
    if c.conflicts > 0 {
        put(
            buf,
            inner,
            &mut y,
            &Line::styled(
                format!(
                    "⚠ {} {} fields other managers own.",
                    c.conflicts,
                    if c.conflicts == 1 { "object has" } else { "objects have" }
                ),
                theme.warn,
            ),
        );
        let mark = if c.take_over { "[x]" } else { "[ ]" };
        put(
            buf,
            inner,
            &mut y,
            &Line::from(vec![
                Span::styled(format!("{mark} "), theme.accent),
                Span::raw("take those fields over (Tab)"),
            ]),
        );
    }
    let mut cursor = None;
    if let Some(name) = &c.must_type {
        put(buf, inner, &mut y, &Line::styled(format!("This is {name}: type its name to apply."), theme.danger));
        if y < inner.bottom() {
            cursor = Some(c.typed.render("> ", Rect { y, height: 1, ..inner }, buf, theme));
            y += 1;
        }
    }
    if let Some(e) = &c.error {
        put(buf, inner, &mut y, &Line::styled(format!("✖ {e}"), theme.danger));
    }
    let last = inner.bottom().saturating_sub(1);
    buf.set_stringn(inner.x, last, "Enter apply · Esc back", usize::from(inner.width), theme.muted);
    cursor
}

pub fn editor(ed: &Editor, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let title = format!("Edit {} · Ctrl-S check and save · Esc discard", ed.target.display());
    let inner = boxed(area, &title, theme, buf);
    let err_h = u16::from(ed.error.is_some());
    let text = Rect { height: inner.height.saturating_sub(err_h), ..inner };
    Widget::render(&ed.area, text, buf);
    if let Some(e) = &ed.error {
        buf.set_stringn(inner.x, inner.bottom() - 1, format!("✖ {e}"), usize::from(inner.width), theme.danger);
    }
}
