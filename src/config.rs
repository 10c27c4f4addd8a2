//! Where meshdeck keeps its files and how its settings, theme and keymap are loaded: the
//! embedded defaults plus the user's partial files. Path resolution is pure (directories and
//! environment values are passed in); the loader reads files but never panics and never stops
//! start-up: every problem becomes a warning and the bundled defaults stay in force.

pub use crate::ui::config_file::{ConfigError, Source};
use crate::ui::config_file::{entries_in_order, expect_str, unknown_key};
use crate::ui::keymap::{self, Keymap};
use crate::ui::theme::{self, Theme};
use std::path::{Path, PathBuf};

/// A config problem shown to the user (status bar, log): `file:line:column: what`.
pub type Warning = ConfigError;

/// meshdeck's directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// User overrides: settings.toml, theme.toml, keymap.toml, themes/, keymaps/.
    pub config_dir: PathBuf,
    /// Things that must survive restarts: the journal of applied changes.
    pub state_dir: PathBuf,
    /// Disposable files: the log.
    pub cache_dir: PathBuf,
}

/// The environment values that change where files are and how they look. Read once at start-up
/// by `Env::from_process`; tests build it directly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// NO_COLOR set to a non-empty value (https://no-color.org).
    pub no_color: bool,
    /// MESHDECK_CONFIG_DIR, MESHDECK_STATE_DIR, MESHDECK_CACHE_DIR: replace one directory each,
    /// for tests and for running several setups side by side.
    pub config_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        let path = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Env {
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            config_dir: path("MESHDECK_CONFIG_DIR"),
            state_dir: path("MESHDECK_STATE_DIR"),
            cache_dir: path("MESHDECK_CACHE_DIR"),
        }
    }
}

impl Paths {
    /// The platform directories for meshdeck (on Linux the XDG ones: ~/.config/meshdeck,
    /// ~/.local/state/meshdeck, ~/.cache/meshdeck), or `None` without a home directory.
    pub fn platform() -> Option<Paths> {
        let dirs = directories::ProjectDirs::from("dev", "meshdeck", "meshdeck")?;
        // Only Linux has a state directory; elsewhere local data is the nearest thing.
        let state = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).to_path_buf();
        Some(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            state_dir: state,
            cache_dir: dirs.cache_dir().to_path_buf(),
        })
    }

    /// Applies the environment's overrides to the platform directories. With no platform
    /// directories, all three overrides are needed; otherwise user files are not read.
    pub fn resolve(platform: Option<Paths>, env: &Env) -> Option<Paths> {
        let pick = |over: &Option<PathBuf>, base: Option<&PathBuf>| over.clone().or_else(|| base.cloned());
        Some(Paths {
            config_dir: pick(&env.config_dir, platform.as_ref().map(|p| &p.config_dir))?,
            state_dir: pick(&env.state_dir, platform.as_ref().map(|p| &p.state_dir))?,
            cache_dir: pick(&env.cache_dir, platform.as_ref().map(|p| &p.cache_dir))?,
        })
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.toml")
    }

    /// The user's theme overrides, layered over the theme named in settings.
    pub fn theme_file(&self) -> PathBuf {
        self.config_dir.join("theme.toml")
    }

    /// The user's key overrides, layered over the keymap named in settings.
    pub fn keymap_file(&self) -> PathBuf {
        self.config_dir.join("keymap.toml")
    }

    /// Where settings can name extra themes (`<name>.toml`).
    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }

    pub fn keymaps_dir(&self) -> PathBuf {
        self.config_dir.join("keymaps")
    }

    pub fn log_file(&self) -> PathBuf {
        self.cache_dir.join("meshdeck.log")
    }
}

/// settings.toml: which theme and keymap to start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub theme: String,
    pub keymap: String,
}

impl Settings {
    /// The settings without a settings.toml.
    pub fn defaults(env: &Env) -> Settings {
        let theme = if env.no_color { "basic" } else { theme::DEFAULT_THEME };
        Settings { theme: theme.to_string(), keymap: keymap::DEFAULT_KEYMAP.to_string() }
    }

    /// Parses settings.toml. NO_COLOR picks the colourless "basic" theme unless the file names
    /// a theme itself: an explicit choice wins over the environment.
    pub fn parse(src: &Source, env: &Env) -> Result<Settings, ConfigError> {
        let mut settings = Settings::defaults(env);
        let doc = src.parse()?;
        for (key, value) in entries_in_order(&doc) {
            match key.get_ref().as_ref() {
                "theme" => settings.theme = expect_str(src, "theme", value)?.to_string(),
                "keymap" => settings.keymap = expect_str(src, "keymap", value)?.to_string(),
                _ => return Err(unknown_key(src, "", key, &["theme", "keymap"])),
            }
        }
        Ok(settings)
    }
}

