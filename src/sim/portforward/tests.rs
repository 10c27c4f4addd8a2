//! Port-forward through a real axum server and kube-rs' own port-forward client, which
//! checks the channel framing (it refuses a wrong opening frame or port).

use super::*;
use crate::sim::ca::{self, Ca};
use crate::sim::clock::Clock;
use crate::sim::istiod::{CaSource, IstiodState, rotation};
use crate::sim::ops::WriteOpts;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

fn pod(name: &str, with_proxy: bool) -> Value {
    let mut containers = vec![json!({"name": "app", "image": "shop/cart:1.0"})];
    if with_proxy {
        containers.push(json!({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.3"}));
    }
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "annotations": {"istio.io/rev": "1-24-3"}},
        "spec": {"serviceAccountName": "cart", "containers": containers}})
}

fn cluster() -> Arc<Cluster> {
    let cluster = Cluster::new(Clock::default());
    let k = |p| kinds::by_group_plural("", p).unwrap();
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
    cluster.create(k("namespaces"), "", ns, WriteOpts::by("t")).unwrap();
    for (name, proxy) in [("cart-1", true), ("plain", false), ("starting", true)] {
        cluster.create(k("pods"), "shop", pod(name, proxy), WriteOpts::by("t")).unwrap();
    }
    // New pods are Pending; these two have started, as the kubelet would report.
    for name in ["cart-1", "plain"] {
        cluster.mutate(k("pods"), "shop", name, "kubelet", |p| p["status"]["phase"] = json!("Running")).unwrap();
    }
    let ready = IstiodState { ready: true, version: Some("1.24.3".into()) };
    cluster.certs.observe_istiod(
        "1-24-3",
        ("istio-system".into(), "istiod-1-24-3".into()),
        Some(ready),
        rotation::ALWAYS,
    );
    let ca = Ca::self_signed(ca::TRUST_DOMAIN, std::time::SystemTime::now()).unwrap();
    let source =
        CaSource { namespace: "istio-system".into(), secret: "istio-ca-secret".into(), resource_version: "1".into() };
    cluster.certs.set_ca(Arc::new(ca), source);
    cluster
}

/// The route as the API server wires it, with refusals sent as Status objects.
async fn route(
    State(cluster): State<Arc<Cluster>>,
    Path((ns, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    match upgrade(ws, cluster, ns, name, query.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err((code, message)) => {
            let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": if code == 404 { "NotFound" } else { "BadRequest" }, "code": code});
            (axum::http::StatusCode::from_u16(code).unwrap(), axum::Json(status)).into_response()
        }
    }
}

async fn start(cluster: Arc<Cluster>) -> (std::net::SocketAddr, kube::Api<Pod>) {
    let app = axum::Router::new()
        .route("/api/v1/namespaces/{ns}/pods/{name}/portforward", axum::routing::get(route))
        .with_state(cluster);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    (addr, kube::Api::namespaced(client, "shop"))
}

/// Reads one HTTP response: status line, headers (lowercased names) and body.
async fn read_response(s: &mut (impl AsyncRead + Unpin)) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "stream ended inside a response head: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers.iter().find(|(n, _)| n == "content-length").unwrap().1.parse().unwrap();
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn kube_rs_reads_envoy_admin_through_the_framing() {
    let cluster = cluster();
    let (_, pods) = start(cluster.clone()).await;
    let mut pf = pods.portforward("cart-1", &[15000]).await.expect("port-forward");
    let mut stream = pf.take_stream(15000).unwrap();

    stream.write_all(b"GET /certs HTTP/1.1\r\nHost: localhost:15000\r\n\r\n").await.unwrap();
    let (status, headers, body) = read_response(&mut stream).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(header(&headers, "connection"), None, "kept alive");
    let certs: Value = serde_json::from_slice(&body).unwrap();
    let leaf = &certs["certificates"][0]["cert_chain"][0];
    assert_eq!(leaf["subject_alt_names"], json!([{"uri": "spiffe://cluster.local/ns/shop/sa/cart"}]));
    assert_eq!(leaf["days_until_expiration"], "0");
    assert_eq!(certs["certificates"][0]["ca_cert"][0]["days_until_expiration"], "3649");

    // Same connection, second request, which closes it.
    stream.write_all(b"GET /server_info HTTP/1.1\r\nHost: localhost:15000\r\nConnection: close\r\n\r\n").await.unwrap();
    let (status, headers, body) = read_response(&mut stream).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "connection"), Some("close"));
    let info: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["node"]["metadata"]["ISTIO_VERSION"], "1.24.3");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "nothing after the closing response");
    drop(stream);
    // The server ended the session; kube-rs then fails to send its own Close
    // (SendAfterClosing), so only completion is checked here.
    let _ = pf.join().await;

    // When the client hangs up first, the session ends cleanly.
    let mut pf = pods.portforward("cart-1", &[15000]).await.expect("port-forward");
    let mut stream = pf.take_stream(15000).unwrap();
    stream.write_all(b"GET /ready HTTP/1.1\r\n\r\n").await.unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    assert_eq!((status.as_str(), body.as_slice()), ("HTTP/1.1 200 OK", &b"LIVE\n"[..]));
    drop(stream);
    pf.join().await.expect("a clean end");
}

