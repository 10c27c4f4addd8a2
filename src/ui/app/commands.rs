//! The `:` command line's commands and completion, and keys that type text into whatever is
//! open (command line, filter, form, confirmation, editor). State changes only.

use super::{App, Effect, Screen, form};
use crate::mesh::MeshView;
use crate::ui::keymap::Mode;
use crossterm::event::KeyEvent;

impl App {
    /// A key no binding took, in a mode where keys type text. Returns whether anything changed.
    pub fn text_key(&mut self, key: &KeyEvent) -> bool {
        match self.mode {
            Mode::Command | Mode::Filter => {
                let used = self.input.edit(key);
                if used {
                    self.filter_typed();
                }
                used
            }
            Mode::Form => self.form.as_mut().is_some_and(|f| match key.code {
                // Arrows between fields, as in most terminal forms; Tab is the keymap's.
                crossterm::event::KeyCode::Up => {
                    f.prev();
                    true
                }
                crossterm::event::KeyCode::Down => {
                    f.next();
                    true
                }
                _ => f.key(key),
            }),
            Mode::Confirm => self.plan.confirm.as_mut().is_some_and(|c| c.typed.edit(key)),
            Mode::Editor => self.plan.editor.as_mut().is_some_and(|e| e.area.input(*key)),
            _ => false,
        }
    }

    /// Pasted text, into whatever is being typed.
    pub fn paste(&mut self, text: &str) -> bool {
        match self.mode {
            Mode::Command | Mode::Filter => {
                self.input.insert_str(text);
                self.filter_typed();
            }
            Mode::Form => {
                if let Some(form::Value::Text(line)) =
                    self.form.as_mut().and_then(|f| f.fields.get_mut(f.focus)).map(|f| &mut f.value)
                {
                    line.insert_str(text);
                }
            }
            Mode::Confirm => {
                if let Some(c) = self.plan.confirm.as_mut() {
                    c.typed.insert_str(text);
                }
            }
            Mode::Editor => {
                if let Some(e) = self.plan.editor.as_mut() {
                    e.area.insert_str(text);
                }
            }
            _ => return false,
        }
        true
    }

    /// `:ns`, `:wl [NS]`, `:cp`, `:ctx NAME`, `:q`.
    pub fn run_command(&mut self, text: &str) -> Vec<Effect> {
        let mut words = text.split_whitespace();
        let cmd = words.next().unwrap_or("");
        let arg = words.next();
        match cmd {
            "" => {}
            "q" | "quit" | "q!" => return vec![Effect::Quit],
            "ns" | "namespaces" | "namespace" => {
                self.namespace = None;
                self.go(Screen::Namespaces);
            }
            "wl" | "workloads" | "deploy" | "workload" => {
                match arg {
                    Some("all" | "-A") => self.namespace = None,
                    Some(ns) if self.view.namespaces.iter().any(|n| n.name == ns) => {
                        self.namespace = Some(ns.to_string())
                    }
                    Some(ns) => {
                        self.notice(format!("no namespace {ns:?}"));
                        return vec![];
                    }
                    None => {}
                }
                self.go(Screen::Workloads);
            }
            "cp" | "controlplane" | "control-plane" | "rev" | "revisions" => self.go(Screen::ControlPlane),
            "ctx" | "context" => match arg {
                Some(name) if self.contexts.is_empty() || self.contexts.iter().any(|c| c == name) => {
                    return vec![Effect::SwitchContext(name.to_string())];
                }
                Some(name) => {
                    self.notice(format!("no context {name:?} in the kubeconfig ({})", self.contexts.join(", ")))
                }
                None => self.notice(format!("contexts: {}", self.contexts.join(", "))),
            },
            "help" => self.mode = Mode::Help,
            "plan" | "preview" | "diff" => return self.open_plan(),
            "journal" | "history" => return self.open_journal(),
            other => self
                .notice(format!("unknown command :{other} (try :ns, :wl [NS], :cp, :plan, :journal, :ctx NAME, :q)")),
        }
        vec![]
    }
}

/// Completes the last word of a command line from commands, namespaces or contexts.
pub(super) fn complete(text: &str, contexts: &[String], view: &MeshView) -> Option<String> {
    let (head, last) = match text.rsplit_once(' ') {
        Some((h, l)) => (format!("{h} "), l),
        None => (String::new(), text),
    };
    let candidates: Vec<String> = if head.is_empty() {
        ["ns", "wl", "cp", "plan", "journal", "ctx", "q"].iter().map(|s| s.to_string()).collect()
    } else if head.trim() == "ctx" {
        contexts.to_vec()
    } else {
        view.namespaces.iter().map(|n| n.name.clone()).collect()
    };
    let matches: Vec<&String> = candidates.iter().filter(|c| c.starts_with(last)).collect();
    match matches.as_slice() {
        [one] => Some(format!("{head}{one}")),
        _ => None,
    }
}
