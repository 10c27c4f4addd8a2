//! Which derived facts a hidden kind decides (see `hidden`): for each fact of a row, the
//! hidden inputs it depends on, so `derive` reports it unknown instead of deriving it from the
//! gap. Built once per derive from per-namespace sets; nothing scans every pod or policy per
//! row. Pure.

use super::hidden::{Hidden, Input};
use super::injection::{Decision, PodFacts, REV, chooses_itself, opted_out, refused_regardless, stage_b};
use super::revision::{PodStaleness, StaleList, Staleness, summarize};
use super::snapshot::Snapshot;
use super::view::{Unknown, WorkloadInjectionView};
use crate::labels::Labels;
use std::collections::{BTreeSet, HashSet};

/// Three-valued AND: a known `false` decides, else any unknown leaves the result unknown.
pub fn all_of(facts: &[Option<bool>]) -> Option<bool> {
    if facts.contains(&Some(false)) {
        Some(false)
    } else if facts.contains(&None) {
        None
    } else {
        Some(true)
    }
}

/// Three-valued OR: a known `true` decides, else any unknown leaves the result unknown.
pub fn any_of(facts: &[Option<bool>]) -> Option<bool> {
    if facts.contains(&Some(true)) {
        Some(true)
    } else if facts.contains(&None) {
        None
    } else {
        Some(false)
    }
}

/// The hidden kinds of one snapshot and what they leave open, collected once per derive.
#[derive(Debug, Default)]
pub struct Partial<'a> {
    pub hidden: Hidden,
    /// Only filled while the root namespace is unknown (ConfigMaps hidden): namespaces with a
    /// namespace-wide PeerAuthentication, any of which may be the mesh-wide one.
    pa_wide: HashSet<&'a str>,
    /// Namespaces with a workload-selecting PeerAuthentication, ignored if that is the root.
    pa_selecting: HashSet<&'a str>,
    /// Namespaces with AuthorizationPolicies, any of which may apply mesh-wide.
    ap_spaces: HashSet<&'a str>,
    /// Some policy is `istio.io/rev`-scoped while the revision a workload's istiod serves (or
    /// the tags naming it) may be hidden.
    pa_rev_scoped: bool,
    ap_rev_scoped: bool,
}

