//! Schemas of the networking kinds (VirtualService, Gateway, DestinationRule, ServiceEntry,
//! Sidecar), from `manifests/charts/base/files/crd-all.gen.yaml` (istio/istio).

use super::super::schema::{Cel, DURATION_STR, INT32, S, UINT32};
use super::*;
use serde_json::Value;

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
