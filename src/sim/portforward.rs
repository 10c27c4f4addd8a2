//! The server side of `pods/portforward` over WebSocket, as kube-rs speaks it: subprotocol
//! `v4.channel.k8s.io` (or the older `portforward.k8s.io`), ports in the query. Port `i` uses
//! channel `2i` for data and `2i+1` for errors; the server opens each channel by sending the
//! port number (two bytes, little-endian), and every binary frame starts with its channel.
//! Behind the data channel a small HTTP/1.1 server answers Envoy's admin API (`envoy`), the
//! only port a simulated pod listens on. It owns no routing and no certificates.
//!
//! kubectl 1.30+ does not use this framing: it tunnels SPDY/3.1 inside a WebSocket
//! (`SPDY/3.1+portforward.k8s.io`) and falls back to a plain SPDY upgrade. Neither is served,
//! so `upgrade` refuses such requests with 400 rather than accept a protocol it cannot speak.

mod http;

use super::envoy::{self, ADMIN_PORT};
use super::kinds;
use super::ops::Cluster;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

/// The subprotocols accepted, in order of preference.
pub const PROTOCOLS: [&str; 2] = ["v4.channel.k8s.io", "portforward.k8s.io"];

/// Bytes of response per WebSocket frame.
const FRAME: usize = 32 * 1024;

/// How long a closing session waits for the client to answer its Close.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// An error for the HTTP layer to return as a Status: code and message.
pub type Refusal = (u16, String);

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The remote ports of a request's query: `ports` may repeat and may hold a comma-separated
/// list (kube-rs sends `ports=80%2C1234`).
pub fn parse_ports(query: &str) -> Result<Vec<u16>, Refusal> {
    let mut ports = Vec::new();
    for pair in query.split('&') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        if percent_decode(key) != "ports" {
            continue;
        }
        for p in percent_decode(value).split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => ports.push(n),
                _ => return Err((400, format!("invalid port {p:?}: ports must be numbers from 1 to 65535"))),
            }
        }
    }
    if ports.is_empty() {
        return Err((400, "at least one port must be specified (query parameter ports)".into()));
    }
    Ok(ports)
}

fn pod_object(cluster: &Cluster, ns: &str, pod: &str) -> Option<Arc<Value>> {
    let pods = kinds::by_group_plural("", "pods").expect("pods kind");
    cluster.store.get(pods, ns, pod).map(|e| e.value())
}

/// Whether `ns/pod` can be port-forwarded to `ports`; the route calls it before upgrading.
/// 404 when the pod does not exist; 400 when it is not running, runs no Envoy, or a port
/// other than Envoy's admin port is asked for.
pub fn check(cluster: &Cluster, ns: &str, pod: &str, ports: &[u16]) -> Result<(), Refusal> {
    let Some(obj) = pod_object(cluster, ns, pod) else {
        return Err((404, format!("pods \"{pod}\" not found")));
    };
    if ports.is_empty() {
        return Err((400, "at least one port must be specified (query parameter ports)".into()));
    }
    if let Some(phase) = obj.pointer("/status/phase").and_then(Value::as_str).filter(|p| *p != "Running") {
        return Err((400, format!("unable to forward port because pod is not running. Current status={phase}")));
    }
    for port in ports {
        if !envoy::has_proxy(&obj) {
            return Err((
                400,
                format!(
                    "error forwarding port {port} to pod {ns}/{pod}: connection refused (the pod runs no istio-proxy)"
                ),
            ));
        }
        if *port != ADMIN_PORT {
            return Err((
                400,
                format!(
                    "error forwarding port {port} to pod {ns}/{pod}: connection refused (only Envoy's admin port {ADMIN_PORT} is simulated)"
                ),
            ));
        }
    }
    Ok(())
}

/// Everything the route needs: ports from the raw query, `check`, subprotocol negotiation,
/// then the upgrade into `serve`. An `Err` is for the caller to send as a Status.
pub fn upgrade(
    ws: WebSocketUpgrade,
    cluster: Arc<Cluster>,
    ns: String,
    pod: String,
    query: &str,
) -> Result<Response, Refusal> {
    let ports = parse_ports(query)?;
    check(&cluster, &ns, &pod, &ports)?;
    let ws = ws.protocols(PROTOCOLS);
    if ws.selected_protocol().is_none() {
        return Err((
            400,
            format!(
                "unable to upgrade connection: port-forward is served over WebSocket subprotocol {} only (SPDY is not supported)",
                PROTOCOLS.join(" or ")
            ),
        ));
    }
    Ok(ws.on_upgrade(move |socket| serve(socket, cluster, ns, pod, ports)))
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut b = Vec::with_capacity(data.len() + 1);
    b.push(channel);
    b.extend_from_slice(data);
    Message::Binary(b.into())
}

/// Serves an upgraded port-forward connection until either side closes it.
pub async fn serve(mut socket: WebSocket, cluster: Arc<Cluster>, ns: String, pod: String, ports: Vec<u16>) {
    // Channels are numbered by a byte; more ports than that cannot be framed.
    let ports: Vec<u16> = ports.into_iter().take(128).collect();
    for (i, port) in ports.iter().enumerate() {
        for channel in [2 * i as u8, 2 * i as u8 + 1] {
            if socket.send(frame(channel, &port.to_le_bytes())).await.is_err() {
                return;
            }
        }
    }
    let mut conns: Vec<http::HttpConn> = ports.iter().map(|_| http::HttpConn::default()).collect();
    while let Some(msg) = socket.recv().await {
        let data = match msg {
            Ok(Message::Binary(b)) => b,
            // Keep reading after a Close: that is when the reply to it goes out.
            Ok(Message::Close(_)) => continue,
            Err(_) => return,
            Ok(_) => continue,
        };
        let Some((&channel, payload)) = data.split_first() else { continue };
        let index = usize::from(channel / 2);
        // Clients write only to data channels; anything else is ignored, as the kubelet does.
        if channel % 2 == 1 || index >= ports.len() || payload.is_empty() {
            continue;
        }
        if let Err((_, why)) = check(&cluster, &ns, &pod, &ports[index..=index]) {
            let _ = socket.send(frame(channel + 1, why.as_bytes())).await;
            return close(socket).await;
        }
        let date = http::http_date(cluster.clock.now());
        let out = conns[index].feed(payload, &date, |method, target| envoy::admin(&cluster, &ns, &pod, method, target));
        for chunk in out.chunks(FRAME) {
            if socket.send(frame(channel, chunk)).await.is_err() {
                return;
            }
        }
        // A forwarded connection that ends ends the session: v4 framing cannot close one port.
        if conns[index].is_closed() {
            return close(socket).await;
        }
    }
}

/// Starts the closing handshake and waits a while for the client's reply.
async fn close(mut socket: WebSocket) {
    if socket.send(Message::Close(None)).await.is_err() {
        return;
    }
    let drain = async { while let Some(Ok(_)) = socket.recv().await {} };
    let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
}

#[cfg(test)]
mod tests;
