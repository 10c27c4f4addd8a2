//! The simulated API server's write semantics, shared by the HTTP handlers, the controllers
//! and the scenario loader: create-time metadata and defaults, admission (sidecar
//! injection, then validation as the API server and Istio's webhook do it), optimistic
//! concurrency, patches, server-side apply, dry-run, namespace deletion. It owns no transport:
//! errors come back as `OpError`, which the HTTP layer turns into Status objects.

use super::clock::{Clock, rfc3339};
use super::istiod::CertBook;
use super::kinds::{self, Kind};
use super::patch::{self, PatchError, PatchKind};
use super::store::{Store, StoreError};
use super::validate::{self, Refusal, Via};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

mod admission;
pub use admission::Refused;

/// The whole simulated cluster: its objects, its clock and the CA's workload certificates.
pub struct Cluster {
    pub store: Arc<Store>,
    pub clock: Clock,
    pub certs: CertBook,
    refusals: Mutex<Vec<Refused>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    #[error("{kind} {name:?} not found")]
    NotFound { kind: String, name: String },
    #[error("{kind} {name:?} already exists")]
    AlreadyExists { kind: String, name: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{message}")]
    Denied { code: u16, reason: String, message: String },
    #[error("Apply failed with {} conflict(s)", .0.len())]
    ApplyConflicts(Vec<patch::Conflict>),
    #[error("{0}")]
    Gone(String),
    /// Refused by validation, with the Status the API server would answer.
    #[error("{}", .0.message)]
    Refused(Box<Refusal>),
}

impl OpError {
    /// HTTP code and Kubernetes `reason` for the Status body.
    pub fn code_reason(&self) -> (u16, &str) {
        match self {
            OpError::NotFound { .. } => (404, "NotFound"),
            OpError::AlreadyExists { .. } => (409, "AlreadyExists"),
            OpError::Conflict(_) | OpError::ApplyConflicts(_) => (409, "Conflict"),
            OpError::BadRequest(_) => (400, "BadRequest"),
            OpError::Invalid(_) => (422, "Invalid"),
            OpError::Denied { code, reason, .. } => (*code, reason.as_str()),
            OpError::Gone(_) => (410, "Expired"),
            OpError::Refused(r) => (r.code, r.reason.as_str()),
        }
    }

    /// The Status message kubectl prints, in the API server's wording.
    pub fn message(&self, kind: &Kind) -> String {
        let resource = kind.qualified();
        match self {
            OpError::NotFound { name, .. } => format!("{resource} \"{name}\" not found"),
            OpError::AlreadyExists { name, .. } => format!("{resource} \"{name}\" already exists"),
            OpError::ApplyConflicts(cs) => {
                let mut m = format!("Apply failed with {} conflict{}:", cs.len(), if cs.len() == 1 { "" } else { "s" });
                for c in cs {
                    m.push_str(&format!(" conflict with \"{}\": {}", c.manager, c.field));
                }
                m
            }
            other => other.to_string(),
        }
    }
}

/// The API server's words for a write whose resourceVersion precondition failed.
pub fn conflict_message(kind: &Kind, name: &str) -> String {
    format!(
        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        kind.qualified()
    )
}

fn store_err(kind: &Kind, e: StoreError) -> OpError {
    match e {
        StoreError::NotFound(_, name) => OpError::NotFound { kind: kind.plural.into(), name },
        StoreError::AlreadyExists(_, name) => OpError::AlreadyExists { kind: kind.plural.into(), name },
        StoreError::Conflict(_, name) => OpError::Conflict(conflict_message(kind, &name)),
        StoreError::Gone(a, b) => OpError::Gone(format!("too old resource version: {a} ({b})")),
    }
}

/// How a write is made.
#[derive(Debug, Clone, Copy)]
pub struct WriteOpts<'a> {
    pub manager: &'a str,
    pub dry_run: bool,
    /// Validate as the API server would (the default). Turned off only by
    /// `skip_validation`, to plant a malformed object on purpose.
    pub validate: bool,
}

