//! Slim serde shapes of the cluster objects the mesh model reads: only the fields it uses,
//! decoded straight from Kubernetes JSON. It must not hold k8s-openapi types, managedFields
//! or whole specs, and it does no IO.

use super::feed::WireOf;
use super::share::Shared;
use super::wire::{ContainerWire, PodWire, SpecWire};
use crate::labels::Labels;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::sync::Arc;

/// Kubernetes writes `null` for empty collections as often as it omits them; both mean empty.
pub(crate) fn nd<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Only Istio's annotations (see `wire::istio_pairs`); a `null` map is empty.
fn istio_annotations<'de, D: Deserializer<'de>>(d: D) -> Result<Shared<Labels>, D::Error> {
    super::wire::istio_pairs(d).map(|p| Shared::from(p.build()))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerRef {
    #[serde(default, deserialize_with = "nd")]
    pub kind: String,
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    #[serde(default, deserialize_with = "nd")]
    pub controller: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
    /// Shared between the pods of one workload (see `Snapshot::put`).
    #[serde(default, deserialize_with = "nd")]
    pub labels: Shared<Labels>,
    /// Only Istio's (keys containing `istio.io/`): no other annotation decides anything in
    /// the model, and the rest (`kubectl.kubernetes.io/*`, `prometheus.io/*`, tool state)
    /// would make every workload's set distinct and cost memory per pod.
    #[serde(default, deserialize_with = "istio_annotations")]
    pub annotations: Shared<Labels>,
    #[serde(default, deserialize_with = "nd")]
    pub owner_references: Shared<Vec<OwnerRef>>,
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    #[serde(default)]
    pub deletion_timestamp: Option<String>,
}

impl Meta {
    /// The managing controller: the owner marked `controller: true`, else the only owner.
    pub fn controller(&self) -> Option<&OwnerRef> {
        self.owner_references
            .iter()
            .find(|o| o.controller)
            .or_else(|| if self.owner_references.len() == 1 { self.owner_references.first() } else { None })
    }

    /// "NS/NAME", the way policies are named in the view.
    pub fn ns_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Namespace {
    #[serde(default)]
    pub metadata: Meta,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub restart_policy: Option<String>,
}

/// Decoded through its wire form (`wire::SpecWire`), like a pod's own spec. The
/// few-valued strings are shared between pods (see `PodParts`).
#[derive(Debug, Clone, Default)]
pub struct PodSpec {
    pub service_account_name: Option<Arc<str>>,
    pub host_network: bool,
    pub node_name: Option<Arc<str>>,
    pub containers: Shared<Vec<Container>>,
    pub init_containers: Shared<Vec<Container>>,
}

impl PodSpec {
    /// `containers` turns each container list into the copy to keep: from a pool, or fresh.
    /// `containers` turns each container list into the copy to keep, and `string` each
    /// few-valued string: from a pool, or fresh.
    pub(crate) fn from_wire(
        w: &SpecWire,
        mut containers: impl FnMut(&Vec<ContainerWire>) -> Shared<Vec<Container>>,
        mut string: impl FnMut(&str) -> Arc<str>,
    ) -> PodSpec {
        PodSpec {
            service_account_name: w.service_account_name.as_ref().map(|s| string(s.as_str())),
            host_network: w.host_network,
            node_name: w.node_name.as_ref().map(|s| string(s.as_str())),
            containers: containers(&w.containers),
            init_containers: containers(&w.init_containers),
        }
    }
}

impl<'de> Deserialize<'de> for PodSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = SpecWire::deserialize(d)?;
        Ok(PodSpec::from_wire(&w, |c| Shared::from(c.build()), |s| Arc::from(s)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Condition {
    pub type_: String,
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ContainerStatus {
    pub name: String,
    pub ready: bool,
    pub restart_count: i64,
    pub image: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PodStatus {
    pub phase: Option<Arc<str>>,
    pub conditions: Shared<Vec<Condition>>,
    pub container_statuses: Shared<Vec<ContainerStatus>>,
}

/// Decoded through its wire form (`wire::PodWire`), the one definition of what is read of a
/// pod; a list page builds it with the snapshot's pools instead (`PodParts::build`).
#[derive(Debug, Clone, Default)]
pub struct Pod {
    pub metadata: Meta,
    pub spec: PodSpec,
    pub status: PodStatus,
    /// Filled by `Snapshot::put`; stale on a Pod that never went through it.
    pub mesh: super::proxy::PodMesh,
}

impl<'de> Deserialize<'de> for Pod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = PodWire::deserialize(d)?;
        Ok(super::share::PodParts::default().build(&w))
    }
}

impl Pod {
    pub fn is_ready(&self) -> bool {
        self.status.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True")
    }

    /// Finished or being deleted: such a pod is never restarted, so it cannot go stale.
    pub fn is_finished(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
            || matches!(self.status.phase.as_deref(), Some("Succeeded") | Some("Failed"))
    }
}

/// `spec.template` of a workload: what a pod created now would carry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodTemplate {
    #[serde(default, deserialize_with = "nd")]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStrategy {
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    rolling_update: Option<RollingUpdate>,
}

/// `rollingUpdate` of a Deployment or DaemonSet: each an int or a percentage.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdate {
    #[serde(default)]
    pub max_surge: Option<Value>,
    #[serde(default)]
    pub max_unavailable: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSelector {
    #[serde(default, deserialize_with = "nd")]
    match_labels: Labels,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawWorkloadSpec {
    #[serde(default)]
    replicas: Option<i64>,
    #[serde(default)]
    selector: Option<RawSelector>,
    #[serde(default, deserialize_with = "nd")]
    template: PodTemplate,
    #[serde(default)]
    strategy: Option<RawStrategy>,
    #[serde(default)]
    update_strategy: Option<RawStrategy>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawWorkloadStatus {
    #[serde(default)]
    ready_replicas: Option<i64>,
    #[serde(default)]
    updated_replicas: Option<i64>,
    #[serde(default)]
    available_replicas: Option<i64>,
    #[serde(default)]
    desired_number_scheduled: Option<i64>,
    #[serde(default)]
    number_ready: Option<i64>,
    #[serde(default)]
    updated_number_scheduled: Option<i64>,
    #[serde(default)]
    number_available: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawWorkload {
    #[serde(default)]
    metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    spec: RawWorkloadSpec,
    #[serde(default, deserialize_with = "nd")]
    status: RawWorkloadStatus,
}

/// A Deployment, StatefulSet or DaemonSet. For a DaemonSet, `replicas` is the number of
/// nodes it should run on (`desiredNumberScheduled`).
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub metadata: Meta,
    pub template: PodTemplate,
    pub replicas: i64,
    pub ready_replicas: i64,
    pub updated_replicas: i64,
    pub available_replicas: i64,
    pub strategy: Option<String>,
    /// `spec.selector.matchLabels`: what a policy selecting this workload's pods uses.
    pub selector: Labels,
    /// The strategy's `rollingUpdate`, when given: how many pods a restart replaces at once.
    pub rolling_update: Option<Box<RollingUpdate>>,
}

impl RawWorkload {
    pub(crate) fn into_workload(self, kind: WorkloadKind) -> Workload {
        let s = self.status;
        let (replicas, ready, updated, available) = match kind {
            WorkloadKind::DaemonSet => (
                s.desired_number_scheduled.unwrap_or(0),
                s.number_ready,
                s.updated_number_scheduled,
                s.number_available,
            ),
            _ => (self.spec.replicas.unwrap_or(1), s.ready_replicas, s.updated_replicas, s.available_replicas),
        };
        let raw_strategy = self.spec.strategy.or(self.spec.update_strategy);
        let rolling_update = raw_strategy.as_ref().and_then(|s| s.rolling_update.clone()).map(Box::new);
        let strategy = raw_strategy.and_then(|s| s.type_);
        Workload {
            kind,
            metadata: self.metadata,
            template: self.spec.template,
            replicas,
            ready_replicas: ready.unwrap_or(0),
            updated_replicas: updated.unwrap_or(0),
            available_replicas: available.unwrap_or(0),
            strategy,
            selector: self.spec.selector.map(|s| s.match_labels).unwrap_or_default(),
            rolling_update,
        }
    }
}

/// Only the owner matters: it links a Deployment's pods to the Deployment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReplicaSet {
    #[serde(default)]
    pub metadata: Meta,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobSpec {
    #[serde(default, deserialize_with = "nd")]
    pub template: PodTemplate,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Job {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: JobSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    /// A number or a named container port.
    #[serde(default)]
    pub target_port: Option<Value>,
    #[serde(default)]
    pub app_protocol: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceSpec {
    /// `None` (or empty) selects no pods: such a Service has manually managed endpoints.
    #[serde(default)]
    pub selector: Option<Labels>,
    #[serde(default, deserialize_with = "nd")]
    pub ports: Vec<ServicePort>,
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Service {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: ServiceSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceAccount {
    #[serde(default)]
    pub metadata: Meta,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpec {
    #[serde(default)]
    pub selector: Option<Value>,
    #[serde(default)]
    pub min_available: Option<Value>,
    #[serde(default)]
    pub max_unavailable: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodDisruptionBudget {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: PdbSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScaleTargetRef {
    #[serde(default, deserialize_with = "nd")]
    pub kind: String,
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpec {
    #[serde(default, deserialize_with = "nd")]
    pub scale_target_ref: ScaleTargetRef,
    #[serde(default)]
    pub min_replicas: Option<i64>,
    #[serde(default)]
    pub max_replicas: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HorizontalPodAutoscaler {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: HpaSpec,
}
