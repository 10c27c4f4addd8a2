use super::*;
use ratatui::widgets::Paragraph;
use std::sync::Mutex;

/// Records each `write` call separately, to count writes per frame.
#[derive(Clone, Default)]
struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);

impl Write for Writes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Writes {
    fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

const BEGIN: &[u8] = b"\x1b[?2026h";
const END: &[u8] = b"\x1b[?2026l";

#[test]
fn each_frame_is_one_synchronized_write() {
    let writes = Writes::default();
    let mut tui = Tui::headless(writes.clone(), Rect::new(0, 0, 20, 3)).unwrap();
    writes.take();
    for text in ["hello", "hello", "world"] {
        tui.draw(|f| f.render_widget(Paragraph::new(text), f.area())).unwrap();
        let frame = writes.take();
        assert_eq!(frame.len(), 1, "one write for {text:?}");
        let bytes = &frame[0];
        assert!(bytes.starts_with(BEGIN), "{bytes:?}");
        assert!(bytes.ends_with(END), "{bytes:?}");
    }
}

#[test]
fn only_changed_cells_are_sent() {
    let writes = Writes::default();
    let mut tui = Tui::headless(writes.clone(), Rect::new(0, 0, 20, 3)).unwrap();
    tui.draw(|f| f.render_widget(Paragraph::new("hello"), f.area())).unwrap();
    let first = writes.take().concat();
    assert!(String::from_utf8_lossy(&first).contains("hello"));
    tui.draw(|f| f.render_widget(Paragraph::new("hellO"), f.area())).unwrap();
    let second = String::from_utf8_lossy(&writes.take().concat()).into_owned();
    assert!(second.contains('O') && !second.contains("hell"), "{second:?}");
}

#[test]
fn clear_forces_a_full_repaint() {
    let writes = Writes::default();
    let mut tui = Tui::headless(writes.clone(), Rect::new(0, 0, 20, 3)).unwrap();
    tui.draw(|f| f.render_widget(Paragraph::new("hello"), f.area())).unwrap();
    tui.clear().unwrap();
    writes.take();
    tui.draw(|f| f.render_widget(Paragraph::new("hello"), f.area())).unwrap();
    assert!(String::from_utf8_lossy(&writes.take().concat()).contains("hello"));
}

#[test]
fn restore_without_enter_does_nothing() {
    assert!(restore().is_ok());
}

#[test]
fn editor_command_prefers_visual_then_editor_then_vi() {
    let file = Path::new("/tmp/plan.yaml");
    type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a str, &'a [&'a str]);
    let cases: [Case<'_>; 5] = [
        (Some("code --wait"), Some("nano"), "code", &["--wait", "/tmp/plan.yaml"]),
        (None, Some("nano"), "nano", &["/tmp/plan.yaml"]),
        (Some("  "), Some("hx"), "hx", &["/tmp/plan.yaml"]),
        (None, None, "vi", &["/tmp/plan.yaml"]),
        (Some(""), Some(""), "vi", &["/tmp/plan.yaml"]),
    ];
    for (visual, editor, program, args) in cases {
        let cmd = editor_command(visual, editor, file);
        assert_eq!(cmd.get_program(), program, "{visual:?} {editor:?}");
        let got: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(got, args, "{visual:?} {editor:?}");
    }
}

#[tokio::test]
async fn sighup_arrives_as_a_quit_signal() {
    let mut signals = QuitSignals::new().unwrap();
    let status = Command::new("kill").args(["-HUP", &std::process::id().to_string()]).status().unwrap();
    assert!(status.success());
    let got = tokio::time::timeout(std::time::Duration::from_secs(30), signals.recv()).await;
    assert_eq!(got, Ok(QuitSignal::Hangup));
}
