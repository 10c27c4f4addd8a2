use super::*;
use crate::ui::intent::Intent;
use crate::ui::keymap::{Mode, Pending, Resolution};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Style};

fn platform() -> Paths {
    Paths {
        config_dir: "/home/u/.config/meshdeck".into(),
        state_dir: "/home/u/.local/state/meshdeck".into(),
        cache_dir: "/home/u/.cache/meshdeck".into(),
    }
}

#[test]
fn paths_take_each_override_separately() {
    let env = Env { config_dir: Some("/tmp/cfg".into()), ..Env::default() };
    let p = Paths::resolve(Some(platform()), &env).unwrap();
    assert_eq!(p.config_dir, PathBuf::from("/tmp/cfg"));
    assert_eq!(p.state_dir, PathBuf::from("/home/u/.local/state/meshdeck"));
    assert_eq!(p.settings_file(), PathBuf::from("/tmp/cfg/settings.toml"));
    assert_eq!(p.theme_file(), PathBuf::from("/tmp/cfg/theme.toml"));
    assert_eq!(p.keymap_file(), PathBuf::from("/tmp/cfg/keymap.toml"));
    assert_eq!(p.themes_dir(), PathBuf::from("/tmp/cfg/themes"));
    assert_eq!(p.log_file(), PathBuf::from("/home/u/.cache/meshdeck/meshdeck.log"));
}

#[test]
fn paths_without_a_home_need_every_override() {
    assert_eq!(Paths::resolve(None, &Env::default()), None);
    let partial = Env { config_dir: Some("/c".into()), state_dir: Some("/s".into()), ..Env::default() };
    assert_eq!(Paths::resolve(None, &partial), None);
    let full = Env { cache_dir: Some("/k".into()), ..partial };
    let want = Paths { config_dir: "/c".into(), state_dir: "/s".into(), cache_dir: "/k".into() };
    assert_eq!(Paths::resolve(None, &full), Some(want));
}

#[test]
fn settings_defaults_and_no_color() {
    let colour = Env::default();
    let no_color = Env { no_color: true, ..Env::default() };
    let named = Source::user("settings.toml", "theme = \"light\"\nkeymap = \"vim\"\n".into());
    let cases = [
        (None, &colour, "dark", "default"),
        (None, &no_color, "basic", "default"),
        (Some(&named), &no_color, "light", "vim"),
    ];
    for (src, env, theme, keymap) in cases {
        let s = match src {
            Some(src) => Settings::parse(src, env).unwrap(),
            None => Settings::defaults(env),
        };
        assert_eq!((s.theme.as_str(), s.keymap.as_str()), (theme, keymap), "{src:?} {env:?}");
    }
    let bad = Source::user("settings.toml", "them = \"light\"\n".into());
    assert_eq!(
        Settings::parse(&bad, &colour).unwrap_err().to_string(),
        "settings.toml:1:1: unknown key \"them\" (expected one of: theme, keymap)"
    );
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }
    fn write(&self, rel: &str, text: &str) {
        let path = self.0.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    fn paths(&self) -> Paths {
        let p = self.0.path();
        Paths { config_dir: p.join("config"), state_dir: p.join("state"), cache_dir: p.join("cache") }
    }
    fn name(&self, rel: &str) -> String {
        self.0.path().join(rel).display().to_string()
    }
}

fn press(mode: Mode, keymap: &Keymap, c: char) -> Resolution {
    keymap.resolve(&mut Pending::default(), &KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), mode)
}

#[test]
fn no_user_files_means_bundled_defaults_and_no_warnings() {
    let dir = Dir::new();
    let c = load(Some(&dir.paths()), &Env::default());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.theme, Theme::fallback());
    assert_eq!(c.keymap, Keymap::fallback());
    let c = load(None, &Env { no_color: true, ..Env::default() });
    assert_eq!(c.settings.theme, "basic");
    assert_eq!(c.theme.syntax_theme, "none");
}

#[test]
fn user_theme_layers_over_the_settings_theme() {
    let dir = Dir::new();
    dir.write("config/settings.toml", "theme = \"light\"\n");
    dir.write("config/theme.toml", "[styles]\nwarn = { fg = \"magenta\" }\n");
    let c = load(Some(&dir.paths()), &Env::default());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.theme.warn, Style::new().fg(Color::Magenta));
    assert_eq!(c.theme.syntax_theme, "InspiredGitHub", "the rest comes from light");
}

#[test]
fn a_bad_user_theme_warns_and_keeps_the_named_theme() {
    let dir = Dir::new();
    dir.write("config/settings.toml", "theme = \"light\"\n");
    dir.write("config/theme.toml", "[styles]\nwarn = { fg = \"yelow\" }\n");
    let c = load(Some(&dir.paths()), &Env::default());
    let file = dir.name("config/theme.toml");
    assert_eq!(
        c.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [format!("{file}:2:15: styles.warn.fg: unknown colour \"yelow\"")]
    );
    assert_eq!(c.theme.syntax_theme, "InspiredGitHub");
}

#[test]
fn settings_can_name_a_user_theme_and_keymap() {
    let dir = Dir::new();
    dir.write("config/settings.toml", "theme = \"mine\"\nkeymap = \"mykeys\"\n");
    dir.write("config/themes/mine.toml", "inherits = \"dark\"\nsyntax_theme = \"Solarized (dark)\"\n");
    dir.write("config/keymaps/mykeys.toml", "inherits = \"vim\"\n[table]\nkeys = [ { on = \"x\", run = \"quit\" } ]\n");
    let c = load(Some(&dir.paths()), &Env::default());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.theme.syntax_theme, "Solarized (dark)");
    assert_eq!(press(Mode::Table, &c.keymap, 'x'), Resolution::Intent(Intent::Quit));
    assert_eq!(press(Mode::Table, &c.keymap, 'j'), Resolution::Intent(Intent::Down), "vim keys inherited");
}

#[test]
fn unknown_names_and_bad_files_fall_back_with_warnings() {
    let dir = Dir::new();
    dir.write("config/settings.toml", "theme = \"nope\"\nkeymap = \"vim\"\n");
    dir.write("config/keymap.toml", "[table]\nkeys = [ { on = \"x\", run = \"qiut\" } ]\n");
    let c = load(Some(&dir.paths()), &Env::default());
    let settings = dir.name("config/settings.toml");
    let keymap = dir.name("config/keymap.toml");
    assert_eq!(
        c.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            format!("{settings}: theme \"nope\" is neither bundled nor in the themes directory; using the default"),
            format!("{keymap}:2:28: [table] \"x\": unknown run \"qiut\""),
        ]
    );
    assert_eq!(c.theme, Theme::fallback());
    assert_eq!(press(Mode::Table, &c.keymap, 'j'), Resolution::Intent(Intent::Down), "vim from settings still applies");
}

#[test]
fn user_keymap_without_inherits_layers_over_the_settings_keymap() {
    let dir = Dir::new();
    dir.write("config/settings.toml", "keymap = \"vim\"\n");
    dir.write("config/keymap.toml", "[global]\nkeys = [ { on = \"j\", run = \"noop\" } ]\n");
    let c = load(Some(&dir.paths()), &Env::default());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(press(Mode::Table, &c.keymap, 'j'), Resolution::Unbound);
    assert_eq!(press(Mode::Table, &c.keymap, 'k'), Resolution::Intent(Intent::Up));
}
