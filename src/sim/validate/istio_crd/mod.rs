//! The structural schemas of Istio's CRDs for the kinds the simulated cluster serves, as
//! `manifests/charts/base/files/crd-all.gen.yaml` (istio/istio) declares them: types, enums,
//! required fields, bounds and the CEL rules. The API server checks these before any webhook
//! runs. Only what meshdeck, the scenarios and common configurations touch is described; other
//! fields are kept as written. Every version of a kind shares one schema.

use super::schema::{Cel, S};
use serde_json::Value;

mod networking;
mod security;

pub(super) fn has(v: &Value, k: &str) -> bool {
    v.get(k).is_some()
}

pub(super) fn count(v: &Value, keys: &[&str]) -> usize {
    keys.iter().filter(|k| has(v, k)).count()
}

pub(super) const STRINGS: S = S::Arr(&S::Str);

/// `WorkloadSelector.matchLabels` (type.istio.io): no wildcards, no empty keys, values of up to
/// 63 characters.
pub(super) const MATCH_LABELS: S = S::Map(
    &S::Ruled(
        &S::StrMax(63),
        &[Cel(|v| !v.as_str().unwrap_or_default().contains('*'), "wildcard not allowed in label value match")],
    ),
    &[
        Cel(
            |v| v.as_object().is_none_or(|m| m.keys().all(|k| !k.contains('*'))),
            "wildcard not allowed in label key match",
        ),
        Cel(|v| v.as_object().is_none_or(|m| m.keys().all(|k| !k.is_empty())), "key must not be empty"),
    ],
);
pub(super) const SELECTOR: S = S::Obj(&[("matchLabels", MATCH_LABELS)], &[], &[]);

/// `PolicyTargetReference`: kind and name required, no cross-namespace references.
pub(super) const TARGET_REF: S = S::Obj(
    &[
        ("group", S::StrMax(253)),
        ("kind", S::StrMax(63)),
        ("name", S::StrMax(253)),
        (
            "namespace",
            S::Ruled(
                &S::Str,
                &[Cel(
                    |v| v.as_str().is_none_or(str::is_empty),
                    "cross namespace referencing is not currently supported",
                )],
            ),
        ),
    ],
    &["kind", "name"],
    &[],
);

pub(super) const ONE_SELECTOR_KIND: Cel =
    Cel(|v| count(v, &["selector", "targetRef", "targetRefs"]) <= 1, "only one of targetRefs or selector can be set");

/// The schema of `spec` for an Istio kind, by plural.
pub fn spec_schema(plural: &str) -> Option<&'static S> {
    Some(match plural {
        "peerauthentications" => &security::PEER_AUTHENTICATION,
        "authorizationpolicies" => &security::AUTHORIZATION_POLICY,
        "requestauthentications" => &security::REQUEST_AUTHENTICATION,
        "virtualservices" => &networking::VIRTUAL_SERVICE,
        "gateways" => &networking::GATEWAY,
        "destinationrules" => &networking::DESTINATION_RULE,
        "serviceentries" => &networking::SERVICE_ENTRY,
        "sidecars" => &networking::SIDECAR,
        _ => return None,
    })
}
