//! Table-driven checks of what the simulated API server refuses, through `ops` as every write
//! path reaches it: each refused body with the expected code, reason and message, and valid
//! bodies accepted. The expectations are written out from the real servers' wording.

mod builtin;
mod istio;

use crate::sim::clock::Clock;
use crate::sim::kinds::{self, Kind};
use crate::sim::ops::{Cluster, OpError, PatchHow, WriteOpts};
use serde_json::{Value, json};
use std::sync::Arc;

fn kind(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).unwrap()
}

fn cluster() -> Arc<Cluster> {
    let c = Cluster::new(Clock::default());
    let ns = kind("", "namespaces");
    for n in ["default", "rng"] {
        c.create(ns, "", json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}), WriteOpts::by("t"))
            .unwrap();
    }
    c
}

/// A write: how it is sent and its body.
enum Op {
    Create(Value),
    Update(Value),
    Merge(&'static str, Value),
    Json(&'static str, Value),
    Apply(&'static str, Value),
}

/// Runs `op`, really or as a dry run; the refusal's (code, reason, message), or `None` when the
/// write went through.
fn run(c: &Cluster, k: &'static Kind, op: &Op, dry_run: bool) -> Option<(u16, String, String)> {
    let opts = WriteOpts { dry_run, ..WriteOpts::by("meshdeck") };
    let r = match op {
        Op::Create(b) => c.create(k, "rng", b.clone(), opts),
        Op::Update(b) => c.update(k, b.clone(), opts, false),
        Op::Merge(name, b) => c.patch(k, "rng", name, b, PatchHow::Merge, opts, false),
        Op::Json(name, b) => c.patch(k, "rng", name, b, PatchHow::Json, opts, false),
        Op::Apply(name, b) => c.patch(k, "rng", name, b, PatchHow::Apply { force: true }, opts, false),
    };
    match r {
        Ok(_) => None,
        Err(e) => {
            let (code, reason) = e.code_reason();
            Some((code, reason.to_string(), e.message(k)))
        }
    }
}

/// What a case expects: refused with this code, reason and message, or accepted.
enum Want {
    Refused(u16, &'static str, &'static str),
    /// Refused with this code and reason; the message contains each fragment.
    RefusedWith(u16, &'static str, &'static [&'static str]),
    Accepted,
}

/// Every case, really and as a dry run: the same answer both ways, and a refused write leaves
/// the store as it was.
fn check(c: &Cluster, k: &'static Kind, cases: &[(&str, Op, Want)]) {
    for (what, op, want) in cases {
        for dry_run in [true, false] {
            let before = c.store.current_rv();
            let got = run(c, k, op, dry_run);
            match (want, &got) {
                (Want::Accepted, None) => {}
                (Want::Refused(code, reason, msg), Some((gc, gr, gm))) => {
                    assert_eq!((*code, *reason, *msg), (*gc, gr.as_str(), gm.as_str()), "{what} (dry run: {dry_run})");
                }
                (Want::RefusedWith(code, reason, frags), Some((gc, gr, gm))) => {
                    assert_eq!((*code, *reason), (*gc, gr.as_str()), "{what} (dry run: {dry_run}): {gm}");
                    for f in *frags {
                        assert!(gm.contains(f), "{what} (dry run: {dry_run}): {gm:?} lacks {f:?}");
                    }
                }
                _ => panic!("{what} (dry run: {dry_run}): got {got:?}"),
            }
            if got.is_some() || dry_run {
                assert_eq!(c.store.current_rv(), before, "{what} (dry run: {dry_run}) changed the store");
            }
        }
    }
}

#[test]
fn a_malformed_object_can_be_planted_on_purpose() {
    let c = cluster();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "data": 5});
    let k = kind("", "configmaps");
    let err = c.create(k, "rng", cm.clone(), WriteOpts::by("t")).unwrap_err();
    assert!(matches!(err, OpError::Refused(ref r) if r.code == 400), "{err:?}");
    c.create(k, "rng", cm, WriteOpts::by("t").skip_validation()).unwrap();
    assert_eq!(c.get(k, "rng", "bad").unwrap()["data"], 5);
    let refused = c.refusals();
    assert_eq!((refused.len(), refused[0].manager.as_str(), refused[0].name.as_str()), (1, "t", "bad"));
}