impl<'a> WriteOpts<'a> {
    pub fn by(manager: &'a str) -> Self {
        WriteOpts { manager, dry_run: false, validate: true }
    }

    /// Writes the object even if a real API server would refuse it, for tests of how clients
    /// cope with malformed objects in a cluster. Nothing that serves requests uses this.
    pub fn skip_validation(self) -> Self {
        WriteOpts { validate: false, ..self }
    }
}

/// The patch forms the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchHow {
    Json,
    Merge,
    Strategic,
    Apply { force: bool },
}

/// Kinds whose `status` is a subresource: writes to the main resource leave it alone.
fn has_status_subresource(kind: &Kind) -> bool {
    matches!(
        kind.plural,
        "pods"
            | "deployments"
            | "replicasets"
            | "statefulsets"
            | "daemonsets"
            | "jobs"
            | "poddisruptionbudgets"
            | "horizontalpodautoscalers"
            | "namespaces"
            | "services"
            | "nodes"
    )
}

fn meta<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}

/// Five lowercase alphanumerics, as the API server appends to `generateName`.
pub fn random_suffix(n: usize) -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n).map(|_| ALPHA[rand::random_range(0..ALPHA.len())] as char).collect()
}

/// Everything but metadata and status: a change here bumps `metadata.generation`.
fn spec_part(obj: &Value) -> Value {
    match obj {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => Value::Null,
    }
}

impl Cluster {
    pub fn new(clock: Clock) -> Arc<Cluster> {
        Arc::new(Cluster { store: Store::new(200_000), clock, certs: CertBook::default(), refusals: Mutex::default() })
    }

    pub fn now_str(&self) -> String {
        rfc3339(self.clock.now())
    }

    pub fn get(&self, kind: &'static Kind, ns: &str, name: &str) -> Result<Arc<Value>, OpError> {
        self.store
            .get(kind, ns, name)
            .map(|e| e.value())
            .ok_or_else(|| OpError::NotFound { kind: kind.plural.into(), name: name.into() })
    }

