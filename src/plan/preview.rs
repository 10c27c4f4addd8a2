//! What the preview screen and `meshdeck diff` show for a plan: per object, the live object,
//! the API server's dry-run result of exactly what will be sent, their unified diff and a
//! status; and the totals. Data only; the engine fills it from the cluster.

use super::model::{Change, Expanded, Finding, Restart};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    Create,
    Change,
    Unchanged,
    Delete,
    /// Other field managers own fields this change sets; shown, never forced silently.
    Conflict,
    /// The user may not make this change (SelfSubjectAccessReview said no).
    Forbidden,
    /// The dry-run failed: the change would be refused as it is.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewItem {
    pub change: Change,
    /// The live object, `None` if it does not exist yet.
    pub live: Option<Value>,
    /// The dry-run result; `None` when the dry-run failed.
    pub result: Option<Value>,
    /// Unified diff of live and result as YAML, server-owned noise left out.
    pub diff: String,
    pub status: ItemStatus,
    /// "spec.mtls.mode (kubectl-client-side-apply)", for conflicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// The API's message when the dry-run or the access review refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// "Helm release X", "Argo CD application Y", "Flux Kustomization Z" when GitOps owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub blocked: usize,
    pub pods_to_restart: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub context: String,
    pub items: Vec<PreviewItem>,
    pub findings: Vec<Finding>,
    pub restarts: Vec<Restart>,
    pub summary: Summary,
}

impl Preview {
    /// Assembles a preview and counts its totals.
    pub fn new(context: &str, items: Vec<PreviewItem>, expanded: &Expanded, findings: Vec<Finding>) -> Preview {
        let mut s = Summary::default();
        for i in &items {
            match i.status {
                ItemStatus::Create => s.created += 1,
                ItemStatus::Change => s.changed += 1,
                ItemStatus::Unchanged => s.unchanged += 1,
                ItemStatus::Delete => s.deleted += 1,
                ItemStatus::Conflict | ItemStatus::Forbidden | ItemStatus::Invalid => s.blocked += 1,
            }
        }
        // A workload rolls only if its object really changes: re-applying an applied plan
        // restarts nothing. What cannot roll stays listed, so it is never silently skipped.
        let changes =
            |w: &str| items.iter().any(|i| i.change.target.display() == w && matches!(i.status, ItemStatus::Change));
        let restarts: Vec<_> =
            expanded.restarts.iter().filter(|r| r.cannot_roll.is_some() || changes(&r.workload)).cloned().collect();
        s.pods_to_restart = restarts.iter().filter(|r| r.cannot_roll.is_none()).map(|r| r.pods).sum();
        let mut all = expanded.findings.clone();
        all.extend(findings);
        Preview { context: context.into(), items, findings: all, restarts, summary: s }
    }

    /// True when applying would write something.
    pub fn has_changes(&self) -> bool {
        self.items.iter().any(|i| !matches!(i.status, ItemStatus::Unchanged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ObjRef, Op};

    fn item(kind: &str, name: &str, status: ItemStatus) -> PreviewItem {
        PreviewItem {
            change: Change {
                target: ObjRef::new("apps/v1", kind, "rng", name),
                op: Op::Apply { body: serde_json::json!({}) },
                action: 0,
                why: "restart".into(),
            },
            live: None,
            result: None,
            diff: String::new(),
            status,
            conflicts: vec![],
            error: None,
            managed_by: None,
        }
    }

    fn restart(workload: &str, pods: usize, cannot: Option<&str>) -> Restart {
        Restart { workload: workload.into(), pods, batch: 1, cannot_roll: cannot.map(Into::into) }
    }

    #[test]
    fn only_workloads_that_really_change_count_as_restarting() {
        let expanded = Expanded {
            changes: vec![],
            findings: vec![],
            restarts: vec![
                restart("Deployment rng/numbers-api", 2, None),
                restart("Deployment rng/numbers-web", 3, None),
                restart("Pod rng/debug", 1, Some("a bare pod: delete it to replace it")),
            ],
        };
        let items = vec![
            item("Deployment", "numbers-api", ItemStatus::Change),
            item("Deployment", "numbers-web", ItemStatus::Unchanged),
        ];
        let p = Preview::new("sim-admin", items, &expanded, vec![]);
        assert_eq!(
            p.summary,
            Summary { created: 0, changed: 1, unchanged: 1, deleted: 0, blocked: 0, pods_to_restart: 2 }
        );
        let listed: Vec<&str> = p.restarts.iter().map(|r| r.workload.as_str()).collect();
        assert_eq!(listed, ["Deployment rng/numbers-api", "Pod rng/debug"]);
        assert!(p.has_changes());
    }
}
