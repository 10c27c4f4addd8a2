//! Keeps what meshdeck applied before: a server-side apply declares every field its manager
//! owns on the object, so a body that leaves out a field meshdeck set earlier (a later plan
//! that only restarts a Deployment, after an earlier one labelled it for injection) would make
//! the API server remove that field. Before such a body is sent, the fields meshdeck's apply
//! entry owns and the body does not mention are copied in from the live object. Pure.

use serde_json::{Map, Value};

/// The `fieldsV1` set of `manager`'s `Apply` entry in the live object's managedFields.
fn owned_set<'a>(live: &'a Value, manager: &str) -> Option<&'a Map<String, Value>> {
    live.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| {
            e.get("manager").and_then(Value::as_str) == Some(manager)
                && e.get("operation").and_then(Value::as_str) == Some("Apply")
        })?
        .get("fieldsV1")?
        .as_object()
}

/// Copies into `body` every field `manager` owns by apply on `live` that `body` leaves out,
/// with its live value. Fields `body` sets keep the body's value. Lists are taken whole: an
/// owned list item the body's own list lacks is the body's decision to drop it.
pub fn carry_owned(body: &mut Value, live: &Value, manager: &str) {
    if let (Some(set), Some(b)) = (owned_set(live, manager), body.as_object_mut()) {
        carry(b, live, set);
    }
}

fn is_leaf(set: &Map<String, Value>) -> bool {
    set.keys().all(|k| k == ".")
}

fn carry(body: &mut Map<String, Value>, live: &Value, set: &Map<String, Value>) {
    for (key, sub) in set {
        let Some(name) = key.strip_prefix("f:") else { continue };
        let Some(live_v) = live.get(name) else { continue };
        let sub = sub.as_object();
        let leaf = sub.is_none_or(is_leaf);
        match body.get_mut(name) {
            None if leaf || !live_v.is_object() => {
                body.insert(name.to_string(), live_v.clone());
            }
            None => {
                let mut m = Map::new();
                carry(&mut m, live_v, sub.expect("not a leaf"));
                if !m.is_empty() {
                    body.insert(name.to_string(), Value::Object(m));
                }
            }
            Some(Value::Object(bm)) if !leaf && live_v.is_object() => carry(bm, live_v, sub.expect("not a leaf")),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(fields: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "numbers-api", "namespace": "rng", "labels": {"app": "numbers-api"},
                "managedFields": [
                    {"manager": "kubectl-client-side-apply", "operation": "Update", "fieldsV1": {
                        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {"f:replicas": {}}}},
                    {"manager": "meshdeck", "operation": "Apply", "fieldsV1": fields},
                ],
            },
            "spec": {
                "replicas": 2,
                "template": {"metadata": {
                    "labels": {"app": "numbers-api", "sidecar.istio.io/inject": "true"},
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-27T01:00:00Z"},
                }},
            },
        })
    }

    fn restart_body(at: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "numbers-api", "namespace": "rng"},
            "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": at}}}},
        })
    }

    #[test]
    fn a_later_restart_keeps_the_injection_label_meshdeck_applied() {
        let l = live(json!({"f:spec": {"f:template": {"f:metadata": {
            "f:labels": {"f:sidecar.istio.io/inject": {}},
            "f:annotations": {"f:kubectl.kubernetes.io/restartedAt": {}},
        }}}}));
        let mut body = restart_body("2026-11-27T02:00:00Z");
        carry_owned(&mut body, &l, "meshdeck");
        assert_eq!(
            body["spec"]["template"]["metadata"],
            json!({
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-27T02:00:00Z"},
                "labels": {"sidecar.istio.io/inject": "true"},
            })
        );
        // Fields other managers own are not copied.
        assert!(body["metadata"].get("labels").is_none());
        assert!(body["spec"].get("replicas").is_none());
    }

    #[test]
    fn nothing_is_carried_without_an_apply_entry_of_meshdeck() {
        let mut l = live(json!({}));
        l["metadata"]["managedFields"][1]["operation"] = json!("Update");
        let mut body = restart_body("x");
        let want = body.clone();
        carry_owned(&mut body, &l, "meshdeck");
        assert_eq!(body, want);
    }

    #[test]
    fn a_list_meshdeck_owns_is_taken_whole_and_a_body_list_wins() {
        let l = json!({
            "metadata": {"name": "p", "managedFields": [{"manager": "meshdeck", "operation": "Apply", "fieldsV1": {
                "f:spec": {"f:rules": {}, "f:action": {}}}}]},
            "spec": {"action": "ALLOW", "rules": [{"from": [{"source": {"namespaces": ["a"]}}]}]},
        });
        let mut body = json!({"metadata": {"name": "p"}, "spec": {}});
        carry_owned(&mut body, &l, "meshdeck");
        assert_eq!(body["spec"], l["spec"]);
        let mut body = json!({"metadata": {"name": "p"}, "spec": {"rules": []}});
        carry_owned(&mut body, &l, "meshdeck");
        assert_eq!(body["spec"], json!({"rules": [], "action": "ALLOW"}));
    }
}
