//! Istio's kinds: the CRD schemas (422) and istiod's validating webhook (400).

use super::*;

fn obj(kind_name: &str, api: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": api, "kind": kind_name, "metadata": {"name": name, "namespace": "rng"}, "spec": spec})
}

fn pa(name: &str, spec: Value) -> Value {
    obj("PeerAuthentication", "security.istio.io/v1", name, spec)
}

fn ap(name: &str, spec: Value) -> Value {
    obj("AuthorizationPolicy", "security.istio.io/v1", name, spec)
}

fn vs(name: &str, spec: Value) -> Value {
    obj("VirtualService", "networking.istio.io/v1", name, spec)
}

#[test]
fn peer_authentications() {
    let c = cluster();
    let k = kind("security.istio.io", "peerauthentications");
    c.create(k, "rng", pa("default", json!({"mtls": {"mode": "PERMISSIVE"}})), WriteOpts::by("t")).unwrap();
    check(
        &c,
        k,
        &[
            (
                "an unknown mode by server-side apply",
                Op::Apply("default", pa("default", json!({"mtls": {"mode": "BOGUS"}}))),
                Want::Refused(
                    422,
                    "Invalid",
                    "PeerAuthentication.security.istio.io \"default\" is invalid: spec.mtls.mode: Unsupported value: \"BOGUS\": supported values: \"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\"",
                ),
            ),
            (
                "a mode that is a number by server-side apply",
                Op::Apply("default", pa("default", json!({"mtls": {"mode": 5}}))),
                Want::Refused(
                    500,
                    "",
                    "failed to create typed patch object (rng/default; security.istio.io/v1, Kind=PeerAuthentication): .spec.mtls.mode: expected string, got &value.valueUnstructured{Value:5}",
                ),
            ),
            (
                "a mode that is a number by merge patch",
                Op::Merge("default", json!({"spec": {"mtls": {"mode": 5}}})),
                Want::Refused(
                    422,
                    "Invalid",
                    "PeerAuthentication.security.istio.io \"default\" is invalid: spec.mtls.mode: Invalid value: \"integer\": spec.mtls.mode in body must be of type string: \"integer\"",
                ),
            ),
            (
                "port-level mTLS without a selector",
                Op::Create(pa("ports", json!({"portLevelMtls": {"8080": {"mode": "DISABLE"}}}))),
                Want::Refused(
                    422,
                    "Invalid",
                    "PeerAuthentication.security.istio.io \"ports\" is invalid: spec: Invalid value: \"object\": portLevelMtls requires selector",
                ),
            ),
            (
                "port 0 with a selector",
                Op::Create(pa(
                    "zero",
                    json!({"selector": {"matchLabels": {"app": "web"}}, "portLevelMtls": {"0": {"mode": "DISABLE"}}}),
                )),
                Want::Refused(
                    422,
                    "Invalid",
                    "PeerAuthentication.security.istio.io \"zero\" is invalid: spec.portLevelMtls: Invalid value: \"object\": port must be between 1-65535",
                ),
            ),
            (
                "STRICT by server-side apply",
                Op::Apply("default", pa("default", json!({"mtls": {"mode": "STRICT"}}))),
                Want::Accepted,
            ),
            ("UNSET", Op::Merge("default", json!({"spec": {"mtls": {"mode": "UNSET"}}})), Want::Accepted),
        ],
    );
}

