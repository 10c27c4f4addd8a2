//! Sidecar injection as Istio decides it (ISTIO.md §1): Stage A evaluates the real
//! MutatingWebhookConfigurations the way the API server does, Stage B replays istiod's
//! `injectRequired()` order, and the result names the deciding label and webhook.
//! Pure; it must not hard-code which labels inject beyond naming them in reasons.

use super::snapshot::{InjectorConfig, Snapshot};
use crate::labels::{Labels, selector_matches};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Namespaces istiod never injects (`IgnoredNamespaces`).
pub const IGNORED_NAMESPACES: [&str; 4] = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"];
const INJECT: &str = "sidecar.istio.io/inject";
pub(super) const REV: &str = "istio.io/rev";
const TAG: &str = "istio.io/tag";
const NS_INJECTION: &str = "istio-injection";

/// The pod (or pod template) facts injection depends on.
#[derive(Debug, Clone, Copy)]
pub struct PodFacts<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub annotations: &'a Labels,
    pub host_network: bool,
}

/// One webhook that can still be called.
#[derive(Debug, Clone)]
pub struct ActiveWebhook<'a> {
    pub config: &'a str,
    pub webhook: &'a str,
    pub namespace_selector: Option<&'a Value>,
    pub object_selector: Option<&'a Value>,
    /// The configuration's `istio.io/rev`: for a tag webhook, already the target revision.
    pub revision: String,
    pub tag: Option<String>,
    pub service: Option<(&'a str, &'a str)>,
}

/// The injectors of a snapshot, collected once per derive.
#[derive(Debug, Default)]
pub struct Injectors<'a> {
    pub webhooks: Vec<ActiveWebhook<'a>>,
    /// (configuration, webhook) of injector webhooks made unmatchable with never-match.
    pub deactivated: Vec<(&'a str, &'a str)>,
    /// Injector ConfigMaps by the revision they serve.
    pub configs: HashMap<String, &'a InjectorConfig>,
    /// Tag → target revision, from tag webhook configurations.
    pub tags: BTreeMap<String, String>,
    /// Revisions and tags that own an active webhook: what an `istio.io/rev` value can name.
    pub known_names: BTreeSet<String>,
}

fn is_never_match(sel: Option<&Value>) -> bool {
    sel.and_then(|s| s.pointer("/matchLabels/istio.io~1deactivated")).and_then(Value::as_str) == Some("never-match")
}

