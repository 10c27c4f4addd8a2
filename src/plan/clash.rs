//! Actions of one plan that say opposite things about one object (`mtls ns/rng STRICT`, then
//! `mtls ns/rng DISABLE`), or the same thing twice. A plan says one thing per object: a later
//! action never silently overrides an earlier one, so a contradiction is refused and the
//! earlier action must be dropped first. Pure: callers (`stage`, the UI, `diff`) decide how
//! to say it.
//!
//! What counts as one object's setting: the sidecar injection of a target (inject, uninject
//! and revision moves), the mTLS mode of a target, and the VirtualService a route writes for a
//! service. Allow actions add rules to one policy and restarts only restart, so those only
//! repeat.

use super::model::{Action, MtlsMode};
use super::target::{ServiceRef, Target};
use std::fmt;

/// How a new action stands against one already staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// 0-based index of the earlier action.
    pub earlier: usize,
    /// Its summary, so messages can name it without the plan at hand.
    pub earlier_summary: String,
    pub kind: ClashKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClashKind {
    /// Says what the earlier action says (restart stamps aside): adding it changes nothing.
    Repeats,
    /// Sets the same thing to something else; the text says what and how.
    Contradicts(String),
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.earlier + 1;
        match &self.kind {
            ClashKind::Repeats => write!(f, "repeats action {n} ({})", self.earlier_summary),
            ClashKind::Contradicts(why) => write!(f, "contradicts action {n} ({}): {why}", self.earlier_summary),
        }
    }
}

/// The thing an action sets.
#[derive(PartialEq)]
enum Aspect<'a> {
    Injection(&'a Target),
    Mtls(&'a Target),
    Route(&'a ServiceRef),
    Restart(&'a Target),
    Allow(&'a Target),
    Undo(&'a str),
}

/// What it sets it to; `Same` for aspects where any two values agree.
#[derive(PartialEq)]
enum Setting<'a> {
    Injected(Option<&'a str>),
    NotInjected,
    Mode(MtlsMode),
    Route { hosts: &'a [String], gateway: &'a str, export_to: &'a [String] },
    Same,
}

fn claim(a: &Action) -> (Aspect<'_>, Setting<'_>) {
    match a {
        Action::Inject { target, revision, .. } => (Aspect::Injection(target), Setting::Injected(revision.as_deref())),
        Action::Uninject { target, .. } => (Aspect::Injection(target), Setting::NotInjected),
        Action::Revision { target, to, .. } => (Aspect::Injection(target), Setting::Injected(Some(to))),
        Action::Mtls { target, mode } => (Aspect::Mtls(target), Setting::Mode(*mode)),
        Action::Route { service, hosts, gateway, export_to } => {
            (Aspect::Route(service), Setting::Route { hosts, gateway, export_to })
        }
        Action::Restart { target, .. } => (Aspect::Restart(target), Setting::Same),
        Action::Allow { target, .. } => (Aspect::Allow(target), Setting::Same),
        Action::Undo { entry } => (Aspect::Undo(entry), Setting::Same),
    }
}

/// The action with its restart stamp reduced to whether it restarts: two stagings of
/// `inject … --restart` differ only in the time they were staged.
fn unstamped(a: &Action) -> Action {
    let mut a = a.clone();
    match &mut a {
        Action::Inject { restarted_at: Some(at), .. }
        | Action::Uninject { restarted_at: Some(at), .. }
        | Action::Revision { restarted_at: Some(at), .. } => at.clear(),
        Action::Restart { restarted_at, .. } => restarted_at.clear(),
        _ => {}
    }
    a
}

/// A setting in words; a namespace's plain injection names its label, which a revision
/// label replaces.
fn describe(s: &Setting, on_namespace: bool) -> String {
    match s {
        Setting::Injected(Some(rev)) => format!("revision {rev} (istio.io/rev={rev})"),
        Setting::Injected(None) if on_namespace => "injection on (istio-injection=enabled)".into(),
        Setting::Injected(None) => "injection on".into(),
        Setting::NotInjected => "injection off".into(),
        Setting::Mode(m) => m.as_str().into(),
        Setting::Route { hosts, gateway, export_to: [] } => format!("{} via {gateway}", hosts.join(",")),
        Setting::Route { hosts, gateway, export_to } => {
            format!("{} via {gateway} exported to {}", hosts.join(","), export_to.join(","))
        }
        Setting::Same => String::new(),
    }
}

fn against(earlier: &Action, new: &Action) -> Option<ClashKind> {
    let (aspect, was) = claim(earlier);
    let (other, now) = claim(new);
    if aspect != other {
        return None;
    }
    if unstamped(earlier) == unstamped(new) {
        return Some(ClashKind::Repeats);
    }
    if was == now {
        // The same setting by other means (inject --revision R, then revision --to R), or
        // with a restart added: nothing contradicts.
        return None;
    }
    let ns = matches!(aspect, Aspect::Injection(Target::Namespace(_)));
    let (was, now) = (describe(&was, ns), describe(&now, ns));
    let why = match aspect {
        Aspect::Injection(t) => format!("both set sidecar injection of {t}: {was} against {now}"),
        Aspect::Mtls(t) => format!("both set the mTLS mode of {t}: {was} against {now}"),
        Aspect::Route(s) => format!("both write the VirtualService of {s}: {was} against {now}"),
        Aspect::Restart(_) | Aspect::Allow(_) | Aspect::Undo(_) => return None,
    };
    Some(ClashKind::Contradicts(why))
}

/// How `new` stands against the actions already staged: `None` when it may be added. A
/// contradiction is reported before a repeat, the earliest of each first.
pub fn clash(staged: &[Action], new: &Action) -> Option<Clash> {
    let found: Vec<Clash> = staged
        .iter()
        .enumerate()
        .filter_map(|(i, e)| against(e, new).map(|kind| Clash { earlier: i, earlier_summary: e.summary(), kind }))
        .collect();
    let contradiction = found.iter().find(|c| matches!(c.kind, ClashKind::Contradicts(_)));
    contradiction.or(found.first()).cloned()
}

/// Each action of a plan that clashes with an earlier one, as (its 0-based index, the clash).
pub fn clashes(actions: &[Action]) -> Vec<(usize, Clash)> {
    (1..actions.len()).filter_map(|i| clash(&actions[..i], &actions[i]).map(|c| (i, c))).collect()
}
