//! Which AuthorizationPolicies apply to a sidecar workload and what they add up to
//! (ISTIO.md §5.2, §5.3): root and own namespace, selector ⊆ labels or none, `targetRefs`
//! ignored, dry-run flagged. Pure; it does not evaluate individual requests.

use super::istio_types::AuthorizationPolicy;
use super::mtls::RevScope;
use super::selector::SelectorIndex;
use super::snapshot::Snapshot;
use crate::labels::Labels;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// What one policy does to the workload by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// ALLOW without rules: matches nothing, so everything not otherwise allowed is denied.
    AllowNothing,
    /// ALLOW with an empty rule `{}`.
    AllowAll,
    AllowMatching,
    /// DENY with an empty rule `{}`.
    DenyAll,
    DenyMatching,
    /// DENY, AUDIT or CUSTOM without rules: matches nothing.
    NoEffect,
    Audit,
    Custom,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::AllowNothing => "allow-nothing",
            Effect::AllowAll => "allow-all",
            Effect::AllowMatching => "allow-matching",
            Effect::DenyAll => "deny-all",
            Effect::DenyMatching => "deny-matching",
            Effect::NoEffect => "no-effect",
            Effect::Audit => "audit",
            Effect::Custom => "custom",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPolicy {
    /// "NS/NAME".
    pub name: String,
    pub action: String,
    pub effect: Effect,
    /// `istio.io/dry-run: "true"`: built as shadow rules, not enforced.
    pub dry_run: bool,
    pub provider: Option<String>,
}

/// Overall outcome: `allow-all`, `deny-all` or `restricted` (depends on the request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzResult {
    pub policies: Vec<AppliedPolicy>,
    pub verdict: &'static str,
    pub notes: Vec<String>,
}

/// A rule with no `from`, `to` or `when` (or only empty lists) matches every request.
fn rule_matches_all(rule: &Value) -> bool {
    let Some(m) = rule.as_object() else { return false };
    ["from", "to", "when"]
        .iter()
        .all(|k| m.get(*k).is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty)))
}

pub fn action_of(ap: &AuthorizationPolicy) -> String {
    ap.spec.action.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| "ALLOW".into())
}

pub fn effect_of(ap: &AuthorizationPolicy) -> Effect {
    let rules = &ap.spec.rules;
    let all = rules.iter().any(rule_matches_all);
    match action_of(ap).as_str() {
        "ALLOW" if rules.is_empty() => Effect::AllowNothing,
        "ALLOW" if all => Effect::AllowAll,
        "ALLOW" => Effect::AllowMatching,
        _ if rules.is_empty() => Effect::NoEffect,
        "DENY" if all => Effect::DenyAll,
        "DENY" => Effect::DenyMatching,
        "AUDIT" => Effect::Audit,
        _ => Effect::Custom,
    }
}

fn is_dry_run(ap: &AuthorizationPolicy) -> bool {
    ap.metadata.annotations.get("istio.io/dry-run").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn applied(ap: &AuthorizationPolicy) -> AppliedPolicy {
    AppliedPolicy {
        name: ap.metadata.ns_name(),
        action: action_of(ap),
        effect: effect_of(ap),
        dry_run: is_dry_run(ap),
        provider: ap.spec.provider.as_ref().and_then(|p| p.name.clone()),
    }
}

/// Adds up the enforced policies (§5.1 order; §5.3 empty versus allow-all).
pub fn summarize(policies: Vec<AppliedPolicy>) -> AuthzResult {
    let mut notes = Vec::new();
    for p in &policies {
        if p.dry_run {
            notes.push(format!("{} is dry-run: not enforced", p.name));
        } else if p.effect == Effect::AllowNothing {
            notes.push(format!("{} is an ALLOW policy without rules: it denies every request", p.name));
        } else if p.effect == Effect::NoEffect {
            notes.push(format!("{} is a {} policy without rules: no effect", p.name, p.action));
        }
    }
    let enforced: Vec<&AppliedPolicy> = policies.iter().filter(|p| !p.dry_run).collect();
    let allows: Vec<&&AppliedPolicy> = enforced.iter().filter(|p| p.action == "ALLOW").collect();
    let denies_some = enforced.iter().any(|p| matches!(p.effect, Effect::DenyMatching | Effect::Custom));
    let verdict = if enforced.iter().any(|p| p.effect == Effect::DenyAll)
        || (!allows.is_empty() && allows.iter().all(|p| p.effect == Effect::AllowNothing))
    {
        "deny-all"
    } else if (allows.is_empty() || allows.iter().any(|p| p.effect == Effect::AllowAll)) && !denies_some {
        "allow-all"
    } else {
        "restricted"
    };
    AuthzResult { policies, verdict, notes }
}

#[derive(Debug, Default)]
struct NsPolicies<'a> {
    selectors: SelectorIndex<'a, &'a AuthorizationPolicy>,
}

/// AuthorizationPolicies by namespace and selector, built once per derive. Policies with
/// `targetRef(s)` are left out: sidecars ignore them.
#[derive(Debug)]
pub struct AuthzIndex<'a> {
    pub root: String,
    per_ns: HashMap<&'a str, NsPolicies<'a>>,
}

impl<'a> AuthzIndex<'a> {
    pub fn new(snap: &'a Snapshot, root: &str) -> AuthzIndex<'a> {
        let mut per_ns: HashMap<&'a str, NsPolicies<'a>> = HashMap::new();
        for ap in snap.authorization_policies.values() {
            if ap.spec.target_ref.as_ref().is_some_and(|v| !v.is_null()) || !ap.spec.target_refs.is_empty() {
                continue;
            }
            let sel = ap.spec.selector.as_ref().map(|s| &s.match_labels).filter(|m| !m.is_empty());
            per_ns.entry(ap.metadata.namespace.as_str()).or_default().selectors.add(sel, ap);
        }
        AuthzIndex { root: root.to_string(), per_ns }
    }

    /// Policies that apply to a workload with these pod labels, sorted by "NS/NAME".
    pub fn workload(&self, ns: &str, labels: &Labels, scope: &RevScope) -> AuthzResult {
        let mut found: Vec<&AuthorizationPolicy> = Vec::new();
        let mut spaces = vec![self.root.as_str()];
        if ns != self.root {
            spaces.push(ns);
        }
        for space in spaces {
            if let Some(p) = self.per_ns.get(space) {
                found.extend(p.selectors.unselected().iter().copied());
                found.extend(p.selectors.selected_by(labels));
            }
        }
        let mut list: Vec<AppliedPolicy> =
            found.into_iter().filter(|ap| scope.sees(&ap.metadata.labels)).map(applied).collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        summarize(list)
    }
}