/// Everything loaded from config, ready for the UI.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub theme: Theme,
    pub keymap: Keymap,
    /// Problems found while loading; show them and log them. Loading went on regardless.
    pub warnings: Vec<Warning>,
}

/// Reads a user file; a missing file is `None`, an unreadable one a warning.
fn read_user(path: &Path, warnings: &mut Vec<Warning>) -> Option<Source> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(Source::user(path.display().to_string(), text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            let name = path.display().to_string();
            warnings.push(ConfigError { file: name, line: 0, column: 0, what: format!("cannot read: {e}") });
            None
        }
    }
}

/// Looks up `<dir>/<name>.toml` for `inherits` and settings.
fn lookup_in(dir: Option<PathBuf>) -> impl FnMut(&str) -> Result<Option<Source>, ConfigError> {
    move |name: &str| {
        let Some(dir) = &dir else { return Ok(None) };
        let path = dir.join(format!("{name}.toml"));
        let mut errs = Vec::new();
        let found = read_user(&path, &mut errs);
        match errs.pop() {
            Some(e) => Err(e),
            None => Ok(found),
        }
    }
}

/// Loads settings, theme and keymap: bundled defaults, then the user's files from `paths`
/// (none when `paths` is `None`). A file with errors is skipped as a whole and reported.
pub fn load(paths: Option<&Paths>, env: &Env) -> Config {
    let mut warnings = Vec::new();
    let settings_src = paths.and_then(|p| read_user(&p.settings_file(), &mut warnings));
    let settings = match &settings_src {
        Some(src) => Settings::parse(src, env).unwrap_or_else(|e| {
            warnings.push(e);
            Settings::defaults(env)
        }),
        None => Settings::defaults(env),
    };
    let settings_name = settings_src.as_ref().map_or("settings.toml", |s| s.name.as_str());

    let mut theme_lookup = lookup_in(paths.map(|p| p.themes_dir()));
    let named_theme =
        named_source(settings_name, &settings.theme, "theme", theme::bundled_source, &mut theme_lookup, &mut warnings);
    let mut base_theme = theme::DEFAULT_THEME.to_string();
    let mut theme = Theme::fallback();
    if let Some(src) = named_theme {
        match theme::load(src, None, &mut theme_lookup) {
            Ok(t) => (theme, base_theme) = (t, settings.theme.clone()),
            Err(e) => warnings.push(e),
        }
    }
    if let Some(src) = paths.and_then(|p| read_user(&p.theme_file(), &mut warnings)) {
        match theme::load(src, Some(&base_theme), &mut theme_lookup) {
            Ok(t) => theme = t,
            Err(e) => warnings.push(e),
        }
    }

    let mut keymap_lookup = lookup_in(paths.map(|p| p.keymaps_dir()));
    let named = named_source(
        settings_name,
        &settings.keymap,
        "keymap",
        keymap::bundled_source,
        &mut keymap_lookup,
        &mut warnings,
    );
    let mut base_keymap = keymap::DEFAULT_KEYMAP.to_string();
    let mut keymap = Keymap::fallback();
    if let Some(src) = named {
        match keymap::load(src, None, &mut keymap_lookup) {
            Ok((k, w)) => {
                (keymap, base_keymap) = (k, settings.keymap.clone());
                warnings.extend(w);
            }
            Err(e) => warnings.push(e),
        }
    }
    if let Some(src) = paths.and_then(|p| read_user(&p.keymap_file(), &mut warnings)) {
        match keymap::load(src, Some(&base_keymap), &mut keymap_lookup) {
            Ok((k, w)) => {
                keymap = k;
                warnings.extend(w);
            }
            Err(e) => warnings.push(e),
        }
    }
    Config { settings, theme, keymap, warnings }
}

/// The source of a theme or keymap named in settings: bundled, or `<name>.toml` in the user's
/// themes/ or keymaps/ directory.
fn named_source(
    settings_name: &str,
    name: &str,
    kind: &str,
    bundled: fn(&str) -> Option<Source>,
    lookup: &mut dyn FnMut(&str) -> Result<Option<Source>, ConfigError>,
    warnings: &mut Vec<Warning>,
) -> Option<Source> {
    if let Some(src) = bundled(name) {
        return Some(src);
    }
    match lookup(name) {
        Ok(Some(src)) => Some(src),
        Ok(None) => {
            warnings.push(ConfigError {
                file: settings_name.to_string(),
                line: 0,
                column: 0,
                what: format!("{kind} \"{name}\" is neither bundled nor in the {kind}s directory; using the default"),
            });
            None
        }
        Err(e) => {
            warnings.push(e);
            None
        }
    }
}

#[cfg(test)]
mod tests;
