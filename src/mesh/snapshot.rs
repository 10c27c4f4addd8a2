//! The snapshot the mesh model derives from: slim cluster objects in maps keyed by
//! (namespace, name), so everything in one namespace is a contiguous range. It decodes
//! Kubernetes JSON and must never panic on bad cluster data: a malformed object is skipped
//! with a warning naming it. No IO, no clock.

pub use super::config_maps::{InjectorConfig, MeshConfig};
use super::config_maps::{injector_config, mesh_config};
use super::istio_types::*;
use super::share::PodParts;
use super::types::*;
use crate::labels::Labels;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// (namespace, name). Cluster-scoped objects use an empty namespace.
pub type Key = (String, String);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
}

/// One decoded object of a kind the model reads.
#[derive(Debug, Clone)]
pub enum Object {
    Namespace(Namespace),
    Pod(Pod),
    Workload(Workload),
    ReplicaSet(ReplicaSet),
    Job(Job),
    Service(Service),
    ServiceAccount(ServiceAccount),
    PeerAuthentication(PeerAuthentication),
    AuthorizationPolicy(AuthorizationPolicy),
    WebhookConfig(MutatingWebhookConfiguration),
    InjectorConfig(InjectorConfig),
    MeshConfig(MeshConfig),
    VirtualService(VirtualService),
    Gateway(IstioGateway),
    DestinationRule(DestinationRule),
    PodDisruptionBudget(PodDisruptionBudget),
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map(|(g, _)| g).unwrap_or("")
}

fn describe(v: &Value) -> String {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("object");
    let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("<unnamed>");
    match v.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() => format!("{kind} {ns}/{name}"),
        _ => format!("{kind} {name}"),
    }
}

fn decode<T: DeserializeOwned>(v: Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("skipped {what}: {e}"))
}

impl Object {
    /// Decodes one object of a known kind straight from JSON text, as list and watch bodies
    /// carry it (list items may lack `kind` and `apiVersion`). Pods, workloads and the other
    /// numerous kinds never become a `Value` on the way: at 100,000 pods that is most of
    /// the cost of a full sync.
    pub fn from_json(group: &str, kind: &str, text: &str) -> Result<Option<Object>, String> {
        fn direct<T: DeserializeOwned>(text: &str, kind: &str) -> Result<T, String> {
            serde_json::from_str(text).map_err(|e| format!("skipped {kind}: {e}"))
        }
        let named = |m: &Meta| {
            if m.name.is_empty() { Err(format!("skipped a {kind}: metadata.name is missing")) } else { Ok(()) }
        };
        let obj = match (group, kind) {
            ("", "Pod") => {
                let p: Pod = direct(text, kind)?;
                named(&p.metadata)?;
                Object::Pod(p)
            }
            ("", "Namespace") => {
                let n: Namespace = direct(text, kind)?;
                named(&n.metadata)?;
                Object::Namespace(n)
            }
            ("", "Service") => Object::Service(direct(text, kind)?),
            ("", "ServiceAccount") => Object::ServiceAccount(direct(text, kind)?),
            ("apps", "ReplicaSet") => Object::ReplicaSet(direct(text, kind)?),
            ("apps", "Deployment" | "StatefulSet" | "DaemonSet") => {
                let wk = match kind {
                    "Deployment" => WorkloadKind::Deployment,
                    "StatefulSet" => WorkloadKind::StatefulSet,
                    _ => WorkloadKind::DaemonSet,
                };
                let raw: RawWorkload = direct(text, kind)?;
                let w = raw.into_workload(wk);
                named(&w.metadata)?;
                Object::Workload(w)
            }
            _ => {
                let mut v: Value = serde_json::from_str(text).map_err(|e| format!("skipped {kind}: {e}"))?;
                if let Some(m) = v.as_object_mut() {
                    m.entry("kind").or_insert_with(|| Value::String(kind.to_string()));
                    let api_version = if group.is_empty() { "v1".to_string() } else { format!("{group}/v1") };
                    m.entry("apiVersion").or_insert(Value::String(api_version));
                }
                return Object::from_value(v);
            }
        };
        Ok(Some(obj))
    }

