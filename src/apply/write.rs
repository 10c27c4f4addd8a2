//! One write of an apply, made safe: read the object, check that what the change sets or
//! depends on still holds what the preview showed, record that read in the journal as the
//! "before", then write conditional on it. A 409 (the object moved between read and write)
//! reads again; a transient error or a lost answer is checked against the cluster — recorded
//! as applied if the change is there, sent again under the same checks if not. Never a blind
//! retry. What happened is noted on the journal item.

use super::http::{self, ApiError, Write};
use super::journal::Journal;
use crate::plan::guard;
use crate::plan::{ItemState, JournalEntry, ObjRef, Op};
use serde_json::Value;
use std::time::Duration;

/// Attempts at one write before giving up; each is preceded by a read and a check.
const ATTEMPTS: u32 = 8;

/// How one item is written.
pub(super) struct Item<'a> {
    pub index: usize,
    pub target: &'a ObjRef,
    pub op: &'a Op,
    /// What the preview (or this apply's own last write of the object) showed.
    pub seen: Option<&'a Value>,
    /// Take over fields other managers own (the preview showed and the user confirmed).
    pub force: bool,
}

/// Waits before the next attempt after a transient error: what the server asked for, else a
/// growing backoff; after a lost race (`e` None), only a short random pause, since the object
/// is simply busy (a rollout writes its status several times a second).
async fn pause(e: Option<&ApiError>, attempt: u32) {
    let jitter = Duration::from_millis(rand::random_range(0..50));
    let wait = match e {
        None => Duration::from_millis(10),
        Some(e) => e
            .retry_after
            .map(|s| Duration::from_secs(s.min(30)))
            .unwrap_or_else(|| Duration::from_millis(100u64 << attempt.min(5))),
    };
    tokio::time::sleep(wait + jitter).await;
}

/// Sends the conditional form of `op`; a delete is also conditional on `read`'s version.
async fn send(
    client: &kube::Client,
    target: &ObjRef,
    op: &Op,
    read: Option<&Value>,
    force: bool,
) -> Result<Option<Value>, ApiError> {
    match op {
        Op::Apply { body } => http::apply(client, target, body, force, Write::Real).await.map(Some),
        Op::Patch { ops } => http::json_patch(client, target, ops, Write::Real).await.map(Some),
        Op::Delete { uid } => {
            let version = read.and_then(|r| r.pointer("/metadata/resourceVersion")).and_then(Value::as_str);
            http::delete_if(client, target, uid.as_deref(), version, Write::Real).await.map(|_| None)
        }
    }
}

/// Writes one item, updating `entry.items[index]` (before, after, state, error, notes) and
/// saving the journal before the write and after its outcome. Returns false when the apply
/// must stop here.
pub(super) async fn write(client: &kube::Client, journal: &Journal, entry: &mut JournalEntry, it: Item<'_>) -> bool {
    let Item { index, target, op, seen, force } = it;
    let mut last: Option<ApiError> = None;
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            pause(last.as_ref(), attempt).await;
        }
        // The client sends a read again on transient errors itself (its retry layer).
        let now = match http::get(client, target).await {
            Ok(v) => v,
            Err(e) => {
                return stop(journal, entry, index, format!("reading {} before the write: {e}", target.display()));
            }
        };
        let moved = guard::moved(op, seen, now.as_ref());
        if !moved.is_empty() {
            let why = format!(
                "{} changed since the preview: {}; not written — preview the plan again",
                target.display(),
                moved.join("; ")
            );
            return stop(journal, entry, index, why);
        }
        // The journal's "before" is exactly what this write overwrites: the write is refused
        // unless the object is still at this version.
        entry.items[index].before = now.clone();
        if let Err(e) = journal.save(entry) {
            return stop(journal, entry, index, format!("{e:#}"));
        }
        let conditional = guard::conditional(op, now.as_ref());
        let err = match send(client, target, &conditional, now.as_ref(), force).await {
            Ok(after) => return done(journal, entry, index, after, None),
            Err(e) => e,
        };
        if guard::lost_race(err.code, &err.message, !err.conflicts().is_empty()) {
            note(
                entry,
                index,
                format!("attempt {attempt}: the object changed between its read and the write; read again"),
            );
            last = None;
            continue;
        }
        if err.code == 409 {
            let why = format!(
                "{}: a conflict that was not in the preview: {}; preview again",
                target.display(),
                err.conflicts().join(", ")
            );
            return stop(journal, entry, index, why);
        }
        if !err.is_transient() {
            return stop(journal, entry, index, format!("{}: {err}", target.display()));
        }
        // No answer, throttled or a server error: the write may or may not have happened.
        pause(Some(&err), attempt).await;
        let again = match http::get(client, target).await {
            Ok(v) => v,
            Err(e) => {
                let why = format!(
                    "{}: the write was answered with {err} and the object cannot be read to check whether it took effect: {e}",
                    target.display()
                );
                return unknown(journal, entry, index, why);
            }
        };
        if guard::took_effect(op, now.as_ref(), again.as_ref()) {
            let n = format!(
                "attempt {attempt}: answered with {err}, but the change is on the cluster: recorded as applied"
            );
            return done(journal, entry, index, again, Some(n));
        }
        note(
            entry,
            index,
            format!("attempt {attempt}: answered with {err}; the change is not on the cluster: sent again"),
        );
        last = Some(err);
    }
    let why = format!(
        "{}: gave up after {ATTEMPTS} attempts{}",
        target.display(),
        last.map(|e| format!("; the last answer was {e}")).unwrap_or_default()
    );
    stop(journal, entry, index, why)
}

fn note(entry: &mut JournalEntry, index: usize, text: String) {
    tracing::info!("{}: {text}", entry.items[index].change.target.display());
    entry.items[index].notes.push(text);
}

fn done(journal: &Journal, entry: &mut JournalEntry, index: usize, after: Option<Value>, n: Option<String>) -> bool {
    if let Some(n) = n {
        note(entry, index, n);
    }
    let item = &mut entry.items[index];
    item.state = ItemState::Applied;
    item.after = after;
    item.error = None;
    // The outcome is on disk before the next write; if it cannot be, stop writing.
    journal.save(entry).is_ok()
}

fn stop(journal: &Journal, entry: &mut JournalEntry, index: usize, why: String) -> bool {
    end(journal, entry, index, ItemState::Failed, why)
}

/// Whether the write took effect cannot be told: the item stays Pending, which undo settles
/// against the cluster before making its inverse.
fn unknown(journal: &Journal, entry: &mut JournalEntry, index: usize, why: String) -> bool {
    end(journal, entry, index, ItemState::Pending, why)
}

/// Ends the item without an outcome of Applied; the apply stops here.
fn end(journal: &Journal, entry: &mut JournalEntry, index: usize, state: ItemState, why: String) -> bool {
    let item = &mut entry.items[index];
    item.state = state;
    item.error = Some(why);
    let _ = journal.save(entry);
    false
}
