//! The plan's data: staged actions and the plan file that holds them, the changes an action
//! expands to, and the journal entry an apply leaves behind. Shapes and parsing only; the
//! rules that fill them live beside this file.

use super::target::{Caller, ServiceRef, Target};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const API_VERSION: &str = "meshdeck.dev/v1alpha1";
pub const PLAN_KIND: &str = "Plan";
/// The field manager every write of meshdeck uses.
pub const FIELD_MANAGER: &str = "meshdeck";
/// The plan file `stage`, `diff`, `apply` and `export` use when `-f` is not given.
pub const DEFAULT_PLAN_FILE: &str = "meshdeck-plan.yaml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MtlsMode {
    Permissive,
    Strict,
    Disable,
}

impl MtlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Strict => "STRICT",
            MtlsMode::Disable => "DISABLE",
        }
    }
}

impl std::str::FromStr for MtlsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "permissive" => Ok(MtlsMode::Permissive),
            "strict" => Ok(MtlsMode::Strict),
            "disable" => Ok(MtlsMode::Disable),
            _ => Err(format!("`{s}`: the mTLS mode is strict, permissive or disable")),
        }
    }
}

/// One staged step. `restartedAt` is stamped when the step is staged, so applying the same
/// plan twice restarts nothing the second time.
///
/// In files an action is a mapping with `action: KIND` beside its fields. The derive below
/// gives the externally tagged form (`{inject: {target: …}}`) as inherent functions only;
/// `tagged.rs` builds the file form on them, reading it without buffering so that an error
/// names the line and column of the field at fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase", deny_unknown_fields)]
pub enum Action {
    /// Namespace: `istio-injection=enabled`, or `istio.io/rev=R` when a revision is given
    /// (never both). Workload: pod-template label `sidecar.istio.io/inject=true`.
    #[serde(rename_all = "camelCase")]
    Inject {
        target: Target,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revision: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restarted_at: Option<String>,
    },
    /// The reverse of inject. Namespace: both injection labels removed. Workload: pod-template
    /// label `sidecar.istio.io/inject=false`.
    #[serde(rename_all = "camelCase")]
    Uninject {
        target: Target,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restarted_at: Option<String>,
    },
    /// Pod-template annotation `kubectl.kubernetes.io/restartedAt` on a workload, or on every
    /// workload of a namespace.
    #[serde(rename_all = "camelCase")]
    Restart { target: Target, restarted_at: String },
    /// A PeerAuthentication at mesh, namespace or workload scope.
    Mtls { target: Target, mode: MtlsMode },
    /// An ALLOW AuthorizationPolicy on a workload.
    Allow {
        target: Target,
        from: Vec<Caller>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        methods: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        paths: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ports: Vec<u16>,
    },
    /// A VirtualService routing `hosts` through `gateway` (NS/NAME) to a Service.
    #[serde(rename_all = "camelCase")]
    Route {
        service: ServiceRef,
        hosts: Vec<String>,
        gateway: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        export_to: Vec<String>,
    },
    /// Move a namespace to revision or tag `to`: set `istio.io/rev`, remove `istio-injection`.
    #[serde(rename_all = "camelCase")]
    Revision {
        target: Target,
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restarted_at: Option<String>,
    },
    /// The inverse of a journal entry.
    Undo { entry: String },
}

impl Action {
    /// A one-line description, as lists and the journal show it.
    pub fn summary(&self) -> String {
        let restart = |r: &Option<String>| if r.is_some() { " with restart" } else { "" };
        match self {
            Action::Inject { target, revision: Some(r), restarted_at } => {
                format!("inject {target} (revision {r}){}", restart(restarted_at))
            }
            Action::Inject { target, revision: None, restarted_at } => {
                format!("inject {target}{}", restart(restarted_at))
            }
            Action::Uninject { target, restarted_at } => format!("uninject {target}{}", restart(restarted_at)),
            Action::Restart { target, .. } => format!("restart {target}"),
            Action::Mtls { target, mode } => format!("mtls {target} {}", mode.as_str()),
            Action::Allow { target, from, .. } => {
                let from: Vec<String> = from.iter().map(ToString::to_string).collect();
                format!("allow {target} from {}", from.join(", "))
            }
            Action::Route { service, hosts, gateway, .. } => {
                format!("route {} via {gateway} to {service}", hosts.join(","))
            }
            Action::Revision { target, to, restarted_at } => {
                format!("revision {target} to {to}{}", restart(restarted_at))
            }
            Action::Undo { entry } => format!("undo journal entry {entry}"),
        }
    }
}

/// An object's body as edited by hand after staging; it replaces what the plan would send for
/// that object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    #[serde(rename = "ref")]
    pub target: ObjRef,
    pub body: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plan {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "is_default_meta")]
    pub metadata: PlanMeta,
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
}

fn is_default_meta(m: &PlanMeta) -> bool {
    *m == PlanMeta::default()
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            api_version: API_VERSION.into(),
            kind: PLAN_KIND.into(),
            metadata: PlanMeta::default(),
            actions: Vec::new(),
            edits: Vec::new(),
        }
    }
}

