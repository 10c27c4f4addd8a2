//! istiod as a certificate authority. The controller here keeps the root of trust in the
//! store: `istio-ca-secret` (self-signed) unless a plug-in `cacerts` Secret exists, and the
//! `istio-ca-root-cert` ConfigMap in every namespace. It records each revision's readiness
//! for workload certificates, which are never written to the store (ISTIO.md §7.6).
//!
//! Workload certificates scale to 100,000 lazily stored pods by never being made ahead of
//! time. A pod's certificate is a pure function of its creation time, the lifetime (24h
//! divided by the time scale) and its revision's readiness history (`rotation`), evaluated
//! when someone reads it through the Envoy admin endpoint; only then is a leaf signed, and
//! it is cached per pod until the next issuance (`book`). No timer sweeps pods.
//!
//! A revision counts as ready while one of its istiod Deployments (label `app=istiod`, with
//! an `istio.io/rev` label) reports `status.readyReplicas >= 1`. Deployments already ready
//! when the controller starts are taken as ready since before any pod started. Writes go
//! through `Cluster` with field manager `istiod` and only while an istiod is ready, as a real
//! istiod only writes while it runs. One CA serves the cluster: the one in the namespace of
//! the ready istiods (`istio-system` when several namespaces have one).
//!
//! It must not sign per pod, scan pods, or touch objects other than the two named above.

mod book;
pub mod rotation;

pub use book::{CaSource, CertBook, IstiodState, WorkloadCert, pod_revision, workload_ttl};

use super::ca::{self, Ca};
use super::kinds::{self, Kind};
use super::ops::{Cluster, OpError, WriteOpts};
use super::store::{Event, EventType, ListQuery};
use crate::labels::Selector;
use serde_json::{Value, json};
use std::sync::Arc;

const MANAGER: &str = "istiod";
pub const ROOT_CONFIGMAP: &str = "istio-ca-root-cert";
pub const CA_SECRET: &str = "istio-ca-secret";
pub const PLUGIN_SECRET: &str = "cacerts";
/// istiod's namespace controller leaves these out (ISTIO.md §7.1).
const NO_ROOT_CONFIGMAP: [&str; 3] = ["kube-public", "kube-node-lease", "local-path-storage"];

fn kind(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).expect("built-in kind")
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or_default()
}

fn label<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata")?.get("labels")?.get(key)?.as_str()
}

/// The revision of an istiod Deployment, or None when it is not one.
fn istiod_revision(deploy: &Value) -> Option<&str> {
    (label(deploy, "app") == Some("istiod")).then(|| label(deploy, "istio.io/rev")).flatten()
}

/// A version from an image reference's tag, without a `-distroless`/`-debug` variant.
pub fn image_version(image: &str) -> Option<String> {
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    let tag = tag.strip_suffix("-distroless").or_else(|| tag.strip_suffix("-debug")).unwrap_or(tag);
    (!tag.is_empty()).then(|| tag.to_string())
}

fn istiod_state(deploy: &Value) -> IstiodState {
    let ready = deploy.get("status").and_then(|s| s.get("readyReplicas")).and_then(Value::as_i64).unwrap_or(0) >= 1;
    let containers = deploy.pointer("/spec/template/spec/containers").and_then(Value::as_array);
    let container = containers.and_then(|cs| {
        cs.iter().find(|c| c.get("name").and_then(Value::as_str) == Some("discovery")).or_else(|| cs.first())
    });
    let version = container.and_then(|c| c.get("image")).and_then(Value::as_str).and_then(image_version);
    IstiodState { ready, version }
}

/// Sets a string at `path`, replacing whatever non-object stands in the way.
fn set_string(obj: &mut Value, path: &[&str], v: &str) {
    let mut cur = obj;
    for (i, p) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let map = cur.as_object_mut().expect("made an object above");
        if i == path.len() - 1 {
            map.insert(p.to_string(), json!(v));
            return;
        }
        cur = map.entry(p.to_string()).or_insert_with(|| json!({}));
    }
}

