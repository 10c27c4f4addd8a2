//! Envoy admin shapes against hand-written expectations.

use super::*;
use crate::sim::ca::Ca;
use crate::sim::clock::Clock;
use crate::sim::istiod::{IstiodState, rotation};
use crate::sim::ops::WriteOpts;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// A certificate issued at 2024-03-01T00:00:00Z for a day, by a root made then.
fn sample(lifetime: Duration) -> (WorkloadCert, SystemTime) {
    let issued = at(1_709_251_200);
    let ca = Ca::self_signed(ca::TRUST_DOMAIN, issued).unwrap();
    let leaf = ca.issue_workload("spiffe://cluster.local/ns/shop/sa/cart", issued, issued + lifetime).unwrap();
    let cert = WorkloadCert {
        chain_pem: leaf.chain_pem,
        root_pem: ca.root_pem().to_string(),
        serial: leaf.serial_hex,
        not_before: leaf.not_before,
        not_after: leaf.not_after,
        spiffe_id: "spiffe://cluster.local/ns/shop/sa/cart".into(),
        issued_at: issued,
    };
    (cert, issued)
}

fn root_serial(cert: &WorkloadCert) -> String {
    ca::inspect_chain(&cert.root_pem).unwrap()[0].serial_hex.clone()
}

#[test]
fn certs_lists_root_and_workload_leaf() {
    let (cert, issued) = sample(DAY);
    let now = issued + Duration::from_secs(3600);
    let got = certs_json(Some(&cert), now);
    let want = json!({"certificates": [{
        "ca_cert": [{
            "path": "<inline>",
            "serial_number": root_serial(&cert),
            "subject_alt_names": [],
            "days_until_expiration": "3649",
            "valid_from": "2024-02-29T23:58:00Z",
            "expiration_time": "2034-02-27T00:00:00Z",
        }],
        "cert_chain": [{
            "path": "<inline>",
            "serial_number": cert.serial,
            "subject_alt_names": [{"uri": "spiffe://cluster.local/ns/shop/sa/cart"}],
            "days_until_expiration": "0",
            "valid_from": "2024-02-29T23:58:00Z",
            "expiration_time": "2024-03-02T00:00:00Z",
        }],
    }]});
    assert_eq!(got, want);
    // Field order matters to readers of the raw text.
    let text = String::from_utf8(pretty(&got)).unwrap();
    assert!(text.starts_with("{\n \"certificates\": [\n  {\n   \"ca_cert\": [\n    {\n     \"path\": \"<inline>\",\n     \"serial_number\""), "{text}");
}

#[test]
fn days_until_expiration_counts_whole_days_and_stops_at_zero() {
    let (cert, issued) = sample(3 * DAY);
    let days = |now| certs_json(Some(&cert), now)["certificates"][0]["cert_chain"][0]["days_until_expiration"].clone();
    assert_eq!(days(issued), json!("3"));
    assert_eq!(days(issued + Duration::from_secs(1)), json!("2"));
    assert_eq!(days(issued + 3 * DAY - Duration::from_secs(1)), json!("0"));
    assert_eq!(days(issued + 10 * DAY), json!("0"), "expired");
    assert_eq!(certs_json(None, issued), json!({"certificates": []}));
}

fn facts() -> ProxyFacts {
    ProxyFacts {
        namespace: "shop".into(),
        name: "cart-7d9f-x2x4z".into(),
        ip: "10.244.1.7".into(),
        service_account: "cart".into(),
        workload: "cart".into(),
        labels: json!({"app": "cart"}),
        router: false,
        started: at(1_709_251_200),
        istio_version: Some("1.24.3".into()),
    }
}

#[test]
fn server_info_names_versions_and_node() {
    let info = server_info_json(&facts(), at(1_709_251_200 + 3600));
    let version = info["version"].as_str().unwrap();
    let (sha, rest) = version.split_once('/').unwrap();
    assert_eq!(sha.len(), 40);
    assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(rest, "1.32.0-dev/Clean/RELEASE/BoringSSL");
    assert_eq!(info["state"], "LIVE");
    assert_eq!(info["uptime_current_epoch"], "3600s");
    assert_eq!(info["command_line_options"]["concurrency"], 2);
    assert_eq!(info["node"]["id"], "sidecar~10.244.1.7~cart-7d9f-x2x4z.shop~shop.svc.cluster.local");
    assert_eq!(info["node"]["cluster"], "cart.shop");
    assert_eq!(info["node"]["metadata"]["ISTIO_VERSION"], "1.24.3");
    assert_eq!(info["node"]["metadata"]["SERVICE_ACCOUNT"], "cart");
    assert_eq!(
        info["node"]["user_agent_build_version"]["version"],
        json!({"major_number": 1, "minor_number": 32, "patch": 0})
    );
    let keys: Vec<&String> = info.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec![
            "version",
            "state",
            "hot_restart_version",
            "command_line_options",
            "node",
            "uptime_current_epoch",
            "uptime_all_epochs"
        ]
    );
}

#[test]
fn envoy_release_follows_istio_minor() {
    for (istio, want) in [
        ("1.24.3", Some((1, 32, 0))),
        ("1.25.0", Some((1, 33, 0))),
        ("1.22.1-rc.0", Some((1, 30, 0))),
        ("2.0.0", None),
        ("unknown", None),
    ] {
        assert_eq!(envoy_version(istio), want, "{istio}");
    }
}

