//! The kinds the caller could not read (RBAC refused them) and what each one hides from the
//! view. Data only: the caller says which kinds were forbidden; nothing here asks the cluster.
//! A fact a hidden kind decides is reported unknown with the reason, never derived from the gap.

use std::collections::BTreeSet;

/// A kind the mesh model reads, named as the snapshot files it (`Snapshot::remove`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    Namespace,
    Pod,
    Service,
    ServiceAccount,
    ConfigMap,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    MutatingWebhookConfiguration,
    PeerAuthentication,
    AuthorizationPolicy,
    VirtualService,
    Gateway,
    DestinationRule,
}

impl Input {
    pub const ALL: [Input; 18] = [
        Input::Namespace,
        Input::Pod,
        Input::Service,
        Input::ServiceAccount,
        Input::ConfigMap,
        Input::Deployment,
        Input::StatefulSet,
        Input::DaemonSet,
        Input::ReplicaSet,
        Input::Job,
        Input::PodDisruptionBudget,
        Input::HorizontalPodAutoscaler,
        Input::MutatingWebhookConfiguration,
        Input::PeerAuthentication,
        Input::AuthorizationPolicy,
        Input::VirtualService,
        Input::Gateway,
        Input::DestinationRule,
    ];

    pub fn from_kind(kind: &str) -> Option<Input> {
        Input::ALL.into_iter().find(|i| i.kind() == kind)
    }

    pub fn kind(self) -> &'static str {
        match self {
            Input::Namespace => "Namespace",
            Input::Pod => "Pod",
            Input::Service => "Service",
            Input::ServiceAccount => "ServiceAccount",
            Input::ConfigMap => "ConfigMap",
            Input::Deployment => "Deployment",
            Input::StatefulSet => "StatefulSet",
            Input::DaemonSet => "DaemonSet",
            Input::ReplicaSet => "ReplicaSet",
            Input::Job => "Job",
            Input::PodDisruptionBudget => "PodDisruptionBudget",
            Input::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Input::MutatingWebhookConfiguration => "MutatingWebhookConfiguration",
            Input::PeerAuthentication => "PeerAuthentication",
            Input::AuthorizationPolicy => "AuthorizationPolicy",
            Input::VirtualService => "VirtualService",
            Input::Gateway => "Gateway",
            Input::DestinationRule => "DestinationRule",
        }
    }

    /// `plural.group`, as the API server and RBAC rules name the resource.
    pub fn resource(self) -> &'static str {
        match self {
            Input::Namespace => "namespaces",
            Input::Pod => "pods",
            Input::Service => "services",
            Input::ServiceAccount => "serviceaccounts",
            Input::ConfigMap => "configmaps",
            Input::Deployment => "deployments.apps",
            Input::StatefulSet => "statefulsets.apps",
            Input::DaemonSet => "daemonsets.apps",
            Input::ReplicaSet => "replicasets.apps",
            Input::Job => "jobs.batch",
            Input::PodDisruptionBudget => "poddisruptionbudgets.policy",
            Input::HorizontalPodAutoscaler => "horizontalpodautoscalers.autoscaling",
            Input::MutatingWebhookConfiguration => "mutatingwebhookconfigurations.admissionregistration.k8s.io",
            Input::PeerAuthentication => "peerauthentications.security.istio.io",
            Input::AuthorizationPolicy => "authorizationpolicies.security.istio.io",
            Input::VirtualService => "virtualservices.networking.istio.io",
            Input::Gateway => "gateways.networking.istio.io",
            Input::DestinationRule => "destinationrules.networking.istio.io",
        }
    }

    /// What the view cannot tell without this kind.
    pub fn affects(self) -> &'static str {
        match self {
            Input::MutatingWebhookConfiguration => "injection expectations, revision tags and staleness are unknown",
            Input::Namespace => {
                "namespace labels are unknown, so injection expectations and modes, ambient enrolment and staleness \
                 are unknown; namespaces without workloads are not listed"
            }
            Input::Pod => {
                "pod and proxy counts, proxy revisions and versions, and staleness are unknown; bare pods are not listed"
            }
            Input::ConfigMap => {
                "the injector's policy and selectors, expected proxy images and the root namespace are unknown, so \
                 injection expectations the injector config decides, STALE-IMAGE, and mTLS and authorization a \
                 root-namespace policy may decide are unknown"
            }
            Input::PeerAuthentication => "mTLS modes are unknown",
            Input::AuthorizationPolicy => "authorization policies and verdicts are unknown",
            Input::Service => {
                "the Services of each workload are unknown; ORPHANED and missing webhook Services are not asserted"
            }
            Input::Deployment => {
                "Deployments without pods and istiod revisions are not listed, so revision versions, ORPHANED and \
                 UNSUPPORTED-SKEW are unknown"
            }
            Input::StatefulSet => "StatefulSets without pods are not listed",
            Input::DaemonSet => "DaemonSets without pods are not listed",
            Input::Job => "Jobs without pods are not listed",
            Input::ReplicaSet => "pods are linked to their Deployments by the pod-template-hash naming convention",
            Input::ServiceAccount
            | Input::PodDisruptionBudget
            | Input::HorizontalPodAutoscaler
            | Input::VirtualService
            | Input::Gateway
            | Input::DestinationRule => "the inventory does not read them; plan checks that do are limited",
        }
    }
}

/// The kinds RBAC refused to the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hidden(BTreeSet<Input>);

impl Hidden {
    pub fn of(inputs: impl IntoIterator<Item = Input>) -> Hidden {
        Hidden(inputs.into_iter().collect())
    }

    /// From the snapshot's kind names; names the model does not read are ignored.
    pub fn of_kinds<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Hidden {
        Hidden::of(kinds.into_iter().filter_map(Input::from_kind))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, i: Input) -> bool {
        self.0.contains(&i)
    }

    pub fn iter(&self) -> impl Iterator<Item = Input> + '_ {
        self.0.iter().copied()
    }

    /// "unknown: A and B are forbidden to this user" for those of `inputs` that are hidden,
    /// or `None` when every one of them could be read.
    pub fn unknown(&self, inputs: &[Input]) -> Option<String> {
        self.forbidden(inputs).map(|f| format!("unknown: {f}"))
    }

    /// "A and B are forbidden to this user" for those of `inputs` that are hidden.
    pub fn forbidden(&self, inputs: &[Input]) -> Option<String> {
        let mut names: Vec<&str> = Vec::new();
        for i in inputs {
            if self.contains(*i) && !names.contains(&i.resource()) {
                names.push(i.resource());
            }
        }
        let list = match names.split_last()? {
            (last, []) => last.to_string(),
            (last, rest) => format!("{} and {last}", rest.join(", ")),
        };
        Some(format!("{list} are forbidden to this user"))
    }

    /// One line per hidden kind: what it is and what the view cannot tell without it.
    pub fn warnings(&self) -> Vec<String> {
        self.iter().map(|i| format!("{}: forbidden; {}", i.resource(), i.affects())).collect()
    }
}