/// Runs the CA controller until the store stops sending events.
pub async fn run(cluster: Arc<Cluster>) {
    let mut events = cluster.store.subscribe();
    let ctl = Controller { cluster };
    ctl.start();
    while let Some(ev) = events.recv().await {
        ctl.handle(&ev);
    }
}

struct Controller {
    cluster: Arc<Cluster>,
}

impl Controller {
    fn now_ms(&self) -> rotation::Millis {
        book::to_millis(self.cluster.clock.now())
    }

    fn start(&self) {
        let selector = Selector::parse("app=istiod,istio.io/rev").expect("static selector");
        let q = ListQuery { namespace: None, name: None, selector: Some(&selector), limit: None, after: None };
        let now = self.now_ms();
        for d in self.cluster.store.list(kind("apps", "deployments"), &q).items {
            let Some(rev) = istiod_revision(&d) else { continue };
            let state = istiod_state(&d);
            let at = if state.ready { rotation::ALWAYS } else { now };
            let key = (meta_str(&d, "namespace").to_string(), meta_str(&d, "name").to_string());
            self.cluster.certs.observe_istiod(rev, key, Some(state), at);
        }
        self.reconcile();
    }

    fn handle(&self, ev: &Event) {
        match (ev.kind.group, ev.kind.plural) {
            ("apps", "deployments") => self.on_deployment(ev),
            ("", "secrets") if ev.name == PLUGIN_SECRET || ev.name == CA_SECRET => self.reconcile(),
            ("", "namespaces") => match ev.kind_of_change {
                EventType::Deleted => {
                    // Objects go before their namespace; a ConfigMap restored in between would linger.
                    let _ = self.cluster.store.delete(kind("", "configmaps"), &ev.name, ROOT_CONFIGMAP);
                }
                _ => self.ensure_root_configmap(&ev.name),
            },
            ("", "configmaps") if ev.name == ROOT_CONFIGMAP && ev.kind_of_change != EventType::Added => {
                self.ensure_root_configmap(&ev.namespace)
            }
            ("", "pods") if ev.kind_of_change == EventType::Deleted => {
                self.cluster.certs.forget_pod(&ev.namespace, &ev.name)
            }
            _ => {}
        }
    }

    fn on_deployment(&self, ev: &Event) {
        let key = (ev.namespace.clone(), ev.name.clone());
        let now = self.now_ms();
        let current = match ev.kind_of_change {
            EventType::Deleted => None,
            _ => istiod_revision(&ev.object).map(|rev| (rev.to_string(), istiod_state(&ev.object))),
        };
        let before = self.cluster.certs.tracked_revision(&key);
        if before.is_none() && current.is_none() {
            return;
        }
        let mut changed = false;
        // A Deployment relabelled to another revision (or away from istiod) leaves its old one.
        if let Some(old) = before.filter(|old| current.as_ref().is_none_or(|(rev, _)| rev != old)) {
            changed |= self.cluster.certs.observe_istiod(&old, key.clone(), None, now);
        }
        if let Some((rev, state)) = current {
            changed |= self.cluster.certs.observe_istiod(&rev, key, Some(state), now);
        }
        if changed {
            self.reconcile();
        }
    }

    /// The namespace whose CA serves the cluster.
    fn istiod_namespace(&self) -> Option<String> {
        let namespaces = self.cluster.certs.ready_namespaces();
        if namespaces.iter().any(|n| n == "istio-system") {
            return Some("istio-system".into());
        }
        namespaces.into_iter().next()
    }

    /// Loads or makes the CA, then spreads its root. Does nothing while no istiod is ready.
    fn reconcile(&self) {
        let Some(ns) = self.istiod_namespace() else { return };
        if let Err(e) = self.ensure_ca(&ns) {
            tracing::warn!(namespace = %ns, "istiod CA: {e}");
            return;
        }
        for n in self.cluster.store.all(kind("", "namespaces"), None) {
            self.ensure_root_configmap(meta_str(&n, "name"));
        }
    }