impl<'a> Injectors<'a> {
    pub fn new(snap: &'a Snapshot) -> Injectors<'a> {
        let mut out = Injectors::default();
        for (name, cfg) in &snap.webhook_configs {
            let labels = &cfg.metadata.labels;
            let is_injector = labels.get("app").map(String::as_str) == Some("sidecar-injector")
                || cfg.webhooks.iter().any(|w| w.name.ends_with("sidecar-injector.istio.io"));
            if !is_injector {
                continue;
            }
            let revision = match labels.get(REV).filter(|r| !r.is_empty()) {
                Some(r) => r.clone(),
                None => match name.strip_prefix("istio-sidecar-injector-") {
                    Some(r) if !r.is_empty() => r.to_string(),
                    _ => "default".to_string(),
                },
            };
            let tag = labels.get(TAG).filter(|t| !t.is_empty()).cloned();
            if let Some(t) = &tag {
                out.tags.insert(t.clone(), revision.clone());
            }
            let mut active = false;
            for w in &cfg.webhooks {
                if is_never_match(w.namespace_selector.as_ref()) || is_never_match(w.object_selector.as_ref()) {
                    out.deactivated.push((name, &w.name));
                    continue;
                }
                active = true;
                out.webhooks.push(ActiveWebhook {
                    config: name,
                    webhook: &w.name,
                    namespace_selector: w.namespace_selector.as_ref(),
                    object_selector: w.object_selector.as_ref(),
                    revision: revision.clone(),
                    tag: tag.clone(),
                    service: w.client_config.service.as_ref().map(|s| (s.namespace.as_str(), s.name.as_str())),
                });
            }
            if active {
                out.known_names.insert(tag.clone().unwrap_or_else(|| revision.clone()));
            }
        }
        for cfg in snap.injector_configs.values() {
            let rev = cfg.revision();
            let conventional = cfg.metadata.name
                == if rev == "default" {
                    "istio-sidecar-injector".to_string()
                } else {
                    format!("istio-sidecar-injector-{rev}")
                };
            if conventional || !out.configs.contains_key(&rev) {
                out.configs.insert(rev, cfg);
            }
        }
        out
    }

    /// The tags pointing at a revision.
    pub fn tags_of(&self, revision: &str) -> Vec<String> {
        self.tags.iter().filter(|(_, r)| *r == revision).map(|(t, _)| t.clone()).collect()
    }
}

/// What a pod created now would get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    None,
    Revision(String),
    /// Several webhooks of different revisions match: double injection.
    Ambiguous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookMatch {
    pub config: String,
    pub webhook: String,
    pub revision: String,
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub inject: bool,
    /// The injecting revision (tags resolved), when exactly one is determined.
    pub revision: Option<String>,
    pub tag: Option<String>,
    /// More than one webhook matched (IST0139).
    pub conflict: bool,
    pub matches: Vec<WebhookMatch>,
    pub reason: String,
}

impl Decision {
    pub fn desired(&self) -> Desired {
        match (&self.revision, self.inject) {
            (_, false) => Desired::None,
            (Some(r), true) => Desired::Revision(r.clone()),
            (None, true) => Desired::Ambiguous,
        }
    }
}

/// The pod's explicit choice: label first, then the legacy annotation (§1.2 step 3).
/// Returns the value and where it came from; invalid values count as unset.
fn explicit_choice(pod: &PodFacts) -> Option<(bool, &'static str)> {
    let (v, src) = match pod.labels.get(INJECT) {
        Some(v) => (v, "pod label"),
        None => (pod.annotations.get(INJECT)?, "pod annotation"),
    };
    match v.as_str() {
        "true" => Some((true, src)),
        "false" => Some((false, src)),
        _ => None,
    }
}

/// Stage B refuses this pod whatever the webhooks, the namespace's labels and the injector
/// config say (hostNetwork, an ignored namespace, an explicit `false`): the one decision that
/// stays certain when those are hidden.
pub fn refused_regardless(pod: &PodFacts) -> bool {
    pod.host_network
        || IGNORED_NAMESPACES.contains(&pod.namespace)
        || explicit_choice(pod).is_some_and(|(inject, _)| !inject)
}

/// The pod says `sidecar.istio.io/inject` true or false itself, so Stage B never reads the
/// injector config for it.
pub fn chooses_itself(pod: &PodFacts) -> bool {
    explicit_choice(pod).is_some()
}

fn any_selector_matches(list: &[Value], labels: &Labels) -> bool {
    list.iter().any(|s| selector_matches(Some(s), labels))
}

/// Stage B (§1.2): (inject?, detail). The detail is empty when plain `policy: enabled` decided.
pub fn stage_b(pod: &PodFacts, cfg: Option<&InjectorConfig>) -> (bool, String) {
    if pod.host_network {
        return (false, "the pod uses hostNetwork, which istiod never injects".into());
    }
    if IGNORED_NAMESPACES.contains(&pod.namespace) {
        return (false, format!("namespace {} is ignored by the injector", pod.namespace));
    }
    if let Some((inject, src)) = explicit_choice(pod) {
        return (inject, format!("{src} {INJECT}={inject}"));
    }
    let cfg_name = cfg.map(|c| c.metadata.name.as_str()).unwrap_or("the injector config");
    if let Some(cfg) = cfg {
        if any_selector_matches(&cfg.never_inject_selector, pod.labels) {
            return (false, format!("pod labels match neverInjectSelector of {cfg_name}"));
        }
        if any_selector_matches(&cfg.always_inject_selector, pod.labels) {
            return (true, format!("pod labels match alwaysInjectSelector of {cfg_name}"));
        }
    }
    match cfg.map(|c| c.policy.as_str()).unwrap_or("enabled") {
        "enabled" => (true, String::new()),
        "disabled" => (false, format!("injector policy is disabled in {cfg_name}")),
        other => (false, format!("injector policy {other:?} in {cfg_name} is invalid and disables injection")),
    }
}

/// The label that made a webhook match, told from its name prefix (layout of §1.1).
fn trigger(webhook: &str, ns_labels: &Labels, pod: &PodFacts) -> String {
    let val = |l: &Labels, k: &str| l.get(k).cloned().unwrap_or_default();
    if webhook.starts_with("rev.namespace.") {
        format!("namespace label {REV}={}", val(ns_labels, REV))
    } else if webhook.starts_with("rev.object.") {
        format!("pod label {REV}={}", val(pod.labels, REV))
    } else if webhook.starts_with("namespace.") {
        format!("namespace label {NS_INJECTION}={}", val(ns_labels, NS_INJECTION))
    } else if webhook.starts_with("object.") {
        format!("pod label {INJECT}={}", val(pod.labels, INJECT))
    } else if webhook.starts_with("auto.") {
        "no injection label (namespaces are injected by default)".into()
    } else {
        "webhook selectors".into()
    }
}

fn via(m: &WebhookMatch) -> String {
    match &m.tag {
        Some(t) => format!("revision {} via tag {t}", m.revision),
        None => format!("revision {}", m.revision),
    }
}

/// Why no webhook selects the pod, from the labels that usually explain it.
fn no_match_reason(inj: &Injectors, ns_labels: &Labels, pod: &PodFacts) -> String {
    let dangling = |v: &str| !inj.known_names.contains(v);
    if pod.labels.get(INJECT).map(String::as_str) == Some("false") {
        return format!("pod label {INJECT}=false: no webhook is called");
    }
    if let Some(v) = ns_labels.get(NS_INJECTION) {
        if v != "enabled" {
            let note = if v == "disabled" { "" } else { " (not a recognised value; only enabled injects)" };
            return format!("namespace label {NS_INJECTION}={v} disables injection{note}");
        }
        return format!(
            "namespace label {NS_INJECTION}=enabled, but no default revision or default tag webhook is active; nothing injects"
        );
    }
    if let Some(v) = ns_labels.get(REV) {
        if dangling(v) {
            return format!("namespace label {REV}={v} names no revision or tag; nothing injects (dangling)");
        }
        return format!("namespace label {REV}={v}, but no webhook of it selects this pod");
    }
    if let Some(v) = pod.labels.get(REV) {
        if dangling(v) {
            return format!("pod label {REV}={v} names no revision or tag; nothing injects (dangling)");
        }
        return format!("pod label {REV}={v}, but no webhook of it selects this pod");
    }
    if pod.labels.get(INJECT).map(String::as_str) == Some("true") {
        return format!("pod label {INJECT}=true, but no default revision or default tag webhook is active");
    }
    if pod.annotations.get(INJECT).map(String::as_str) == Some("true") {
        return format!("annotation {INJECT}=true cannot opt in; only a label or namespace label selects a webhook");
    }
    "no injection label on the namespace or the pod; no webhook selects it".into()
}

/// Stage A and B for one pod (template) in a namespace with the given labels, which must
/// include `kubernetes.io/metadata.name` (see `Snapshot::namespace_labels`).
pub fn decide(inj: &Injectors, ns_labels: &Labels, pod: &PodFacts) -> Decision {
    let matched: Vec<&ActiveWebhook> = inj
        .webhooks
        .iter()
        .filter(|w| {
            selector_matches(w.namespace_selector, ns_labels) && selector_matches(w.object_selector, pod.labels)
        })
        .collect();
    let matches: Vec<WebhookMatch> = matched
        .iter()
        .map(|w| WebhookMatch {
            config: w.config.to_string(),
            webhook: w.webhook.to_string(),
            revision: w.revision.clone(),
            tag: w.tag.clone(),
        })
        .collect();
    let mut d = Decision { inject: false, revision: None, tag: None, conflict: false, matches, reason: String::new() };
    let ist0123 = match (ns_labels.get(NS_INJECTION), ns_labels.get(REV)) {
        (Some(_), Some(r)) => format!("; {NS_INJECTION} wins over namespace label {REV}={r} (IST0123)"),
        _ => String::new(),
    };
    match matched.as_slice() {
        [] => d.reason = no_match_reason(inj, ns_labels, pod),
        [w] => {
            let m = &d.matches[0];
            let head =
                format!("{} → webhook {}/{} ({})", trigger(w.webhook, ns_labels, pod), w.config, w.webhook, via(m));
            let (inject, detail) = stage_b(pod, inj.configs.get(&w.revision).copied());
            d.inject = inject;
            if inject {
                d.revision = Some(w.revision.clone());
                d.tag = w.tag.clone();
                // The webhook's own label already says what an explicit label says.
                let redundant = detail.is_empty() || detail == format!("pod label {INJECT}=true");
                let extra = if redundant { String::new() } else { format!("; {detail}") };
                d.reason = format!("{head}{extra}{ist0123}");
            } else {
                d.reason = format!("{head}, but {detail}: not injected{ist0123}");
            }
        }
        many => {
            d.conflict = true;
            let mut revisions = BTreeSet::new();
            for w in many {
                if stage_b(pod, inj.configs.get(&w.revision).copied()).0 {
                    revisions.insert(w.revision.clone());
                }
            }
            d.inject = !revisions.is_empty();
            if revisions.len() == 1 {
                d.revision = revisions.into_iter().next();
            }
            let list: Vec<String> =
                d.matches.iter().map(|m| format!("{}/{} ({})", m.config, m.webhook, via(m))).collect();
            d.reason = format!(
                "CONFLICT: {} webhooks select this pod: {}; it would be injected twice or unpredictably (IST0139)",
                list.len(),
                list.join(", ")
            );
        }
    }
    d
}

/// The namespace-level view: what its labels ask for and what a plain pod created there gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceInjection {
    /// `enabled`, `disabled` or `unset`, from the namespace's own labels.
    pub mode: &'static str,
    pub revision: Option<String>,
    pub reason: String,
    pub conflict: bool,
    /// A plain pod created here now gets a sidecar.
    pub inject: bool,
    /// Some webhook selects a plain pod here.
    pub selected: bool,
}

