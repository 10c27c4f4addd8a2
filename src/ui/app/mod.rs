//! The terminal UI's state and how intents and events change it. Pure: `update` takes an
//! intent or event and returns effects for the run loop to carry out; it never draws and
//! never touches the network, so every behaviour here is testable without a terminal.

mod commands;
mod editor;
pub mod form;
mod plan_screen;
pub mod plan_state;
mod rows;
mod staging;

pub use editor::{Editor, check_edit};
pub use plan_state::{Confirm, PlanRow, PlanSession, PreviewState, Rollout, TaskResult};
pub use rows::{Rows, SortKey};

use crate::mesh::MeshView;
use crate::plan::{ObjRef, Plan, Preview};
use crate::ui::backend::ApplyOptions;
use crate::ui::intent::Intent;
use crate::ui::keymap::Mode;
use crate::ui::widgets::input::InputLine;
use crate::ui::widgets::notice::{Level, Notice, Notices};
use crate::ui::widgets::table::Window;
use form::Form;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Namespaces,
    Workloads,
    ControlPlane,
    /// The staged actions, their preview and the selected object's diff.
    Plan,
    Journal,
    /// An apply's progress and result.
    Rollout,
}

impl Screen {
    pub fn title(self) -> &'static str {
        match self {
            Screen::Namespaces => "Namespaces",
            Screen::Workloads => "Workloads",
            Screen::ControlPlane => "Control plane",
            Screen::Plan => "Plan",
            Screen::Journal => "Journal",
            Screen::Rollout => "Apply",
        }
    }

    /// The screens of the plan workflow, which keep their own lists.
    pub fn is_plan_side(self) -> bool {
        matches!(self, Screen::Plan | Screen::Journal | Screen::Rollout)
    }
}

/// What the run loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    SwitchContext(String),
    Relist,
    /// Write the plan file.
    SavePlan(Plan),
    /// Compute the preview of `plan` (version `generation`) off the render path.
    Preview {
        plan: Plan,
        generation: u64,
    },
    /// Apply exactly this preview of this plan.
    Apply {
        plan: Plan,
        preview: Preview,
        options: ApplyOptions,
    },
    LoadJournal,
    /// Open `text` in $EDITOR; the result comes back as `TaskResult::Edited`.
    ExternalEdit {
        target: ObjRef,
        text: String,
    },
}

/// Facts about the connection and data freshness for the status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncInfo {
    pub context: String,
    pub server: String,
    /// "synced", "syncing 4,500 objects", "stale 12s · reconnecting".
    pub text: String,
    pub stale: bool,
    /// Kinds RBAC refuses, named, so the view says what it is missing.
    pub forbidden: Vec<String>,
}

pub struct App {
    pub screen: Screen,
    /// Workloads of one namespace, or all when None.
    pub namespace: Option<String>,
    pub mode: Mode,
    pub view: Arc<MeshView>,
    pub rows: Rows,
    pub windows: [Window; 4],
    /// Rows of data the current table shows; set by the run loop from the layout.
    pub page: usize,
    pub detail_open: bool,
    pub help_scroll: u16,
    pub input: InputLine,
    pub filter: String,
    pub sort: [SortKey; 3],
    pub notices: Notices,
    pub sync: SyncInfo,
    pub contexts: Vec<String>,
    pub plan: PlanSession,
    /// The open staging form.
    pub form: Option<Form>,
    /// `--read-only`: staging works, apply says no.
    pub read_only: bool,
    /// $VISUAL or $EDITOR is set: `e` opens it instead of the in-app editor.
    pub external_editor: bool,
    /// The current time, RFC 3339 UTC, for `restartedAt` stamps (fixed in tests).
    pub now: fn() -> String,
}

