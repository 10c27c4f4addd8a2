//! One apply or undo at a time per cluster on this machine: an exclusive lock on a file in the
//! journal directory, held for the whole apply, and a line in it saying who holds it so a
//! second apply can name the holder. The operating system releases the lock when the holder
//! exits, however it exits, so a killed apply never leaves a stale lock behind. Files only.

use anyhow::Context;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// A held lock; released on drop.
#[derive(Debug)]
pub struct ApplyLock {
    file: File,
    path: PathBuf,
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        // Leave the file (another process may be waiting on it) but say nobody holds it.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

impl ApplyLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of a cluster: its name comes from the cluster's identity (kube-system uid)
/// or, when that is unknown, its server address, reduced to safe characters.
pub fn lock_path(dir: &Path, cluster: &str) -> PathBuf {
    let key: String =
        cluster.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    dir.join(format!(".apply-{key}.lock"))
}

/// Why the lock could not be taken: another apply holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("another apply to this cluster is running: {holder}; wait for it to finish and preview again")]
pub struct LockHeld {
    pub holder: String,
}

/// Takes the lock without waiting; `Ok(Err(LockHeld))` names who holds it. `holder` is what
/// a second apply will be told ("pid 4242, user ana, apply of plan.yaml, since …").
pub fn try_acquire(path: &Path, holder: &str) -> anyhow::Result<Result<ApplyLock, LockHeld>> {
    let mut file = crate::files::private_options()
        .read(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening the apply lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            // The holder writes its line just after it takes the lock: give it a moment.
            let mut text = String::new();
            for _ in 0..50 {
                text.clear();
                let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
                if !text.trim().is_empty() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let holder = match text.trim() {
                "" => "a process that has not said who it is".to_string(),
                t => t.chars().take(300).collect(),
            };
            return Ok(Err(LockHeld { holder }));
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    let write = |f: &mut File| -> std::io::Result<()> {
        f.set_len(0)?;
        f.rewind()?;
        f.write_all(holder.as_bytes())?;
        f.sync_all()
    };
    write(&mut file).with_context(|| format!("writing the apply lock {}", path.display()))?;
    Ok(Ok(ApplyLock { file, path: path.to_path_buf() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_who_holds_the_lock_until_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), "https://127.0.0.1:6443");
        assert_eq!(path.file_name().unwrap(), ".apply-https___127.0.0.1_6443.lock");
        let first = try_acquire(&path, "pid 1, apply of a.yaml").unwrap().unwrap();
        let held = try_acquire(&path, "pid 2, apply of b.yaml").unwrap().unwrap_err();
        assert_eq!(held.holder, "pid 1, apply of a.yaml");
        assert!(held.to_string().starts_with("another apply to this cluster is running: pid 1, apply of a.yaml;"));
        drop(first);
        let second = try_acquire(&path, "pid 2, apply of b.yaml").unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(second.path()).unwrap(), "pid 2, apply of b.yaml");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(second.path()).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