#[test]
fn authorization_policies() {
    let c = cluster();
    let k = kind("security.istio.io", "authorizationpolicies");
    let custom = |spec| ap("ext", spec);
    check(
        &c,
        k,
        &[
            (
                "an unknown action",
                Op::Create(ap("a", json!({"action": "MAYBE"}))),
                Want::Refused(
                    422,
                    "Invalid",
                    "AuthorizationPolicy.security.istio.io \"a\" is invalid: spec.action: Unsupported value: \"MAYBE\": supported values: \"ALLOW\", \"DENY\", \"AUDIT\", \"CUSTOM\"",
                ),
            ),
            (
                "CUSTOM without a provider",
                Op::Create(custom(json!({"action": "CUSTOM", "rules": [{}]}))),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: invalid policy ext.rng: `provider.name` must not be empty",
                ),
            ),
            (
                "a provider with ALLOW",
                Op::Create(ap("b", json!({"provider": {"name": "opa"}, "rules": [{}]}))),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: invalid policy b.rng: `provider` must not be with non CUSTOM action, found ALLOW",
                ),
            ),
            (
                "an empty from and an empty source",
                Op::Create(ap("c", json!({"rules": [{"from": []}, {"from": [{"source": {}}]}]}))),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: 2 errors occurred:\n\t* invalid policy c.rng: `from` must not be empty, found at rule 0\n\t* invalid policy c.rng: `from.source` must not be empty, found at rule 1\n\n",
                ),
            ),
            (
                "a selector and a targetRef",
                Op::Create(ap(
                    "d",
                    json!({"selector": {"matchLabels": {"app": "web"}}, "targetRef": {"kind": "Service", "name": "web"}}),
                )),
                Want::Refused(
                    422,
                    "Invalid",
                    "AuthorizationPolicy.security.istio.io \"d\" is invalid: spec: Invalid value: \"object\": only one of targetRefs or selector can be set",
                ),
            ),
            (
                "a wildcard in a selector value",
                Op::Create(ap("e", json!({"selector": {"matchLabels": {"app": "web*"}}}))),
                Want::Refused(
                    422,
                    "Invalid",
                    "AuthorizationPolicy.security.istio.io \"e\" is invalid: spec.selector.matchLabels[app]: Invalid value: \"string\": wildcard not allowed in label value match",
                ),
            ),
            ("allow nothing", Op::Create(ap("deny-all", json!({}))), Want::Accepted),
            (
                "CUSTOM with a provider",
                Op::Create(custom(
                    json!({"action": "CUSTOM", "provider": {"name": "opa"}, "rules": [{"to": [{"operation": {"paths": ["/admin"]}}]}]}),
                )),
                Want::Accepted,
            ),
            (
                "ALLOW from a namespace",
                Op::Create(ap(
                    "f",
                    json!({"selector": {"matchLabels": {"app": "web"}}, "rules": [{"from": [{"source": {"namespaces": ["rng"]}}]}]}),
                )),
                Want::Accepted,
            ),
        ],
    );
}

