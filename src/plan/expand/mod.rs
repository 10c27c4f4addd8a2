//! Expansion: a plan's actions, in order, become the writes they need against one snapshot.
//! It owns the bookkeeping every rule shares (one change per object, the namespace labels
//! as earlier actions of the plan leave them, restarts listed once) and applies the plan's
//! edits; the rules themselves live in the files beside it. Pure: no IO, no clock.
//!
//! Merging: all server-side-apply bodies for one object merge into a single `Op::Apply`
//! change, at the place and with the action index of the first action that touched it
//! (later actions win field by field). That keeps one staged body per object, which is what
//! an edit replaces. JSON patches stay separate changes, after or before that Apply in
//! action order.

mod labels;
mod policy;
mod restart;

use super::edit::check_edit;
use super::json::{label_path, merge};
use super::model::*;
use super::undo;
use crate::labels::Labels;
use crate::mesh::Snapshot;
use crate::mesh::snapshot::WorkloadId;
use crate::mesh::types::{Workload, WorkloadKind};
use serde_json::Value;

pub use policy::trust_domain;
pub use restart::batch_size;

/// The state of one expansion.
pub(crate) struct Builder<'a> {
    pub snap: &'a Snapshot,
    pub out: Expanded,
    /// Index of the action being expanded.
    pub action: usize,
}

impl<'a> Builder<'a> {
    fn new(snap: &'a Snapshot) -> Builder<'a> {
        Builder { snap, out: Expanded::default(), action: 0 }
    }

    fn find_apply(&mut self, target: &ObjRef) -> Option<&mut Change> {
        self.out.changes.iter_mut().find(|c| c.target == *target && matches!(c.op, Op::Apply { .. }))
    }

    /// Stages a server-side-apply body, merged into the object's earlier body if any.
    pub fn apply(&mut self, target: ObjRef, body: Value, why: &str) {
        match self.find_apply(&target) {
            Some(c) => {
                if let Op::Apply { body: b } = &mut c.op {
                    merge(b, &body);
                }
                if !c.why.split("; ").any(|w| w == why) {
                    c.why = format!("{}; {why}", c.why);
                }
            }
            None => {
                self.out.changes.push(Change { target, op: Op::Apply { body }, action: self.action, why: why.into() })
            }
        }
    }

    /// The staged apply body of an object, to adjust in place.
    pub fn apply_body(&mut self, target: &ObjRef) -> Option<&mut Value> {
        match self.find_apply(target).map(|c| &mut c.op) {
            Some(Op::Apply { body }) => Some(body),
            _ => None,
        }
    }

    /// Stages a JSON patch; an identical one already staged for the object is not repeated.
    pub fn patch(&mut self, target: ObjRef, ops: Vec<Value>, why: &str) {
        let dup =
            self.out.changes.iter().any(|c| c.target == target && matches!(&c.op, Op::Patch { ops: o } if *o == ops));
        if !dup {
            self.out.changes.push(Change { target, op: Op::Patch { ops }, action: self.action, why: why.into() });
        }
    }

    /// Drops staged patches of an object that remove `path`: a later action sets it again.
    pub fn drop_removals(&mut self, target: &ObjRef, path: &str) {
        self.out.changes.retain(|c| {
            !(c.target == *target
                && matches!(&c.op, Op::Patch { ops } if ops.iter().any(|o| o["op"] == "remove" && o["path"] == path)))
        });
    }

    pub fn finding(&mut self, severity: Severity, message: String) {
        let f = Finding { severity, action: Some(self.action), message };
        if !self.out.findings.contains(&f) {
            self.out.findings.push(f);
        }
    }

    /// Lists a restart once, however many actions cause it.
    pub fn restart(&mut self, r: Restart) {
        if !self.out.restarts.iter().any(|x| x.workload == r.workload) {
            self.out.restarts.push(r);
        }
    }

    /// A namespace's labels as the plan leaves them so far: live labels, minus those a
    /// staged patch removes, plus those a staged apply sets.
    pub fn ns_labels(&self, ns: &str) -> Labels {
        let mut labels = self.snap.namespace_labels(ns);
        let target = namespace_ref(ns);
        for c in self.out.changes.iter().filter(|c| c.target == target) {
            match &c.op {
                Op::Patch { ops } => {
                    for o in ops.iter().filter(|o| o["op"] == "remove") {
                        labels.retain(|k, _| o["path"] != label_path(k).as_str());
                    }
                }
                Op::Apply { body } => {
                    if let Some(m) = body.pointer("/metadata/labels").and_then(Value::as_object) {
                        for (k, v) in m {
                            if let Some(v) = v.as_str() {
                                labels.insert(k.clone(), v.to_string());
                            }
                        }
                    }
                }
                Op::Delete { .. } => {}
            }
        }
        labels
    }

    pub fn namespace_exists(&self, ns: &str) -> Result<(), String> {
        if self.snap.namespaces.contains_key(ns) { Ok(()) } else { Err(format!("namespace {ns} does not exist")) }
    }

    pub fn workload(&self, kind: WorkloadKind, ns: &str, name: &str) -> Result<&'a Workload, String> {
        self.namespace_exists(ns)?;
        let id = WorkloadId { namespace: ns.into(), kind, name: name.into() };
        self.snap.workloads.get(&id).ok_or_else(|| format!("{} {ns}/{name} does not exist", kind.as_str()))
    }
}

