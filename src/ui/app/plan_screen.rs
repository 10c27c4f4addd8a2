//! Keys on the plan, journal and rollout screens: moving through the staged actions and the
//! preview's objects, deleting a staged action, scrolling the diff, opening the journal and
//! staging an entry's undo. Pure state changes; the work itself goes out as effects.

use super::plan_state::PlanRow;
use super::{App, Effect, Screen};
use crate::plan::Action;
use crate::ui::intent::Intent;
use crate::ui::keymap::Mode;

impl App {
    /// Opens the plan screen and asks for the preview when it is out of date.
    pub fn open_plan(&mut self) -> Vec<Effect> {
        self.remember_return();
        self.go(Screen::Plan);
        if let Some(e) = &self.plan.file_error {
            self.notice(format!("the plan file was not read, so it is not overwritten: {e}"));
        }
        self.request_preview()
    }

    pub fn open_journal(&mut self) -> Vec<Effect> {
        self.remember_return();
        self.go(Screen::Journal);
        self.plan.journal.loading = true;
        vec![Effect::LoadJournal]
    }

    fn remember_return(&mut self) {
        if matches!(self.screen, Screen::Namespaces | Screen::Workloads | Screen::ControlPlane) {
            self.plan.return_to = Some(self.screen);
        }
    }

    fn leave_plan_screens(&mut self) {
        let to = self.plan.return_to.unwrap_or(Screen::Namespaces);
        self.go(to);
    }

    /// Intents on the plan, journal and rollout screens; `None` leaves the intent to the
    /// handling every screen shares (quit, help, command line, screen keys).
    pub(crate) fn update_plan_screens(&mut self, intent: Intent) -> Option<Vec<Effect>> {
        let page = self.page;
        match self.screen {
            Screen::Plan => {
                let len = self.plan.rows().len();
                match intent {
                    Intent::PageDown => self.plan.diff_scroll = self.plan.diff_scroll.saturating_add(page as u16),
                    Intent::PageUp => self.plan.diff_scroll = self.plan.diff_scroll.saturating_sub(page as u16),
                    Intent::Up | Intent::Down | Intent::Top | Intent::Bottom => {
                        self.plan.window.apply(intent, len, page);
                        self.plan.diff_scroll = 0;
                    }
                    Intent::DeleteStaged => return Some(self.delete_selected()),
                    Intent::EditStaged => return Some(self.edit_selected()),
                    Intent::ApplyPlan => self.start_apply(),
                    Intent::OpenPreview => {
                        self.plan.preview = super::plan_state::PreviewState::NotComputed;
                        return Some(self.request_preview());
                    }
                    Intent::Back => self.leave_plan_screens(),
                    Intent::Filter | Intent::DrillDown => {}
                    _ => return None,
                }
            }
            Screen::Journal => {
                let j = &mut self.plan.journal;
                match intent {
                    Intent::Up | Intent::Down | Intent::Top | Intent::Bottom | Intent::PageUp | Intent::PageDown => {
                        j.window.apply(intent, j.entries.len(), page);
                    }
                    Intent::DrillDown => j.open = !j.open,
                    Intent::UndoLast => return Some(self.stage_undo()),
                    Intent::Back if j.open => j.open = false,
                    Intent::Back => self.leave_plan_screens(),
                    Intent::OpenJournal => return Some(self.open_journal()),
                    Intent::Filter => {}
                    _ => return None,
                }
            }
            Screen::Rollout => match intent {
                Intent::Back => self.leave_plan_screens(),
                Intent::Filter | Intent::DrillDown => {}
                _ => return None,
            },
            _ => return None,
        }
        Some(vec![])
    }

    fn delete_selected(&mut self) -> Vec<Effect> {
        match self.plan.selected_row() {
            Some(PlanRow::Action(i)) => {
                let gone = self.plan.plan.actions.remove(i);
                if self.plan.plan.actions.is_empty() {
                    self.plan.plan.edits.clear();
                }
                self.notice(format!("removed from the plan: {}", gone.summary()));
                self.plan_changed()
            }
            Some(PlanRow::Item(i)) => {
                let target = self.plan.ready().map(|(p, _)| p.items[i].change.target.clone());
                let edits = &mut self.plan.plan.edits;
                match target.and_then(|t| edits.iter().position(|e| e.target == t)) {
                    Some(pos) => {
                        let e = edits.remove(pos);
                        self.notice(format!("your edit of {} is dropped", e.target.display()));
                        self.plan_changed()
                    }
                    None => {
                        self.notice("objects come from the staged actions: select an action above to remove it");
                        vec![]
                    }
                }
            }
            None => vec![],
        }
    }

    /// `u` on the journal: stages the undo of the selected entry and shows its preview.
    fn stage_undo(&mut self) -> Vec<Effect> {
        let j = &self.plan.journal;
        let Some(entry) = j.entries.get(j.window.selected) else {
            self.notice("the journal is empty: nothing to undo");
            return vec![];
        };
        let action = Action::Undo { entry: entry.id.clone() };
        let mut effects = self.stage(action);
        effects.extend(self.open_plan());
        effects
    }

    /// `u` outside the journal: undo starts from the journal, where the entry is chosen.
    pub(crate) fn undo_from_elsewhere(&mut self) -> Vec<Effect> {
        let effects = self.open_journal();
        self.notice("choose the apply to undo and press u");
        effects
    }

    /// The mode a screen returns to when an overlay or input line closes.
    pub(crate) fn rest_mode(&self) -> Mode {
        match self.screen {
            Screen::Plan => Mode::Preview,
            Screen::Journal => Mode::Journal,
            Screen::Rollout => Mode::Detail,
            _ if self.detail_open => Mode::Detail,
            _ => Mode::Table,
        }
    }
}
