use super::*;
use crossterm::event::{KeyCode, KeyModifiers};

fn no_lookup(_: &str) -> Result<Option<Source>, ConfigError> {
    Ok(None)
}

fn user(text: &str) -> Source {
    Source::user("keymap.toml", text.to_string())
}

fn load_user(text: &str, parent: &str) -> (Keymap, Vec<String>) {
    let (k, w) = load(user(text), Some(parent), &mut no_lookup).unwrap();
    (k, w.iter().map(ToString::to_string).collect())
}

fn press(notation: &str) -> KeyEvent {
    let key = Key::parse(notation).unwrap();
    let code = match key.name {
        crate::ui::keys::KeyName::Char(c) => KeyCode::Char(c),
        crate::ui::keys::KeyName::Enter => KeyCode::Enter,
        crate::ui::keys::KeyName::Esc => KeyCode::Esc,
        crate::ui::keys::KeyName::Down => KeyCode::Down,
        other => panic!("test helper does not map {other:?}"),
    };
    let mut mods = KeyModifiers::NONE;
    if key.ctrl {
        mods |= KeyModifiers::CONTROL;
    }
    KeyEvent::new(code, mods)
}

/// Feeds keys in one mode and returns what each resolved to.
fn feed(keymap: &Keymap, mode: Mode, keys: &[&str]) -> Vec<Resolution> {
    let mut pending = Pending::default();
    keys.iter().map(|k| keymap.resolve(&mut pending, &press(k), mode)).collect()
}

fn vim() -> Keymap {
    load(bundled_source("vim").unwrap(), None, &mut no_lookup).unwrap().0
}

use Resolution::{Intent as I, Pending as P, Unbound as U};

#[test]
fn single_keys_resolve_in_mode_then_global() {
    let k = Keymap::fallback();
    assert_eq!(
        feed(&k, Mode::Table, &["<Enter>", "q", "<Down>", "x"]),
        [I(Intent::DrillDown), I(Intent::Quit), I(Intent::Down), U]
    );
    assert_eq!(feed(&k, Mode::Help, &["q"]), [I(Intent::ToggleHelp)], "[help] q overrides [global] q");
}

#[test]
fn chords_wait_then_fire_and_a_broken_chord_retries_its_last_key() {
    let k = vim();
    assert_eq!(feed(&k, Mode::Table, &["g", "g"]), [P, I(Intent::Top)]);
    assert_eq!(feed(&k, Mode::Table, &["g", "j"]), [P, I(Intent::Down)]);
    assert_eq!(feed(&k, Mode::Table, &["g", "x"]), [P, U]);
    assert_eq!(feed(&k, Mode::Table, &["g", "g", "g"]), [P, I(Intent::Top), P]);
}

#[test]
fn changing_mode_drops_a_half_typed_chord() {
    let k = vim();
    let mut pending = Pending::default();
    assert_eq!(k.resolve(&mut pending, &press("g"), Mode::Table), P);
    assert_eq!(pending.text(), "g");
    assert_eq!(k.resolve(&mut pending, &press("g"), Mode::Detail), P, "starts over in the new mode");
    assert_eq!(k.resolve(&mut pending, &press("g"), Mode::Detail), I(Intent::Top));
    assert!(pending.is_empty());
}

#[test]
fn text_input_modes_only_let_modified_keys_reach_global() {
    let k = Keymap::fallback();
    assert_eq!(
        feed(&k, Mode::Command, &["q", "?", "<C-c>", "<Enter>", "<Esc>"]),
        [U, U, I(Intent::Quit), I(Intent::Submit), I(Intent::Back)]
    );
}

#[test]
fn key_releases_are_ignored() {
    let k = Keymap::fallback();
    let mut pending = Pending::default();
    let mut ev = press("q");
    ev.kind = KeyEventKind::Release;
    assert_eq!(k.resolve(&mut pending, &ev, Mode::Table), U);
}

#[test]
fn user_file_adds_overrides_and_unbinds() {
    let (k, warnings) = load_user(
        "[global]\nkeys = [\n  { on = \"x\", run = \"quit\", desc = \"Leave\" },\n  { on = \"q\", run = \"noop\" },\n  \
         { on = \"?\", run = \"filter\" },\n]\n[table]\nkeys = [ { on = \"s\", run = \"noop\" } ]\n",
        "default",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        feed(&k, Mode::Table, &["x", "q", "?", "s", "S"]),
        [I(Intent::Quit), U, I(Intent::Filter), I(Intent::Noop), I(Intent::ReverseSort)]
    );
    let global = k.bindings(Mode::Global);
    let pos = |key: &str| global.iter().position(|b| sequence_text(&b.keys) == key);
    assert_eq!(pos("?"), Some(0), "an override keeps the default's place");
    assert_eq!(pos("x"), Some(global.len() - 1), "an addition goes last");
    assert_eq!(global[0].desc, "filter", "a binding without desc describes its run name");
}

#[test]
fn noop_in_a_mode_hides_the_global_binding_there_only() {
    let (k, _) = load_user("[table]\nkeys = [ { on = \"q\", run = \"noop\" } ]\n", "default");
    assert_eq!(feed(&k, Mode::Table, &["q"]), [I(Intent::Noop)]);
    assert_eq!(feed(&k, Mode::Detail, &["q"]), [I(Intent::Quit)]);
}

#[test]
fn shadowing_a_chord_warns_from_both_sides() {
    let (k, warnings) = load_user("[global]\nkeys = [ { on = \"g\", run = \"refresh\" } ]\n", "vim");
    assert_eq!(warnings, ["keymap.toml:2:17: [global] \"g\" shadows \"gg\" (top), which can no longer be typed"]);
    assert_eq!(feed(&k, Mode::Table, &["g"]), [I(Intent::Refresh)], "the warning does not stop loading");

    let (_, warnings) = load_user("[table]\nkeys = [ { on = \"g\", run = \"refresh\" } ]\n", "vim");
    assert_eq!(
        warnings,
        ["keymap.toml:2:17: [table] \"g\" shadows \"gg\" (top) of [global], which can no longer be typed in [table]"]
    );

    let (_, warnings) = load_user("[global]\nkeys = [ { on = [\"s\", \"x\"], run = \"refresh\" } ]\n", "default");
    assert_eq!(
        warnings,
        [
            "keymap.toml:2:17: [global] \"sx\" can never be typed in [table]: \"s\" of [table] is bound to next_sort_column"
        ]
    );
}

#[test]
fn help_groups_keys_that_do_the_same_thing() {
    let sections = help_sections(&vim());
    let titles: Vec<&str> = sections.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Everywhere",
            "Lists",
            "Details",
            "Help",
            "Command line",
            "Filter",
            "Plan and preview",
            "Staging form",
            "Apply confirmation",
            "YAML editor",
            "Journal"
        ]
    );
    let global = &sections[0].1;
    let row = |desc: &str| global.iter().find(|(_, d)| d == desc).map(|(k, _)| k.as_str());
    assert_eq!(row("Quit"), Some("q, <C-c>"));
    assert_eq!(row("Move down"), Some("<Down>, j"));
    assert_eq!(row("Go to the top"), Some("<Home>, gg"));
    assert_eq!(row("Page down"), Some("<PageDown>, <C-d>, <C-f>"));
}

#[test]
fn help_leaves_out_unbound_keys() {
    let (k, _) = load_user("[help]\nkeys = [ { on = \"q\", run = \"noop\" } ]\n", "default");
    let sections = help_sections(&k);
    assert!(sections.iter().all(|(t, _)| t != "Help"), "{sections:?}");
}
