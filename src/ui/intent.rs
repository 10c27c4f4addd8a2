//! `Intent`: what a key press means, independent of which key it was. The snake_case names are
//! the `run` values of keymap files. This module only names intents; what each one does in a
//! given screen is decided by the app state, which may ignore intents that make no sense there.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Quit,
    ToggleHelp,
    /// Open the `:` command line.
    CommandLine,
    /// Open the `/` filter line.
    Filter,
    /// Close the topmost thing: popup, input line, detail pane.
    Back,
    /// Accept the command line or filter.
    Submit,
    /// Complete the word under the cursor in the command line.
    Complete,
    /// Open the selected row.
    DrillDown,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Scroll sideways.
    Left,
    Right,
    NextSortColumn,
    ReverseSort,
    GotoNamespaces,
    GotoWorkloads,
    GotoControlPlane,
    SwitchContext,
    /// Re-list from the API server instead of waiting for watch events.
    Refresh,
    /// Does nothing; binding a key to it hides a binding from a lower layer.
    Noop,
    StageInject,
    StageUninject,
    StageRestart,
    StageMtls,
    StageAllow,
    StageRoute,
    StageRevision,
    /// Show the staged plan as a YAML diff.
    OpenPreview,
    /// Edit the staged YAML in $EDITOR.
    EditStaged,
    ApplyPlan,
    /// On the journal screen: stage the undo of the selected entry; elsewhere: open the journal.
    UndoLast,
    /// Remove the selected staged action from the plan.
    DeleteStaged,
    /// Open the plan screen: staged actions and their preview.
    OpenPlan,
    /// Open the journal of past applies.
    OpenJournal,
    /// Move to the next or previous field of a form.
    NextField,
    PrevField,
    /// In the apply confirmation: take over fields other managers own (forced apply).
    TakeOver,
    /// Save the object in the editor.
    Save,
}

impl Intent {
    /// Every intent, in declaration order.
    pub const ALL: [Intent; 42] = [
        Intent::Quit,
        Intent::ToggleHelp,
        Intent::CommandLine,
        Intent::Filter,
        Intent::Back,
        Intent::Submit,
        Intent::Complete,
        Intent::DrillDown,
        Intent::Up,
        Intent::Down,
        Intent::PageUp,
        Intent::PageDown,
        Intent::Top,
        Intent::Bottom,
        Intent::Left,
        Intent::Right,
        Intent::NextSortColumn,
        Intent::ReverseSort,
        Intent::GotoNamespaces,
        Intent::GotoWorkloads,
        Intent::GotoControlPlane,
        Intent::SwitchContext,
        Intent::Refresh,
        Intent::Noop,
        Intent::StageInject,
        Intent::StageUninject,
        Intent::StageRestart,
        Intent::StageMtls,
        Intent::StageAllow,
        Intent::StageRoute,
        Intent::StageRevision,
        Intent::OpenPreview,
        Intent::EditStaged,
        Intent::ApplyPlan,
        Intent::UndoLast,
        Intent::DeleteStaged,
        Intent::OpenPlan,
        Intent::OpenJournal,
        Intent::NextField,
        Intent::PrevField,
        Intent::TakeOver,
        Intent::Save,
    ];

    /// The intent a keymap `run` value names.
    pub fn from_name(name: &str) -> Option<Intent> {
        use serde::de::IntoDeserializer;
        let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = name.into_deserializer();
        Intent::deserialize(de).ok()
    }

    /// The `run` value for this intent.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{self:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_intent() {
        for i in Intent::ALL {
            assert_eq!(Intent::from_name(&i.name()), Some(i), "{i:?}");
        }
        let mut sorted = Intent::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), Intent::ALL.len(), "ALL lists an intent twice");
    }

    #[test]
    fn names_are_snake_case() {
        let cases = [
            (Intent::ToggleHelp, "toggle_help"),
            (Intent::GotoControlPlane, "goto_control_plane"),
            (Intent::StageMtls, "stage_mtls"),
            (Intent::Noop, "noop"),
        ];
        for (i, name) in cases {
            assert_eq!(i.name(), name);
            assert_eq!(Intent::from_name(name), Some(i));
        }
        assert_eq!(Intent::from_name("ToggleHelp"), None);
        assert_eq!(Intent::from_name("dwn"), None);
    }
}
