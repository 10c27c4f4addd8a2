//! The resource kinds the simulated API server serves: names, groups, versions, scope and
//! short names. It is the single table discovery, routing and storage agree on; it holds no
//! objects and does no IO.

/// One served resource. Objects are stored once per `(group, plural)`; every version in
/// `versions` is an alias that reads and writes the same objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub group: &'static str,
    pub versions: &'static [&'static str],
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// The reviews (SelfSubjectAccessReview, SelfSubjectReview) are create-only and never stored.
    pub virtual_only: bool,
}

impl Kind {
    /// The version objects are stored and listed in by default (the first listed).
    pub fn preferred_version(&self) -> &'static str {
        self.versions[0]
    }

    /// `plural.group` (`deployments.apps`), or the plural alone in the core group: how the API
    /// server names a resource in its messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }

    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() { version.to_string() } else { format!("{}/{}", self.group, version) }
    }

    pub fn verbs(&self) -> &'static [&'static str] {
        if self.virtual_only {
            &["create"]
        } else {
            &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        }
    }
}

macro_rules! kind {
    ($group:expr, [$($v:expr),+], $plural:expr, $singular:expr, $kind:expr, $ns:expr, [$($s:expr),*]) => {
        KindDef { kind: Kind { group: $group, versions: &[$($v),+], plural: $plural, singular: $singular,
            kind: $kind, namespaced: $ns, short_names: &[$($s),*], virtual_only: false } }
    };
}

struct KindDef {
    kind: Kind,
}

static DEFS: &[KindDef] = &[
    kind!("", ["v1"], "namespaces", "namespace", "Namespace", false, ["ns"]),
    kind!("", ["v1"], "pods", "pod", "Pod", true, ["po"]),
    kind!("", ["v1"], "services", "service", "Service", true, ["svc"]),
    kind!("", ["v1"], "serviceaccounts", "serviceaccount", "ServiceAccount", true, ["sa"]),
    kind!("", ["v1"], "configmaps", "configmap", "ConfigMap", true, ["cm"]),
    kind!("", ["v1"], "secrets", "secret", "Secret", true, []),
    kind!("", ["v1"], "events", "event", "Event", true, ["ev"]),
    kind!("", ["v1"], "nodes", "node", "Node", false, ["no"]),
    kind!("apps", ["v1"], "deployments", "deployment", "Deployment", true, ["deploy"]),
    kind!("apps", ["v1"], "replicasets", "replicaset", "ReplicaSet", true, ["rs"]),
    kind!("apps", ["v1"], "statefulsets", "statefulset", "StatefulSet", true, ["sts"]),
    kind!("apps", ["v1"], "daemonsets", "daemonset", "DaemonSet", true, ["ds"]),
    kind!("batch", ["v1"], "jobs", "job", "Job", true, []),
    kind!("policy", ["v1"], "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, ["pdb"]),
    kind!(
        "autoscaling",
        ["v2"],
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        ["hpa"]
    ),
    kind!(
        "admissionregistration.k8s.io",
        ["v1"],
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration",
        false,
        []
    ),
    kind!(
        "admissionregistration.k8s.io",
        ["v1"],
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        "ValidatingWebhookConfiguration",
        false,
        []
    ),
    kind!(
        "security.istio.io",
        ["v1", "v1beta1"],
        "peerauthentications",
        "peerauthentication",
        "PeerAuthentication",
        true,
        ["pa"]
    ),
    kind!(
        "security.istio.io",
        ["v1", "v1beta1"],
        "authorizationpolicies",
        "authorizationpolicy",
        "AuthorizationPolicy",
        true,
        ["ap"]
    ),
    kind!(
        "security.istio.io",
        ["v1", "v1beta1"],
        "requestauthentications",
        "requestauthentication",
        "RequestAuthentication",
        true,
        ["ra"]
    ),
    kind!(
        "networking.istio.io",
        ["v1", "v1beta1", "v1alpha3"],
        "virtualservices",
        "virtualservice",
        "VirtualService",
        true,
        ["vs"]
    ),
    kind!("networking.istio.io", ["v1", "v1beta1", "v1alpha3"], "gateways", "gateway", "Gateway", true, ["gw"]),
    kind!(
        "networking.istio.io",
        ["v1", "v1beta1", "v1alpha3"],
        "destinationrules",
        "destinationrule",
        "DestinationRule",
        true,
        ["dr"]
    ),
    kind!(
        "networking.istio.io",
        ["v1", "v1beta1", "v1alpha3"],
        "serviceentries",
        "serviceentry",
        "ServiceEntry",
        true,
        ["se"]
    ),
    kind!("networking.istio.io", ["v1", "v1beta1", "v1alpha3"], "sidecars", "sidecar", "Sidecar", true, []),
    KindDef {
        kind: Kind {
            group: "authorization.k8s.io",
            versions: &["v1"],
            plural: "selfsubjectaccessreviews",
            singular: "selfsubjectaccessreview",
            kind: "SelfSubjectAccessReview",
            namespaced: false,
            short_names: &[],
            virtual_only: true,
        },
    },
    KindDef {
        kind: Kind {
            group: "authentication.k8s.io",
            versions: &["v1"],
            plural: "selfsubjectreviews",
            singular: "selfsubjectreview",
            kind: "SelfSubjectReview",
            namespaced: false,
            short_names: &[],
            virtual_only: true,
        },
    },
];

/// Every served kind, in discovery order.
pub fn all() -> impl Iterator<Item = &'static Kind> {
    DEFS.iter().map(|d| &d.kind)
}

/// The kind served at `group`/`version` under `plural`, if any.
pub fn by_resource(group: &str, version: &str, plural: &str) -> Option<&'static Kind> {
    all().find(|k| k.group == group && k.plural == plural && k.versions.contains(&version))
}

/// The kind named by an object's `apiVersion` and `kind`.
pub fn by_api_version_kind(api_version: &str, kind: &str) -> Option<&'static Kind> {
    let (group, version) = split_api_version(api_version);
    all().find(|k| k.group == group && k.kind == kind && k.versions.contains(&version))
}

/// Look a kind up by group and plural alone (the storage identity).
pub fn by_group_plural(group: &str, plural: &str) -> Option<&'static Kind> {
    all().find(|k| k.group == group && k.plural == plural)
}

pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Groups in discovery order, each with its versions (preferred first).
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for k in all().filter(|k| !k.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == k.group) {
            Some((_, vs)) => {
                for v in k.versions {
                    if !vs.contains(v) {
                        vs.push(v);
                    }
                }
            }
            None => out.push((k.group, k.versions.to_vec())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networking_versions_alias_the_same_kind() {
        let a = by_resource("networking.istio.io", "v1alpha3", "virtualservices").unwrap();
        let b = by_resource("networking.istio.io", "v1", "virtualservices").unwrap();
        assert_eq!(a, b);
        assert!(by_resource("networking.istio.io", "v2", "virtualservices").is_none());
        assert_eq!(by_api_version_kind("apps/v1", "Deployment").unwrap().plural, "deployments");
        assert_eq!(by_api_version_kind("v1", "Pod").unwrap().group, "");
    }
}
