//! Istio's ConfigMaps as the mesh model reads them: the injector's `config` and `values`
//! (policy, never/always selectors, proxy image) and the mesh config's root namespace.
//! Parsing only; a malformed map is an error naming it, never a panic.

use super::istio_types::ConfigMap;
use super::types::Meta;
use serde_json::Value;

/// ConfigMap `istio-sidecar-injector[-<rev>]`, keys `config` and `values` parsed.
#[derive(Debug, Clone, Default)]
pub struct InjectorConfig {
    pub metadata: Meta,
    /// `enabled` unless the config says otherwise; any other value disables injection.
    pub policy: String,
    pub never_inject_selector: Vec<Value>,
    pub always_inject_selector: Vec<Value>,
    pub hub: Option<String>,
    pub tag: Option<String>,
    pub proxy_image: Option<String>,
    /// `values.revision`; empty for the default revision.
    pub values_revision: Option<String>,
}

impl InjectorConfig {
    /// The revision this injector serves: its `istio.io/rev` label, else `values.revision`,
    /// else what the name says. The unrevisioned install is `default`.
    pub fn revision(&self) -> String {
        if let Some(r) = self.metadata.labels.get("istio.io/rev").filter(|r| !r.is_empty()) {
            return r.clone();
        }
        if let Some(r) = &self.values_revision {
            return if r.is_empty() { "default".into() } else { r.clone() };
        }
        match self.metadata.name.strip_prefix("istio-sidecar-injector-") {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => "default".into(),
        }
    }
}

/// ConfigMap `istio[-<rev>]`, key `mesh`: only the root namespace and trust domain are read.
#[derive(Debug, Clone, Default)]
pub struct MeshConfig {
    pub metadata: Meta,
    pub root_namespace: Option<String>,
    /// `trustDomain`; absent means `cluster.local`.
    pub trust_domain: Option<String>,
}

/// `values` is JSON in the chart; accept YAML too, since it is a superset.
fn parse_values(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).or_else(|_| serde_yaml::from_str(text).map_err(|e| e.to_string()))
}

fn scalar_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn injector_config(cm: ConfigMap, what: &str) -> Result<InjectorConfig, String> {
    let mut out = InjectorConfig { policy: "enabled".into(), ..Default::default() };
    if let Some(text) = cm.data.get("config") {
        let cfg: Value = serde_yaml::from_str(text).map_err(|e| format!("skipped {what}: key config: {e}"))?;
        if let Some(p) = cfg.get("policy") {
            out.policy = scalar_string(Some(p)).unwrap_or_default();
        }
        let list = |k: &str| cfg.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        out.never_inject_selector = list("neverInjectSelector");
        out.always_inject_selector = list("alwaysInjectSelector");
    }
    if let Some(text) = cm.data.get("values") {
        let values = parse_values(text).map_err(|e| format!("skipped {what}: key values: {e}"))?;
        out.hub = scalar_string(values.pointer("/global/hub"));
        out.tag = scalar_string(values.pointer("/global/tag"));
        out.proxy_image = scalar_string(values.pointer("/global/proxy/image"));
        out.values_revision = scalar_string(values.get("revision"));
    }
    out.metadata = cm.metadata;
    Ok(out)
}

pub(crate) fn mesh_config(cm: ConfigMap, what: &str) -> Result<MeshConfig, String> {
    let text = cm.data.get("mesh").map(String::as_str).unwrap_or("");
    let mesh: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_yaml::from_str(text).map_err(|e| format!("skipped {what}: key mesh: {e}"))?
    };
    let field = |k: &str| mesh.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    Ok(MeshConfig { metadata: cm.metadata, root_namespace: field("rootNamespace"), trust_domain: field("trustDomain") })
}
