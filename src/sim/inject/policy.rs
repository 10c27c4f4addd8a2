//! Stage B of injection, inside the called istiod: the injector ConfigMap of its revision
//! (`config` and `values`), its mesh config, and `injectRequired()`'s ordered checks. It
//! decides whether to inject; it does not build the sidecar.

use super::super::kinds;
use super::super::store::Store;
use crate::labels::{Labels, labels_of, selector_matches};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Namespaces istiod never injects into (`IgnoredNamespaces`). `istio-system` is not one:
/// Istio's own pods opt out with `sidecar.istio.io/inject: "false"`.
const IGNORED_NAMESPACES: [&str; 4] = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"];

const INJECT_KEY: &str = "sidecar.istio.io/inject";

/// What one istiod knows when a webhook call reaches it.
pub(super) struct Injector {
    /// The revision it serves, `default` for an unrevisioned install.
    pub revision: String,
    /// The control-plane namespace.
    pub namespace: String,
    pub policy: String,
    pub never: Vec<Value>,
    pub always: Vec<Value>,
    pub injected_annotations: Vec<(String, String)>,
    pub default_templates: Vec<String>,
    pub templates: Vec<String>,
    pub aliases: BTreeMap<String, Vec<String>>,
    /// The `values` key (Helm values as istiod sees them).
    pub values: Value,
    /// The mesh config (`mesh` key of `istio[-<rev>]`).
    pub mesh: Value,
    /// istiod's `ENABLE_NATIVE_SIDECARS` setting, if any.
    pub native_env: Option<String>,
}

fn data_key(store: &Store, namespace: &str, name: &str, key: &str) -> Option<String> {
    let cms = kinds::by_group_plural("", "configmaps")?;
    let cm = store.get(cms, namespace, name)?.value();
    cm.pointer(&format!("/data/{key}")).and_then(Value::as_str).map(str::to_string)
}

fn parse_yaml(text: &str) -> Option<Value> {
    serde_yaml::from_str::<Value>(text).ok().filter(Value::is_object)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// `hub` and `tag` of an image reference such as `docker.io/istio/pilot:1.24.3`.
fn hub_and_tag(image: &str) -> (String, String) {
    let (repo, tag) = match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (image, "latest"),
    };
    let hub = repo.rsplit_once('/').map(|(h, _)| h).unwrap_or("docker.io/istio");
    (hub.to_string(), tag.to_string())
}

impl Injector {
    /// Reads the injector and mesh ConfigMaps of `revision` in `namespace`. A missing or
    /// unparsable ConfigMap leaves istiod with the chart defaults and values derived from its
    /// own image, as a freshly started istiod would render.
    pub fn load(store: &Store, namespace: &str, revision: &str, istiod_pod: &Value) -> Injector {
        let suffixed = |base: &str| format!("{base}-{revision}");
        let injector_cm =
            if revision == "default" && data_key(store, namespace, "istio-sidecar-injector", "config").is_some() {
                "istio-sidecar-injector".to_string()
            } else {
                suffixed("istio-sidecar-injector")
            };
        let mesh_cm = if revision == "default" { "istio".to_string() } else { suffixed("istio") };

        let config =
            data_key(store, namespace, &injector_cm, "config").and_then(|t| parse_yaml(&t)).unwrap_or(json!({}));
        let discovery = istiod_pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["name"] == "discovery").or(cs.first()))
            .cloned()
            .unwrap_or(Value::Null);
        let values = data_key(store, namespace, &injector_cm, "values")
            .and_then(|t| serde_json::from_str::<Value>(&t).ok().or_else(|| parse_yaml(&t)))
            .filter(Value::is_object)
            .unwrap_or_else(|| {
                let (hub, tag) = hub_and_tag(discovery["image"].as_str().unwrap_or_default());
                let rev = if revision == "default" { "" } else { revision };
                json!({"global": {"hub": hub, "tag": tag, "proxy": {"image": "proxyv2"}, "istioNamespace": namespace},
                       "revision": rev})
            });
        let mesh = data_key(store, namespace, &mesh_cm, "mesh").and_then(|t| parse_yaml(&t)).unwrap_or(json!({}));

        let env_native = discovery
            .get("env")
            .and_then(Value::as_array)
            .and_then(|env| env.iter().find(|e| e["name"] == "ENABLE_NATIVE_SIDECARS"))
            .and_then(|e| e.get("value"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let values_native = values.pointer("/pilot/env/ENABLE_NATIVE_SIDECARS").and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        });

        let policy = match config.get("policy") {
            Some(Value::String(s)) => s.clone(),
            // An absent policy unmarshals as "", which istiod treats as illegal (disabled).
            _ => String::new(),
        };
        let mut default_templates = strings(config.get("defaultTemplates"));
        if default_templates.is_empty() {
            default_templates.push("sidecar".into());
        }
        let mut templates: Vec<String> =
            config.get("templates").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        templates.sort();
        let aliases = config
            .get("aliases")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(Some(v)))).collect())
            .unwrap_or_default();
        let injected_annotations = config
            .get("injectedAnnotations")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
            .unwrap_or_default();
        Injector {
            revision: revision.to_string(),
            namespace: namespace.to_string(),
            policy,
            never: config.get("neverInjectSelector").and_then(Value::as_array).cloned().unwrap_or_default(),
            always: config.get("alwaysInjectSelector").and_then(Value::as_array).cloned().unwrap_or_default(),
            injected_annotations,
            default_templates,
            templates,
            aliases,
            values,
            mesh,
            native_env: env_native.or(values_native),
        }
    }

    /// `injectRequired()`: the first deciding step wins (ISTIO.md section 1.2).
    pub fn inject_required(&self, pod: &Value, namespace: &str) -> bool {
        if pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true) {
            return false;
        }
        if IGNORED_NAMESPACES.contains(&namespace) {
            return false;
        }
        let labels = labels_of(pod);
        let annotation = pod.pointer("/metadata/annotations").and_then(|a| a.get(INJECT_KEY)).and_then(Value::as_str);
        // The label is the current API and wins over the legacy annotation. Only the exact
        // strings "true" and "false" count; anything else is logged and treated as unset.
        let explicit = match labels.get(INJECT_KEY).map(String::as_str).or(annotation) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let decided = explicit
            .or_else(|| any_selects(&self.never, &labels).then_some(false))
            .or_else(|| any_selects(&self.always, &labels).then_some(true));
        match self.policy.as_str() {
            "enabled" => decided.unwrap_or(true),
            "disabled" => decided.unwrap_or(false),
            // An illegal policy disables injection outright, even for explicit opt-ins.
            _ => false,
        }
    }

    /// Templates to render: the pod's `inject.istio.io/templates` or the defaults, with
    /// aliases expanded one level.
    pub fn selected_templates(&self, pod: &Value) -> Vec<String> {
        let requested: Vec<String> = match pod
            .pointer("/metadata/annotations")
            .and_then(|a| a.get("inject.istio.io/templates"))
            .and_then(Value::as_str)
        {
            Some(list) => list.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
            None => self.default_templates.clone(),
        };
        requested.into_iter().flat_map(|t| self.aliases.get(&t).cloned().unwrap_or_else(|| vec![t])).collect()
    }
}

/// Empty selectors and selectors that fail to parse never match (istiod skips them).
fn any_selects(selectors: &[Value], labels: &Labels) -> bool {
    selectors.iter().any(|sel| {
        let has_labels = sel.get("matchLabels").and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        let has_exprs = sel.get("matchExpressions").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
        (has_labels || has_exprs) && selector_matches(Some(sel), labels)
    })
}
