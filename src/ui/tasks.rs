//! Background work for the plan screens: previews, applies and journal reads run as spawned
//! tasks against the `PlanBackend`, and their results come back to the run loop on one channel
//! as `TaskResult`s. Preview diffs are highlighted here, off the UI task. Also the plan file,
//! which other processes may change too: read at start, merged with what is on disk and
//! written under its lock after each change, and read again when a `stat` shows that
//! someone else changed it.

use crate::cmd::plan_file;
use crate::files::Lock;
use crate::plan::{ClashKind, Plan, Preview, merge};
use crate::ui::app::TaskResult;
use crate::ui::app::plan_state::{SyncError, Synced};
use crate::ui::backend::{ApplyOptions, PlanBackend};
use crate::ui::highlight;
use crate::ui::theme::Theme;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

pub struct Tasks {
    tx: mpsc::UnboundedSender<TaskResult>,
    pub rx: mpsc::UnboundedReceiver<TaskResult>,
    cache: highlight::Cache,
    theme: Arc<Theme>,
}

impl Tasks {
    pub fn new(theme: Theme) -> Tasks {
        let (tx, rx) = mpsc::unbounded_channel();
        Tasks { tx, rx, cache: highlight::Cache::default(), theme: Arc::new(theme) }
    }

    pub fn preview(&self, backend: Arc<dyn PlanBackend>, plan: Plan, generation: u64) {
        let (tx, cache, theme) = (self.tx.clone(), self.cache.clone(), self.theme.clone());
        tokio::spawn(async move {
            let result = backend.preview(plan).await;
            let lines = match &result {
                Ok(p) => highlight_all(p, cache, theme).await,
                Err(_) => Vec::new(),
            };
            let _ = tx.send(TaskResult::Previewed { generation, result, lines });
        });
    }

    pub fn apply(&self, backend: Arc<dyn PlanBackend>, plan: Plan, preview: Preview, options: ApplyOptions) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(TaskResult::Applied(backend.apply(plan, preview, options).await));
        });
    }

    pub fn journal(&self, backend: Arc<dyn PlanBackend>) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(TaskResult::Journal(backend.journal().await));
        });
    }
}

async fn highlight_all(
    p: &Preview,
    cache: highlight::Cache,
    theme: Arc<Theme>,
) -> Vec<crate::ui::app::plan_state::Highlighted> {
    let diffs: Vec<String> = p.items.iter().map(|i| i.diff.clone()).collect();
    tokio::task::spawn_blocking(move || diffs.iter().map(|d| cache.get(d, &theme)).collect()).await.unwrap_or_default()
}

/// How long a save waits for another process's lock on the plan file before it gives up
/// (the change stays in the UI and goes out with the next save or reload).
const LOCK_PATIENCE: Duration = Duration::from_secs(3);

/// What identifies a version of the plan file without reading it: writers replace it by
/// rename, which gives it a new inode; an editor writing in place changes its time or size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        #[cfg(unix)]
        inode: (std::os::unix::fs::MetadataExt::dev(&m), std::os::unix::fs::MetadataExt::ino(&m)),
    })
}

/// The plan file as this UI shares it with other processes (`meshdeck stage` in another
/// terminal, another UI): the plan as this UI last read or wrote it, which is the base of the
/// three-way merge every save makes, and the file's stamp then, to notice a change by someone
/// else with one `stat`.
#[derive(Debug)]
pub struct PlanFile {
    path: PathBuf,
    base: Plan,
    seen: Option<Stamp>,
}

impl PlanFile {
    /// Reads the plan file at start; a missing file is an empty plan.
    pub fn open(path: impl Into<PathBuf>) -> (PlanFile, Result<Plan, String>) {
        let path = path.into();
        let seen = stamp(&path);
        let read = plan_file::read(&path).map(Option::unwrap_or_default);
        let base = read.clone().unwrap_or_default();
        (PlanFile { path, base, seen }, read)
    }

    /// True when the file changed since this UI last read or wrote it: one `stat`, cheap
    /// enough for a timer of a second or two.
    pub fn changed(&self) -> bool {
        stamp(&self.path) != self.seen
    }

