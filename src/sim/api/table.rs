//! `meta.k8s.io/v1 Table` responses, so `kubectl get` prints the columns people expect.
//! Converts stored objects to rows; never changes them.

use super::super::clock::parse_rfc3339;
use super::super::kinds::Kind;
use serde_json::{Value, json};
use std::time::SystemTime;

/// Does the Accept header ask for a Table?
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| first.contains("as=Table"))
}

fn col(name: &str, ty: &str, priority: u8) -> Value {
    json!({"name": name, "type": ty, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority})
}

/// Short age in kubectl's style (`5s`, `3m`, `2h`, `4d`).
pub fn age(created: Option<&str>, now: SystemTime) -> String {
    let Some(t) = created.and_then(parse_rfc3339) else { return "<unknown>".into() };
    let s = now.duration_since(t).map(|d| d.as_secs()).unwrap_or(0);
    match s {
        0..120 => format!("{s}s"),
        120..7200 => format!("{}m", s / 60),
        7200..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

fn i(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn pod_cells(o: &Value) -> Vec<Value> {
    let statuses = o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    let native: Vec<Value> = o
        .pointer("/status/initContainerStatuses")
        .and_then(Value::as_array)
        .map(|a| {
            let sidecars: Vec<&str> = o
                .pointer("/spec/initContainers")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter().filter(|c| c["restartPolicy"] == "Always").filter_map(|c| c["name"].as_str()).collect()
                })
                .unwrap_or_default();
            a.iter().filter(|st| sidecars.contains(&st["name"].as_str().unwrap_or_default())).cloned().collect()
        })
        .unwrap_or_default();
    let total = o.pointer("/spec/containers").and_then(Value::as_array).map_or(0, Vec::len) + native.len();
    let ready = statuses.iter().chain(native.iter()).filter(|c| c["ready"] == true).count();
    let restarts: i64 = statuses.iter().map(|c| c["restartCount"].as_i64().unwrap_or(0)).sum();
    let waiting = statuses.iter().find_map(|c| c.pointer("/state/waiting/reason").and_then(Value::as_str));
    let phase = match s(o, "/status/phase") {
        "Succeeded" => "Completed",
        p => p,
    };
    let mut status = waiting.unwrap_or(phase).to_string();
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        status = "Terminating".into();
    }
    vec![
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts),
        json!(""),
        json!(o.pointer("/status/podIP").and_then(Value::as_str).unwrap_or("<none>")),
        json!(o.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("<none>")),
    ]
}

/// Column definitions and the cells (without name and age) for a kind.
type Cells = fn(&Value) -> Vec<Value>;

fn columns(kind: &Kind) -> (Vec<Value>, Cells) {
    match kind.plural {
        "pods" => (
            vec![
                col("Ready", "string", 0),
                col("Status", "string", 0),
                col("Restarts", "integer", 0),
                col("Age", "string", 0),
                col("IP", "string", 1),
                col("Node", "string", 1),
            ],
            pod_cells,
        ),
        "deployments" => (
            vec![
                col("Ready", "string", 0),
                col("Up-to-date", "integer", 0),
                col("Available", "integer", 0),
                col("Age", "string", 0),
            ],
            |o| {
                vec![
                    json!(format!("{}/{}", i(o, "/status/readyReplicas"), i(o, "/spec/replicas"))),
                    json!(i(o, "/status/updatedReplicas")),
                    json!(i(o, "/status/availableReplicas")),
                    json!(""),
                ]
            },
        ),
        "replicasets" => (
            vec![
                col("Desired", "integer", 0),
                col("Current", "integer", 0),
                col("Ready", "integer", 0),
                col("Age", "string", 0),
            ],
            |o| {
                vec![
                    json!(i(o, "/spec/replicas")),
                    json!(i(o, "/status/replicas")),
                    json!(i(o, "/status/readyReplicas")),
                    json!(""),
                ]
            },
        ),
        "statefulsets" => (vec![col("Ready", "string", 0), col("Age", "string", 0)], |o| {
            vec![json!(format!("{}/{}", i(o, "/status/readyReplicas"), i(o, "/spec/replicas"))), json!("")]
        }),
        "namespaces" => (vec![col("Status", "string", 0), col("Age", "string", 0)], |o| {
            vec![json!(s(o, "/status/phase")), json!("")]
        }),
        "services" => (
            vec![
                col("Type", "string", 0),
                col("Cluster-IP", "string", 0),
                col("Ports", "string", 0),
                col("Age", "string", 0),
            ],
            |o| {
                let ports: Vec<String> = o
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                            .collect()
                    })
                    .unwrap_or_default();
                vec![json!(s(o, "/spec/type")), json!(s(o, "/spec/clusterIP")), json!(ports.join(",")), json!("")]
            },
        ),
        _ => (vec![col("Age", "string", 0)], |_| vec![json!("")]),
    }
}

fn row(kind: &Kind, o: &Value, now: SystemTime, include_object: &str) -> Value {
    let (defs, cells_of) = columns(kind);
    let mut cells = vec![json!(s(o, "/metadata/name"))];
    cells.extend(cells_of(o));
    let age_at = defs.iter().position(|d| d["name"] == "Age").map(|p| p + 1);
    if let Some(p) = age_at {
        cells[p] = json!(age(o.pointer("/metadata/creationTimestamp").and_then(Value::as_str), now));
    }
    let object = match include_object {
        "None" => Value::Null,
        "Object" => o.clone(),
        _ => {
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"].clone()})
        }
    };
    json!({"cells": cells, "object": object})
}

/// A Table of `items`, in the version the client asked for.
pub fn table(
    kind: &Kind,
    items: &[std::sync::Arc<Value>],
    rv: &str,
    cont: Option<&str>,
    now: SystemTime,
    include_object: &str,
) -> Value {
    let (defs, _) = columns(kind);
    let mut all_defs = vec![col("Name", "string", 0)];
    all_defs.extend(defs);
    let rows: Vec<Value> = items.iter().map(|o| row(kind, o, now, include_object)).collect();
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": all_defs, "rows": rows})
}

/// One object as a single-row Table (watch events and single gets).
pub fn single(kind: &Kind, o: &Value, now: SystemTime, include_object: &str) -> Value {
    let mut t =
        table(kind, &[std::sync::Arc::new(o.clone())], s(o, "/metadata/resourceVersion"), None, now, include_object);
    if let Some(m) = t.as_object_mut() {
        m.remove("columnDefinitions");
        m.insert("columnDefinitions".into(), json!([]));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ages_like_kubectl() {
        let now = parse_rfc3339("2026-01-02T00:00:00Z").unwrap();
        assert_eq!(age(Some("2026-01-01T23:59:30Z"), now), "30s");
        assert_eq!(age(Some("2026-01-01T23:00:00Z"), now), "60m");
        assert_eq!(age(Some("2026-01-01T00:00:00Z"), now), "24h");
        assert_eq!(age(Some("2025-12-01T00:00:00Z"), now + Duration::from_secs(0)), "32d");
    }

    #[test]
    fn pod_ready_counts_native_sidecars() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": true, "restartCount": 1}],
                       "initContainerStatuses": [{"name": "istio-proxy", "ready": true}]}
        });
        let cells = pod_cells(&pod);
        assert_eq!(cells[0], "2/2");
        assert_eq!(cells[1], "Running");
        assert_eq!(cells[2], 1);
    }
}
