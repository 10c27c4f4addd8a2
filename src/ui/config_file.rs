//! Reading meshdeck's TOML config files (themes, keymaps, settings) with positions: the
//! `ConfigError` every loader returns, and small helpers that walk a spanned TOML document.
//! It does no file IO and knows nothing about what the keys mean.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The text of one config file and the name errors show for it: the path of a user file, or
/// `themes/dark.toml` for a bundled one.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: Cow<'static, str>,
    /// Bundled files come with the binary; user files are the user's to fix.
    pub bundled: bool,
}

impl Source {
    pub fn bundled(name: &str, text: &'static str) -> Source {
        Source { name: name.to_string(), text: Cow::Borrowed(text), bundled: true }
    }

    pub fn user(name: impl Into<String>, text: String) -> Source {
        Source { name: name.into(), text: Cow::Owned(text), bundled: false }
    }

    /// An error at a byte range of this file.
    pub fn error_at(&self, span: Range<usize>, what: impl Into<String>) -> ConfigError {
        let (line, column) = line_column(&self.text, span.start);
        ConfigError { file: self.name.clone(), line, column, what: what.into() }
    }

    /// An error about the whole file (unreadable, or a problem without a position).
    pub fn error(&self, what: impl Into<String>) -> ConfigError {
        ConfigError { file: self.name.clone(), line: 0, column: 0, what: what.into() }
    }

    /// Parses the text as a TOML document; a syntax error names its line and column.
    pub fn parse(&self) -> Result<DeTable<'_>, ConfigError> {
        match DeTable::parse(&self.text) {
            Ok(doc) => Ok(doc.into_inner()),
            Err(e) => {
                let what = format!("invalid TOML: {}", e.message().trim());
                Err(match e.span() {
                    Some(span) => self.error_at(span, what),
                    None => self.error(what),
                })
            }
        }
    }
}

/// A problem in a config file, shown to the user as `file:line:column: what`. `line` 0 means
/// the problem has no position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub what: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.what)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.what)
        }
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The TOML type of a value, as words for error messages.
pub fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A value that must be a string.
pub fn expect_str<'a>(src: &Source, path: &str, v: &'a Spanned<DeValue<'_>>) -> Result<&'a str, ConfigError> {
    match v.get_ref() {
        DeValue::String(s) => Ok(s.as_ref()),
        other => Err(src.error_at(v.span(), format!("{path}: expected a string, found {}", type_name(other)))),
    }
}

/// A value that must be a table.
pub fn expect_table<'a, 'i>(
    src: &Source,
    path: &str,
    v: &'a Spanned<DeValue<'i>>,
) -> Result<&'a DeTable<'i>, ConfigError> {
    match v.get_ref() {
        DeValue::Table(t) => Ok(t),
        other => Err(src.error_at(v.span(), format!("{path}: expected a table, found {}", type_name(other)))),
    }
}

/// A value that must be `true` or `false`.
pub fn expect_bool(src: &Source, path: &str, v: &Spanned<DeValue<'_>>) -> Result<bool, ConfigError> {
    match v.get_ref() {
        DeValue::Boolean(b) => Ok(*b),
        other => Err(src.error_at(v.span(), format!("{path}: expected true or false, found {}", type_name(other)))),
    }
}

/// Error for a key the file format does not know, listing the ones it does.
pub fn unknown_key(src: &Source, path: &str, key: &Spanned<Cow<'_, str>>, known: &[&str]) -> ConfigError {
    let prefix = if path.is_empty() { String::new() } else { format!("{path}: ") };
    src.error_at(
        key.span(),
        format!("{prefix}unknown key \"{}\" (expected one of: {})", key.get_ref(), known.join(", ")),
    )
}

/// Entries of a table in source order. `toml`'s map keeps keys sorted, but the order a user
/// wrote things in matters for the first error reported and for help pages.
pub fn entries_in_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<(&'a Spanned<Cow<'i, str>>, &'a Spanned<DeValue<'i>>)> {
    let mut v: Vec<_> = table.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

/// Finds a file by name for `inherits`: its source, `None` if nothing has that name, or an
/// error if it exists but cannot be read.
pub type Lookup<'a> = dyn FnMut(&str) -> Result<Option<Source>, ConfigError> + 'a;

const MAX_INHERITS: usize = 16;

/// Walks `leaf` and its `inherits` chain and returns the parsed layers root first. A user leaf
/// without `inherits` takes `default_parent` as parent. `bundled` finds shipped files by name
/// before `lookup` is asked, so a user file can never replace a bundled parent. `kind` names
/// what is inherited ("theme", "keymap") in errors.
pub fn inherit_chain<L>(
    kind: &str,
    leaf: Source,
    default_parent: Option<&str>,
    bundled: impl Fn(&str) -> Option<Source>,
    lookup: &mut Lookup<'_>,
    parse: impl Fn(&Source) -> Result<L, ConfigError>,
    inherits_of: impl Fn(&L) -> Option<(String, Range<usize>)>,
) -> Result<Vec<(Source, L)>, ConfigError> {
    let first = parse(&leaf)?;
    let mut next = inherits_of(&first).map(|(n, span)| (n, Some(span)));
    if next.is_none() && !leaf.bundled {
        next = default_parent.map(|p| (p.to_string(), None));
    }
    let mut layers = vec![(leaf, first)];
    let mut names: Vec<String> = Vec::new();
    while let Some((name, span)) = next.take() {
        let child = &layers[layers.len() - 1].0;
        let at = |what: String| match &span {
            Some(s) => child.error_at(s.clone(), what),
            None => child.error(what),
        };
        let cycle = names.contains(&name);
        names.push(name.clone());
        if cycle || names.len() > MAX_INHERITS {
            return Err(at(format!("inherits: cycle {}", names.join(" -> "))));
        }
        let src = match bundled(&name) {
            Some(s) => s,
            None => lookup(&name)?.ok_or_else(|| at(format!("inherits: unknown {kind} \"{name}\"")))?,
        };
        let layer = parse(&src)?;
        next = inherits_of(&layer).map(|(n, span)| (n, Some(span)));
        layers.push((src, layer));
    }
    layers.reverse();
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_in_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let cases = [(0, (1, 1)), (4, (1, 5)), (6, (2, 1)), (12, (2, 6)), (999, (3, 1))];
        for (offset, want) in cases {
            assert_eq!(line_column(text, offset), want, "offset {offset}");
        }
    }

    #[test]
    fn display_with_and_without_position() {
        let e = ConfigError { file: "x.toml".into(), line: 4, column: 9, what: "boom".into() };
        assert_eq!(e.to_string(), "x.toml:4:9: boom");
        let e = ConfigError { file: "x.toml".into(), line: 0, column: 0, what: "unreadable".into() };
        assert_eq!(e.to_string(), "x.toml: unreadable");
    }

    #[test]
    fn entries_come_back_in_source_order() {
        let src = Source::user("t.toml", "zeta = 1\nalpha = 2\nmid = 3\n".into());
        let doc = src.parse().unwrap();
        let keys: Vec<&str> = entries_in_order(&doc).iter().map(|(k, _)| k.get_ref().as_ref()).collect();
        assert_eq!(keys, ["zeta", "alpha", "mid"]);
    }
}
