//! Slim serde shapes of the Istio and admission objects the mesh model reads (policies,
//! injector webhooks and ConfigMaps, routing config). Only the fields it uses; no IO.

use super::types::{Meta, nd};
use crate::labels::Labels;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Istio's `WorkloadSelector`: matchLabels only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSelector {
    #[serde(default, deserialize_with = "nd")]
    pub match_labels: Labels,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MtlsSetting {
    #[serde(default)]
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerAuthenticationSpec {
    #[serde(default)]
    pub selector: Option<WorkloadSelector>,
    #[serde(default)]
    pub mtls: Option<MtlsSetting>,
    /// Keyed by workload (container) port number, as JSON object keys are strings.
    #[serde(default, deserialize_with = "nd")]
    pub port_level_mtls: BTreeMap<String, MtlsSetting>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PeerAuthentication {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: PeerAuthenticationSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Provider {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationPolicySpec {
    #[serde(default)]
    pub selector: Option<WorkloadSelector>,
    #[serde(default)]
    pub target_ref: Option<Value>,
    #[serde(default, deserialize_with = "nd")]
    pub target_refs: Vec<Value>,
    #[serde(default)]
    pub action: Option<String>,
    /// Kept as JSON: the model only needs to know whether a rule is empty.
    #[serde(default, deserialize_with = "nd")]
    pub rules: Vec<Value>,
    #[serde(default)]
    pub provider: Option<Provider>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizationPolicy {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: AuthorizationPolicySpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceRef {
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientConfig {
    #[serde(default)]
    pub service: Option<ServiceRef>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Kept as JSON LabelSelectors and matched with `crate::labels::selector_matches`.
    #[serde(default)]
    pub namespace_selector: Option<Value>,
    #[serde(default)]
    pub object_selector: Option<Value>,
    #[serde(default, deserialize_with = "nd")]
    pub client_config: ClientConfig,
    #[serde(default)]
    pub failure_policy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MutatingWebhookConfiguration {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub webhooks: Vec<Webhook>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ConfigMap {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualServiceSpec {
    #[serde(default, deserialize_with = "nd")]
    pub hosts: Vec<String>,
    #[serde(default, deserialize_with = "nd")]
    pub gateways: Vec<String>,
    #[serde(default, deserialize_with = "nd")]
    pub export_to: Vec<String>,
    /// Only the destination hosts: which Services a gateway reaches through it.
    #[serde(default, deserialize_with = "nd")]
    pub http: Vec<HttpRoute>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HttpRoute {
    #[serde(default, deserialize_with = "nd")]
    pub route: Vec<RouteDestination>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RouteDestination {
    #[serde(default)]
    pub destination: Option<Destination>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Destination {
    #[serde(default, deserialize_with = "nd")]
    pub host: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct VirtualService {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: VirtualServiceSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GatewayServer {
    #[serde(default, deserialize_with = "nd")]
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GatewaySpec {
    #[serde(default, deserialize_with = "nd")]
    pub selector: Labels,
    #[serde(default, deserialize_with = "nd")]
    pub servers: Vec<GatewayServer>,
}

/// `networking.istio.io` Gateway (not the Kubernetes Gateway API one).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IstioGateway {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: GatewaySpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DrTls {
    #[serde(default)]
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DrTrafficPolicy {
    #[serde(default)]
    pub tls: Option<DrTls>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRuleSpec {
    #[serde(default, deserialize_with = "nd")]
    pub host: String,
    #[serde(default)]
    pub traffic_policy: Option<DrTrafficPolicy>,
    #[serde(default, deserialize_with = "nd")]
    pub export_to: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DestinationRule {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default, deserialize_with = "nd")]
    pub spec: DestinationRuleSpec,
}
