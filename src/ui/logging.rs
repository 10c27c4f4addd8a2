//! Logging while the UI owns the terminal: tracing goes to `<cache>/meshdeck.log` through a
//! non-blocking writer, never to stdout or stderr, which would tear the screen. The filter comes
//! from MESHDECK_LOG (or RUST_LOG), default "info" without kube-rs's per-request lines: one
//! per failed attempt (hundreds while a server is down), one per watch cut short, and response
//! bodies it could not decode (which may be a Secret's). The watches log each connection
//! problem once instead.

use std::io;
use std::path::{Path, PathBuf};
use tracing::Dispatch;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

pub const LOG_FILE: &str = "meshdeck.log";
const DEFAULT_FILTER: &str = "info,kube_client::client=error,kube_client::client::builder=off";

/// The filter directives to use: MESHDECK_LOG wins over RUST_LOG; empty values count as unset.
pub fn filter_directives(meshdeck_log: Option<&str>, rust_log: Option<&str>) -> String {
    [meshdeck_log, rust_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or(DEFAULT_FILTER)
        .to_string()
}

/// A dispatcher that appends to `<cache_dir>/meshdeck.log`, its flush guard and the file's path.
/// A filter that does not parse falls back to "info" and says so in the log.
pub fn file_subscriber(cache_dir: &Path, directives: &str) -> io::Result<(Dispatch, WorkerGuard, PathBuf)> {
    // Logs name servers, contexts and objects: the owner's to read (0600 in a 0700 directory).
    crate::files::private_dir(cache_dir)?;
    let path = cache_dir.join(LOG_FILE);
    let file = crate::files::private_options().append(true).open(&path)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let (filter, bad) = match EnvFilter::try_new(directives) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some(e.to_string())),
    };
    let subscriber = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).finish();
    let dispatch = Dispatch::new(subscriber);
    if let Some(e) = bad {
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::warn!("log filter {directives:?} is invalid ({e}); using {DEFAULT_FILTER:?}");
        });
    }
    Ok((dispatch, guard, path))
}

/// Sends this process's tracing output to `<cache_dir>/meshdeck.log`. Keep the guard alive
/// until exit: dropping it flushes what is still queued. Tell the user the returned path on
/// stderr before entering the UI.
pub fn init_file_logging(cache_dir: &Path) -> io::Result<(WorkerGuard, PathBuf)> {
    let meshdeck = std::env::var("MESHDECK_LOG").ok();
    let rust = std::env::var("RUST_LOG").ok();
    let directives = filter_directives(meshdeck.as_deref(), rust.as_deref());
    let (dispatch, guard, path) = file_subscriber(cache_dir, &directives)?;
    tracing::dispatcher::set_global_default(dispatch)
        .map_err(|e| io::Error::other(format!("a global logger is already set: {e}")))?;
    Ok((guard, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_precedence() {
        let cases = [
            (Some("debug"), Some("warn"), "debug"),
            (None, Some("warn"), "warn"),
            (Some("  "), Some("warn"), "warn"),
            (None, None, DEFAULT_FILTER),
        ];
        for (m, r, want) in cases {
            assert_eq!(filter_directives(m, r), want, "{m:?} {r:?}");
        }
    }

    #[test]
    fn writes_to_the_log_file_in_the_cache_dir() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let (dispatch, guard, path) = file_subscriber(&cache, "warn").unwrap();
        assert_eq!(path, cache.join("meshdeck.log"));
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::warn!("theme.toml:4:9: unknown colour");
            tracing::info!("filtered out");
        });
        drop(guard);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("WARN") && text.contains("theme.toml:4:9: unknown colour"), "{text}");
        assert!(!text.contains("filtered out"), "{text}");
        assert!(!text.contains('\x1b'), "no colour codes in the file: {text}");
    }

    #[test]
    #[cfg(unix)]
    fn the_log_is_the_owners_to_read() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache/meshdeck");
        let (dispatch, guard, path) = file_subscriber(&cache, "warn").unwrap();
        drop((dispatch, guard));
        assert_eq!((mode(&path), mode(&cache), mode(&dir.path().join("cache"))), (0o600, 0o700, 0o700));
    }

    #[test]
    fn a_bad_filter_falls_back_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (dispatch, guard, path) = file_subscriber(dir.path(), "meshdeck=loud").unwrap();
        drop(dispatch);
        drop(guard);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("log filter \"meshdeck=loud\" is invalid"), "{text}");
    }
}