    /// Brings `mine` (the UI's plan) and the file together. When the UI changed nothing since
    /// it last read or wrote the file, this only reads it. Otherwise, under the file's lock:
    /// reads the file as it is now, applies what the UI changed since (actions added or
    /// dropped, edits set or cleared) to it, and writes the result, which the UI adopts. A
    /// file that does not parse is reported with its place and not written.
    pub fn sync(&mut self, mine: &Plan) -> Result<Synced, SyncError> {
        let io = |e: std::io::Error| SyncError { message: format!("{}: {e}", self.path.display()), unreadable: false };
        let _lock = if *mine == self.base {
            None
        } else {
            Some(Lock::exclusive_within(&self.path, LOCK_PATIENCE).map_err(io)?)
        };
        // Stamped before reading: a write in between is noticed again next time.
        let seen = stamp(&self.path);
        let theirs = match plan_file::read(&self.path) {
            Ok(p) => p.unwrap_or_default(),
            Err(message) => {
                self.seen = seen;
                return Err(SyncError { message, unreadable: true });
            }
        };
        let others = theirs != self.base;
        let merged = merge(&self.base, mine, &theirs);
        self.seen = seen;
        if merged.plan != theirs {
            plan_file::write(&self.path, &merged.plan).map_err(io)?;
            self.seen = stamp(&self.path);
        }
        self.base = merged.plan.clone();
        let left_out = merged
            .left_out
            .iter()
            .map(|(a, c)| match c.kind {
                ClashKind::Repeats => format!("`{}` was staged elsewhere too: it {c}", a.summary()),
                ClashKind::Contradicts(_) => format!(
                    "`{}` is not in the plan: it {c}, staged elsewhere meanwhile; drop action {} first to stage it",
                    a.summary(),
                    c.earlier + 1
                ),
            })
            .collect();
        Ok(Synced { plan: merged.plan, others, left_out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    fn a(yaml: &str) -> Action {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn plan(actions: &[&str]) -> Plan {
        Plan { actions: actions.iter().map(|s| a(s)).collect(), ..Plan::default() }
    }

    const STRICT: &str = "{action: mtls, target: ns/rng, mode: STRICT}";
    const DISABLE: &str = "{action: mtls, target: ns/rng, mode: DISABLE}";
    const INJECT: &str = "{action: inject, target: deploy/rng/api}";
    const RESTART: &str = "{action: restart, target: ns/rng, restartedAt: '2026-11-27T01:30:00Z'}";

    /// Another process's change of the file, as `meshdeck stage` makes it.
    fn elsewhere(path: &Path, change: impl FnOnce(&mut Plan)) {
        plan_file::update(path, |p| {
            change(p);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn saves_merge_with_what_others_wrote_and_reloads_notice_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meshdeck-plan.yaml");
        let (mut file, read) = PlanFile::open(&path);
        assert_eq!(read, Ok(Plan::default()));
        assert!(!file.changed());

        let mine = plan(&[STRICT]);
        let s = file.sync(&mine).unwrap();
        assert_eq!(s, Synced { plan: mine.clone(), others: false, left_out: vec![] });
        assert_eq!(plan_file::read(&path).unwrap(), Some(mine.clone()));
        assert!(!file.changed(), "its own write is not someone else's");

        // `meshdeck stage` adds one; the UI notices and reloads without writing.
        elsewhere(&path, |p| p.actions.push(a(INJECT)));
        assert!(file.changed());
        let s = file.sync(&mine).unwrap();
        assert_eq!(s, Synced { plan: plan(&[STRICT, INJECT]), others: true, left_out: vec![] });
        assert!(!file.changed());

        // Another stage lands before the UI's next change: both are kept.
        elsewhere(&path, |p| p.actions.push(a(RESTART)));
        let mine = plan(&[STRICT, INJECT, DISABLE]);
        let s = file.sync(&mine).unwrap();
        assert_eq!(s.plan, plan(&[STRICT, INJECT, RESTART]), "DISABLE contradicts STRICT");
        assert!(s.others);
        assert_eq!(
            s.left_out,
            vec!["`mtls ns/rng DISABLE` is not in the plan: it contradicts action 1 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE, staged elsewhere meanwhile; drop action 1 first to stage it".to_string()]
        );

        // The UI drops one while another process adds one.
        elsewhere(&path, |p| p.actions.push(a(DISABLE.replace("ns/rng", "ns/web").as_str())));
        let s = file.sync(&plan(&[INJECT, RESTART])).unwrap();
        assert_eq!(
            plan_file::read(&path).unwrap().unwrap(),
            plan(&[INJECT, RESTART, "{action: mtls, target: ns/web, mode: DISABLE}"])
        );
        assert_eq!(s.plan.actions.len(), 3);
    }

    #[test]
    fn an_unparsable_file_is_reported_once_and_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meshdeck-plan.yaml");
        let (mut file, _) = PlanFile::open(&path);
        file.sync(&plan(&[STRICT])).unwrap();
        let broken = "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: mtls\n  target: ns/rng\n  mode: BOGUS\n";
        std::fs::write(&path, broken).unwrap();
        assert!(file.changed());
        let err = file.sync(&plan(&[STRICT, INJECT])).unwrap_err();
        assert!(err.unreadable);
        assert!(
            err.message.contains("meshdeck-plan.yaml:6:9: actions[0].mode: unknown variant `BOGUS`"),
            "{}",
            err.message
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken, "not overwritten");
        assert!(!file.changed(), "the same broken file is not reported again");

        // Fixed by hand: the UI's change made meanwhile goes in.
        std::fs::write(&path, plan(&[STRICT, RESTART]).to_yaml()).unwrap();
        assert!(file.changed());
        let s = file.sync(&plan(&[STRICT, INJECT])).unwrap();
        assert_eq!(s.plan, plan(&[STRICT, RESTART, INJECT]));

        let (_, read) = PlanFile::open(&path);
        assert_eq!(read, Ok(plan(&[STRICT, RESTART, INJECT])));
        std::fs::write(&path, broken).unwrap();
        let (_, read) = PlanFile::open(&path);
        assert!(read.unwrap_err().starts_with(&format!("{}:6:9:", path.display())));
    }
}