    /// Decodes one object by its apiVersion and kind. `Ok(None)` for kinds (and ConfigMaps)
    /// the model does not read; `Err` names the object and what was wrong with it.
    pub fn from_value(v: Value) -> Result<Option<Object>, String> {
        if !v.is_object() {
            return Err(format!("skipped a non-object item: {}", truncate(&v.to_string())));
        }
        let what = describe(&v);
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
        let group = group_of(v.get("apiVersion").and_then(Value::as_str).unwrap_or("")).to_string();
        if v.pointer("/metadata/name").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(format!("skipped {what}: metadata.name is missing"));
        }
        let workload = |k: WorkloadKind, v: Value| -> Result<Option<Object>, String> {
            Ok(Some(Object::Workload(decode::<RawWorkload>(v, &what)?.into_workload(k))))
        };
        let obj = match (group.as_str(), kind.as_str()) {
            ("", "Namespace") => Object::Namespace(decode(v, &what)?),
            ("", "Pod") => Object::Pod(decode(v, &what)?),
            ("", "Service") => Object::Service(decode(v, &what)?),
            ("", "ServiceAccount") => Object::ServiceAccount(decode(v, &what)?),
            ("", "ConfigMap") => {
                let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
                let has_mesh = v.pointer("/data/mesh").is_some();
                if name == "istio-sidecar-injector" || name.starts_with("istio-sidecar-injector-") {
                    Object::InjectorConfig(injector_config(decode(v, &what)?, &what)?)
                } else if (name == "istio" || name.starts_with("istio-")) && has_mesh {
                    Object::MeshConfig(mesh_config(decode(v, &what)?, &what)?)
                } else {
                    return Ok(None);
                }
            }
            ("apps", "Deployment") => return workload(WorkloadKind::Deployment, v),
            ("apps", "StatefulSet") => return workload(WorkloadKind::StatefulSet, v),
            ("apps", "DaemonSet") => return workload(WorkloadKind::DaemonSet, v),
            ("apps", "ReplicaSet") => Object::ReplicaSet(decode(v, &what)?),
            ("batch", "Job") => Object::Job(decode(v, &what)?),
            ("security.istio.io", "PeerAuthentication") => Object::PeerAuthentication(decode(v, &what)?),
            ("security.istio.io", "AuthorizationPolicy") => Object::AuthorizationPolicy(decode(v, &what)?),
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
                Object::WebhookConfig(decode(v, &what)?)
            }
            ("networking.istio.io", "VirtualService") => Object::VirtualService(decode(v, &what)?),
            ("networking.istio.io", "Gateway") => Object::Gateway(decode(v, &what)?),
            ("networking.istio.io", "DestinationRule") => Object::DestinationRule(decode(v, &what)?),
            ("policy", "PodDisruptionBudget") => Object::PodDisruptionBudget(decode(v, &what)?),
            ("autoscaling", "HorizontalPodAutoscaler") => Object::HorizontalPodAutoscaler(decode(v, &what)?),
            _ => return Ok(None),
        };
        Ok(Some(obj))
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= 60 { s.to_string() } else { format!("{}…", s.chars().take(60).collect::<String>()) }
}

fn key(m: &Meta) -> Key {
    (m.namespace.clone(), m.name.clone())
}

