//! The three-way merge that lets two processes share one plan file: the plan as this
//! process last read or wrote it (`base`), as it wants it now (`mine`) and as the file holds
//! it now (`theirs`, which another process may have changed). What this process changed
//! since `base` is applied to `theirs`; everything else in `theirs` is kept. Pure.

use super::clash::{Clash, clash};
use super::model::{Action, Edit, ObjRef, Plan};

#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub plan: Plan,
    /// Actions this process added that were left out, because the merged plan already has
    /// them or has one they contradict.
    pub left_out: Vec<(Action, Clash)>,
}

/// The elements of `a` not matched one for one by an equal element of `b`, in `a`'s order.
fn minus<'a>(a: &'a [Action], b: &[Action]) -> Vec<&'a Action> {
    let mut unmatched: Vec<Option<&Action>> = b.iter().map(Some).collect();
    a.iter()
        .filter(|x| match unmatched.iter_mut().find(|slot| slot.is_some_and(|y| y == *x)) {
            Some(slot) => {
                *slot = None;
                false
            }
            None => true,
        })
        .collect()
}

fn edit_of<'a>(edits: &'a [Edit], target: &ObjRef) -> Option<&'a Edit> {
    edits.iter().find(|e| e.target == *target)
}

/// Actions: `theirs` without the ones this process dropped, then the ones it added (unless
/// they repeat or contradict what is there by then). Edits, per object: this process's when
/// it changed that object's edit since `base`, else `theirs`. Metadata likewise.
pub fn merge(base: &Plan, mine: &Plan, theirs: &Plan) -> Merged {
    let mut actions = theirs.actions.clone();
    for dropped in minus(&base.actions, &mine.actions) {
        if let Some(i) = actions.iter().position(|a| a == dropped) {
            actions.remove(i);
        }
    }
    let mut left_out = Vec::new();
    for added in minus(&mine.actions, &base.actions) {
        match clash(&actions, added) {
            Some(c) => left_out.push((added.clone(), c)),
            None => actions.push(added.clone()),
        }
    }

    let mut targets: Vec<&ObjRef> = theirs.edits.iter().map(|e| &e.target).collect();
    for e in &mine.edits {
        if !targets.contains(&&e.target) {
            targets.push(&e.target);
        }
    }
    let edits = targets
        .into_iter()
        .filter_map(|t| {
            let (b, m) = (edit_of(&base.edits, t), edit_of(&mine.edits, t));
            if m == b { edit_of(&theirs.edits, t) } else { m }
        })
        .cloned()
        .collect();

    let metadata = if mine.metadata != base.metadata { &mine.metadata } else { &theirs.metadata };
    Merged { plan: Plan { metadata: metadata.clone(), actions, edits, ..theirs.clone() }, left_out }
}
