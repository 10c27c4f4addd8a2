//! Bundled themes and keymaps, and the fixture files under tests/fixtures/{themes,keymaps}:
//! every valid file loads, every invalid file fails with the message its `# expect:` line gives.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use meshdeck::ui::config_file::{ConfigError, Source};
use meshdeck::ui::intent::Intent;
use meshdeck::ui::keymap::{self, Keymap, Mode, Pending, Resolution};
use meshdeck::ui::theme::{self, SLOTS, Theme};
use ratatui::style::{Color, Modifier, Style};
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures";

fn read(path: &Path) -> Source {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Source::user(path.display().to_string(), text)
}

/// Lookup for `inherits` among the fixtures in the same directory.
fn sibling_lookup(dir: PathBuf) -> impl FnMut(&str) -> Result<Option<Source>, ConfigError> {
    move |name| {
        let path = dir.join(format!("{name}.toml"));
        Ok(path.exists().then(|| read(&path)))
    }
}

fn fixtures(kind: &str, validity: &str) -> Vec<PathBuf> {
    let dir = Path::new(FIXTURES).join(kind).join(validity);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// The message an invalid fixture declares on its `# expect: line:col: what` line, prefixed
/// with the file's path as errors show it.
fn expected(src: &Source) -> String {
    let line = src.text.lines().find_map(|l| l.strip_prefix("# expect: "));
    let line = line.unwrap_or_else(|| panic!("{} has no `# expect:` line", src.name));
    format!("{}:{line}", src.name)
}

fn load_theme(path: &Path) -> Result<Theme, ConfigError> {
    theme::load(read(path), None, &mut sibling_lookup(path.parent().unwrap().to_path_buf()))
}

fn load_keymap(path: &Path) -> Result<(Keymap, Vec<ConfigError>), ConfigError> {
    keymap::load(read(path), None, &mut sibling_lookup(path.parent().unwrap().to_path_buf()))
}

fn bundled_theme(name: &str) -> Theme {
    theme::load(theme::bundled_source(name).unwrap(), None, &mut |_| Ok(None))
        .unwrap_or_else(|e| panic!("bundled theme {name}: {e}"))
}

#[test]
fn every_bundled_theme_loads_and_sets_every_slot_itself() {
    for (name, _) in theme::BUNDLED {
        let src = theme::bundled_source(name).unwrap();
        let set = theme::slots_set_by(&src).unwrap_or_else(|e| panic!("{e}"));
        let all: Vec<&str> = SLOTS.iter().map(|(s, _)| *s).collect();
        assert_eq!(set, all, "{name} must set every slot, in the order of SLOTS");
        let theme = bundled_theme(name);
        assert_ne!(theme.syntax_theme, "", "{name}");
    }
}

#[test]
fn basic_theme_uses_no_colour_and_marks_meaning_with_attributes() {
    let t = bundled_theme("basic");
    for (slot, _) in SLOTS {
        let style = t.slot(slot).unwrap();
        for c in [style.fg, style.bg].into_iter().flatten() {
            assert_eq!(c, Color::Reset, "basic.{slot} uses a colour");
        }
    }
    let attrs = |s: Style| s.add_modifier;
    for (slot, style) in [
        ("danger", t.danger),
        ("warn", t.warn),
        ("selection", t.selection),
        ("status_bar", t.status_bar),
        ("mtls_permissive", t.mtls_permissive),
        ("cert_expiring", t.cert_expiring),
    ] {
        assert_ne!(attrs(style), Modifier::empty(), "basic.{slot} has no attribute to show it");
    }
    assert_ne!(attrs(t.warn), attrs(t.danger), "warn and danger look different");
    assert_ne!(attrs(t.mtls_permissive), attrs(t.mtls_disable));
}

#[test]
fn valid_themes_load() {
    let files = fixtures("themes", "valid");
    for path in &files {
        load_theme(path).unwrap_or_else(|e| panic!("{e}"));
    }
    let dark = bundled_theme("dark");
    let light = bundled_theme("light");

    let t = load_theme(&Path::new(FIXTURES).join("themes/valid/override.toml")).unwrap();
    assert_eq!(t.warn, Style::new().fg(Color::Rgb(0xff, 0xaf, 0)).add_modifier(Modifier::BOLD));
    assert_eq!(t.selection, Style::new().add_modifier(Modifier::REVERSED));
    assert_eq!(t.text, dark.text);

    let t = load_theme(&Path::new(FIXTURES).join("themes/valid/older_standalone.toml")).unwrap();
    let alarm = Style::new().fg(Color::Indexed(196)).add_modifier(Modifier::BOLD);
    assert_eq!(t.danger, alarm);
    assert_eq!(t.mtls_disable, alarm, "mtls_disable falls back to danger");
    assert_eq!(t.cert_expiring, Style::new().fg(Color::Yellow), "cert_expiring falls back to warn");
    assert_eq!(t.selection, Style::new().fg(Color::White), "selection -> accent -> text");

    let t = load_theme(&Path::new(FIXTURES).join("themes/valid/palette_override.toml")).unwrap();
    assert_eq!(t.warn.fg, Some(Color::Rgb(0x87, 0x5f, 0)), "light's warn uses the new amber");
    assert_eq!(t.muted, light.muted);
    assert_eq!(t.syntax_theme, "base16-ocean.light");
}

#[test]
fn invalid_themes_fail_with_their_messages() {
    let mut wrong = Vec::new();
    for path in fixtures("themes", "invalid") {
        let want = expected(&read(&path));
        match load_theme(&path) {
            Ok(_) => wrong.push(format!("{} loaded", path.display())),
            Err(e) if e.to_string() != want => wrong.push(format!("got  {e}\nwant {want}")),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn bundled_keymaps_load_without_warnings() {
    for (name, _) in keymap::BUNDLED {
        let (keymap, warnings) = keymap::load(keymap::bundled_source(name).unwrap(), None, &mut |_| Ok(None))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        for mode in Mode::ALL {
            let mut keys: Vec<_> = keymap.bindings(mode).iter().map(|b| b.keys.clone()).collect();
            let n = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), n, "{name} binds a key twice in [{}]", mode.name());
        }
    }
}

#[test]
fn bundled_keymap_bindings_all_have_descriptions() {
    for (name, text) in keymap::BUNDLED {
        let doc: toml::Table = toml::from_str(text).unwrap();
        for (section, value) in &doc {
            let Some(keys) = value.get("keys").and_then(|k| k.as_array()) else { continue };
            for b in keys {
                assert!(
                    b.get("desc").is_some_and(|d| d.as_str().is_some_and(|s| !s.is_empty())),
                    "{name} [{section}] {b}"
                );
            }
        }
    }
}

#[test]
fn default_keymap_covers_the_k9s_style_basics() {
    let k = Keymap::fallback();
    let cases = [
        (Mode::Table, KeyCode::Char(':'), KeyModifiers::NONE, Intent::CommandLine),
        (Mode::Table, KeyCode::Char('/'), KeyModifiers::NONE, Intent::Filter),
        (Mode::Table, KeyCode::Char('?'), KeyModifiers::NONE, Intent::ToggleHelp),
        (Mode::Table, KeyCode::Enter, KeyModifiers::NONE, Intent::DrillDown),
        (Mode::Detail, KeyCode::Esc, KeyModifiers::NONE, Intent::Back),
        (Mode::Table, KeyCode::PageDown, KeyModifiers::NONE, Intent::PageDown),
        (Mode::Table, KeyCode::Home, KeyModifiers::NONE, Intent::Top),
        (Mode::Table, KeyCode::End, KeyModifiers::NONE, Intent::Bottom),
        (Mode::Table, KeyCode::Char('s'), KeyModifiers::NONE, Intent::NextSortColumn),
        (Mode::Table, KeyCode::Char('S'), KeyModifiers::SHIFT, Intent::ReverseSort),
        (Mode::Table, KeyCode::Char('q'), KeyModifiers::NONE, Intent::Quit),
        (Mode::Preview, KeyCode::Char('c'), KeyModifiers::CONTROL, Intent::Quit),
        (Mode::Table, KeyCode::Char('1'), KeyModifiers::NONE, Intent::GotoNamespaces),
        (Mode::Table, KeyCode::Char('2'), KeyModifiers::NONE, Intent::GotoWorkloads),
        (Mode::Table, KeyCode::Char('3'), KeyModifiers::NONE, Intent::GotoControlPlane),
    ];
    for (mode, code, mods, want) in cases {
        let got = k.resolve(&mut Pending::default(), &KeyEvent::new(code, mods), mode);
        assert_eq!(got, Resolution::Intent(want), "{code:?} {mods:?} in {mode:?}");
    }
}

fn feed(k: &Keymap, mode: Mode, events: &[KeyEvent]) -> Vec<Resolution> {
    let mut pending = Pending::default();
    events.iter().map(|e| k.resolve(&mut pending, e, mode)).collect()
}

#[test]
fn valid_keymaps_load() {
    for path in fixtures("keymaps", "valid") {
        load_keymap(&path).unwrap_or_else(|e| panic!("{e}"));
    }
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let (k, warnings) = load_keymap(&Path::new(FIXTURES).join("keymaps/valid/override.toml")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let back_tab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(
        feed(&k, Mode::Table, &[key('Q'), key('q'), key('z'), key('z'), back_tab, key(' ')]),
        [
            Resolution::Intent(Intent::Quit),
            Resolution::Unbound,
            Resolution::Pending,
            Resolution::Intent(Intent::Top),
            Resolution::Intent(Intent::ReverseSort),
            Resolution::Intent(Intent::DrillDown),
        ]
    );

    let path = Path::new(FIXTURES).join("keymaps/valid/shadow.toml");
    let (k, warnings) = load_keymap(&path).unwrap();
    let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [format!("{}:5:17: [global] \"g\" shadows \"gg\" (top), which can no longer be typed", path.display())]
    );
    assert_eq!(feed(&k, Mode::Table, &[key('g')]), [Resolution::Intent(Intent::GotoWorkloads)]);
}

#[test]
fn invalid_keymaps_fail_with_their_messages() {
    let mut wrong = Vec::new();
    for path in fixtures("keymaps", "invalid") {
        let want = expected(&read(&path));
        match load_keymap(&path) {
            Ok(_) => wrong.push(format!("{} loaded", path.display())),
            Err(e) if e.to_string() != want => wrong.push(format!("got  {e}\nwant {want}")),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