#[tokio::test]
async fn refusals_reach_kube_rs_as_status() {
    let (_, pods) = start(cluster()).await;
    for (name, port, code, says) in [
        ("missing", 15000, 404, "pods \"missing\" not found"),
        ("plain", 15000, 400, "runs no istio-proxy"),
        ("cart-1", 8080, 400, "only Envoy's admin port 15000"),
        ("starting", 15000, 400, "pod is not running. Current status=Pending"),
    ] {
        match pods.portforward(name, &[port]).await {
            Err(kube::Error::Api(s)) => {
                assert_eq!(s.code, code, "{name}:{port}");
                assert!(s.message.contains(says), "{name}:{port}: {}", s.message);
            }
            Err(e) => panic!("{name}:{port}: unexpected error {e}"),
            Ok(_) => panic!("{name}:{port}: port-forward should be refused"),
        }
    }
}

#[tokio::test]
async fn pod_gone_mid_session_reports_on_the_error_channel() {
    let cluster = cluster();
    let (_, pods) = start(cluster.clone()).await;
    let mut pf = pods.portforward("cart-1", &[15000]).await.unwrap();
    let mut stream = pf.take_stream(15000).unwrap();
    let error = pf.take_error(15000).unwrap();
    let k = kinds::by_group_plural("", "pods").unwrap();
    cluster.delete(k, "shop", "cart-1", WriteOpts::by("t")).unwrap();
    stream.write_all(b"GET /certs HTTP/1.1\r\n\r\n").await.unwrap();
    let message = error.await.expect("an error message");
    assert!(message.contains("pods \"cart-1\" not found"), "{message}");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn clients_without_a_supported_subprotocol_are_refused() {
    let (addr, _) = start(cluster()).await;
    for protocol in ["SPDY/3.1+portforward.k8s.io", "v4.channel.k8s.io"] {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET /api/v1/namespaces/shop/pods/cart-1/portforward?ports=15000 HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
        );
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && tcp.read(&mut byte).await.unwrap() == 1 {
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
        if protocol.starts_with("SPDY") {
            assert!(head.starts_with("http/1.1 400"), "{head}");
        } else {
            assert!(head.starts_with("http/1.1 101"), "{head}");
            assert!(head.contains("sec-websocket-protocol: v4.channel.k8s.io\r\n"), "{head}");
        }
    }
}

#[test]
fn ports_from_the_query() {
    let ok: [(&str, Vec<u16>); 4] = [
        ("ports=15000", vec![15000]),
        ("ports=15000&ports=15021", vec![15000, 15021]),
        ("&ports=80%2C1234", vec![80, 1234]),
        ("timeout=5&ports=80,1234", vec![80, 1234]),
    ];
    for (q, want) in ok {
        assert_eq!(parse_ports(q), Ok(want), "{q}");
    }
    for q in ["", "ports=", "ports=http", "ports=0", "ports=70000"] {
        assert_eq!(parse_ports(q).unwrap_err().0, 400, "{q}");
    }
}
