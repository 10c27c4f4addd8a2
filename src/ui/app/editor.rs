//! Editing a staged object: `e` on a preview object opens what will be sent for it in the in-app
//! editor (ratatui-textarea), or asks the run loop for $EDITOR when one is set. On save the YAML
//! is parsed and checked (apiVersion, kind, name and namespace unchanged); an error names the
//! line and column and leaves the staged object as it was; a good edit becomes a `plan.edits`
//! entry and the preview is recomputed.

use super::plan_state::PlanRow;
use super::{App, Effect};
use crate::plan::{Edit, ObjRef, Op};
use crate::ui::intent::Intent;
use crate::ui::keymap::Mode;
use serde_json::Value;
use tui_textarea::TextArea;

pub struct Editor {
    pub target: ObjRef,
    pub area: TextArea<'static>,
    pub error: Option<String>,
}

impl std::fmt::Debug for Editor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Editor").field("target", &self.target).field("error", &self.error).finish()
    }
}

impl Editor {
    pub fn new(target: ObjRef, text: &str) -> Editor {
        let area = TextArea::new(text.lines().map(String::from).collect());
        Editor { target, area, error: None }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }
}

/// 1-based line of the first line that starts (after indentation) with `key:`, searched from
/// `after` on.
fn line_of(text: &str, key: &str, after: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| l.trim_start().strip_prefix(key).is_some_and(|r| r.starts_with(':')))
        .map(|(i, _)| i + 1)
}

/// Parses an edited object and checks it is still the object it was. Errors read
/// "line L, column C: …".
pub fn check_edit(text: &str, target: &ObjRef) -> Result<Value, String> {
    let value: Value = serde_yaml::from_str(text).map_err(|e| match e.location() {
        Some(l) => format!("line {}, column {}: {e}", l.line(), l.column()),
        None => format!("{e}"),
    })?;
    if !value.is_object() {
        return Err("line 1, column 1: the object must be a YAML mapping (apiVersion, kind, metadata, …)".into());
    }
    if let Some((field, got, want)) = crate::plan::identity_mismatch(target, &value) {
        // The line of the key in the text, for the message (nested keys after `metadata:`).
        let meta_line = line_of(text, "metadata", 0).unwrap_or(1);
        let line = match field {
            "apiVersion" => line_of(text, "apiVersion", 0),
            "kind" => line_of(text, "kind", 0),
            "metadata.name" => line_of(text, "name", meta_line),
            _ => line_of(text, "namespace", meta_line),
        };
        let at = line.map(|l| format!("line {l}, column 1: ")).unwrap_or_default();
        return Err(format!(
            "{at}{field} must stay `{want}` (found `{got}`): an edit changes the object, not which object"
        ));
    }
    Ok(value)
}

impl App {
    /// `e` on the plan screen.
    pub(crate) fn edit_selected(&mut self) -> Vec<Effect> {
        let item = match (self.plan.selected_row(), self.plan.ready()) {
            (Some(PlanRow::Item(i)), Some((preview, _))) => preview.items[i].clone(),
            (Some(PlanRow::Action(_)), _) => {
                self.notice("select one of the preview's objects to edit it (below the staged actions)");
                return vec![];
            }
            _ => {
                self.notice("nothing to edit until the preview is shown");
                return vec![];
            }
        };
        let target = item.change.target.clone();
        let body = match self.plan.plan.edits.iter().find(|e| e.target == target) {
            Some(e) => e.body.clone(),
            None => match &item.change.op {
                Op::Apply { body } => body.clone(),
                _ => {
                    self.notice(format!(
                        "{} is patched or deleted, not applied: it cannot be edited",
                        target.display()
                    ));
                    return vec![];
                }
            },
        };
        let text = serde_yaml::to_string(&body).unwrap_or_default();
        if self.external_editor {
            return vec![Effect::ExternalEdit { target, text }];
        }
        self.plan.editor = Some(Editor::new(target, &text));
        self.mode = Mode::Editor;
        vec![]
    }

    pub(crate) fn update_editor(&mut self, intent: Intent) -> Vec<Effect> {
        let Some(ed) = self.plan.editor.as_mut() else {
            self.mode = self.rest_mode();
            return vec![];
        };
        match intent {
            Intent::Back => {
                self.plan.editor = None;
                self.mode = self.rest_mode();
                self.notice("edit discarded; the staged object is unchanged");
            }
            Intent::Save => match check_edit(&ed.text(), &ed.target) {
                Ok(body) => {
                    let target = ed.target.clone();
                    self.plan.editor = None;
                    self.mode = self.rest_mode();
                    return self.keep_edit(target, body);
                }
                Err(e) => ed.error = Some(e),
            },
            _ => {}
        }
        vec![]
    }

    /// Text saved in $EDITOR: kept when it checks out; otherwise it opens in the in-app editor
    /// with the error, and the staged object stays as it was.
    pub(crate) fn edited(&mut self, target: ObjRef, text: &str) -> Vec<Effect> {
        match check_edit(text, &target) {
            Ok(body) => self.keep_edit(target, body),
            Err(e) => {
                let mut ed = Editor::new(target, text);
                ed.error = Some(e);
                self.plan.editor = Some(ed);
                self.mode = Mode::Editor;
                vec![]
            }
        }
    }

    fn keep_edit(&mut self, target: ObjRef, body: Value) -> Vec<Effect> {
        self.notice(format!("{} edited; computing the preview again", target.display()));
        let edits = &mut self.plan.plan.edits;
        match edits.iter_mut().find(|e| e.target == target) {
            Some(e) => e.body = body,
            None => edits.push(Edit { target, body }),
        }
        self.plan_changed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pa() -> ObjRef {
        ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default")
    }

    #[test]
    fn good_edits_parse_and_bad_ones_name_the_place() {
        let good = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: rng\nspec:\n  mtls:\n    mode: STRICT\n";
        let v = check_edit(good, &pa()).unwrap();
        assert_eq!(v.pointer("/spec/mtls/mode").and_then(Value::as_str), Some("STRICT"));

        let cases = [
            (
                "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: rng\nspec:\n  mtls:\n  mode: [STRICT\n",
                "line 9, column",
            ),
            (
                "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: other\n  namespace: rng\n",
                "line 4, column 1: metadata.name must stay `default` (found `other`)",
            ),
            (
                "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: default\n  namespace: rng\n",
                "line 2, column 1: kind must stay `PeerAuthentication` (found `AuthorizationPolicy`)",
            ),
            (
                "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n",
                "metadata.namespace must stay `rng` (found ``)",
            ),
            ("- a\n- b\n", "line 1, column 1: the object must be a YAML mapping"),
        ];
        for (text, want) in cases {
            let err = check_edit(text, &pa()).unwrap_err();
            assert!(err.contains(want), "{text:?}\n  got: {err}\n want: {want}");
        }
    }
}