pub fn namespace_injection(inj: &Injectors, ns: &str, ns_labels: &Labels) -> NamespaceInjection {
    let mode = match (ns_labels.get(NS_INJECTION).map(String::as_str), ns_labels.contains_key(REV)) {
        (Some("enabled"), _) => "enabled",
        (Some(_), _) => "disabled",
        (None, true) => "enabled",
        (None, false) => "unset",
    };
    let empty = Labels::new();
    let plain = PodFacts { namespace: ns, labels: &empty, annotations: &empty, host_network: false };
    let d = decide(inj, ns_labels, &plain);
    NamespaceInjection {
        mode,
        revision: if d.inject { d.revision } else { None },
        reason: d.reason,
        conflict: d.conflict,
        inject: d.inject,
        selected: !d.matches.is_empty(),
    }
}

/// The selector that deactivates a webhook (`istioctl tag set default`); for fixtures and plans.
pub fn never_match_selector() -> Value {
    json!({"matchLabels": {"istio.io/deactivated": "never-match"}})
}

/// The pod or its namespace explicitly asked for no sidecar: `sidecar.istio.io/inject=false`
/// (label or annotation) or `istio-injection=disabled`. Losing a proxy is then intended.
pub fn opted_out(ns_labels: &Labels, pod: &PodFacts) -> bool {
    explicit_choice(pod).is_some_and(|(inject, _)| !inject)
        || ns_labels.get(NS_INJECTION).map(String::as_str) == Some("disabled")
}
