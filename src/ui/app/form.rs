//! The small form a staging key opens: the action's options as fields (text, a choice, yes/no),
//! editing keys for the focused field, and turning the filled form into a plan `Action` with a
//! message naming the field when something is wrong. Pure: which fields a row gets is decided in
//! `staging.rs`; nothing here touches the plan.

use crate::plan::{Action, Caller, MtlsMode, ServiceRef, Target};
use crate::ui::widgets::input::InputLine;
use crossterm::event::{KeyCode, KeyEvent};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(InputLine),
    Choice { options: Vec<String>, index: usize },
    Toggle(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    /// Shown beside the field: the expected form ("sa/NS/NAME or ns/NS, comma-separated").
    pub hint: &'static str,
    pub value: Value,
}

impl Field {
    pub fn text(label: &'static str, hint: &'static str, initial: &str) -> Field {
        let mut line = InputLine::default();
        line.set(initial);
        Field { label, hint, value: Value::Text(line) }
    }

    pub fn choice(label: &'static str, hint: &'static str, options: Vec<String>) -> Field {
        Field { label, hint, value: Value::Choice { options, index: 0 } }
    }

    pub fn toggle(label: &'static str, hint: &'static str, on: bool) -> Field {
        Field { label, hint, value: Value::Toggle(on) }
    }

    /// The value as one line of text, for drawing and for building the action.
    pub fn shown(&self) -> String {
        match &self.value {
            Value::Text(line) => line.text().to_string(),
            Value::Choice { options, index } => options.get(*index).cloned().unwrap_or_default(),
            Value::Toggle(on) => if *on { "yes" } else { "no" }.to_string(),
        }
    }

    fn on(&self) -> bool {
        matches!(self.value, Value::Toggle(true))
    }
}

/// Which action the form stages, and on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    /// Fields: revision (namespaces only), restart.
    Inject(Target),
    /// Fields: restart.
    Uninject(Target),
    /// Fields: mode.
    Mtls(Target),
    /// Fields: from, methods, paths, ports.
    Allow(Target),
    /// Fields: service (of this namespace), hosts, gateway, export to.
    Route { namespace: String },
    /// Fields: to, restart.
    Revision(Target),
}

/// The first choice of the revision field on inject: the namespace's default injection.
pub const DEFAULT_REVISION: &str = "(default: istio-injection=enabled)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The last validation message, shown under the fields.
    pub error: Option<String>,
}

impl Form {
    pub fn new(kind: FormKind, title: String, fields: Vec<Field>) -> Form {
        Form { kind, title, fields, focus: 0, error: None }
    }

    pub fn next(&mut self) {
        if !self.fields.is_empty() {
            self.focus = (self.focus + 1) % self.fields.len();
        }
    }

    pub fn prev(&mut self) {
        if !self.fields.is_empty() {
            self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
        }
    }

    /// A key for the focused field: text editing, or Left/Right/Space to change a choice or a
    /// yes/no. Returns whether it was used.
    pub fn key(&mut self, key: &KeyEvent) -> bool {
        let Some(field) = self.fields.get_mut(self.focus) else { return false };
        match &mut field.value {
            Value::Text(line) => line.edit(key),
            Value::Choice { options, index } => {
                let n = options.len().max(1);
                match key.code {
                    KeyCode::Right | KeyCode::Char(' ' | 'l') => *index = (*index + 1) % n,
                    KeyCode::Left | KeyCode::Char('h') => *index = (*index + n - 1) % n,
                    _ => return false,
                }
                true
            }
            Value::Toggle(on) => {
                match key.code {
                    KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right => *on = !*on,
                    KeyCode::Char('y') => *on = true,
                    KeyCode::Char('n') => *on = false,
                    _ => return false,
                }
                true
            }
        }
    }

    /// Sets a choice field to the option with this text, if it has one (tests and defaults).
    pub fn choose(&mut self, label: &str, option: &str) -> bool {
        for f in &mut self.fields {
            if f.label == label
                && let Value::Choice { options, index } = &mut f.value
                && let Some(i) = options.iter().position(|o| o == option)
            {
                *index = i;
                return true;
            }
        }
        false
    }