#[test]
fn virtual_services_gateways_and_destination_rules() {
    let c = cluster();
    let k = kind("networking.istio.io", "virtualservices");
    let route = |host: &str| json!([{"route": [{"destination": {"host": host}}]}]);
    check(
        &c,
        k,
        &[
            (
                "an http route with no destination",
                Op::Create(vs("a", json!({"hosts": ["web"], "http": [{}]}))),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: HTTP route, redirect or direct_response is required",
                ),
            ),
            (
                "a destination without a host",
                Op::Create(vs(
                    "b",
                    json!({"hosts": ["web"], "http": [{"route": [{"destination": {"subset": "v1"}}]}]}),
                )),
                Want::Refused(
                    422,
                    "Invalid",
                    "VirtualService.networking.istio.io \"b\" is invalid: spec.http[0].route[0].destination.host: Required value",
                ),
            ),
            (
                "a bad host and a bad gateway",
                Op::Create(vs(
                    "c",
                    json!({"hosts": ["bad_host"], "gateways": ["istio-system/my_gw"], "http": route("web")}),
                )),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: 2 errors occurred:\n\t* invalid value for gateway name: \"my_gw\"\n\t* domain name \"bad_host\" invalid (label \"bad_host\" invalid)\n\n",
                ),
            ),
            (
                "weights that sum to zero",
                Op::Create(vs(
                    "d",
                    json!({"hosts": ["web"], "http": [{"route": [{"destination": {"host": "a"}, "weight": 0}, {"destination": {"host": "b"}, "weight": 0}]}]}),
                )),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: total destination weight = 0",
                ),
            ),
            (
                "a weight that is text",
                Op::Create(vs(
                    "e",
                    json!({"hosts": ["web"], "http": [{"route": [{"destination": {"host": "a"}, "weight": "half"}]}]}),
                )),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &[
                        "spec.http[0].route[0].weight: Invalid value: \"string\": spec.http[0].route[0].weight in body must be of type integer: \"string\"",
                    ],
                ),
            ),
            (
                "the wildcard host bound to the mesh",
                Op::Create(vs("f", json!({"hosts": ["*"], "http": route("web")}))),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: wildcard host * is not allowed for virtual services bound to the mesh gateway",
                ),
            ),
            (
                "a route to a gateway and the mesh",
                Op::Create(vs(
                    "g",
                    json!({"hosts": ["web.example.com"], "gateways": ["istio-system/ingress", "mesh"], "http": route("web")}),
                )),
                Want::Accepted,
            ),
            (
                "a weighted split",
                Op::Create(vs(
                    "h",
                    json!({"hosts": ["web"], "http": [{"route": [{"destination": {"host": "web", "subset": "v1"}, "weight": 90}, {"destination": {"host": "web", "subset": "v2"}, "weight": 10}]}]}),
                )),
                Want::Accepted,
            ),
        ],
    );
    let g = kind("networking.istio.io", "gateways");
    let gw = |name: &str, servers: Value| {
        obj(
            "Gateway",
            "networking.istio.io/v1",
            name,
            json!({"selector": {"istio": "ingressgateway"}, "servers": servers}),
        )
    };
    check(
        &c,
        g,
        &[
            (
                "a server without a port",
                Op::Create(gw("a", json!([{"hosts": ["*/web.example.com"]}]))),
                Want::Refused(
                    422,
                    "Invalid",
                    "Gateway.networking.istio.io \"a\" is invalid: spec.servers[0].port: Required value",
                ),
            ),
            (
                "a short host name",
                Op::Create(gw(
                    "b",
                    json!([{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["rng/web"]}]),
                )),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: short names (non FQDN) are not allowed",
                ),
            ),
            (
                "HTTPS without TLS settings",
                Op::Create(gw(
                    "c",
                    json!([{"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*.example.com"]}]),
                )),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: server must have TLS settings for HTTPS/TLS protocols",
                ),
            ),
            (
                "an http server with a redirect",
                Op::Create(gw(
                    "d",
                    json!([{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["rng/web.example.com"], "tls": {"httpsRedirect": true}}]),
                )),
                Want::Accepted,
            ),
        ],
    );
    let dr = kind("networking.istio.io", "destinationrules");
    let rule = |name: &str, spec: Value| obj("DestinationRule", "networking.istio.io/v1", name, spec);
    check(
        &c,
        dr,
        &[
            (
                "no host",
                Op::Create(rule("a", json!({"subsets": [{"name": "v1"}]}))),
                Want::Refused(
                    422,
                    "Invalid",
                    "DestinationRule.networking.istio.io \"a\" is invalid: spec.host: Required value",
                ),
            ),
            (
                "a subset named with an underscore and a bad label",
                Op::Create(rule(
                    "b",
                    json!({"host": "web", "subsets": [{"name": "v_1", "labels": {"version": "1 0"}}]}),
                )),
                Want::Refused(
                    400,
                    "",
                    "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: 2 errors occurred:\n\t* subset name is invalid: v_1\n\t* invalid tag value: \"1 0\"\n\n",
                ),
            ),
            (
                "an unknown TLS mode",
                Op::Create(rule("c", json!({"host": "web", "trafficPolicy": {"tls": {"mode": "ON"}}}))),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &[
                        "spec.trafficPolicy.tls.mode: Unsupported value: \"ON\": supported values: \"DISABLE\", \"SIMPLE\", \"MUTUAL\", \"ISTIO_MUTUAL\"",
                    ],
                ),
            ),
            (
                "subsets by version",
                Op::Create(rule(
                    "d",
                    json!({"host": "web.rng.svc.cluster.local", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
                )),
                Want::Accepted,
            ),
        ],
    );
}
