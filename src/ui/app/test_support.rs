//! Hand-written plans, previews and journal entries for the plan workflow's state and screen
//! tests: the rng migration as the engine would preview it.

use super::{App, TaskResult};
use crate::plan::*;
use crate::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

pub const NOW: &str = "2026-11-27T01:30:00Z";

pub fn fixed_now() -> String {
    NOW.to_string()
}

pub fn press(app: &mut App, code: KeyCode) {
    app.text_key(&KeyEvent::new(code, KeyModifiers::NONE));
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn deploy(name: &str) -> Target {
    format!("deploy/rng/{name}").parse().unwrap()
}

/// The migration's actions, as the forms stage them.
pub fn migration_plan() -> Plan {
    Plan {
        actions: vec![
            Action::Inject { target: deploy("numbers-api"), revision: None, restarted_at: Some(NOW.into()) },
            Action::Mtls { target: Target::Namespace("rng".into()), mode: MtlsMode::Strict },
            Action::Allow {
                target: deploy("numbers-api"),
                from: vec!["sa/rng/numbers-web".parse().unwrap()],
                methods: vec!["GET".into()],
                paths: vec![],
                ports: vec![],
            },
        ],
        ..Plan::default()
    }
}

fn item(r: ObjRef, action: usize, why: &str, status: ItemStatus, body: serde_json::Value, diff: &str) -> PreviewItem {
    PreviewItem {
        change: Change { target: r, op: Op::Apply { body }, action, why: why.into() },
        live: None,
        result: None,
        diff: diff.into(),
        status,
        conflicts: vec![],
        error: None,
        managed_by: None,
    }
}

pub fn pa_ref() -> ObjRef {
    ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default")
}

pub fn migration_preview() -> Preview {
    let dep = ObjRef::new("apps/v1", "Deployment", "rng", "numbers-api");
    let ap = ObjRef::new("security.istio.io/v1", "AuthorizationPolicy", "rng", "numbers-api");
    let mut pa = item(
        pa_ref(),
        1,
        "namespace mTLS STRICT",
        ItemStatus::Conflict,
        json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
               "metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": "STRICT"}}}),
        "--- live\n+++ dry-run\n@@ -5,3 +5,3 @@\n spec:\n   mtls:\n-    mode: PERMISSIVE\n+    mode: STRICT\n",
    );
    pa.conflicts = vec!["spec.mtls.mode (kubectl-client-side-apply)".into()];
    let items = vec![
        item(
            dep.clone(),
            0,
            "opt in to injection, restart",
            ItemStatus::Change,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "numbers-api", "namespace": "rng"}}),
            "--- live\n+++ dry-run\n@@ -12,6 +12,9 @@\n   template:\n     metadata:\n+      annotations:\n+        kubectl.kubernetes.io/restartedAt: \"2026-11-27T01:30:00Z\"\n       labels:\n         app: numbers-api\n+        sidecar.istio.io/inject: \"true\"\n",
        ),
        pa,
        item(
            ap,
            2,
            "allow GET from sa/rng/numbers-web",
            ItemStatus::Create,
            json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "numbers-api", "namespace": "rng"}}),
            "--- live\n+++ dry-run\n@@ -0,0 +1,14 @@\n+apiVersion: security.istio.io/v1\n+kind: AuthorizationPolicy\n+metadata:\n+  name: numbers-api\n+  namespace: rng\n+spec:\n+  action: ALLOW\n+  rules:\n+  - from:\n+    - source:\n+        principals:\n+        - cluster.local/ns/rng/sa/numbers-web\n+    to:\n+    - operation:\n+        methods:\n+        - GET\n",
        ),
    ];
    let expanded = Expanded {
        changes: vec![],
        findings: vec![Finding {
            severity: Severity::Warning,
            action: Some(1),
            message: "STRICT in rng cuts off callers without a sidecar: Pod legacy/debug-shell".into(),
        }],
        restarts: vec![Restart { workload: "Deployment rng/numbers-api".into(), pods: 2, batch: 1, cannot_roll: None }],
    };
    Preview::new("sim-admin", items, &expanded, vec![])
}

/// An app with the migration staged and its preview shown on the plan screen.
pub fn app_with_preview(view: std::sync::Arc<crate::mesh::MeshView>) -> App {
    let mut app = App::new(view, None);
    app.now = fixed_now;
    app.sync.context = "sim-admin".into();
    app.sync.server = "https://127.0.0.1:6443".into();
    app.sync.text = "synced".into();
    app.plan.plan = migration_plan();
    app.open_plan();
    let preview = migration_preview();
    let theme = Theme::fallback();
    let lines = preview.items.iter().map(|i| crate::ui::highlight::diff_lines(&i.diff, &theme).into()).collect();
    app.on_task(TaskResult::Previewed { generation: app.plan.generation, result: Ok(preview), lines });
    app
}

pub fn journal_entries() -> Vec<JournalEntry> {
    let entry = |id: &str, time: &str, plan: Plan, state: ItemState| JournalEntry {
        id: id.into(),
        time: time.into(),
        context: "sim-admin".into(),
        server: "https://127.0.0.1:6443".into(),
        cluster_uid: None,
        user: "admin".into(),
        plan,
        items: vec![JournalItem {
            change: Change {
                target: pa_ref(),
                op: Op::Apply { body: json!({}) },
                action: 0,
                why: "namespace mTLS STRICT".into(),
            },
            before: None,
            after: None,
            state,
            error: None,
            notes: vec![],
        }],
        undoes: None,
        undone: None,
    };
    vec![
        entry("20261127T013000Z-1a2b", "2026-11-27T01:30:00Z", migration_plan(), ItemState::Applied),
        entry(
            "20261126T220000Z-9f00",
            "2026-11-26T22:00:00Z",
            Plan {
                actions: vec![Action::Restart {
                    target: "deploy/rng/numbers-web".parse().unwrap(),
                    restarted_at: NOW.into(),
                }],
                ..Plan::default()
            },
            ItemState::Failed,
        ),
    ]
}
