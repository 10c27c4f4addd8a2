//! Files meshdeck keeps for its user: created readable by the owner only (directories 0700,
//! files 0600), replaced whole by an atomic rename, and read-modify-written under an exclusive
//! lock on a sibling lock file. Mechanism only; what goes in the files is for their owners.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Creates `dir` and its missing parents with mode 0700: plans, journals and logs name a
/// cluster's objects and may say more about it than its owner wants others on the machine
/// to read. Directories that already exist keep their mode.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Options that create a file with mode 0600 (an existing file keeps its mode); the caller
/// adds how it writes (truncate, append).
pub fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

/// The hidden sibling `.NAME.SUFFIX` of `path`, in the same directory (so a rename between
/// the two never crosses file systems).
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{suffix}"))
}

/// Replaces `path` with `bytes` so that a reader sees the old content or the new, never a
/// part: a temporary file in the same directory, synced, renamed over `path`, and the
/// directory synced so the rename survives a crash. A new file is 0600 in missing directories
/// created 0700; a file that exists keeps its mode, which its owner may have chosen. Callers
/// that may race hold the file's `Lock` (the temporary file's name is fixed).
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // A file that is a symlink (kept in a repository elsewhere) stays one: its target is what
    // gets replaced.
    let resolved;
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            resolved = fs::canonicalize(path)?;
            resolved.as_path()
        }
        _ => path,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    private_dir(&dir)?;
    let tmp = sibling(path, "tmp");
    // A leftover from a crash may have any mode; start from a new file.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut f = private_options().create_new(true).open(&tmp)?;
    if let Ok(meta) = fs::metadata(path) {
        f.set_permissions(meta.permissions())?;
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    File::open(&dir)?.sync_all()
}

/// An exclusive lock on a file's sibling `.NAME.lock`, held until dropped. The lock file is
/// never removed: a process waiting on a removed lock file would hold a lock nobody else
/// sees.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    fn open(path: &Path) -> io::Result<File> {
        let lock = sibling(path, "lock");
        if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_dir(dir)?;
        }
        private_options().truncate(false).open(&lock)
    }

    /// Waits as long as it takes: for short commands, whose holders let go in milliseconds.
    pub fn exclusive(path: &Path) -> io::Result<Lock> {
        let file = Lock::open(path)?;
        file.lock()?;
        Ok(Lock { _file: file })
    }

    /// Waits at most `patience`, for callers that must not hang (the terminal UI's loop);
    /// after that the error says who to look for.
    pub fn exclusive_within(path: &Path, patience: Duration) -> io::Result<Lock> {
        let file = Lock::open(path)?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < patience => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WouldBlock,
                        format!(
                            "another process has held the lock {} for over {}s",
                            sibling(path, "lock").display(),
                            patience.as_secs()
                        ),
                    ));
                }
                Err(fs::TryLockError::Error(e)) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    #[cfg(unix)]
    fn new_files_and_directories_are_private_and_existing_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/plan.yaml");
        replace(&path, b"one\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "one\n");
        assert_eq!((mode(&path), mode(&dir.path().join("a")), mode(&dir.path().join("a/b"))), (0o600, 0o700, 0o700));

        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        // A leftover temporary file of another mode is not reused.
        fs::write(sibling(&path, "tmp"), "stale").unwrap();
        fs::set_permissions(sibling(&path, "tmp"), fs::Permissions::from_mode(0o666)).unwrap();
        replace(&path, b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two\n");
        assert_eq!(mode(&path), 0o640, "the owner's choice is kept");
        assert!(!sibling(&path, "tmp").exists());

        let lock = Lock::exclusive(&path).unwrap();
        assert_eq!(mode(&sibling(&path, "lock")), 0o600);
        let err = Lock::exclusive_within(&path, Duration::from_millis(50)).unwrap_err();
        assert!(err.to_string().contains(".plan.yaml.lock"), "{err}");
        drop(lock);
        Lock::exclusive_within(&path, Duration::from_millis(50)).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn a_symlinked_file_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("repo/plan.yaml");
        replace(&target, b"one\n").unwrap();
        let link = dir.path().join("meshdeck-plan.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        replace(&link, b"two\n").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "two\n");
    }

    #[test]
    fn siblings_are_hidden_next_to_the_file() {
        assert_eq!(sibling(Path::new("meshdeck-plan.yaml"), "lock"), Path::new(".meshdeck-plan.yaml.lock"));
        assert_eq!(sibling(Path::new("/w/p.yaml"), "tmp"), Path::new("/w/.p.yaml.tmp"));
    }
}
