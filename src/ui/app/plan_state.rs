//! The session's plan as the UI holds it: the staged plan and where it is saved, its preview
//! (not computed, computing, ready for a given version of the plan, failed), the apply in
//! progress and its outcome, and the journal list. Results of background work arrive here as
//! `TaskResult`s; a result for an older version of the plan is dropped, so a slow preview
//! never overwrites a newer one.

use super::editor::Editor;
use super::{App, Effect, Screen};
use crate::plan::{ClashKind, ItemStatus, JournalEntry, ObjRef, Plan, Preview, Restart, clashes, merge};
use crate::ui::backend::{ApplyError, ApplyOptions, ApplyOutcome};
use crate::ui::keymap::Mode;
use crate::ui::widgets::input::InputLine;
use crate::ui::widgets::notice::{Level, Notice};
use crate::ui::widgets::table::Window;
use ratatui::text::Line;
use std::path::PathBuf;
use std::sync::Arc;

/// Highlighted lines of one diff, shared between the cache and the preview that shows them.
pub type Highlighted = Arc<[Line<'static>]>;

#[derive(Debug, Clone, Default)]
pub enum PreviewState {
    #[default]
    NotComputed,
    Computing,
    Ready {
        preview: Preview,
        /// The plan version this preview was computed for.
        generation: u64,
        /// One per preview item, highlighted off the UI task.
        lines: Vec<Highlighted>,
    },
    Failed(String),
}

/// The apply confirmation.
#[derive(Debug, Clone, Default)]
pub struct Confirm {
    /// The context name the user must type, when it contains `prod`.
    pub must_type: Option<String>,
    pub typed: InputLine,
    /// Objects with fields other managers own.
    pub conflicts: usize,
    /// The user chose to take those fields over.
    pub take_over: bool,
    /// Error-level findings about the plan's own objects: applying past them takes a second
    /// Enter.
    pub errors: usize,
    pub errors_confirmed: bool,
    pub error: Option<String>,
}

/// The rollout screen: what was applied and the workloads that roll.
#[derive(Debug, Clone, Default)]
pub struct Rollout {
    /// The plan as it was applied; a complete apply takes exactly this out of the plan.
    pub plan: Plan,
    pub restarts: Vec<Restart>,
    /// None while the apply runs.
    pub outcome: Option<Result<ApplyOutcome, String>>,
}

#[derive(Debug, Clone, Default)]
pub struct JournalList {
    pub entries: Vec<JournalEntry>,
    pub loading: bool,
    pub error: Option<String>,
    pub window: Window,
    /// The selected entry's items are shown.
    pub open: bool,
}

/// Results of background work, handed to `App::on_task`.
#[derive(Debug, Clone)]
pub enum TaskResult {
    Previewed {
        generation: u64,
        result: Result<Preview, String>,
        lines: Vec<Highlighted>,
    },
    Applied(Result<ApplyOutcome, ApplyError>),
    Journal(Result<Vec<JournalEntry>, String>),
    /// The plan file after a save of the UI's change, merged with what others wrote.
    PlanSaved(Result<Synced, SyncError>),
    /// The plan file after another process changed it.
    PlanReloaded(Result<Synced, SyncError>),
    /// The text saved in $EDITOR for an object, or why the editor could not run.
    Edited {
        target: ObjRef,
        result: Result<String, String>,
    },
}

/// The plan file after a save or reload: what it holds now, which the UI adopts.
#[derive(Debug, Clone, PartialEq)]
pub struct Synced {
    pub plan: Plan,
    /// Another process changed the file since this UI last read or wrote it.
    pub others: bool,
    /// This UI's actions the merge left out, each with why.
    pub left_out: Vec<String>,
}

/// A save or reload that did not happen. `unreadable`: the file does not parse, so nothing
/// is written to it until it is fixed.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncError {
    pub message: String,
    pub unreadable: bool,
}

#[derive(Debug, Default)]
pub struct PlanSession {
    pub plan: Plan,
    /// The plan file; `None` keeps the plan in memory only.
    pub file: Option<PathBuf>,
    /// The plan file does not read: it is not written, the plan stays in memory until the
    /// file is fixed (a reload then merges the two).
    pub file_error: Option<String>,
    /// Bumped on every change of the plan.
    pub generation: u64,
    pub preview: PreviewState,
    pub window: Window,
    pub diff_scroll: u16,
    pub confirm: Option<Confirm>,
    pub rollout: Option<Rollout>,
    pub journal: JournalList,
    pub editor: Option<Editor>,
    /// The screen Esc goes back to from the plan, journal and rollout screens.
    pub return_to: Option<Screen>,
}

/// A row of the plan screen: a staged action, then the preview's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanRow {
    Action(usize),
    Item(usize),
}

impl PlanSession {
    pub fn ready(&self) -> Option<(&Preview, &[Highlighted])> {
        match &self.preview {
            PreviewState::Ready { preview, generation, lines } if *generation == self.generation => {
                Some((preview, lines))
            }
            _ => None,
        }
    }

