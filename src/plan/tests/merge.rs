//! The three-way merge of a shared plan file: what this process changed since it last read
//! the file, applied to what the file holds now.

use super::clash::a;
use crate::plan::{ClashKind, Edit, Merged, ObjRef, Plan, merge};
use serde_json::json;

const STRICT: &str = "{action: mtls, target: ns/rng, mode: STRICT}";
const DISABLE: &str = "{action: mtls, target: ns/rng, mode: DISABLE}";
const INJECT: &str = "{action: inject, target: deploy/rng/api}";
const RESTART: &str = "{action: restart, target: ns/rng, restartedAt: '2026-11-27T01:30:00Z'}";
const ALLOW: &str = "{action: allow, target: deploy/rng/api, from: [sa/rng/web]}";
const UNDO: &str = "{action: undo, entry: 20261127T013000Z-1a2b}";

fn plan(actions: &[&str]) -> Plan {
    Plan { actions: actions.iter().map(|s| a(s)).collect(), ..Plan::default() }
}

fn pa() -> ObjRef {
    ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default")
}

fn deploy() -> ObjRef {
    ObjRef::new("apps/v1", "Deployment", "rng", "api")
}

fn edit(target: ObjRef, n: i64) -> Edit {
    Edit { target, body: json!({"n": n}) }
}

fn with_edits(mut p: Plan, edits: Vec<Edit>) -> Plan {
    p.edits = edits;
    p
}

#[test]
fn actions_keep_both_sides_changes() {
    // (base, mine, theirs, merged)
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let cases: Vec<Case> = vec![
        // Nobody changed anything.
        (&[STRICT], &[STRICT], &[STRICT], &[STRICT]),
        // Only the other process changed the file: its plan, as is.
        (&[STRICT], &[STRICT], &[STRICT, INJECT], &[STRICT, INJECT]),
        (&[STRICT, INJECT], &[STRICT, INJECT], &[INJECT], &[INJECT]),
        // Only this process changed it.
        (&[STRICT], &[STRICT, INJECT], &[STRICT], &[STRICT, INJECT]),
        // Both added: theirs first, mine after.
        (&[STRICT], &[STRICT, INJECT], &[STRICT, RESTART], &[STRICT, RESTART, INJECT]),
        // I dropped one, they added one.
        (&[STRICT, INJECT], &[INJECT], &[STRICT, INJECT, RESTART], &[INJECT, RESTART]),
        // Both dropped the same one; they also dropped another.
        (&[STRICT, INJECT, RESTART], &[INJECT, RESTART], &[RESTART], &[RESTART]),
        // A complete apply clears what was applied; what was staged meanwhile stays.
        (&[STRICT, INJECT], &[], &[STRICT, INJECT, ALLOW], &[ALLOW]),
        // The file was emptied elsewhere while I added one.
        (&[STRICT, INJECT], &[STRICT, INJECT, UNDO], &[], &[UNDO]),
        // Repeated actions are matched one for one: one of two copies dropped.
        (&[ALLOW, ALLOW], &[ALLOW], &[ALLOW, ALLOW, RESTART], &[ALLOW, RESTART]),
    ];
    for (base, mine, theirs, want) in cases {
        let got = merge(&plan(base), &plan(mine), &plan(theirs));
        assert_eq!(got, Merged { plan: plan(want), left_out: vec![] }, "base {base:?} mine {mine:?} theirs {theirs:?}");
    }
}

#[test]
fn additions_that_repeat_or_contradict_the_file_are_left_out() {
    // The other process staged the same action: it is there once.
    let got = merge(&plan(&[]), &plan(&[INJECT]), &plan(&[INJECT]));
    assert_eq!(got.plan, plan(&[INJECT]));
    assert_eq!(got.left_out.len(), 1);
    assert_eq!(got.left_out[0].1.kind, ClashKind::Repeats);

    // It staged STRICT while this process staged DISABLE: the file's stays, mine is left out
    // with the reason.
    let got = merge(&plan(&[INJECT]), &plan(&[INJECT, DISABLE]), &plan(&[INJECT, STRICT]));
    assert_eq!(got.plan, plan(&[INJECT, STRICT]));
    let (action, clash) = &got.left_out[0];
    assert_eq!(*action, a(DISABLE));
    assert_eq!(
        clash.to_string(),
        "contradicts action 2 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE"
    );

    // Dropping the contradicting one and adding mine in one change is fine.
    let got = merge(&plan(&[STRICT]), &plan(&[DISABLE]), &plan(&[STRICT, INJECT]));
    assert_eq!(got, Merged { plan: plan(&[INJECT, DISABLE]), left_out: vec![] });
}

#[test]
fn edits_merge_per_object_and_this_process_wins_its_own_changes() {
    let base = with_edits(plan(&[STRICT, INJECT]), vec![edit(pa(), 1)]);
    // The other process changed the PeerAuthentication's edit; I added one for the Deployment.
    let mine = with_edits(plan(&[STRICT, INJECT]), vec![edit(pa(), 1), edit(deploy(), 1)]);
    let theirs = with_edits(plan(&[STRICT, INJECT]), vec![edit(pa(), 2)]);
    let got = merge(&base, &mine, &theirs).plan;
    assert_eq!(got.edits, vec![edit(pa(), 2), edit(deploy(), 1)]);

    // I dropped the PeerAuthentication's edit while they changed it: my change is the newer
    // intent for this object.
    let mine = with_edits(plan(&[STRICT, INJECT]), vec![]);
    assert_eq!(merge(&base, &mine, &theirs).plan.edits, vec![]);

    // They dropped it, I left it alone: dropped.
    let theirs = with_edits(plan(&[STRICT, INJECT]), vec![]);
    assert_eq!(merge(&base, &base, &theirs).plan.edits, vec![]);

    // Metadata: mine when I changed it.
    let mut named = base.clone();
    named.metadata.name = Some("rng migration".into());
    assert_eq!(merge(&base, &named, &theirs).plan.metadata.name.as_deref(), Some("rng migration"));
    assert_eq!(merge(&base, &base, &named).plan.metadata.name.as_deref(), Some("rng migration"));
}
