//! Schemas of the security kinds (PeerAuthentication, AuthorizationPolicy,
//! RequestAuthentication), from `manifests/charts/base/files/crd-all.gen.yaml` (istio/istio).

use super::super::schema::{Cel, DURATION_STR, S};
use super::*;
use serde_json::Value;

const MTLS_MODE: S = S::Enum(&["UNSET", "DISABLE", "PERMISSIVE", "STRICT"]);

/// PeerAuthentication (security.istio.io).
pub const PEER_AUTHENTICATION: S = S::Obj(
    &[
        ("selector", SELECTOR),
        ("mtls", S::Obj(&[("mode", MTLS_MODE)], &[], &[])),
        (
            "portLevelMtls",
            S::Map(
                &S::Obj(&[("mode", MTLS_MODE)], &[], &[]),
                &[Cel(
                    |v| {
                        v.as_object()
                            .is_none_or(|m| m.keys().all(|k| k.parse::<i64>().is_ok_and(|p| (1..=65535).contains(&p))))
                    },
                    "port must be between 1-65535",
                )],
            ),
        ),
    ],
    &[],
    &[Cel(
        |v| {
            !has(v, "portLevelMtls")
                || v.pointer("/selector/matchLabels").and_then(Value::as_object).is_some_and(|m| !m.is_empty())
        },
        "portLevelMtls requires selector",
    )],
);

const SOURCE: S = S::Obj(
    &[
        ("principals", STRINGS),
        ("notPrincipals", STRINGS),
        ("requestPrincipals", STRINGS),
        ("notRequestPrincipals", STRINGS),
        ("namespaces", STRINGS),
        ("notNamespaces", STRINGS),
        ("serviceAccounts", S::Arr(&S::StrMax(320))),
        ("notServiceAccounts", S::Arr(&S::StrMax(320))),
        ("ipBlocks", STRINGS),
        ("notIpBlocks", STRINGS),
        ("remoteIpBlocks", STRINGS),
        ("notRemoteIpBlocks", STRINGS),
        ("trustDomains", STRINGS),
        ("notTrustDomains", STRINGS),
    ],
    &[],
    &[Cel(
        |v| {
            count(v, &["serviceAccounts", "notServiceAccounts"]) == 0
                || count(v, &["principals", "notPrincipals", "namespaces", "notNamespaces"]) == 0
        },
        "Cannot set serviceAccounts with namespaces or principals",
    )],
);

const OPERATION: S = S::Obj(
    &[
        ("hosts", STRINGS),
        ("notHosts", STRINGS),
        ("ports", STRINGS),
        ("notPorts", STRINGS),
        ("methods", STRINGS),
        ("notMethods", STRINGS),
        ("paths", STRINGS),
        ("notPaths", STRINGS),
    ],
    &[],
    &[],
);

const RULE: S = S::Obj(
    &[
        ("from", S::Arr(&S::Obj(&[("source", SOURCE)], &[], &[]))),
        ("to", S::Arr(&S::Obj(&[("operation", OPERATION)], &[], &[]))),
        ("when", S::Arr(&S::Obj(&[("key", S::Str), ("values", STRINGS), ("notValues", STRINGS)], &["key"], &[]))),
    ],
    &[],
    &[],
);

/// AuthorizationPolicy (security.istio.io).
pub const AUTHORIZATION_POLICY: S = S::Obj(
    &[
        ("selector", SELECTOR),
        ("targetRef", TARGET_REF),
        ("targetRefs", S::Arr(&TARGET_REF)),
        ("action", S::Enum(&["ALLOW", "DENY", "AUDIT", "CUSTOM"])),
        ("provider", S::Obj(&[("name", S::Str)], &[], &[])),
        ("rules", S::Arr(&RULE)),
    ],
    &[],
    &[ONE_SELECTOR_KIND],
);

const JWT_RULE: S = S::Obj(
    &[
        ("issuer", S::Str),
        ("audiences", STRINGS),
        ("jwksUri", S::StrMax(2048)),
        ("jwks", S::Str),
        ("fromHeaders", S::Arr(&S::Obj(&[("name", S::Str), ("prefix", S::Str)], &["name"], &[]))),
        ("fromParams", STRINGS),
        ("fromCookies", STRINGS),
        ("outputPayloadToHeader", S::Str),
        ("forwardOriginalToken", S::Bool),
        ("outputClaimToHeaders", S::Arr(&S::Obj(&[("header", S::Str), ("claim", S::Str)], &["header", "claim"], &[]))),
        ("timeout", DURATION_STR),
    ],
    &[],
    &[Cel(|v| count(v, &["jwksUri", "jwks_uri", "jwks"]) <= 1, "only one of jwks or jwksUri can be set")],
);

/// RequestAuthentication (security.istio.io).
pub const REQUEST_AUTHENTICATION: S = S::Obj(
    &[
        ("selector", SELECTOR),
        ("targetRef", TARGET_REF),
        ("targetRefs", S::Arr(&TARGET_REF)),
        ("jwtRules", S::Arr(&JWT_RULE)),
    ],
    &[],
    &[ONE_SELECTOR_KIND],
);
