//! A terminal for end-to-end tests: a detached tmux session running a command, keys sent to
//! it, and its screen read back until a condition holds, with a generous deadline.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session, killed when dropped.
pub struct Session {
    pub name: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).status();
    }
}

/// Whether tmux can run here; prints that `test` skips when it cannot.
pub fn available(test: &str) -> bool {
    let ok = Command::new("tmux").arg("-V").output().is_ok();
    if !ok {
        println!("SKIPPED {test}: tmux is not installed");
    }
    ok
}

/// Starts `cmd` in a detached 160×48 session.
pub fn start(name: String, cmd: &str) -> Session {
    let status =
        Command::new("tmux").args(["new-session", "-d", "-s", &name, "-x", "160", "-y", "48", cmd]).status().unwrap();
    assert!(status.success());
    Session { name }
}

pub fn capture(s: &Session) -> String {
    let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &s.name]).output().expect("tmux capture-pane");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sends tmux key names ("Enter", "Tab", "Escape") or text, one argument each.
pub fn keys(s: &Session, keys: &[&str]) {
    let status = Command::new("tmux").arg("send-keys").arg("-t").arg(&s.name).args(keys).status().unwrap();
    assert!(status.success());
}

/// Sends text literally (no key-name lookup), so "a" or "Enter" inside a value stay text.
pub fn text(s: &Session, text: &str) {
    let status = Command::new("tmux").args(["send-keys", "-l", "-t", &s.name, text]).status().unwrap();
    assert!(status.success());
}

pub fn wait_screen(s: &Session, what: &str, deadline: Duration, ok: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + deadline;
    loop {
        let screen = capture(s);
        if ok(&screen) {
            return screen;
        }
        if Instant::now() > end {
            panic!("timed out waiting for {what}; the screen was:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