    fn check_identity(kind: &'static Kind, obj: &Value) -> Result<(), OpError> {
        let av = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let k = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        match kinds::by_api_version_kind(av, k) {
            Some(found) if std::ptr::eq(found, kind) || (found.group == kind.group && found.plural == kind.plural) => {
                Ok(())
            }
            _ if av.is_empty() || k.is_empty() => {
                Err(OpError::BadRequest("Object 'Kind' is missing in the request body".into()))
            }
            _ => Err(OpError::BadRequest(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                kind.api_version(kind.preferred_version())
            ))),
        }
    }

    /// Creates an object in `ns` (ignored for cluster-scoped kinds).
    pub fn create(
        &self,
        kind: &'static Kind,
        ns: &str,
        obj: Value,
        opts: WriteOpts<'_>,
    ) -> Result<Arc<Value>, OpError> {
        self.create_as(kind, ns, obj, opts, true)
    }

    /// `typed`: check the body's types as a POST would (server-side apply checked its own).
    fn create_as(
        &self,
        kind: &'static Kind,
        ns: &str,
        mut obj: Value,
        opts: WriteOpts<'_>,
        typed: bool,
    ) -> Result<Arc<Value>, OpError> {
        Self::check_identity(kind, &obj)?;
        if typed {
            self.check_typed(kind, &obj, Via::Body, opts)?;
        }
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        let ns = if kind.namespaced {
            let body_ns = meta(&obj, "namespace").unwrap_or_default().to_string();
            let ns = if ns.is_empty() { body_ns.clone() } else { ns.to_string() };
            if !body_ns.is_empty() && body_ns != ns {
                return Err(OpError::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request".into(),
                ));
            }
            let ns = if ns.is_empty() { "default".to_string() } else { ns };
            if self.store.get(kinds::by_group_plural("", "namespaces").expect("namespaces"), "", &ns).is_none() {
                return Err(OpError::NotFound { kind: "namespaces".into(), name: ns });
            }
            obj["metadata"]["namespace"] = json!(ns);
            ns
        } else {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("namespace");
            }
            String::new()
        };
        let name = match meta(&obj, "name").filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match meta(&obj, "generateName") {
                Some(g) => format!("{g}{}", random_suffix(5)),
                None => {
                    let e = validate::field::required("metadata.name", "name or generateName is required");
                    return Err(OpError::Refused(Box::new(validate::invalid(kind, "", &[e]))));
                }
            },
        };
        // A name that is not one cannot be stored, whatever the options say.
        if let Some(r) = validate::name_refusal(kind, &name) {
            return Err(self.refuse(kind, &obj, opts.manager, Box::new(r)));
        }
        // etcd refuses to create an object that carries a version (a plain error, so a 500
        // with no reason); a dry run never reaches etcd and passes, and server-side apply's
        // create keeps no version to refuse.
        let versioned = meta(&obj, "resourceVersion").and_then(|r| r.parse::<u64>().ok()).is_some_and(|r| r != 0);
        if typed && opts.validate && !opts.dry_run && versioned {
            let r = Refusal {
                code: 500,
                reason: String::new(),
                message: "resourceVersion should not be set on objects to be created".into(),
                details: None,
            };
            return Err(self.refuse(kind, &obj, opts.manager, Box::new(r)));
        }
        let now = self.now_str();
        {
            let m = obj["metadata"].as_object_mut().expect("metadata object");
            m.insert("name".into(), json!(name));
            m.insert("uid".into(), json!(new_uid()));
            m.insert("creationTimestamp".into(), json!(now));
            m.remove("resourceVersion");
            m.remove("managedFields");
            m.remove("deletionTimestamp");
        }
        if obj.get("spec").is_some() {
            obj["metadata"]["generation"] = json!(1);
        }
        super::defaults::on_create(kind, &mut obj, &now);
        if kind.plural == "pods" {
            obj = super::inject::admit_pod(&self.store, obj, self.clock.now()).map_err(|d| OpError::Denied {
                code: d.code,
                reason: d.reason,
                message: d.message,
            })?;
        }
        self.check_admit(kind, &obj, None, opts)?;
        patch::track_update(kind, None, &mut obj, opts.manager, &now);
        if opts.dry_run {
            if self.store.get(kind, &ns, &name).is_some() {
                return Err(OpError::AlreadyExists { kind: kind.plural.into(), name });
            }
            return Ok(Arc::new(obj));
        }
        self.store.create(kind, obj).map_err(|e| store_err(kind, e))
    }

    /// Replaces an object (PUT). A `metadata.resourceVersion` in the body is a precondition.
    /// With `status_only`, only the status changes (the /status subresource); otherwise the
    /// status of kinds with a status subresource is kept.
    pub fn update(
        &self,
        kind: &'static Kind,
        mut obj: Value,
        opts: WriteOpts<'_>,
        status_only: bool,
    ) -> Result<Arc<Value>, OpError> {
        Self::check_identity(kind, &obj)?;
        self.check_typed(kind, &obj, Via::Body, opts)?;
        let ns = if kind.namespaced { meta(&obj, "namespace").unwrap_or_default().to_string() } else { String::new() };
        let name = meta(&obj, "name").unwrap_or_default().to_string();
        let live = self.get(kind, &ns, &name)?;
        let expected = match meta(&obj, "resourceVersion") {
            Some(rv) => {
                Some(rv.parse::<u64>().map_err(|_| OpError::BadRequest(format!("invalid resourceVersion {rv:?}")))?)
            }
            None => None,
        };
        if let Some(e) = expected {
            let cur = meta(&live, "resourceVersion").and_then(|r| r.parse::<u64>().ok()).unwrap_or(0);
            if cur != e {
                return Err(store_err(kind, StoreError::Conflict(kind.plural, name)));
            }
        }
        if status_only {
            let mut merged = (*live).clone();
            merged["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            obj = merged;
        } else if has_status_subresource(kind) {
            match live.get("status") {
                Some(s) => obj["status"] = s.clone(),
                None => {
                    if let Some(m) = obj.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        }
        self.finish_update(kind, &live, obj, opts, expected)
    }

    /// Common tail of every replacement: immutable metadata, generation, managedFields, store.
    fn finish_update(
        &self,
        kind: &'static Kind,
        live: &Value,
        mut obj: Value,
        opts: WriteOpts<'_>,
        expected: Option<u64>,
    ) -> Result<Arc<Value>, OpError> {
        let now = self.now_str();
        for f in ["uid", "creationTimestamp", "name", "namespace", "deletionTimestamp", "generateName"] {
            match live["metadata"].get(f) {
                Some(v) => obj["metadata"][f] = v.clone(),
                None => {
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove(f);
                    }
                }
            }
        }
        super::defaults::on_update(kind, &mut obj);
        let generation = live["metadata"].get("generation").and_then(Value::as_i64);
        let changed_spec = spec_part(live) != spec_part(&obj);
        match generation {
            Some(g) => obj["metadata"]["generation"] = json!(if changed_spec { g + 1 } else { g }),
            None if changed_spec && obj.get("spec").is_some() => obj["metadata"]["generation"] = json!(2),
            None => {}
        }
        if obj.get("metadata").and_then(|m| m.get("managedFields")).is_none()
            && let Some(mf) = live["metadata"].get("managedFields")
        {
            obj["metadata"]["managedFields"] = mf.clone();
        }
        self.check_admit(kind, &obj, Some(live), opts)?;
        if live == &obj {
            return Ok(Arc::new(obj));
        }
        patch::track_update(kind, Some(live), &mut obj, opts.manager, &now);
        if opts.dry_run {
            let mut out = obj;
            out["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"].clone();
            return Ok(Arc::new(out));
        }
        let expected = expected.or_else(|| meta(live, "resourceVersion").and_then(|r| r.parse().ok()));
        self.store.update(kind, obj, expected).map_err(|e| store_err(kind, e))
    }

    /// PATCH in any of its forms. Server-side apply to a missing object creates it.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        kind: &'static Kind,
        ns: &str,
        name: &str,
        body: &Value,
        how: PatchHow,
        opts: WriteOpts<'_>,
        status_only: bool,
    ) -> Result<Arc<Value>, OpError> {
        let ns = if kind.namespaced { ns } else { "" };
        let live = self.store.get(kind, ns, name).map(|e| e.value());
        let now = self.now_str();
        let map_patch_err = |e: PatchError| match e {
            PatchError::Invalid(m) if m.starts_with("strategic merge patch is not supported") => {
                OpError::Denied { code: 415, reason: "UnsupportedMediaType".into(), message: m }
            }
            PatchError::Invalid(m) => OpError::Invalid(m),
            PatchError::Conflicts(c) => OpError::ApplyConflicts(c),
        };
        match (how, live) {
            (PatchHow::Apply { force }, None) => {
                let mut body = body.clone();
                if kind.namespaced && meta(&body, "namespace").is_none() {
                    body["metadata"]["namespace"] = json!(ns);
                }
                if meta(&body, "name").is_none() {
                    body["metadata"]["name"] = json!(name);
                }
                Self::check_identity(kind, &body)?;
                self.check_typed(kind, &body, Via::Apply, opts)?;
                let merged =
                    patch::server_side_apply(kind, None, &body, opts.manager, force, &now).map_err(map_patch_err)?;
                // The apply entry is already in managedFields; creation must not add an Update entry.
                let mf = merged["metadata"].get("managedFields").cloned();
                let created = self.create_as(kind, ns, merged, WriteOpts { manager: "", ..opts }, false)?;
                let mut out = (*created).clone();
                if let Some(mf) = mf {
                    out["metadata"]["managedFields"] = mf;
                }
                if opts.dry_run {
                    return Ok(Arc::new(out));
                }
                self.store.update(kind, out, None).map_err(|e| store_err(kind, e))
            }
            (_, None) => Err(OpError::NotFound { kind: kind.plural.into(), name: name.into() }),
            (how, Some(live)) => {
                let mut next = match how {
                    PatchHow::Apply { force } => {
                        let mut body = body.clone();
                        if kind.namespaced && meta(&body, "namespace").is_none() {
                            body["metadata"]["namespace"] = json!(ns);
                        }
                        Self::check_identity(kind, &body)?;
                        self.check_typed(kind, &body, Via::Apply, opts)?;
                        patch::server_side_apply(kind, Some(&live), &body, opts.manager, force, &now)
                            .map_err(map_patch_err)?
                    }
                    PatchHow::Json | PatchHow::Merge | PatchHow::Strategic => {
                        let pk = match how {
                            PatchHow::Json => PatchKind::Json,
                            PatchHow::Merge => PatchKind::Merge,
                            _ => PatchKind::Strategic,
                        };
                        let next = patch::apply_patch(kind, &live, body, pk).map_err(map_patch_err)?;
                        self.check_typed(kind, &next, Via::Patch, opts)?;
                        next
                    }
                };
                if status_only {
                    let mut merged = (*live).clone();
                    merged["status"] = next.get("status").cloned().unwrap_or(Value::Null);
                    next = merged;
                } else if has_status_subresource(kind) {
                    match live.get("status") {
                        Some(s) => next["status"] = s.clone(),
                        None => {
                            if let Some(m) = next.as_object_mut() {
                                m.remove("status");
                            }
                        }
                    }
                }
                let manager = if matches!(how, PatchHow::Apply { .. }) { "" } else { opts.manager };
                // A patch may carry a resourceVersion precondition of its own.
                let expected = meta(body, "resourceVersion").and_then(|r| r.parse().ok());
                if let Some(e) = expected {
                    let cur: u64 = meta(&live, "resourceVersion").and_then(|r| r.parse().ok()).unwrap_or(0);
                    if cur != e {
                        return Err(store_err(kind, StoreError::Conflict(kind.plural, name.into())));
                    }
                }
                next["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"].clone();
                self.finish_update(kind, &live, next, WriteOpts { manager, ..opts }, expected)
            }
        }
    }

    /// Deletes an object; a namespace takes every object in it along.
    pub fn delete(
        &self,
        kind: &'static Kind,
        ns: &str,
        name: &str,
        opts: WriteOpts<'_>,
    ) -> Result<Arc<Value>, OpError> {
        let ns = if kind.namespaced { ns } else { "" };
        let live = self.get(kind, ns, name)?;
        if opts.dry_run {
            return Ok(live);
        }
        if kind.plural == "namespaces" && kind.group.is_empty() {
            for k in kinds::all().filter(|k| k.namespaced && !k.virtual_only) {
                for obj in self.store.all(k, Some(name)) {
                    let n = meta(&obj, "name").unwrap_or_default().to_string();
                    let _ = self.store.delete(k, name, &n);
                }
            }
        }
        self.store.delete(kind, ns, name).map_err(|e| store_err(kind, e))
    }

    /// Read-modify-write for controllers: retries on conflicts, skips when `f` changes
    /// nothing. `f` may change status and spec alike.
    pub fn mutate(
        &self,
        kind: &'static Kind,
        ns: &str,
        name: &str,
        manager: &str,
        mut f: impl FnMut(&mut Value),
    ) -> Result<Arc<Value>, OpError> {
        loop {
            let live = self.get(kind, ns, name)?;
            let mut next = (*live).clone();
            f(&mut next);
            if next == *live {
                return Ok(live);
            }
            let expected = meta(&live, "resourceVersion").and_then(|r| r.parse().ok());
            match self.finish_update(kind, &live, next, WriteOpts::by(manager), expected) {
                Err(OpError::Conflict(_)) => continue,
                other => return other,
            }
        }
    }
}