pub fn namespace_ref(ns: &str) -> ObjRef {
    ObjRef::new("v1", "Namespace", "", ns)
}

pub fn workload_ref(kind: WorkloadKind, ns: &str, name: &str) -> ObjRef {
    ObjRef::new("apps/v1", kind.as_str(), ns, name)
}

/// The changes a plan makes, in action order, with findings and the restarts they cause.
pub fn expand(plan: &Plan, cx: &super::Context) -> Result<Expanded, String> {
    let mut b = Builder::new(cx.snapshot);
    for (i, action) in plan.actions.iter().enumerate() {
        b.action = i;
        expand_one(&mut b, action, cx.journal).map_err(|e| format!("action {} ({}): {e}", i + 1, action.summary()))?;
    }
    apply_edits(&mut b.out, &plan.edits)?;
    Ok(b.out)
}

fn expand_one(b: &mut Builder, action: &Action, journal: &[JournalEntry]) -> Result<(), String> {
    match action {
        Action::Inject { target, revision, restarted_at } => {
            labels::inject(b, target, revision.as_deref(), restarted_at.as_deref())
        }
        Action::Uninject { target, restarted_at } => labels::uninject(b, target, restarted_at.as_deref()),
        Action::Restart { target, restarted_at } => restart::restart(b, target, restarted_at),
        Action::Mtls { target, mode } => policy::mtls(b, target, *mode),
        Action::Allow { target, from, methods, paths, ports } => policy::allow(b, target, from, methods, paths, ports),
        Action::Route { service, hosts, gateway, export_to } => policy::route(b, service, hosts, gateway, export_to),
        Action::Revision { target, to, restarted_at } => labels::revision(b, target, to, restarted_at.as_deref()),
        Action::Undo { entry } => {
            let found = if entry == "last" {
                journal.iter().max_by(|a, c| a.id.cmp(&c.id))
            } else {
                journal.iter().find(|e| e.id == *entry)
            };
            let e = found.ok_or_else(|| {
                let mut ids: Vec<&str> = journal.iter().map(|e| e.id.as_str()).collect();
                ids.sort();
                match ids.last() {
                    Some(last) => format!("journal entry {entry} does not exist (the latest is {last})"),
                    None => format!("journal entry {entry} does not exist: the journal is empty"),
                }
            })?;
            if let Some(refusal) = e.undone_refusal() {
                return Err(refusal);
            }
            for mut c in undo::inverse(e) {
                c.action = b.action;
                // Putting a pod template back rolls the workload as surely as changing it did.
                let rolls = matches!(&c.op, Op::Patch { ops } if ops.iter().any(|o| {
                    o["op"] != "test" && o["path"].as_str().is_some_and(|p| p.starts_with("/spec/template/"))
                }));
                let snap = b.snap;
                let w = snap.workloads.values().find(|w| {
                    w.kind.as_str() == c.target.kind
                        && w.metadata.namespace == c.target.namespace
                        && w.metadata.name == c.target.name
                });
                b.out.changes.push(c);
                if let (true, Some(w)) = (rolls, w) {
                    restart::restart_workload(b, w, None);
                }
            }
            Ok(())
        }
    }
}

/// Replaces staged apply bodies with their edited form. An edit of an object the plan does
/// not apply is an Error finding (the edit has nothing to replace); a body that names
/// another object is an error, since it would write somewhere else than the preview says.
fn apply_edits(out: &mut Expanded, edits: &[Edit]) -> Result<(), String> {
    for (i, edit) in edits.iter().enumerate() {
        let place = format!("edit {} ({})", i + 1, edit.target.display());
        let slot = out.changes.iter_mut().find(|c| c.target == edit.target && matches!(c.op, Op::Apply { .. }));
        match slot {
            Some(c) => {
                check_edit(&edit.target, &edit.body).map_err(|e| format!("{place}: {e}"))?;
                c.op = Op::Apply { body: edit.body.clone() };
                // What is sent is the hand-edited body, whatever the action meant to send.
                c.why = format!("edited by hand, in place of: {}", c.why);
            }
            None => out.findings.push(Finding {
                severity: Severity::Error,
                action: None,
                message: format!("{place}: the plan applies no such object, so the edit replaces nothing"),
            }),
        }
    }
    Ok(())
}