    pub fn rows(&self) -> Vec<PlanRow> {
        let items = match &self.preview {
            PreviewState::Ready { preview, .. } => preview.items.len(),
            _ => 0,
        };
        (0..self.plan.actions.len()).map(PlanRow::Action).chain((0..items).map(PlanRow::Item)).collect()
    }

    pub fn selected_row(&self) -> Option<PlanRow> {
        self.rows().get(self.window.selected).copied()
    }
}

impl App {
    /// After any change of the plan: save it, and recompute the preview if it is on screen.
    pub(crate) fn plan_changed(&mut self) -> Vec<Effect> {
        let p = &self.plan;
        let mut effects = Vec::new();
        if p.file.is_some() && p.file_error.is_none() {
            effects.push(Effect::SavePlan(p.plan.clone()));
        }
        effects.extend(self.plan_replaced());
        effects
    }

    /// The plan is a new version: its preview is out of date.
    fn plan_replaced(&mut self) -> Vec<Effect> {
        let p = &mut self.plan;
        p.generation += 1;
        let mut effects = Vec::new();
        let len = p.rows().len();
        p.window.select(p.window.selected, len, self.page);
        if self.screen == Screen::Plan {
            effects.extend(self.request_preview());
        } else {
            self.plan.preview = PreviewState::NotComputed;
        }
        effects
    }

    /// Asks for a preview of the current plan, unless one is ready or on its way.
    pub(crate) fn request_preview(&mut self) -> Vec<Effect> {
        let p = &mut self.plan;
        if p.plan.actions.is_empty() {
            p.preview = PreviewState::NotComputed;
            return vec![];
        }
        if p.ready().is_some() {
            return vec![];
        }
        p.preview = PreviewState::Computing;
        vec![Effect::Preview { plan: p.plan.clone(), generation: p.generation }]
    }

    pub fn on_task(&mut self, result: TaskResult) -> Vec<Effect> {
        match result {
            TaskResult::Previewed { generation, result, lines } => {
                if generation != self.plan.generation {
                    return vec![]; // the plan changed since; a newer preview is on its way
                }
                self.plan.preview = match result {
                    Ok(preview) => PreviewState::Ready { preview, generation, lines },
                    Err(e) => PreviewState::Failed(e),
                };
                let len = self.plan.rows().len();
                self.plan.window.select(self.plan.window.selected, len, self.page);
            }
            TaskResult::Applied(result) => return self.applied(result),
            TaskResult::Journal(result) => {
                let j = &mut self.plan.journal;
                j.loading = false;
                match result {
                    Ok(entries) => {
                        j.window.select(j.window.selected, entries.len(), self.page);
                        j.entries = entries;
                        j.error = None;
                    }
                    Err(e) => j.error = Some(e),
                }
            }
            TaskResult::PlanSaved(result) => return self.plan_synced(result, false),
            TaskResult::PlanReloaded(result) => return self.plan_synced(result, true),
            TaskResult::Edited { target, result: Ok(text) } => return self.edited(target, &text),
            TaskResult::Edited { target, result: Err(e) } => {
                self.notices.push(Notice::warn(format!("{}: the editor did not run: {e}", target.display())))
            }
        }
        vec![]
    }

    /// The plan file after a save or a reload: the UI adopts what it holds now, and says so
    /// when that is not what it had.
    fn plan_synced(&mut self, result: Result<Synced, SyncError>, reload: bool) -> Vec<Effect> {
        let synced = match result {
            Ok(s) => s,
            Err(e) => {
                let text = match (e.unreadable, reload) {
                    (true, true) => format!(
                        "the plan file changed on disk and does not read: {}; it is not overwritten, and the plan here is kept until it is fixed",
                        e.message
                    ),
                    (true, false) => format!(
                        "the plan was not saved: the plan file does not read: {}; it is not overwritten until it is fixed",
                        e.message
                    ),
                    (false, _) => format!("the plan was not saved: {}; it goes out with the next change", e.message),
                };
                if e.unreadable {
                    self.plan.file_error = Some(e.message);
                }
                self.notices.push(Notice { level: Level::Error, text });
                return vec![];
            }
        };
        let was_unreadable = self.plan.file_error.take().is_some();
        for text in synced.left_out {
            self.notices.push(Notice::warn(text));
        }
        if synced.plan == self.plan.plan {
            if was_unreadable {
                self.notice("the plan file reads again; the plan here is saved in it");
            }
            return vec![];
        }
        let staged = synced.plan.actions.len();
        self.plan.plan = synced.plan;
        if self.plan.confirm.take().is_some() {
            self.mode = self.rest_mode();
        }
        self.notice(if reload {
            format!("the plan file changed on disk: reloaded ({staged} staged)")
        } else {
            format!("the plan file was changed elsewhere too: merged ({staged} staged)")
        });
        self.plan_replaced()
    }