impl<'a> Partial<'a> {
    pub fn new(snap: &'a Snapshot) -> Partial<'a> {
        let hidden = snap.hidden.clone();
        let mut p = Partial::default();
        let root_unknown = hidden.contains(Input::ConfigMap);
        let scope_unknown =
            [Input::MutatingWebhookConfiguration, Input::Pod, Input::Namespace].iter().any(|i| hidden.contains(*i));
        if root_unknown || scope_unknown {
            for pa in snap.peer_authentications.values() {
                let ns = pa.metadata.namespace.as_str();
                if root_unknown {
                    match super::mtls::selector_of(pa).is_some() {
                        true => p.pa_selecting.insert(ns),
                        false => p.pa_wide.insert(ns),
                    };
                }
                p.pa_rev_scoped |= scope_unknown && pa.metadata.labels.contains_key(REV);
            }
            for ap in snap.authorization_policies.values() {
                if root_unknown {
                    p.ap_spaces.insert(ap.metadata.namespace.as_str());
                }
                p.ap_rev_scoped |= scope_unknown && ap.metadata.labels.contains_key(REV);
            }
        }
        p.hidden = hidden;
        p
    }

    fn hidden_of(&self, inputs: &[Input]) -> Vec<Input> {
        inputs.iter().copied().filter(|i| self.hidden.contains(*i)).collect()
    }

    pub fn reason(&self, inputs: &[Input]) -> Option<String> {
        self.hidden.unknown(inputs)
    }

    /// The hidden inputs that leave open whether a pod (template) is injected and by which
    /// revision: the webhooks, the namespace labels they select by, and the injector config
    /// when Stage B would read it. Empty when Stage B refuses the pod regardless.
    pub fn injection(&self, pod: &PodFacts, selected: bool) -> Vec<Input> {
        if self.hidden.is_empty() || refused_regardless(pod) {
            return Vec::new();
        }
        let mut out = self.hidden_of(&[Input::MutatingWebhookConfiguration, Input::Namespace]);
        let may_be_selected = !out.is_empty() || selected;
        if self.hidden.contains(Input::ConfigMap) && may_be_selected && !chooses_itself(pod) {
            out.push(Input::ConfigMap);
        }
        out
    }

    /// With the injection inputs hidden, why a pod Stage B refuses is still known not to be injected.
    pub fn certain_refusal(&self, pod: &PodFacts) -> Option<String> {
        let inputs = [Input::MutatingWebhookConfiguration, Input::Namespace, Input::ConfigMap];
        if self.hidden_of(&inputs).is_empty() || !refused_regardless(pod) {
            return None;
        }
        Some(format!("{}: not injected, whichever webhook selects it", stage_b(pod, None).1))
    }

    /// Whether the pod or its namespace asked for no sidecar; unknown when only the hidden
    /// namespace labels could say.
    pub fn opted_out(&self, ns_labels: &Labels, pod: &PodFacts) -> Option<bool> {
        if opted_out(ns_labels, pod) {
            Some(true)
        } else if self.hidden.contains(Input::Namespace) {
            None
        } else {
            Some(false)
        }
    }

    /// The hidden inputs the undecided staleness kinds of a row depend on.
    pub fn staleness(&self, kinds: &BTreeSet<Staleness>, injection: &[Input]) -> Vec<Input> {
        let mut out = self.hidden_of(&[Input::Pod]);
        for k in kinds {
            match k {
                Staleness::StaleRevision | Staleness::MissingProxy => out.extend(injection),
                Staleness::WillLoseProxy => {
                    out.extend(injection);
                    out.extend(self.hidden_of(&[Input::Namespace]));
                }
                Staleness::Orphaned => out.extend(self.hidden_of(&[Input::Deployment, Input::Service])),
                Staleness::StaleImage => out.extend(self.hidden_of(&[Input::ConfigMap])),
                Staleness::UnsupportedSkew => out.extend(self.hidden_of(&[Input::Deployment])),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn scope(&self, rev_scoped: bool, workload: bool) -> Vec<Input> {
        match (rev_scoped, workload) {
            (false, _) => Vec::new(),
            (true, true) => self.hidden_of(&[Input::MutatingWebhookConfiguration, Input::Namespace, Input::Pod]),
            (true, false) => self.hidden_of(&[Input::MutatingWebhookConfiguration, Input::Namespace]),
        }
    }

    /// The hidden inputs the effective mTLS mode in `ns` depends on: the policies themselves,
    /// the root namespace when a policy elsewhere (or a selecting one here) may be mesh-wide,
    /// and the revision scope of `istio.io/rev`-labelled policies.
    pub fn mtls(&self, ns: &str, workload: bool) -> Vec<Input> {
        let mut out = self.hidden_of(&[Input::PeerAuthentication]);
        let elsewhere = self.pa_wide.len() > usize::from(self.pa_wide.contains(ns));
        if elsewhere || (workload && self.pa_selecting.contains(ns)) {
            out.push(Input::ConfigMap);
        }
        out.extend(self.scope(self.pa_rev_scoped, workload));
        out
    }

    /// The hidden inputs a workload's authorization in `ns` depends on (as `mtls`).
    pub fn authorization(&self, ns: &str) -> Vec<Input> {
        let mut out = self.hidden_of(&[Input::AuthorizationPolicy]);
        if self.ap_spaces.len() > usize::from(self.ap_spaces.contains(ns)) {
            out.push(Input::ConfigMap);
        }
        out.extend(self.scope(self.ap_rev_scoped, true));
        out
    }
}

/// Records why `key` is unknown when any of `inputs` is hidden; returns whether it is.
pub fn note(unknown: &mut Unknown, partial: &Partial, key: &'static str, inputs: &[Input]) -> bool {
    match partial.reason(inputs) {
        Some(r) => {
            unknown.insert(key, r);
            true
        }
        None => false,
    }
}

/// A workload's injection as far as it can be known; `hidden` is `Partial::injection`'s answer.
pub fn injection_view(
    partial: &Partial,
    pod: &PodFacts,
    decision: &Decision,
    hidden: &[Input],
    unknown: &mut Unknown,
) -> WorkloadInjectionView {
    if let Some(reason) = partial.reason(hidden) {
        unknown.insert("injection.expected", reason.clone());
        return WorkloadInjectionView { expected: None, revision: None, reason, conflict: None };
    }
    let selection = [Input::MutatingWebhookConfiguration, Input::Namespace];
    let conflict = (!note(unknown, partial, "injection.conflict", &selection)).then_some(decision.conflict);
    WorkloadInjectionView {
        expected: Some(decision.inject),
        revision: decision.revision.clone(),
        reason: partial.certain_refusal(pod).unwrap_or_else(|| decision.reason.clone()),
        conflict,
    }
}

/// A workload's staleness: what its pods were found to have, and what hidden kinds leave open.
pub struct StaleView {
    pub stale: Option<bool>,
    pub reason: Option<String>,
    pub kinds: Vec<&'static str>,
    pub unknown: Vec<&'static str>,
}

/// "A", "A or B", "A, B or C".
fn either(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Adds up the judged pods of a row (each distinct result with how many pods share it).
/// A staleness found is asserted whatever else is hidden; with none found, any undecided kind
/// leaves `stale` unknown.
pub fn stale_view(
    partial: &Partial,
    groups: Vec<(PodStaleness, usize)>,
    live: usize,
    injection: &[Input],
) -> StaleView {
    let mut undecided: BTreeSet<Staleness> = BTreeSet::new();
    let mut found: Vec<(StaleList, usize)> = Vec::with_capacity(groups.len());
    for (s, n) in groups {
        undecided.extend(s.unknown);
        found.push((s.found, n));
    }
    if partial.hidden.contains(Input::Pod) {
        undecided.extend(Staleness::ALL);
    }
    let kinds: BTreeSet<Staleness> = found.iter().flat_map(|(l, _)| l.iter().map(|(k, _)| *k)).collect();
    undecided.retain(|k| !kinds.contains(k));
    let found_reason = summarize(&found, live);
    let open = (!undecided.is_empty()).then(|| {
        let names: Vec<&str> = undecided.iter().map(|k| k.as_str()).collect();
        let why = partial.hidden.forbidden(&partial.staleness(&undecided, injection));
        format!("unknown whether {}: {}", either(&names), why.unwrap_or_else(|| "its inputs are hidden".into()))
    });
    let stale = match (&found_reason, &open) {
        (Some(_), _) => Some(true),
        (None, Some(_)) => None,
        (None, None) => Some(false),
    };
    let reason = match (found_reason, open) {
        (Some(f), Some(u)) => Some(format!("{f}; {u}")),
        (f, u) => f.or(u),
    };
    StaleView {
        stale,
        reason,
        kinds: kinds.iter().map(|k| k.as_str()).collect(),
        unknown: undecided.iter().map(|k| k.as_str()).collect(),
    }
}