/// All the cluster state the model reads.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub namespaces: BTreeMap<String, Namespace>,
    /// Add pods through `insert` or `put`, which fill `Pod::mesh`.
    pub pods: BTreeMap<Key, Pod>,
    pub workloads: BTreeMap<WorkloadId, Workload>,
    pub replica_sets: BTreeMap<Key, ReplicaSet>,
    pub jobs: BTreeMap<Key, Job>,
    pub services: BTreeMap<Key, Service>,
    pub service_accounts: BTreeMap<Key, ServiceAccount>,
    pub peer_authentications: BTreeMap<Key, PeerAuthentication>,
    pub authorization_policies: BTreeMap<Key, AuthorizationPolicy>,
    /// MutatingWebhookConfigurations by name (cluster-scoped).
    pub webhook_configs: BTreeMap<String, MutatingWebhookConfiguration>,
    pub injector_configs: BTreeMap<Key, InjectorConfig>,
    pub mesh_configs: BTreeMap<Key, MeshConfig>,
    pub virtual_services: BTreeMap<Key, VirtualService>,
    pub gateways: BTreeMap<Key, IstioGateway>,
    pub destination_rules: BTreeMap<Key, DestinationRule>,
    pub pod_disruption_budgets: BTreeMap<Key, PodDisruptionBudget>,
    pub horizontal_pod_autoscalers: BTreeMap<Key, HorizontalPodAutoscaler>,
    /// One line per object that could not be read, naming it.
    pub warnings: Vec<String>,
    /// The kinds the caller may not list, as the caller reports them: derived facts that
    /// depend on one are unknown, never taken from its empty map.
    pub hidden: super::hidden::Hidden,
    /// Shared copies of what the pods of one workload repeat.
    pod_parts: PodParts,
}

/// The entries of a (namespace, name)-keyed map that lie in one namespace.
pub fn in_namespace<'a, V>(map: &'a BTreeMap<Key, V>, ns: &str) -> impl Iterator<Item = &'a V> + 'a {
    let start = (ns.to_string(), String::new());
    let ns = ns.to_string();
    map.range(start..).take_while(move |((n, _), _)| *n == ns).map(|(_, v)| v)
}

impl Snapshot {
    /// Builds a snapshot from Kubernetes JSON objects in any order. `*List` objects are
    /// expanded (their items may omit kind and apiVersion, as API list responses do).
    /// Objects that cannot be read are skipped and named in `warnings`.
    pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Snapshot {
        let mut snap = Snapshot::default();
        for obj in objects {
            if let Err(w) = snap.insert(obj) {
                snap.warnings.push(w);
            }
        }
        snap
    }

