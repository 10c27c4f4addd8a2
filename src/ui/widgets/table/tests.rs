use super::*;
use crate::ui::widgets::test_util::{assert_slot, lines};
use std::cell::RefCell;

#[test]
fn window_visible_range_follows_the_selection() {
    // (selected, offset, len, height) -> visible
    let cases = [
        ((0, 0, 0, 5), 0..0),
        ((0, 0, 3, 5), 0..3),
        ((4, 0, 10, 5), 0..5),
        ((5, 0, 10, 5), 1..6),
        ((2, 4, 10, 5), 2..7),
        ((9, 0, 10, 5), 5..10),
        ((3, 8, 10, 5), 3..8),
        ((50, 0, 10, 5), 5..10),
        ((0, 0, 10, 0), 0..0),
    ];
    for ((selected, offset, len, height), want) in cases {
        let w = Window { selected, offset };
        assert_eq!(w.visible(len, height), want, "{w:?} len {len} height {height}");
    }
}

#[test]
fn window_movements() {
    let (len, height) = (100, 10);
    // (start, intent) -> (selected, offset)
    let cases = [
        ((0, 0), Intent::Down, (1, 0)),
        ((0, 0), Intent::Up, (0, 0)),
        ((9, 0), Intent::Down, (10, 1)),
        ((10, 1), Intent::Up, (9, 1)),
        ((3, 0), Intent::PageDown, (13, 10)),
        ((95, 90), Intent::PageDown, (99, 90)),
        ((13, 10), Intent::PageUp, (3, 0)),
        ((5, 0), Intent::PageUp, (0, 0)),
        ((50, 45), Intent::Top, (0, 0)),
        ((5, 0), Intent::Bottom, (99, 90)),
    ];
    for ((selected, offset), intent, want) in cases {
        let mut w = Window { selected, offset };
        assert!(w.apply(intent, len, height));
        assert_eq!((w.selected, w.offset), want, "{intent:?} from ({selected}, {offset})");
    }
    let mut w = Window::default();
    assert!(!w.apply(Intent::Quit, len, height));
    w.apply(Intent::Down, 0, height);
    assert_eq!(w, Window::default(), "moving in an empty list stays at 0");
}

fn view(len: usize, window: Window) -> TableView<'static> {
    TableView {
        header: &["NAME", "READY"],
        widths: &[Constraint::Length(9), Constraint::Length(5)],
        len,
        window,
        empty: "No workloads",
    }
}

#[test]
fn builds_only_the_visible_rows_of_a_huge_list() {
    let theme = Theme::fallback();
    let area = Rect::new(0, 0, 20, 5);
    let mut buf = Buffer::empty(area);
    let asked = RefCell::new(Vec::new());
    let window = Window { selected: 50_002, offset: 50_000 };
    view(100_000, window).render(area, &mut buf, &theme, |i| {
        asked.borrow_mut().push(i);
        Row::new([format!("app-{i}"), "1/1".to_string()])
    });
    assert_eq!(asked.into_inner(), [50_000, 50_001, 50_002, 50_003]);
    assert_eq!(
        lines(&buf),
        [
            "NAME       READY    ",
            "app-50000  1/1     │",
            "app-50001  1/1     │",
            "app-50002  1/1     █",
            "app-50003  1/1     │",
        ]
    );
}

#[test]
fn selection_header_and_scrollbar_use_theme_slots() {
    let theme = Theme::fallback();
    let area = Rect::new(0, 0, 20, 4);
    let mut buf = Buffer::empty(area);
    view(10, Window { selected: 1, offset: 0 })
        .render(area, &mut buf, &theme, |i| Row::new([format!("w{i}"), "1/1".into()]));
    assert_eq!(
        lines(&buf),
        ["NAME       READY    ", "w0         1/1     █", "w1         1/1     │", "w2         1/1     │",]
    );
    assert_slot(&buf, 0, 0, theme.header, "header");
    assert_slot(&buf, 0, 2, theme.selection, "selected row");
    assert_slot(&buf, 0, 1, theme.text, "other rows");
    assert_eq!(buf[(0, 1)].bg, ratatui::style::Color::Reset, "other rows are not highlighted");
    assert_slot(&buf, 19, 1, theme.accent, "scrollbar thumb");
    assert_slot(&buf, 19, 2, theme.border, "scrollbar track");
}

#[test]
fn short_lists_have_no_scrollbar_and_empty_lists_say_so() {
    let theme = Theme::fallback();
    let area = Rect::new(0, 0, 16, 3);
    let mut buf = Buffer::empty(area);
    view(1, Window::default()).render(area, &mut buf, &theme, |_| Row::new(["only", "0/1"]));
    assert_eq!(lines(&buf), ["NAME       READY", "only       0/1  ", "                "]);

    let mut buf = Buffer::empty(area);
    view(0, Window::default()).render(area, &mut buf, &theme, |_| unreachable!("no rows to build"));
    assert_eq!(lines(&buf), ["NAME       READY", "No workloads    ", "                "]);
    assert_slot(&buf, 0, 1, theme.muted, "empty message");
}