    fn ensure_ca(&self, ns: &str) -> Result<(), String> {
        let secrets = kind("", "secrets");
        let plugged = self.cluster.store.get(secrets, ns, PLUGIN_SECRET).map(|e| e.value());
        let own = self.cluster.store.get(secrets, ns, CA_SECRET).map(|e| e.value());
        let found = plugged.map(|s| (PLUGIN_SECRET, s)).or(own.map(|s| (CA_SECRET, s)));
        let Some((name, secret)) = found else {
            // Keep a root made earlier (its Secret was deleted) rather than break every workload.
            let ca = match self.cluster.certs.ca().filter(|c| !c.is_plugged()) {
                Some(ca) => ca,
                None => {
                    Arc::new(Ca::self_signed(ca::TRUST_DOMAIN, self.cluster.clock.now()).map_err(|e| e.to_string())?)
                }
            };
            let created = match self.cluster.create(secrets, ns, ca.istio_ca_secret(ns), WriteOpts::by(MANAGER)) {
                Ok(obj) => obj,
                Err(OpError::AlreadyExists { .. }) => return Ok(()), // the event for it will follow
                Err(e) => return Err(format!("writing Secret {CA_SECRET}: {e}")),
            };
            let source = CaSource {
                namespace: ns.into(),
                secret: CA_SECRET.into(),
                resource_version: meta_str(&created, "resourceVersion").into(),
            };
            self.cluster.certs.set_ca(ca, source);
            return Ok(());
        };
        let source = CaSource {
            namespace: ns.into(),
            secret: name.into(),
            resource_version: meta_str(&secret, "resourceVersion").into(),
        };
        if self.cluster.certs.ca_source().as_ref() == Some(&source) {
            return Ok(());
        }
        let loaded = if name == PLUGIN_SECRET { Ca::from_cacerts(&secret) } else { Ca::from_istio_ca_secret(&secret) };
        let ca = loaded.map_err(|e| format!("Secret {ns}/{name}: {e}"))?;
        self.cluster.certs.set_ca(Arc::new(ca), source);
        Ok(())
    }

    /// Creates or repairs `istio-ca-root-cert` in one namespace, if istiod is up and serves it.
    fn ensure_root_configmap(&self, ns: &str) {
        if NO_ROOT_CONFIGMAP.contains(&ns) || !self.cluster.certs.any_ready() {
            return;
        }
        let Some(ca) = self.cluster.certs.ca() else { return };
        let Some(namespace) = self.cluster.store.get(kind("", "namespaces"), "", ns).map(|e| e.value()) else { return };
        let terminating = namespace.pointer("/metadata/deletionTimestamp").is_some()
            || namespace.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
        if terminating {
            return;
        }
        let root = ca.root_pem().to_string();
        let configmaps = kind("", "configmaps");
        let result = match self.cluster.store.get(configmaps, ns, ROOT_CONFIGMAP) {
            None => {
                let cm = json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": ROOT_CONFIGMAP, "namespace": ns, "labels": {"istio.io/config": "true"}},
                    "data": {"root-cert.pem": root},
                });
                match self.cluster.create(configmaps, ns, cm, WriteOpts::by(MANAGER)) {
                    Err(OpError::AlreadyExists { .. }) | Err(OpError::NotFound { .. }) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
            Some(_) => self
                .cluster
                .mutate(configmaps, ns, ROOT_CONFIGMAP, MANAGER, |cm| {
                    set_string(cm, &["data", "root-cert.pem"], &root);
                    set_string(cm, &["metadata", "labels", "istio.io/config"], "true");
                })
                .map(|_| ())
                .or_else(|e| if matches!(e, OpError::NotFound { .. }) { Ok(()) } else { Err(e) }),
        };
        if let Err(e) = result {
            tracing::warn!(namespace = ns, "istiod could not write ConfigMap {ROOT_CONFIGMAP}: {e}");
        }
    }
}

#[cfg(test)]
mod tests;