    fn field(&self, label: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.label == label)
    }

    fn text(&self, label: &str) -> String {
        self.field(label).map(Field::shown).unwrap_or_default().trim().to_string()
    }

    fn restart(&self, now: &str) -> Option<String> {
        self.field("restart").filter(|f| f.on()).map(|_| now.to_string())
    }

    /// The action this form stages. `now` (RFC 3339 UTC) stamps `restartedAt` when a restart is
    /// chosen. Errors start with the field's label.
    pub fn action(&self, now: &str) -> Result<Action, String> {
        Ok(match &self.kind {
            FormKind::Inject(target) => {
                let rev = self.text("revision");
                let revision = (!rev.is_empty() && rev != DEFAULT_REVISION)
                    .then(|| rev.split(' ').next().unwrap_or_default().to_string());
                Action::Inject { target: target.clone(), revision, restarted_at: self.restart(now) }
            }
            FormKind::Uninject(target) => Action::Uninject { target: target.clone(), restarted_at: self.restart(now) },
            FormKind::Mtls(target) => {
                let mode: MtlsMode = self.text("mode").parse().map_err(|e| format!("mode: {e}"))?;
                Action::Mtls { target: target.clone(), mode }
            }
            FormKind::Allow(target) => {
                let from = list(&self.text("from"))
                    .iter()
                    .map(|c| c.parse::<Caller>().map_err(|e| format!("from: {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                if from.is_empty() {
                    return Err("from: name at least one caller (sa/NS/NAME or ns/NS)".into());
                }
                let methods = list(&self.text("methods"))
                    .into_iter()
                    .map(|m| {
                        if m.chars().all(|c| c.is_ascii_alphabetic()) {
                            Ok(m.to_ascii_uppercase())
                        } else {
                            Err(format!("methods: `{m}` is not an HTTP method (GET, POST, …)"))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let paths = list(&self.text("paths"));
                if let Some(bad) = paths.iter().find(|p| !p.starts_with('/') && !p.starts_with('*')) {
                    return Err(format!("paths: `{bad}` must start with / (or * for a suffix match)"));
                }
                let ports = list(&self.text("ports"))
                    .iter()
                    .map(|p| match p.parse::<u16>() {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(format!("ports: `{p}` is not a port number (1-65535)")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Action::Allow { target: target.clone(), from, methods, paths, ports }
            }
            FormKind::Route { namespace } => {
                let name = self.text("service");
                if name.is_empty() {
                    return Err("service: this workload has no Service to route to".into());
                }
                let service: ServiceRef =
                    format!("svc/{namespace}/{name}").parse().map_err(|e| format!("service: {e}"))?;
                let hosts = list(&self.text("hosts"));
                if hosts.is_empty() {
                    return Err("hosts: name at least one host (rng.example.com)".into());
                }
                if let Some(bad) = hosts.iter().find(|h| !valid_host(h)) {
                    return Err(format!("hosts: `{bad}` is not a DNS name"));
                }
                let gateway = self.text("gateway");
                let ok = gateway.split_once('/').is_some_and(|(ns, n)| valid_name(ns) && valid_name(n));
                if !ok {
                    return Err(format!("gateway: `{gateway}` is not NS/NAME (istio-system/ingressgateway)"));
                }
                let export_to = list(&self.text("export to"));
                if let Some(bad) = export_to.iter().find(|e| !(*e == "." || *e == "*" || valid_name(e))) {
                    return Err(format!("export to: `{bad}` is not a namespace, . or *"));
                }
                Action::Route { service, hosts, gateway, export_to }
            }
            FormKind::Revision(target) => {
                let to = self.text("to").split(' ').next().unwrap_or_default().to_string();
                if to.is_empty() {
                    return Err("to: the control plane has no revision to move to".into());
                }
                Action::Revision { target: target.clone(), to, restarted_at: self.restart(now) }
            }
        })
    }
}

/// Comma- or space-separated items.
fn list(text: &str) -> Vec<String> {
    text.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !s.starts_with(['-', '.'])
        && !s.ends_with(['-', '.'])
}

fn valid_host(s: &str) -> bool {
    let rest = s.strip_prefix("*.").unwrap_or(s);
    s == "*" || valid_name(rest)
}
