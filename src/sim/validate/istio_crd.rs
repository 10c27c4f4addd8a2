//! The structural schemas of Istio's CRDs for the kinds the simulated cluster serves, as
//! `manifests/charts/base/files/crd-all.gen.yaml` (istio/istio) declares them: types, enums,
//! required fields, bounds and the CEL rules. The API server checks these before any webhook
//! runs. Only what meshdeck, the scenarios and common configurations touch is described; other
//! fields are kept as written. Every version of a kind shares one schema.

use super::schema::{Cel, DURATION_STR, INT32, S, UINT32};
use serde_json::Value;

fn has(v: &Value, k: &str) -> bool {
    v.get(k).is_some()
}

fn count(v: &Value, keys: &[&str]) -> usize {
    keys.iter().filter(|k| has(v, k)).count()
}

const STRINGS: S = S::Arr(&S::Str);

/// `WorkloadSelector.matchLabels` (type.istio.io): no wildcards, no empty keys, values of up to
/// 63 characters.
const MATCH_LABELS: S = S::Map(
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
const SELECTOR: S = S::Obj(&[("matchLabels", MATCH_LABELS)], &[], &[]);

/// `PolicyTargetReference`: kind and name required, no cross-namespace references.
const TARGET_REF: S = S::Obj(
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

const ONE_SELECTOR_KIND: Cel =
    Cel(|v| count(v, &["selector", "targetRef", "targetRefs"]) <= 1, "only one of targetRefs or selector can be set");

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

const PORT_SELECTOR: S = S::Obj(&[("number", UINT32)], &[], &[]);
const DESTINATION: S = S::Obj(&[("host", S::Str), ("subset", S::Str), ("port", PORT_SELECTOR)], &["host"], &[]);
const STRING_MATCH: S = S::Obj(&[("exact", S::Str), ("prefix", S::Str), ("regex", S::Str)], &[], &[]);

const HTTP_MATCH: S = S::Obj(
    &[
        ("name", S::Str),
        ("uri", STRING_MATCH),
        ("scheme", STRING_MATCH),
        ("method", STRING_MATCH),
        ("authority", STRING_MATCH),
        ("headers", S::Map(&STRING_MATCH, &[])),
        ("withoutHeaders", S::Map(&STRING_MATCH, &[])),
        ("queryParams", S::Map(&STRING_MATCH, &[])),
        ("port", UINT32),
        ("sourceLabels", S::Map(&S::Str, &[])),
        ("gateways", STRINGS),
        ("ignoreUriCase", S::Bool),
        ("sourceNamespace", S::Str),
        ("statPrefix", S::Str),
    ],
    &[],
    &[],
);

const HTTP_ROUTE: S = S::Obj(
    &[
        ("name", S::Str),
        ("match", S::Arr(&HTTP_MATCH)),
        ("route", S::Arr(&S::Obj(&[("destination", DESTINATION), ("weight", INT32)], &["destination"], &[]))),
        (
            "redirect",
            S::Obj(&[("uri", S::Str), ("authority", S::Str), ("port", UINT32), ("redirectCode", UINT32)], &[], &[]),
        ),
        ("directResponse", S::Obj(&[("status", UINT32)], &["status"], &[])),
        ("delegate", S::Obj(&[("name", S::Str), ("namespace", S::Str)], &[], &[])),
        ("rewrite", S::Obj(&[("uri", S::Str), ("authority", S::Str)], &[], &[])),
        ("timeout", DURATION_STR),
        (
            "retries",
            S::Obj(
                &[
                    ("attempts", INT32),
                    ("perTryTimeout", DURATION_STR),
                    ("retryOn", S::Str),
                    ("retryRemoteLocalities", S::Bool),
                ],
                &[],
                &[],
            ),
        ),
        ("mirror", DESTINATION),
        ("mirrorPercentage", S::Obj(&[("value", S::Num)], &[], &[])),
    ],
    &[],
    &[],
);

const L4_MATCH: S = S::Obj(
    &[
        ("destinationSubnets", STRINGS),
        ("port", UINT32),
        ("sourceLabels", S::Map(&S::Str, &[])),
        ("gateways", STRINGS),
        ("sourceNamespace", S::Str),
    ],
    &[],
    &[],
);
const ROUTE_DESTINATION: S = S::Obj(&[("destination", DESTINATION), ("weight", INT32)], &["destination"], &[]);

/// VirtualService (networking.istio.io).
pub const VIRTUAL_SERVICE: S = S::Obj(
    &[
        ("hosts", STRINGS),
        ("gateways", STRINGS),
        ("http", S::Arr(&HTTP_ROUTE)),
        (
            "tls",
            S::Arr(&S::Obj(
                &[
                    (
                        "match",
                        S::Arr(&S::Obj(
                            &[("sniHosts", STRINGS), ("port", UINT32), ("gateways", STRINGS)],
                            &["sniHosts"],
                            &[],
                        )),
                    ),
                    ("route", S::Arr(&ROUTE_DESTINATION)),
                ],
                &["match"],
                &[],
            )),
        ),
        ("tcp", S::Arr(&S::Obj(&[("match", S::Arr(&L4_MATCH)), ("route", S::Arr(&ROUTE_DESTINATION))], &[], &[]))),
        ("exportTo", STRINGS),
    ],
    &[],
    &[],
);

const TLS_VERSION: S = S::Enum(&["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"]);

/// Gateway (networking.istio.io).
pub const GATEWAY: S = S::Obj(
    &[
        ("selector", S::Map(&S::Str, &[])),
        (
            "servers",
            S::Arr(&S::Obj(
                &[
                    (
                        "port",
                        S::Obj(
                            &[("number", UINT32), ("protocol", S::Str), ("name", S::Str), ("targetPort", UINT32)],
                            &["number", "protocol", "name"],
                            &[],
                        ),
                    ),
                    ("bind", S::Str),
                    ("hosts", STRINGS),
                    ("name", S::Str),
                    ("defaultEndpoint", S::Str),
                    (
                        "tls",
                        S::Obj(
                            &[
                                ("httpsRedirect", S::Bool),
                                (
                                    "mode",
                                    S::Enum(&[
                                        "PASSTHROUGH",
                                        "SIMPLE",
                                        "MUTUAL",
                                        "AUTO_PASSTHROUGH",
                                        "ISTIO_MUTUAL",
                                        "OPTIONAL_MUTUAL",
                                    ]),
                                ),
                                ("credentialName", S::Str),
                                ("serverCertificate", S::Str),
                                ("privateKey", S::Str),
                                ("caCertificates", S::Str),
                                ("subjectAltNames", STRINGS),
                                ("minProtocolVersion", TLS_VERSION),
                                ("maxProtocolVersion", TLS_VERSION),
                                ("cipherSuites", STRINGS),
                            ],
                            &[],
                            &[],
                        ),
                    ),
                ],
                &["port", "hosts"],
                &[],
            )),
        ),
    ],
    &[],
    &[],
);

const TRAFFIC_POLICY: S = S::Obj(
    &[
        (
            "loadBalancer",
            S::Obj(
                &[
                    (
                        "simple",
                        S::Enum(&[
                            "UNSPECIFIED",
                            "LEAST_CONN",
                            "RANDOM",
                            "PASSTHROUGH",
                            "ROUND_ROBIN",
                            "LEAST_REQUEST",
                        ]),
                    ),
                    ("warmupDurationSecs", DURATION_STR),
                ],
                &[],
                &[],
            ),
        ),
        (
            "connectionPool",
            S::Obj(
                &[
                    ("tcp", S::Obj(&[("maxConnections", INT32), ("connectTimeout", DURATION_STR)], &[], &[])),
                    (
                        "http",
                        S::Obj(
                            &[
                                ("http1MaxPendingRequests", INT32),
                                ("http2MaxRequests", INT32),
                                ("maxRequestsPerConnection", INT32),
                                ("maxRetries", INT32),
                                ("idleTimeout", DURATION_STR),
                                ("h2UpgradePolicy", S::Enum(&["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"])),
                            ],
                            &[],
                            &[],
                        ),
                    ),
                ],
                &[],
                &[],
            ),
        ),
        (
            "outlierDetection",
            S::Obj(
                &[
                    ("consecutive5xxErrors", UINT32),
                    ("consecutiveGatewayErrors", UINT32),
                    ("interval", DURATION_STR),
                    ("baseEjectionTime", DURATION_STR),
                    ("maxEjectionPercent", INT32),
                    ("minHealthPercent", INT32),
                ],
                &[],
                &[],
            ),
        ),
        (
            "tls",
            S::Obj(
                &[
                    ("mode", S::Enum(&["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"])),
                    ("credentialName", S::Str),
                    ("sni", S::Str),
                    ("subjectAltNames", STRINGS),
                    ("insecureSkipVerify", S::Bool),
                ],
                &[],
                &[],
            ),
        ),
        ("proxyProtocol", S::Obj(&[("version", S::Enum(&["V1", "V2"]))], &[], &[])),
        ("portLevelSettings", S::Arr(&S::Any)),
    ],
    &[],
    &[],
);

/// DestinationRule (networking.istio.io).
pub const DESTINATION_RULE: S = S::Obj(
    &[
        ("host", S::Str),
        ("trafficPolicy", TRAFFIC_POLICY),
        (
            "subsets",
            S::Arr(&S::Obj(
                &[("name", S::Str), ("labels", S::Map(&S::Str, &[])), ("trafficPolicy", TRAFFIC_POLICY)],
                &["name"],
                &[],
            )),
        ),
        ("exportTo", STRINGS),
        ("workloadSelector", SELECTOR),
    ],
    &["host"],
    &[],
);

const PORT_1_65535: Cel = Cel(|v| v.as_i64().is_some_and(|p| (1..=65535).contains(&p)), "port must be between 1-65535");

/// ServiceEntry (networking.istio.io).
pub const SERVICE_ENTRY: S = S::Obj(
    &[
        ("hosts", S::Arr(&S::Ruled(&S::Str, &[Cel(|v| v.as_str() != Some("*"), "hostname cannot be wildcard")]))),
        ("addresses", S::Arr(&S::StrMax(64))),
        (
            "ports",
            S::Ruled(
                &S::Arr(&S::Obj(
                    &[
                        ("number", S::Ruled(&UINT32, &[PORT_1_65535])),
                        ("protocol", S::StrMax(256)),
                        ("name", S::StrMax(256)),
                        ("targetPort", S::Ruled(&UINT32, &[PORT_1_65535])),
                    ],
                    &["number", "name"],
                    &[],
                )),
                &[Cel(
                    |v| {
                        let ns: Vec<Option<i64>> = v
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| p.get("number").and_then(Value::as_i64))
                            .collect();
                        ns.iter().all(|n| ns.iter().filter(|m| *m == n).count() == 1)
                    },
                    "port number cannot be duplicated",
                )],
            ),
        ),
        ("location", S::Enum(&["MESH_EXTERNAL", "MESH_INTERNAL"])),
        ("resolution", S::Enum(&["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"])),
        ("endpoints", S::Arr(&S::Any)),
        ("exportTo", STRINGS),
        ("subjectAltNames", STRINGS),
    ],
    &["hosts"],
    &[
        Cel(
            |v| count(v, &["workloadSelector", "endpoints"]) <= 1,
            "only one of WorkloadSelector or Endpoints can be set",
        ),
        Cel(
            |v| v.get("resolution").and_then(Value::as_str).unwrap_or("NONE") != "NONE" || !has(v, "endpoints"),
            "NONE mode cannot set endpoints",
        ),
    ],
);

/// Sidecar (networking.istio.io).
pub const SIDECAR: S = S::Obj(
    &[
        (
            "workloadSelector",
            S::Obj(
                &[(
                    "labels",
                    S::Map(
                        &S::Ruled(
                            &S::StrMax(63),
                            &[Cel(
                                |v| !v.as_str().unwrap_or_default().contains('*'),
                                "wildcard is not supported in selector",
                            )],
                        ),
                        &[],
                    ),
                )],
                &[],
                &[],
            ),
        ),
        (
            "egress",
            S::Arr(&S::Obj(
                &[("hosts", STRINGS), ("bind", S::Str), ("captureMode", S::Enum(&["DEFAULT", "IPTABLES", "NONE"]))],
                &["hosts"],
                &[],
            )),
        ),
        ("ingress", S::Arr(&S::Obj(&[("captureMode", S::Enum(&["DEFAULT", "IPTABLES", "NONE"]))], &["port"], &[]))),
        ("outboundTrafficPolicy", S::Obj(&[("mode", S::Enum(&["REGISTRY_ONLY", "ALLOW_ANY"]))], &[], &[])),
    ],
    &[],
    &[],
);

/// The schema of `spec` for an Istio kind, by plural.
pub fn spec_schema(plural: &str) -> Option<&'static S> {
    Some(match plural {
        "peerauthentications" => &PEER_AUTHENTICATION,
        "authorizationpolicies" => &AUTHORIZATION_POLICY,
        "requestauthentications" => &REQUEST_AUTHENTICATION,
        "virtualservices" => &VIRTUAL_SERVICE,
        "gateways" => &GATEWAY,
        "destinationrules" => &DESTINATION_RULE,
        "serviceentries" => &SERVICE_ENTRY,
        "sidecars" => &SIDECAR,
        _ => return None,
    })
}
