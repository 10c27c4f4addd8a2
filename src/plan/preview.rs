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
        s.pods_to_restart = expanded.restarts.iter().filter(|r| r.cannot_roll.is_none()).map(|r| r.pods).sum();
        let mut all = expanded.findings.clone();
        all.extend(findings);
        Preview { context: context.into(), items, findings: all, restarts: expanded.restarts.clone(), summary: s }
    }

    /// True when applying would write something.
    pub fn has_changes(&self) -> bool {
        self.items.iter().any(|i| !matches!(i.status, ItemStatus::Unchanged))
    }
}