#[test]
fn config_dump_secrets_as_istioctl_reads_them() {
    let (cert, issued) = sample(DAY);
    let dump = config_dump_json(&facts(), Some(&cert), "mask=dynamic_active_secrets", issued);
    let configs = dump["configs"].as_array().unwrap();
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0]["@type"], "type.googleapis.com/envoy.admin.v3.SecretsConfigDump");
    let active = configs[0]["dynamic_active_secrets"].as_array().unwrap();
    let names: Vec<&str> = active.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["default", "ROOTCA"]);
    let decode = |v: &Value| String::from_utf8(B64.decode(v.as_str().unwrap()).unwrap()).unwrap();
    let tls = &active[0]["secret"]["tls_certificate"];
    assert_eq!(decode(&tls["certificate_chain"]["inline_bytes"]), cert.chain_pem);
    assert_eq!(decode(&tls["private_key"]["inline_bytes"]), "[redacted]");
    assert_eq!(active[0]["secret"]["@type"], "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret");
    assert_eq!(active[0]["last_updated"], "2024-03-01T00:00:00Z");
    assert_eq!(decode(&active[1]["secret"]["validation_context"]["trusted_ca"]["inline_bytes"]), cert.root_pem);
    assert!(configs[0].get("dynamic_warming_secrets").is_none());

    // Both masks, URL-encoded, as `istioctl proxy-config secret` sends them.
    let both = config_dump_json(&facts(), None, "mask=dynamic_active_secrets%2Cdynamic_warming_secrets", issued);
    let warming = both["configs"][0]["dynamic_warming_secrets"].as_array().unwrap();
    assert_eq!(
        warming[0],
        json!({"name": "default", "version_info": "uninitialized",
        "secret": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "default"}})
    );
    assert!(both["configs"][0].get("dynamic_active_secrets").is_none());

    let full = config_dump_json(&facts(), Some(&cert), "", issued);
    let types: Vec<&str> = full["configs"].as_array().unwrap().iter().map(|c| c["@type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec![
            "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
            "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"
        ]
    );
    let one = config_dump_json(&facts(), Some(&cert), "resource=dynamic_active_secrets", issued);
    assert_eq!(one["configs"][1]["@type"], "type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret");
    assert_eq!(one["configs"][1]["name"], "ROOTCA");
}

fn pod(name: &str, proxy_image: Option<&str>) -> Value {
    let mut containers = vec![json!({"name": "app", "image": "shop/cart:1.0"})];
    if let Some(image) = proxy_image {
        containers.push(json!({"name": "istio-proxy", "image": image}));
    }
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "cart"},
            "annotations": {"istio.io/rev": "1-25-0", "sidecar.istio.io/status": "{\"revision\":\"1-25-0\"}"}},
        "spec": {"serviceAccountName": "cart", "containers": containers}})
}

#[test]
fn admin_routes_requests_for_a_pod() {
    let cluster = Cluster::new(Clock::default());
    let k = |p| kinds::by_group_plural("", p).unwrap();
    cluster
        .create(
            k("namespaces"),
            "",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            WriteOpts::by("t"),
        )
        .unwrap();
    cluster
        .create(k("pods"), "shop", pod("tagged", Some("docker.io/istio/proxyv2:1.24.3-distroless")), WriteOpts::by("t"))
        .unwrap();
    cluster
        .create(k("pods"), "shop", pod("pinned", Some("docker.io/istio/proxyv2@sha256:0123")), WriteOpts::by("t"))
        .unwrap();
    cluster.create(k("pods"), "shop", pod("plain", None), WriteOpts::by("t")).unwrap();
    // Creation drops a client's status; the pod's IP arrives as the kubelet would set it.
    cluster.mutate(k("pods"), "shop", "tagged", "kubelet", |p| p["status"] = json!({"podIP": "10.0.0.9"})).unwrap();
    let state = IstiodState { ready: true, version: Some("1.25.0".into()) };
    cluster.certs.observe_istiod(
        "1-25-0",
        ("istio-system".into(), "istiod-1-25-0".into()),
        Some(state),
        rotation::ALWAYS,
    );

    let (code, ctype, body) = admin(&cluster, "shop", "tagged", "GET", "/server_info");
    assert_eq!((code, ctype.as_str()), (200, "application/json"));
    let info: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["node"]["metadata"]["ISTIO_VERSION"], "1.24.3");
    assert_eq!(info["node"]["id"], "sidecar~10.0.0.9~tagged.shop~shop.svc.cluster.local");
    // A digest-pinned proxy reports its revision's istiod version.
    let (_, _, body) = admin(&cluster, "shop", "pinned", "GET", "/server_info");
    let info: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["node"]["metadata"]["ISTIO_VERSION"], "1.25.0");
    // No CA yet: Envoy has no certificates.
    let (code, _, body) = admin(&cluster, "shop", "tagged", "GET", "/certs");
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), json!({"certificates": []}));
    assert_eq!(admin(&cluster, "shop", "tagged", "GET", "/ready"), (200, TEXT.to_string(), b"LIVE\n".to_vec()));
    assert_eq!(admin(&cluster, "shop", "tagged", "GET", "/nope").0, 404);
    assert_eq!(admin(&cluster, "shop", "plain", "GET", "/certs").0, 503);
    assert_eq!(admin(&cluster, "shop", "missing", "GET", "/certs").0, 503);
}
