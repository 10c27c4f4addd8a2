//! The checks around each write of an apply: what counts as moved since the preview, how a
//! write is made conditional, and how a lost answer is told from a write that never happened.

use crate::plan::guard::{conditional, field_name, lost_race, moved, took_effect};
use crate::plan::{Change, ItemState, JournalEntry, JournalItem, ObjRef, Plan};
use crate::plan::{Op, forget_undone};
use serde_json::{Value, json};

fn pa(rv: &str, mode: &str, managed: Value) -> Value {
    json!({
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "rng", "uid": "u-1", "resourceVersion": rv,
            "labels": {"team": "a"}, "managedFields": managed},
        "spec": {"mtls": {"mode": mode}},
    })
}

fn strict() -> Op {
    Op::Apply {
        body: json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": "STRICT"}}}),
    }
}

fn mine(fields: Value) -> Value {
    json!([{"manager": "meshdeck", "operation": "Apply", "fieldsV1": fields}])
}

#[test]
fn only_what_a_change_sets_or_meshdeck_owns_counts_as_moved() {
    let seen = pa("10", "PERMISSIVE", json!([]));
    // Status, labels and the version may move: nothing the change sets did.
    let mut now = pa("11", "PERMISSIVE", json!([]));
    now["metadata"]["labels"]["team"] = json!("b");
    now["status"] = json!({"observedGeneration": 4});
    assert_eq!(moved(&strict(), Some(&seen), Some(&now)), Vec::<String>::new());
    // The field the change sets moved.
    let now = pa("12", "DISABLE", json!([]));
    assert_eq!(
        moved(&strict(), Some(&seen), Some(&now)),
        ["spec.mtls.mode is \"DISABLE\", the preview showed \"PERMISSIVE\""]
    );
    // Another apply by meshdeck added a field: re-sending the previewed body would drop it.
    let now = pa("13", "PERMISSIVE", mine(json!({"f:metadata": {"f:labels": {"f:team": {}}}})));
    assert_eq!(
        moved(&strict(), Some(&seen), Some(&now)),
        ["another apply by meshdeck has since set metadata.labels.team, which the previewed body would remove"]
    );
    // And the other way round: a field meshdeck applied was taken over by someone else.
    let (seen_owned, now_plain) = (now.clone(), pa("14", "PERMISSIVE", json!([])));
    assert_eq!(
        moved(&strict(), Some(&seen_owned), Some(&now_plain)),
        ["meshdeck no longer owns metadata.labels.team (another client took it over or removed it)"]
    );
    // Existence and identity.
    assert_eq!(moved(&strict(), None, None), Vec::<String>::new());
    let created =
        moved(&strict(), None, Some(&pa("3", "STRICT", json!([{"manager": "kubectl", "operation": "Update"}]))));
    assert_eq!(created, ["it did not exist in the preview and has since been created (by kubectl)"]);
    assert_eq!(moved(&strict(), Some(&seen), None), ["it has been deleted since the preview"]);
    let mut again = seen.clone();
    again["metadata"]["uid"] = json!("u-2");
    assert_eq!(
        moved(&strict(), Some(&seen), Some(&again)),
        ["it has been deleted and created again since the preview"]
    );
}

#[test]
fn patches_check_their_paths_and_deletes_the_whole_object() {
    let seen = pa("10", "PERMISSIVE", json!([]));
    let remove_team = Op::Patch {
        ops: vec![
            json!({"op": "test", "path": "/metadata/labels/team", "value": "a"}),
            json!({"op": "remove", "path": "/metadata/labels/team"}),
        ],
    };
    let now = pa("11", "STRICT", json!([]));
    assert_eq!(moved(&remove_team, Some(&seen), Some(&now)), Vec::<String>::new());
    let mut now = pa("11", "PERMISSIVE", json!([]));
    now["metadata"]["labels"]["team"] = json!("b");
    assert_eq!(
        moved(&remove_team, Some(&seen), Some(&now)),
        ["metadata.labels.team is \"b\", the preview showed \"a\""]
    );
    let delete = Op::Delete { uid: Some("u-1".into()) };
    assert_eq!(moved(&delete, Some(&seen), Some(&now)), ["metadata.labels.team is \"b\", the preview showed \"a\""]);
    let mut status_only = seen.clone();
    status_only["status"] = json!({"x": 1});
    status_only["metadata"]["resourceVersion"] = json!("12");
    assert_eq!(moved(&delete, Some(&seen), Some(&status_only)), Vec::<String>::new());
    assert_eq!(field_name("/metadata/labels/istio.io~1rev"), "metadata.labels.istio.io/rev");
}