/// Now, RFC 3339 UTC to the second.
pub fn utc_now() -> String {
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn slot(s: Screen) -> usize {
    match s {
        Screen::Namespaces => 0,
        Screen::Workloads => 1,
        Screen::ControlPlane => 2,
        // The plan-side screens keep their selection in `PlanSession`; this slot absorbs the
        // shared movement handling so it never moves a list screen's selection.
        Screen::Plan | Screen::Journal | Screen::Rollout => 3,
    }
}

impl App {
    pub fn new(view: Arc<MeshView>, namespace: Option<String>) -> App {
        let screen = if namespace.is_some() { Screen::Workloads } else { Screen::Namespaces };
        let mut app = App {
            screen,
            namespace,
            mode: Mode::Table,
            rows: Rows::default(),
            view,
            windows: [Window::default(); 4],
            page: 10,
            detail_open: false,
            help_scroll: 0,
            input: InputLine::default(),
            filter: String::new(),
            sort: [SortKey::default(); 3],
            notices: Notices::default(),
            sync: SyncInfo::default(),
            contexts: Vec::new(),
            plan: PlanSession::default(),
            form: None,
            read_only: false,
            external_editor: false,
            now: utc_now,
        };
        app.refresh_rows();
        app
    }

    pub fn window(&self) -> Window {
        self.windows[slot(self.screen)]
    }

    pub fn set_window(&mut self, w: Window) {
        *self.window_mut() = w;
    }

    fn window_mut(&mut self) -> &mut Window {
        &mut self.windows[slot(self.screen)]
    }

    /// The rows of the current screen after filter and sort, as indices into the view.
    pub fn current_rows(&self) -> &[usize] {
        self.rows.for_screen(self.screen)
    }

    /// Recomputes filtered and sorted rows; only when the view, filter, sort or scope change,
    /// never per frame. Keeps the selection on the same object when it is still there.
    pub fn refresh_rows(&mut self) {
        let selected_key = self.selected_key();
        self.recompute(selected_key);
    }

    fn recompute(&mut self, selected_key: Option<String>) {
        self.rows = Rows::compute(&self.view, self.namespace.as_deref(), &self.filter, &self.sort);
        let rows = self.rows.for_screen(self.screen).to_vec();
        if let Some(key) = selected_key
            && let Some(pos) = rows.iter().position(|&i| self.key_of(self.screen, i) == key)
        {
            let page = self.page;
            self.window_mut().select(pos, rows.len(), page);
            return;
        }
        let len = rows.len();
        let page = self.page;
        let w = self.window_mut();
        w.select(w.selected, len, page);
    }

    fn key_of(&self, screen: Screen, i: usize) -> String {
        match screen {
            Screen::Namespaces => self.view.namespaces.get(i).map(|n| n.name.clone()).unwrap_or_default(),
            Screen::Workloads => {
                self.view.workloads.get(i).map(|w| format!("{}/{}/{}", w.namespace, w.kind, w.name)).unwrap_or_default()
            }
            Screen::ControlPlane => {
                self.view.control_plane.revisions.get(i).map(|r| r.name.clone()).unwrap_or_default()
            }
            Screen::Plan | Screen::Journal | Screen::Rollout => String::new(),
        }
    }

    fn selected_key(&self) -> Option<String> {
        let rows = self.rows.for_screen(self.screen);
        rows.get(self.window().selected).map(|&i| self.key_of(self.screen, i))
    }

    /// The index into the view of the selected row, if any.
    pub fn selected(&self) -> Option<usize> {
        self.current_rows().get(self.window().selected).copied()
    }

    pub fn set_view(&mut self, view: Arc<MeshView>) {
        // The key must be read against the old view, whose indices the rows still hold.
        let selected_key = self.selected_key();
        self.view = view;
        self.recompute(selected_key);
    }

    /// Switches screens; a filter belongs to the list it was typed on, as in k9s.
    fn go(&mut self, screen: Screen) {
        if screen != self.screen {
            self.filter.clear();
        }
        self.screen = screen;
        self.detail_open = false;
        self.mode = self.rest_mode();
        self.refresh_rows();
    }

    pub fn notice(&mut self, text: impl Into<String>) {
        self.notices.push(Notice { level: Level::Info, text: text.into() });
    }

    /// Applies one intent. Returns effects for the run loop.
    pub fn update(&mut self, intent: Intent) -> Vec<Effect> {
        match self.mode {
            Mode::Command | Mode::Filter => return self.update_input(intent),
            Mode::Form => return self.update_form(intent),
            Mode::Confirm => return self.update_confirm(intent),
            Mode::Editor => return self.update_editor(intent),
            Mode::Help => {
                match intent {
                    Intent::ToggleHelp | Intent::Back => self.mode = self.rest_mode(),
                    Intent::Quit => return vec![Effect::Quit],
                    Intent::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                    Intent::Down => self.help_scroll = self.help_scroll.saturating_add(1),
                    Intent::PageDown => self.help_scroll = self.help_scroll.saturating_add(10),
                    Intent::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
                    _ => {}
                }
                return vec![];
            }
            _ => {}
        }
        if self.screen.is_plan_side() {
            if let Some(effects) = self.update_plan_screens(intent) {
                return effects;
            }
            if matches!(intent, Intent::NextSortColumn | Intent::ReverseSort) {
                return vec![];
            }
        }
        let len = self.current_rows().len();
        let page = self.page;
        if self.window_mut().apply(intent, len, page) {
            return vec![];
        }
        match intent {
            Intent::Quit => return vec![Effect::Quit],
            Intent::ToggleHelp => {
                self.mode = Mode::Help;
                self.help_scroll = 0;
            }
            Intent::CommandLine => {
                self.mode = Mode::Command;
                self.input.clear();
            }
            Intent::Filter => {
                self.mode = Mode::Filter;
                self.input.set(&self.filter.clone());
            }
            Intent::Back => {
                if self.detail_open {
                    self.detail_open = false;
                    self.mode = Mode::Table;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                    self.refresh_rows();
                } else if self.screen == Screen::Workloads && self.namespace.is_some() {
                    self.namespace = None;
                    self.go(Screen::Namespaces);
                }
            }
            Intent::DrillDown => match self.screen {
                Screen::Namespaces => {
                    if let Some(ns) = self.selected().and_then(|i| self.view.namespaces.get(i)).map(|n| n.name.clone())
                    {
                        self.namespace = Some(ns);
                        self.filter.clear();
                        self.windows[slot(Screen::Workloads)] = Window::default();
                        self.go(Screen::Workloads);
                    }
                }
                Screen::Workloads | Screen::ControlPlane => {
                    self.detail_open = !self.detail_open;
                    self.mode = if self.detail_open { Mode::Detail } else { Mode::Table };
                }
                Screen::Plan | Screen::Journal | Screen::Rollout => {}
            },
            Intent::GotoNamespaces => self.go(Screen::Namespaces),
            Intent::GotoWorkloads => self.go(Screen::Workloads),
            Intent::GotoControlPlane => self.go(Screen::ControlPlane),
            Intent::NextSortColumn => {
                let s = &mut self.sort[slot(self.screen)];
                s.column = (s.column + 1) % rows::columns(self.screen);
                self.refresh_rows();
            }
            Intent::ReverseSort => {
                let s = &mut self.sort[slot(self.screen)];
                s.reverse = !s.reverse;
                self.refresh_rows();
            }
            Intent::SwitchContext => {
                self.mode = Mode::Command;
                self.input.set("ctx ");
            }
            Intent::Refresh => return vec![Effect::Relist],
            Intent::StageInject
            | Intent::StageUninject
            | Intent::StageRestart
            | Intent::StageMtls
            | Intent::StageAllow
            | Intent::StageRoute
            | Intent::StageRevision => return self.stage_from_row(intent),
            Intent::OpenPreview | Intent::OpenPlan => return self.open_plan(),
            Intent::OpenJournal => return self.open_journal(),
            Intent::UndoLast => return self.undo_from_elsewhere(),
            Intent::EditStaged | Intent::DeleteStaged => {
                self.notice("open the plan (p) and select what to edit or remove")
            }
            Intent::ApplyPlan => {
                let effects = self.open_plan();
                self.notice("review the preview, then press A here to apply");
                return effects;
            }
            _ => {}
        }
        vec![]
    }

    fn update_input(&mut self, intent: Intent) -> Vec<Effect> {
        match intent {
            Intent::Back => {
                if self.mode == Mode::Filter {
                    self.filter.clear();
                    self.refresh_rows();
                }
                self.mode = self.rest_mode();
            }
            Intent::Submit => {
                let text = self.input.text().trim().to_string();
                let was = self.mode;
                self.mode = self.rest_mode();
                if was == Mode::Filter {
                    self.filter = text;
                    self.refresh_rows();
                } else {
                    return self.run_command(&text);
                }
            }
            Intent::Complete if self.mode == Mode::Command => {
                let text = self.input.text().to_string();
                if let Some(done) = commands::complete(&text, &self.contexts, &self.view) {
                    self.input.set(&done);
                }
            }
            Intent::Quit => return vec![Effect::Quit],
            _ => {}
        }
        vec![]
    }

    /// Live filtering while the filter line is being typed.
    pub fn filter_typed(&mut self) {
        if self.mode == Mode::Filter {
            self.filter = self.input.text().to_string();
            self.refresh_rows();
        }
    }
}

#[cfg(test)]
mod plan_file_tests;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
