//! The journal: one JSON file per apply in the state directory, written and synced (file and
//! directory) before the first write of an apply and after each one, so a process killed
//! mid-apply still leaves a record `undo` can use. Storage only; what goes in is the engine's.

use crate::plan::JournalEntry;
use anyhow::Context;
use std::fs;
use std::path::{Path, PathBuf};

/// Overrides the journal's directory (tests use it to stay isolated).
pub const STATE_DIR_ENV: &str = "MESHDECK_STATE_DIR";

/// Where the journal lives: `$MESHDECK_STATE_DIR`, else the platform state directory
/// (`~/.local/state/meshdeck` on Linux), else the local data directory; always under
/// `journal/`.
pub fn default_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os(STATE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("journal"));
    }
    let dirs = directories::ProjectDirs::from("dev", "meshdeck", "meshdeck")
        .context("no home directory to keep the journal in; set MESHDECK_STATE_DIR")?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Ok(base.join("journal"))
}

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// Opens (creating it if needed, readable by its owner only) the journal in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> anyhow::Result<Journal> {
        let dir = dir.into();
        crate::files::private_dir(&dir).with_context(|| format!("creating the journal directory {}", dir.display()))?;
        Ok(Journal { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Every entry, oldest first. A file that does not parse is an error naming it.
    pub fn list(&self) -> anyhow::Result<Vec<JournalEntry>> {
        let mut names: Vec<PathBuf> = fs::read_dir(&self.dir)
            .with_context(|| format!("reading the journal directory {}", self.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names.iter().map(|p| read(p)).collect()
    }

    /// One entry by id, or the newest for `last`.
    pub fn get(&self, id: &str) -> anyhow::Result<JournalEntry> {
        if id == "last" {
            return self.list()?.pop().with_context(|| format!("the journal in {} is empty", self.dir.display()));
        }
        let p = self.path_of(id);
        let plain = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !plain || id.starts_with('.') || !p.exists() {
            anyhow::bail!("no journal entry {id:?} in {}", self.dir.display());
        }
        read(&p)
    }

    /// Writes an entry durably: a temporary file, synced, renamed over the old one, and the
    /// directory synced so the rename itself survives a crash.
    pub fn save(&self, entry: &JournalEntry) -> anyhow::Result<()> {
        let path = self.path_of(&entry.id);
        let bytes = serde_json::to_vec_pretty(entry).context("encoding the journal entry")?;
        crate::files::replace(&path, &bytes).with_context(|| format!("writing the journal entry {}", path.display()))
    }
}

fn read(p: &Path) -> anyhow::Result<JournalEntry> {
    let text = fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a journal entry", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn entry(id: &str) -> JournalEntry {
        JournalEntry {
            id: id.into(),
            time: "2026-11-27T01:30:00Z".into(),
            context: "sim-admin".into(),
            server: "https://127.0.0.1:1".into(),
            cluster_uid: None,
            user: "sim-admin".into(),
            plan: Plan::default(),
            items: Vec::new(),
            undoes: None,
            undone: None,
        }
    }

    #[test]
    fn saves_lists_in_order_and_finds_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path().join("journal")).unwrap();
        assert!(j.get("last").unwrap_err().to_string().contains("is empty"));
        j.save(&entry("20261127T013000Z-bbbb")).unwrap();
        j.save(&entry("20261127T012000Z-aaaa")).unwrap();
        let mut e = entry("20261127T013000Z-bbbb");
        e.user = "changed".into();
        j.save(&e).unwrap();
        let ids: Vec<String> = j.list().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["20261127T012000Z-aaaa", "20261127T013000Z-bbbb"]);
        assert_eq!(j.get("last").unwrap().user, "changed");
        assert!(j.get("nope").unwrap_err().to_string().contains("no journal entry \"nope\""));
        assert!(j.get("../journal/x").unwrap_err().to_string().contains("no journal entry"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(j.dir()), 0o700);
            assert_eq!(mode(&j.path_of("20261127T013000Z-bbbb")), 0o600);
        }
        fs::write(j.dir().join("bad.json"), "{").unwrap();
        assert!(format!("{:#}", j.list().unwrap_err()).contains("bad.json: not a journal entry"));
    }
}