    /// The apply key on the plan screen: checks, then the confirmation.
    pub(crate) fn start_apply(&mut self) {
        if self.read_only {
            self.notices.push(Notice::warn(
                "read-only session (--read-only): apply is disabled; the plan stays staged and saved",
            ));
            return;
        }
        if self.plan.plan.actions.is_empty() {
            self.notice("nothing is staged");
            return;
        }
        if let Some((i, c)) = clashes(&self.plan.plan.actions).into_iter().find(|(_, c)| c.kind != ClashKind::Repeats) {
            self.notices.push(Notice::warn(format!(
                "the plan contradicts itself: action {} ({}) {c}; drop one of the two (d) before applying",
                i + 1,
                self.plan.plan.actions[i].summary()
            )));
            return;
        }
        let Some((preview, _)) = self.plan.ready() else {
            self.notice("the preview is not ready yet; apply once it is shown");
            return;
        };
        if !preview.has_changes() {
            self.notice("nothing to apply: every object is already as staged");
            return;
        }
        let conflicts = preview.items.iter().filter(|i| i.status == ItemStatus::Conflict).count();
        let refused =
            preview.items.iter().filter(|i| matches!(i.status, ItemStatus::Forbidden | ItemStatus::Invalid)).count();
        if refused > 0 {
            self.notices.push(Notice::warn(format!(
                "nothing can be applied: {refused} {} forbidden or refused by the API server (see the preview)",
                if refused == 1 { "object is" } else { "objects are" }
            )));
            return;
        }
        let errors = preview.findings.iter().filter(|f| f.severity == crate::plan::Severity::Error).count();
        let context = &self.sync.context;
        let must_type = context.contains("prod").then(|| context.clone());
        self.plan.confirm = Some(Confirm { must_type, conflicts, errors, ..Confirm::default() });
        self.mode = Mode::Confirm;
    }

    pub(crate) fn update_confirm(&mut self, intent: crate::ui::intent::Intent) -> Vec<Effect> {
        use crate::ui::intent::Intent;
        let Some(c) = self.plan.confirm.as_mut() else {
            self.mode = self.rest_mode();
            return vec![];
        };
        match intent {
            Intent::Back => {
                self.plan.confirm = None;
                self.mode = self.rest_mode();
            }
            Intent::TakeOver if c.conflicts > 0 => c.take_over = !c.take_over,
            Intent::Submit => {
                if let Some(name) = &c.must_type
                    && c.typed.text().trim() != name
                {
                    c.error = Some(format!("type the context name {name} to apply to it"));
                    return vec![];
                }
                if c.conflicts > 0 && !c.take_over {
                    c.error =
                        Some("other managers own fields this plan sets: Tab takes them over, Esc goes back".into());
                    return vec![];
                }
                if c.errors > 0 && !c.errors_confirmed {
                    c.errors_confirmed = true;
                    c.error = Some(format!(
                        "the preview has {} error finding{}: Enter again applies anyway, Esc goes back",
                        c.errors,
                        if c.errors == 1 { "" } else { "s" }
                    ));
                    return vec![];
                }
                let options = ApplyOptions { force_conflicts: c.take_over, allow_errors: c.errors_confirmed };
                self.plan.confirm = None;
                let Some((preview, _)) = self.plan.ready() else { return vec![] };
                let preview = preview.clone();
                let plan = self.plan.plan.clone();
                self.plan.rollout =
                    Some(Rollout { plan: plan.clone(), restarts: preview.restarts.clone(), outcome: None });
                self.go(Screen::Rollout);
                return vec![Effect::Apply { plan, preview, options }];
            }
            Intent::Quit => return vec![Effect::Quit],
            _ => {}
        }
        vec![]
    }

    fn applied(&mut self, result: Result<ApplyOutcome, ApplyError>) -> Vec<Effect> {
        match result {
            Ok(outcome) => {
                let complete = outcome.complete();
                let mut applied = Plan::default();
                if let Some(r) = self.plan.rollout.as_mut() {
                    r.outcome = Some(Ok(outcome));
                    applied = r.plan.clone();
                }
                if complete {
                    // What was applied is in the cluster now and leaves the plan; actions
                    // staged meanwhile (here, or reloaded from the file) stay.
                    let emptied = Plan { metadata: applied.metadata.clone(), ..Plan::default() };
                    let p = &mut self.plan.plan;
                    *p = merge(&applied, &emptied, p).plan;
                    if p.actions.is_empty() {
                        p.edits.clear();
                        self.notice("applied; the plan is empty again (the journal has the entry, u undoes it)");
                    } else {
                        let n = p.actions.len();
                        self.notice(format!(
                            "applied; {n} action(s) staged since stay in the plan (u undoes the apply)"
                        ));
                    }
                    return self.plan_changed();
                }
                self.notices.push(Notice::warn("the apply stopped: see what was and was not applied"));
            }
            Err(ApplyError::ChangedSincePreview(m)) => {
                self.plan.rollout = None;
                self.plan.preview = PreviewState::NotComputed;
                self.go(Screen::Plan);
                self.notices.push(Notice::warn(format!(
                    "nothing applied: {m} changed in the cluster since the preview; here is the new preview"
                )));
                return self.request_preview();
            }
            Err(e) => {
                if let Some(r) = self.plan.rollout.as_mut() {
                    r.outcome = Some(Err(e.to_string()));
                }
            }
        }
        vec![]
    }
}