    /// Adds or replaces one object (or every item of a list). On error nothing of that
    /// object is stored; for a list, the readable items are kept and the errors joined.
    pub fn insert(&mut self, obj: Value) -> Result<(), String> {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        if let (Some(item_kind), Some(items)) = (kind.strip_suffix("List"), obj.get("items").and_then(Value::as_array))
        {
            let api_version = obj.get("apiVersion").cloned().unwrap_or(Value::Null);
            let mut errors = Vec::new();
            for item in items {
                let mut item = item.clone();
                if let Some(m) = item.as_object_mut() {
                    if !item_kind.is_empty() && !m.contains_key("kind") {
                        m.insert("kind".into(), Value::String(item_kind.to_string()));
                    }
                    if !m.contains_key("apiVersion") {
                        m.insert("apiVersion".into(), api_version.clone());
                    }
                }
                if let Err(e) = self.insert(item) {
                    errors.push(e);
                }
            }
            return if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) };
        }
        if let Some(o) = Object::from_value(obj)? {
            self.put(o);
        }
        Ok(())
    }

    /// Stores the pod a wire form describes, its repeated parts taken from this snapshot's
    /// pools without first building a copy of them.
    pub fn put_pod_wire(&mut self, w: &super::wire::PodWire) {
        let pod = self.pod_parts.build(w);
        self.put_shared_pod(pod);
    }

    fn put_shared_pod(&mut self, mut o: Pod) {
        o.mesh = super::proxy::PodMesh::of(&o);
        let p = &mut o.mesh.proxy;
        for s in [&mut p.revision, &mut p.image, &mut p.requested_image] {
            self.pod_parts.share_string(s);
        }
        self.pods.insert(key(&o.metadata), o);
    }

    /// Stores a decoded object, replacing any earlier one with the same identity.
    pub fn put(&mut self, obj: Object) {
        match obj {
            Object::Namespace(o) => {
                self.namespaces.insert(o.metadata.name.clone(), o);
            }
            Object::Pod(mut o) => {
                self.pod_parts.share(&mut o);
                self.put_shared_pod(o);
            }
            Object::Workload(o) => {
                let id =
                    WorkloadId { namespace: o.metadata.namespace.clone(), kind: o.kind, name: o.metadata.name.clone() };
                self.workloads.insert(id, o);
            }
            Object::ReplicaSet(o) => {
                self.replica_sets.insert(key(&o.metadata), o);
            }
            Object::Job(o) => {
                self.jobs.insert(key(&o.metadata), o);
            }
            Object::Service(o) => {
                self.services.insert(key(&o.metadata), o);
            }
            Object::ServiceAccount(o) => {
                self.service_accounts.insert(key(&o.metadata), o);
            }
            Object::PeerAuthentication(o) => {
                self.peer_authentications.insert(key(&o.metadata), o);
            }
            Object::AuthorizationPolicy(o) => {
                self.authorization_policies.insert(key(&o.metadata), o);
            }
            Object::WebhookConfig(o) => {
                self.webhook_configs.insert(o.metadata.name.clone(), o);
            }
            Object::InjectorConfig(o) => {
                self.injector_configs.insert(key(&o.metadata), o);
            }
            Object::MeshConfig(o) => {
                self.mesh_configs.insert(key(&o.metadata), o);
            }
            Object::VirtualService(o) => {
                self.virtual_services.insert(key(&o.metadata), o);
            }
            Object::Gateway(o) => {
                self.gateways.insert(key(&o.metadata), o);
            }
            Object::DestinationRule(o) => {
                self.destination_rules.insert(key(&o.metadata), o);
            }
            Object::PodDisruptionBudget(o) => {
                self.pod_disruption_budgets.insert(key(&o.metadata), o);
            }
            Object::HorizontalPodAutoscaler(o) => {
                self.horizontal_pod_autoscalers.insert(key(&o.metadata), o);
            }
        }
    }

    /// Forgets every object of one kind (named as in `remove`), before a fresh list refills it.
    pub fn clear_kind(&mut self, kind: &str) {
        let workload = |k: WorkloadKind| move |id: &WorkloadId, _: &mut Workload| id.kind != k;
        match kind {
            "Namespace" => self.namespaces.clear(),
            "Pod" => self.pods.clear(),
            "Deployment" => self.workloads.retain(workload(WorkloadKind::Deployment)),
            "StatefulSet" => self.workloads.retain(workload(WorkloadKind::StatefulSet)),
            "DaemonSet" => self.workloads.retain(workload(WorkloadKind::DaemonSet)),
            "ReplicaSet" => self.replica_sets.clear(),
            "Job" => self.jobs.clear(),
            "Service" => self.services.clear(),
            "ServiceAccount" => self.service_accounts.clear(),
            "ConfigMap" => {
                self.injector_configs.clear();
                self.mesh_configs.clear();
            }
            "PeerAuthentication" => self.peer_authentications.clear(),
            "AuthorizationPolicy" => self.authorization_policies.clear(),
            "MutatingWebhookConfiguration" => self.webhook_configs.clear(),
            "VirtualService" => self.virtual_services.clear(),
            "Gateway" => self.gateways.clear(),
            "DestinationRule" => self.destination_rules.clear(),
            "PodDisruptionBudget" => self.pod_disruption_budgets.clear(),
            "HorizontalPodAutoscaler" => self.horizontal_pod_autoscalers.clear(),
            _ => {}
        }
    }

    /// Replaces every object of one kind (named as in `remove`) by those of `with`, which
    /// holds nothing else: a list staged in its own snapshot becomes visible at once, and its
    /// objects move over without being copied or re-read.
    pub fn replace_kind(&mut self, kind: &str, with: Snapshot) {
        fn fill<K: Ord, V>(to: &mut BTreeMap<K, V>, from: BTreeMap<K, V>) {
            if to.is_empty() {
                *to = from;
            } else {
                to.extend(from);
            }
        }
        self.clear_kind(kind);
        let w = with;
        fill(&mut self.namespaces, w.namespaces);
        fill(&mut self.pods, w.pods);
        fill(&mut self.workloads, w.workloads);
        fill(&mut self.replica_sets, w.replica_sets);
        fill(&mut self.jobs, w.jobs);
        fill(&mut self.services, w.services);
        fill(&mut self.service_accounts, w.service_accounts);
        fill(&mut self.peer_authentications, w.peer_authentications);
        fill(&mut self.authorization_policies, w.authorization_policies);
        fill(&mut self.webhook_configs, w.webhook_configs);
        fill(&mut self.injector_configs, w.injector_configs);
        fill(&mut self.mesh_configs, w.mesh_configs);
        fill(&mut self.virtual_services, w.virtual_services);
        fill(&mut self.gateways, w.gateways);
        fill(&mut self.destination_rules, w.destination_rules);
        fill(&mut self.pod_disruption_budgets, w.pod_disruption_budgets);
        fill(&mut self.horizontal_pod_autoscalers, w.horizontal_pod_autoscalers);
        self.warnings.extend(w.warnings);
        self.pod_parts.absorb(w.pod_parts);
    }

    /// Forgets an object by kind, namespace and name (namespace empty when cluster-scoped).
    /// Returns whether something was removed.
    pub fn remove(&mut self, kind: &str, namespace: &str, name: &str) -> bool {
        let k: Key = (namespace.to_string(), name.to_string());
        let wl = |kind| WorkloadId { namespace: namespace.to_string(), kind, name: name.to_string() };
        match kind {
            "Namespace" => self.namespaces.remove(name).is_some(),
            "Pod" => self.pods.remove(&k).is_some(),
            "Deployment" => self.workloads.remove(&wl(WorkloadKind::Deployment)).is_some(),
            "StatefulSet" => self.workloads.remove(&wl(WorkloadKind::StatefulSet)).is_some(),
            "DaemonSet" => self.workloads.remove(&wl(WorkloadKind::DaemonSet)).is_some(),
            "ReplicaSet" => self.replica_sets.remove(&k).is_some(),
            "Job" => self.jobs.remove(&k).is_some(),
            "Service" => self.services.remove(&k).is_some(),
            "ServiceAccount" => self.service_accounts.remove(&k).is_some(),
            "ConfigMap" => self.injector_configs.remove(&k).is_some() | self.mesh_configs.remove(&k).is_some(),
            "PeerAuthentication" => self.peer_authentications.remove(&k).is_some(),
            "AuthorizationPolicy" => self.authorization_policies.remove(&k).is_some(),
            "MutatingWebhookConfiguration" => self.webhook_configs.remove(name).is_some(),
            "VirtualService" => self.virtual_services.remove(&k).is_some(),
            "Gateway" => self.gateways.remove(&k).is_some(),
            "DestinationRule" => self.destination_rules.remove(&k).is_some(),
            "PodDisruptionBudget" => self.pod_disruption_budgets.remove(&k).is_some(),
            "HorizontalPodAutoscaler" => self.horizontal_pod_autoscalers.remove(&k).is_some(),
            _ => false,
        }
    }

    /// Namespace labels as the API server presents them to webhooks: always including
    /// `kubernetes.io/metadata.name`, even for a namespace the snapshot has not seen.
    pub fn namespace_labels(&self, ns: &str) -> Labels {
        let mut labels = self.namespaces.get(ns).map(|n| Labels::clone(&n.metadata.labels)).unwrap_or_default();
        labels.entry("kubernetes.io/metadata.name".into()).or_insert_with(|| ns.to_string());
        labels
    }

    /// `meshConfig.rootNamespace`: from the default revision's mesh ConfigMap `istio` if
    /// present, else the first revisioned one; a mesh config without the field means its own
    /// namespace (the chart's default). With no mesh ConfigMap at all, `istio-system`.
    pub fn root_namespace(&self) -> String {
        let mut cms: Vec<&MeshConfig> = self.mesh_configs.values().collect();
        cms.sort_by_key(|m| (m.metadata.name != "istio", m.metadata.name.clone(), m.metadata.namespace.clone()));
        match cms.first() {
            Some(m) => m.root_namespace.clone().unwrap_or_else(|| m.metadata.namespace.clone()),
            None => "istio-system".into(),
        }
    }
}