impl Plan {
    /// Reads a plan file's text; `place` (usually the path) starts every error message, which
    /// also gives the line and column.
    pub fn from_yaml(text: &str, place: &str) -> Result<Plan, String> {
        if text.trim().is_empty() {
            return Ok(Plan::default());
        }
        let plan: Plan = serde_yaml::from_str(text).map_err(|e| match e.location() {
            Some(l) => {
                // The prefix gives the place; serde_yaml's own " at line L column C" repeats it.
                let text = e.to_string();
                let at = format!(" at line {} column {}", l.line(), l.column());
                format!("{place}:{}:{}: {}", l.line(), l.column(), text.strip_suffix(&at).unwrap_or(&text))
            }
            None => format!("{place}: {e}"),
        })?;
        if plan.api_version != API_VERSION || plan.kind != PLAN_KIND {
            return Err(format!(
                "{place}: expected apiVersion {API_VERSION} and kind {PLAN_KIND}, found {} {}",
                plan.api_version, plan.kind
            ));
        }
        Ok(plan)
    }

    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).unwrap_or_default()
    }
}

/// An object in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjRef {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
}

impl ObjRef {
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> ObjRef {
        ObjRef { api_version: api_version.into(), kind: kind.into(), namespace: namespace.into(), name: name.into() }
    }

    /// "Kind NS/NAME" or "Kind NAME".
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// The plural resource name of the kinds a plan writes.
    pub fn plural(&self) -> Option<&'static str> {
        Some(match self.kind.as_str() {
            "Namespace" => "namespaces",
            "Deployment" => "deployments",
            "StatefulSet" => "statefulsets",
            "DaemonSet" => "daemonsets",
            "PeerAuthentication" => "peerauthentications",
            "AuthorizationPolicy" => "authorizationpolicies",
            "VirtualService" => "virtualservices",
            _ => return None,
        })
    }

    /// The object's API path, e.g. `/apis/apps/v1/namespaces/rng/deployments/numbers-api`.
    pub fn path(&self) -> Option<String> {
        let plural = self.plural()?;
        let base = if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        };
        Some(if self.namespace.is_empty() {
            format!("{base}/{plural}/{}", self.name)
        } else {
            format!("{base}/namespaces/{}/{plural}/{}", self.namespace, self.name)
        })
    }
}

/// How one object is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Op {
    /// Server-side apply of this partial object, field manager `meshdeck`: exactly the fields
    /// the action owns.
    Apply { body: Value },
    /// A JSON patch (RFC 6902), for taking away what another manager set (a label) and for
    /// undo; `test` operations make it fail rather than overwrite a value that moved.
    Patch { ops: Vec<Value> },
    /// Deleting an object meshdeck created, only if it is still the same object.
    Delete {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uid: Option<String>,
    },
}

/// One write of a plan, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    #[serde(rename = "ref")]
    pub target: ObjRef,
    pub op: Op,
    /// Index of the action in the plan this change comes from.
    pub action: usize,
    /// Why, in a few words: "opt in to injection", "restart".
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    /// The plan cannot be applied as it is.
    Error,
}

/// Something the operator should know about a plan: a workload that cannot roll, a caller
/// that a policy will cut off, an object owned by GitOps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// Index of the action it concerns, when it concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<usize>,
    pub message: String,
}

/// A workload that a change will make roll, or that would need to and cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restart {
    /// "Deployment rng/numbers-api", "Pod legacy/debug-shell", "Job legacy/nightly-report".
    pub workload: String,
    pub pods: usize,
    /// Pods replaced at a time (from maxSurge/maxUnavailable or the kind's rule); 0 if it
    /// cannot roll.
    pub batch: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cannot_roll: Option<String>,
}

/// What a plan expands to against a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expanded {
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
    pub restarts: Vec<Restart>,
}

/// The outcome of one change in a journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    Pending,
    Applied,
    Failed,
    /// Not attempted because an earlier change failed.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalItem {
    pub change: Change,
    /// The live object before the write; `None` when the change created it.
    pub before: Option<Value>,
    /// The object as the API server returned it after the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    pub state: ItemState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What happened on the way: a write answered with a transient error and sent again, an
    /// answer lost and the change found on the cluster, a read that found the object moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One apply, written and synced before its first write and updated after each one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// Sortable and unique: the UTC time of the apply to the millisecond, `20261127T013000.042Z-1a2b`.
    pub id: String,
    pub time: String,
    pub context: String,
    pub server: String,
    /// The cluster's identity: the uid of its kube-system namespace, when the user may read it.
    /// A context name or a server address can point at another cluster tomorrow; this cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_uid: Option<String>,
    pub user: String,
    pub plan: Plan,
    pub items: Vec<JournalItem>,
    /// The entry this one undid, when it is an undo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    /// Set on an entry once an undo of it applied completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone: Option<Undone>,
}

/// When an entry was undone, and by which entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undone {
    pub by: String,
    pub at: String,
}

impl JournalEntry {
    /// True when this entry was recorded against the cluster at `server` whose kube-system
    /// uid is `uid`. The uid decides when both sides know it; the server address otherwise.
    pub fn is_of_cluster(&self, server: &str, uid: Option<&str>) -> bool {
        match (self.cluster_uid.as_deref(), uid) {
            (Some(a), Some(b)) => a == b,
            _ => self.server == server,
        }
    }

    /// Why the entry cannot be undone again, once it was.
    pub fn undone_refusal(&self) -> Option<String> {
        self.undone.as_ref().map(|u| {
            format!(
                "journal entry {} was already undone by {} at {}; there is nothing left to undo",
                self.id, u.by, u.at
            )
        })
    }

    /// One word for where the entry stands: applied, partial, failed, interrupted, undone.
    pub fn state(&self) -> &'static str {
        if self.undone.is_some() {
            return "undone";
        }
        let count = |s: ItemState| self.items.iter().filter(|i| i.state == s).count();
        if count(ItemState::Pending) > 0 {
            "interrupted"
        } else if count(ItemState::Applied) == self.items.len() {
            "applied"
        } else if count(ItemState::Applied) == 0 {
            "failed"
        } else {
            "partial"
        }
    }
}