#[test]
fn writes_are_made_conditional_on_the_read_they_were_checked_against() {
    let read = pa("42", "PERMISSIVE", json!([]));
    let Op::Apply { body } = conditional(&strict(), Some(&read)) else { panic!("an apply") };
    assert_eq!(body["metadata"], json!({"name": "default", "namespace": "rng", "resourceVersion": "42"}));
    assert_eq!(conditional(&strict(), None), strict(), "a create carries no version");
    let patch = Op::Patch { ops: vec![json!({"op": "remove", "path": "/metadata/labels/team"})] };
    assert_eq!(
        conditional(&patch, Some(&read)),
        Op::Patch {
            ops: vec![
                json!({"op": "test", "path": "/metadata/resourceVersion", "value": "42"}),
                json!({"op": "remove", "path": "/metadata/labels/team"}),
            ]
        }
    );
    assert_eq!(conditional(&Op::Delete { uid: None }, Some(&read)), Op::Delete { uid: Some("u-1".into()) });
    assert!(lost_race(409, "the object has been modified", false));
    assert!(!lost_race(409, "Apply failed with 1 conflict", true));
    assert!(lost_race(422, "json patch: testing value /metadata/resourceVersion failed: test failed", false));
    assert!(!lost_race(422, "json patch: testing value /metadata/labels/team failed: test failed", false));
}

#[test]
fn a_lost_answer_is_told_from_a_write_that_never_happened() {
    let read = pa("42", "PERMISSIVE", json!([]));
    let written = pa("43", "STRICT", json!([]));
    assert!(took_effect(&strict(), Some(&read), Some(&written)));
    assert!(!took_effect(&strict(), Some(&read), Some(&read)), "same version: not written");
    assert!(!took_effect(&strict(), Some(&read), Some(&pa("43", "DISABLE", json!([])))), "someone else's write");
    assert!(took_effect(&strict(), None, Some(&written)), "a create that went through");
    assert!(!took_effect(&strict(), None, None));
    let patch = Op::Patch {
        ops: vec![
            json!({"op": "test", "path": "/metadata/labels/team", "value": "a"}),
            json!({"op": "remove", "path": "/metadata/labels/team"}),
        ],
    };
    let mut removed = pa("43", "PERMISSIVE", json!([]));
    removed["metadata"]["labels"] = json!({});
    assert!(took_effect(&patch, Some(&read), Some(&removed)));
    let mut other = pa("43", "STRICT", json!([]));
    other["metadata"]["labels"]["team"] = json!("a");
    assert!(!took_effect(&patch, Some(&read), Some(&other)));
    let delete = Op::Delete { uid: Some("u-1".into()) };
    assert!(took_effect(&delete, Some(&read), None));
    assert!(!took_effect(&delete, Some(&read), Some(&read)));
}

fn item(name: &str, why: &str, state: ItemState) -> JournalItem {
    JournalItem {
        change: Change {
            target: ObjRef::new("apps/v1", "Deployment", "rng", name),
            op: Op::Apply { body: json!({}) },
            action: 0,
            why: why.into(),
        },
        before: Some(json!({})),
        after: Some(json!({})),
        state,
        error: None,
        notes: vec![],
    }
}

fn entry(id: &str, undoes: Option<&str>, items: Vec<JournalItem>) -> JournalEntry {
    JournalEntry {
        id: id.into(),
        time: "2026-11-27T01:30:00Z".into(),
        context: "sim-admin".into(),
        server: "https://127.0.0.1:6443".into(),
        cluster_uid: Some("ks-1".into()),
        user: "admin".into(),
        plan: Plan::default(),
        items,
        undoes: undoes.map(Into::into),
        undone: None,
    }
}

#[test]
fn an_undo_that_stopped_part_way_is_finished_not_repeated() {
    let applied = entry(
        "a",
        None,
        vec![item("numbers-api", "restart", ItemState::Applied), item("numbers-web", "restart", ItemState::Applied)],
    );
    let partial = entry(
        "u",
        Some("a"),
        vec![
            item("numbers-web", "undo: restart", ItemState::Applied),
            item("numbers-api", "undo: restart", ItemState::Failed),
        ],
    );
    let mut e = applied.clone();
    forget_undone(&mut e, &[applied.clone(), partial]);
    let states: Vec<ItemState> = e.items.iter().map(|i| i.state).collect();
    assert_eq!(states, [ItemState::Applied, ItemState::Skipped]);
    assert!(e.is_of_cluster("https://elsewhere", Some("ks-1")), "the uid decides when both know it");
    assert!(!e.is_of_cluster("https://127.0.0.1:6443", Some("ks-2")));
    assert!(e.is_of_cluster("https://127.0.0.1:6443", None), "else the server address");
    assert_eq!(applied.state(), "applied");
}
