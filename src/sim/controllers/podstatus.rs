//! Pod status as the kubelet reports it at each stage of a simulated pod's life: scheduled
//! and creating, running (or crash-looping), restarted, completed. Pure functions on the pod
//! object; timing and writes belong to `pods`.

use super::util::{name, str_at, uid};
use serde_json::{Value, json};

/// Images from this registry start, exit with an error and back off forever.
pub const FAILING_REGISTRY: &str = "fail.invalid/";

pub fn crashes(container: &Value) -> bool {
    str_at(container, "/image").starts_with(FAILING_REGISTRY)
}

/// An init container with `restartPolicy: Always` runs beside the app (a native sidecar).
pub fn is_sidecar(container: &Value) -> bool {
    str_at(container, "/restartPolicy") == "Always"
}

fn containers<'a>(pod: &'a Value, list: &str) -> impl Iterator<Item = &'a Value> {
    pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array).into_iter().flatten()
}

/// The image reference as containerd reports it: `nginx:1.25` is
/// `docker.io/library/nginx:1.25`.
pub fn normalize_image(image: &str) -> String {
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let named = if first.is_empty() {
        format!("docker.io/library/{rest}")
    } else if first.contains('.') || first.contains(':') || first == "localhost" {
        image.to_string()
    } else {
        format!("docker.io/{image}")
    };
    let last = named.rsplit('/').next().unwrap_or_default();
    if last.contains(':') || last.contains('@') { named } else { format!("{named}:latest") }
}

fn hex64(seed: &str) -> String {
    let mut out = String::with_capacity(64);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0u8..4 {
        for b in seed.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

pub fn image_id(image: &str) -> String {
    let n = normalize_image(image);
    let repo = n.rsplit_once(':').filter(|(r, _)| !r.ends_with('/') && !r.contains('@')).map_or(n.as_str(), |x| x.0);
    format!("{repo}@sha256:{}", hex64(&n))
}

fn container_id(pod_uid: &str, container: &str, restart: i64) -> String {
    format!("containerd://{}", hex64(&format!("{pod_uid}/{container}/{restart}")))
}

/// Kubernetes' backoff wording: 10s, 20s, 40s, 1m20s, 2m40s, 5m0s.
pub fn go_duration(secs: u64) -> String {
    if secs < 60 { format!("{secs}s") } else { format!("{}m{}s", secs / 60, secs % 60) }
}

fn pod_ref(pod: &Value) -> String {
    format!("{}_{}({})", name(pod), str_at(pod, "/metadata/namespace"), uid(pod))
}

fn condition(ty: &str, status: bool, reason: Option<&str>, message: Option<String>, since: &str) -> Value {
    let mut c = json!({"lastProbeTime": null, "lastTransitionTime": since, "status": if status { "True" } else { "False" }, "type": ty});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// Keeps a condition's transition time when its status did not change.
fn keep_since(pod: &Value, mut c: Value) -> Value {
    if let Some(old) = super::util::find_condition(pod, str_at(&c, "/type"))
        && old.get("status") == c.get("status")
        && let Some(t) = old.get("lastTransitionTime")
    {
        c["lastTransitionTime"] = t.clone();
    }
    c
}

fn set_conditions(pod: &mut Value, conds: Vec<Value>) {
    let conds: Vec<Value> = conds.into_iter().map(|c| keep_since(pod, c)).collect();
    pod["status"]["conditions"] = Value::Array(conds);
}

/// The scheduler's binding: node and PodScheduled.
pub fn apply_scheduled(pod: &mut Value, node: &str, now: &str) {
    pod["spec"]["nodeName"] = json!(node);
    if !pod["status"].is_object() {
        pod["status"] = json!({"phase": "Pending"});
    }
    let mut conds: Vec<Value> = pod["status"]["conditions"].as_array().cloned().unwrap_or_default();
    conds.retain(|c| str_at(c, "/type") != "PodScheduled");
    conds.push(condition("PodScheduled", true, None, None, now));
    pod["status"]["conditions"] = Value::Array(conds);
}

fn waiting(c: &Value, reason: &str) -> Value {
    json!({"image": str_at(c, "/image"), "imageID": "", "lastState": {}, "name": str_at(c, "/name"),
           "ready": false, "restartCount": 0, "started": false, "state": {"waiting": {"reason": reason}}})
}

/// The kubelet's first report: containers being created.
pub fn apply_creating(pod: &mut Value, host_ip: &str, now: &str) {
    let inits: Vec<&Value> = containers(pod, "initContainers").collect();
    let init_pending: Vec<String> = inits.iter().map(|c| str_at(c, "/name").to_string()).collect();
    let names: Vec<String> = containers(pod, "containers").map(|c| str_at(c, "/name").to_string()).collect();
    let init_statuses: Vec<Value> = inits.iter().map(|c| waiting(c, "PodInitializing")).collect();
    let statuses: Vec<Value> = containers(pod, "containers")
        .map(|c| waiting(c, if init_pending.is_empty() { "ContainerCreating" } else { "PodInitializing" }))
        .collect();
    let s = &mut pod["status"];
    s["hostIP"] = json!(host_ip);
    s["hostIPs"] = json!([{"ip": host_ip}]);
    if s.get("startTime").is_none() {
        s["startTime"] = json!(now);
    }
    s["phase"] = json!("Pending");
    if !init_statuses.is_empty() {
        s["initContainerStatuses"] = Value::Array(init_statuses);
    }
    s["containerStatuses"] = Value::Array(statuses);
    let unready = Some(format!("containers with unready status: [{}]", names.join(" ")));
    let initialized = if init_pending.is_empty() {
        condition("Initialized", true, None, None, now)
    } else {
        let m = format!("containers with incomplete status: [{}]", init_pending.join(" "));
        condition("Initialized", false, Some("ContainersNotInitialized"), Some(m), now)
    };
    let scheduled = super::util::find_condition(pod, "PodScheduled").cloned();
    let mut conds = vec![
        condition("PodReadyToStartContainers", false, None, None, now),
        initialized,
        condition("Ready", false, Some("ContainersNotReady"), unready.clone(), now),
        condition("ContainersReady", false, Some("ContainersNotReady"), unready, now),
    ];
    conds.extend(scheduled);
    set_conditions(pod, conds);
}

fn running(c: &Value, pod: &Value, now: &str) -> Value {
    let n = str_at(c, "/name");
    json!({"containerID": container_id(uid(pod), n, 0), "image": normalize_image(str_at(c, "/image")),
           "imageID": image_id(str_at(c, "/image")), "lastState": {}, "name": n, "ready": true,
           "restartCount": 0, "started": true, "state": {"running": {"startedAt": now}}})
}

fn crash_looping(c: &Value, pod: &Value, now: &str) -> Value {
    let n = str_at(c, "/name");
    let id = container_id(uid(pod), n, 0);
    json!({"containerID": id, "image": normalize_image(str_at(c, "/image")),
           "imageID": image_id(str_at(c, "/image")),
           "lastState": {"terminated": {"containerID": id, "exitCode": 1, "finishedAt": now, "reason": "Error", "startedAt": now}},
           "name": n, "ready": false, "restartCount": 1, "started": false,
           "state": {"waiting": {"message": format!("back-off 10s restarting failed container={n} pod={}", pod_ref(pod)),
                                 "reason": "CrashLoopBackOff"}}})
}

fn completed(c: &Value, pod: &Value, started: &str, now: &str, ok: bool) -> Value {
    let n = str_at(c, "/name");
    let id = container_id(uid(pod), n, 0);
    let (code, reason) = if ok { (0, "Completed") } else { (1, "Error") };
    json!({"containerID": id, "image": normalize_image(str_at(c, "/image")), "imageID": image_id(str_at(c, "/image")),
           "lastState": {}, "name": n, "ready": false, "restartCount": 0, "started": false,
           "state": {"terminated": {"containerID": id, "exitCode": code, "finishedAt": now, "reason": reason, "startedAt": started}}})
}

/// All containers started: regular init containers completed, native sidecars and app
/// containers running — except those whose image fails, which crash-loop unless the pod
/// never restarts. Returns the names of crash-looping containers.
pub fn apply_running(pod: &mut Value, pod_ip: &str, now: &str) -> Vec<String> {
    let never = str_at(pod, "/spec/restartPolicy") == "Never";
    let mut unready = Vec::new();
    let mut init_statuses = Vec::new();
    for c in containers(pod, "initContainers") {
        if is_sidecar(c) {
            if crashes(c) {
                unready.push(str_at(c, "/name").to_string());
                init_statuses.push(crash_looping(c, pod, now));
            } else {
                init_statuses.push(running(c, pod, now));
            }
        } else {
            let mut done = completed(c, pod, now, now, true);
            done["ready"] = json!(true);
            init_statuses.push(done);
        }
    }
    let mut statuses = Vec::new();
    for c in containers(pod, "containers") {
        if crashes(c) && !never {
            unready.push(str_at(c, "/name").to_string());
            statuses.push(crash_looping(c, pod, now));
        } else {
            statuses.push(running(c, pod, now));
        }
    }
    let s = &mut pod["status"];
    s["phase"] = json!("Running");
    s["podIP"] = json!(pod_ip);
    s["podIPs"] = json!([{"ip": pod_ip}]);
    if s.get("startTime").is_none() {
        s["startTime"] = json!(now);
    }
    if init_statuses.is_empty() {
        if let Some(m) = s.as_object_mut() {
            m.remove("initContainerStatuses");
        }
    } else {
        s["initContainerStatuses"] = Value::Array(init_statuses);
    }
    s["containerStatuses"] = Value::Array(statuses);
    let ready = unready.is_empty();
    let why = (!ready).then(|| format!("containers with unready status: [{}]", unready.join(" ")));
    let reason = (!ready).then_some("ContainersNotReady");
    let scheduled = super::util::find_condition(pod, "PodScheduled").cloned();
    let mut conds = vec![
        condition("PodReadyToStartContainers", true, None, None, now),
        condition("Initialized", true, None, None, now),
        condition("Ready", ready, reason, why.clone(), now),
        condition("ContainersReady", ready, reason, why, now),
    ];
    conds.extend(scheduled);
    set_conditions(pod, conds);
    unready
}

/// One more failed start of every crash-looping container, with the next back-off in the
/// waiting message. Returns the field paths and names of the restarted containers.
pub fn apply_restart(pod: &mut Value, now: &str, next_backoff_secs: u64) -> Vec<(String, String)> {
    let pref = pod_ref(pod);
    let pod_uid = uid(pod).to_string();
    let mut out = Vec::new();
    for (list, field) in [("initContainerStatuses", "spec.initContainers"), ("containerStatuses", "spec.containers")] {
        let Some(statuses) = pod["status"].get_mut(list).and_then(Value::as_array_mut) else { continue };
        for cs in statuses {
            if str_at(cs, "/state/waiting/reason") != "CrashLoopBackOff" {
                continue;
            }
            let n = str_at(cs, "/name").to_string();
            let count = cs["restartCount"].as_i64().unwrap_or(0) + 1;
            let id = container_id(&pod_uid, &n, count);
            cs["restartCount"] = json!(count);
            cs["containerID"] = json!(id);
            cs["lastState"] = json!({"terminated": {"containerID": id, "exitCode": 1, "finishedAt": now, "reason": "Error", "startedAt": now}});
            cs["state"]["waiting"]["message"] = json!(format!(
                "back-off {} restarting failed container={n} pod={pref}",
                go_duration(next_backoff_secs)
            ));
            out.push((format!("{field}{{{n}}}"), n));
        }
    }
    out
}

/// Every app container has exited: Succeeded, or Failed when one of them fails.
pub fn apply_completed(pod: &mut Value, now: &str) {
    let started = str_at(pod, "/status/startTime").to_string();
    let started = if started.is_empty() { now.to_string() } else { started };
    let mut ok_all = true;
    let statuses: Vec<Value> = containers(pod, "containers")
        .map(|c| {
            let ok = !crashes(c);
            ok_all &= ok;
            completed(c, pod, &started, now, ok)
        })
        .collect();
    pod["status"]["containerStatuses"] = Value::Array(statuses);
    if let Some(inits) = pod["status"].get_mut("initContainerStatuses").and_then(Value::as_array_mut) {
        for cs in inits.iter_mut().filter(|cs| cs.pointer("/state/running").is_some()) {
            let id = cs["containerID"].clone();
            cs["ready"] = json!(false);
            cs["started"] = json!(false);
            cs["state"] = json!({"terminated": {"containerID": id, "exitCode": 0, "finishedAt": now, "reason": "Completed", "startedAt": started}});
        }
    }
    let reason = if ok_all { "PodCompleted" } else { "PodFailed" };
    pod["status"]["phase"] = json!(if ok_all { "Succeeded" } else { "Failed" });
    let scheduled = super::util::find_condition(pod, "PodScheduled").cloned();
    let mut conds = vec![
        condition("PodReadyToStartContainers", false, None, None, now),
        condition("Initialized", true, Some(reason), None, now),
        condition("Ready", false, Some(reason), None, now),
        condition("ContainersReady", false, Some(reason), None, now),
    ];
    conds.extend(scheduled);
    set_conditions(pod, conds);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(containers: Value, inits: Value, policy: &str) -> Value {
        json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
               "spec": {"restartPolicy": policy, "containers": containers, "initContainers": inits},
               "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "t0"}]}})
    }

    #[test]
    fn images_normalize_like_containerd() {
        let cases = [
            ("nginx:1.25", "docker.io/library/nginx:1.25"),
            ("nginx", "docker.io/library/nginx:latest"),
            ("istio/proxyv2:1.26.0", "docker.io/istio/proxyv2:1.26.0"),
            ("gcr.io/x/y:2", "gcr.io/x/y:2"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
        ];
        for (i, want) in cases {
            assert_eq!(normalize_image(i), want);
        }
        assert!(image_id("nginx:1.25").starts_with("docker.io/library/nginx@sha256:"));
        assert_eq!(image_id("nginx:1.25").len(), "docker.io/library/nginx@sha256:".len() + 64);
    }

    #[test]
    fn running_pod_with_istio_containers() {
        let mut p = pod(
            json!([{"name": "app", "image": "nginx:1.25"}]),
            json!([{"name": "istio-init", "image": "istio/proxyv2:1.26.0"},
                   {"name": "istio-proxy", "image": "istio/proxyv2:1.26.0", "restartPolicy": "Always"}]),
            "Always",
        );
        let unready = apply_running(&mut p, "10.244.1.2", "t1");
        assert!(unready.is_empty());
        let s = &p["status"];
        assert_eq!(s["phase"], "Running");
        assert_eq!(s["containerStatuses"][0]["state"]["running"]["startedAt"], "t1");
        assert_eq!(s["initContainerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
        assert_eq!(s["initContainerStatuses"][1]["name"], "istio-proxy");
        assert_eq!(s["initContainerStatuses"][1]["ready"], true);
        assert_eq!(s["initContainerStatuses"][1]["started"], true);
        let types: Vec<&str> = s["conditions"].as_array().unwrap().iter().map(|c| str_at(c, "/type")).collect();
        assert_eq!(types, ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]);
        assert_eq!(s["conditions"][2]["status"], "True");
        assert_eq!(s["conditions"][4]["lastTransitionTime"], "t0");
    }

    #[test]
    fn failing_image_crash_loops_with_growing_restarts() {
        let mut p = pod(json!([{"name": "app", "image": "fail.invalid/x:1"}]), json!([]), "Always");
        assert_eq!(apply_running(&mut p, "10.244.1.3", "t1"), vec!["app".to_string()]);
        assert_eq!(p["status"]["conditions"][2]["status"], "False");
        assert_eq!(p["status"]["conditions"][2]["message"], "containers with unready status: [app]");
        let cs = &p["status"]["containerStatuses"][0];
        assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(cs["restartCount"], 1);
        let restarted = apply_restart(&mut p, "t2", 20);
        assert_eq!(restarted, vec![("spec.containers{app}".to_string(), "app".to_string())]);
        let cs = &p["status"]["containerStatuses"][0];
        assert_eq!(cs["restartCount"], 2);
        assert_eq!(cs["state"]["waiting"]["message"], "back-off 20s restarting failed container=app pod=p_ns(u1)");
    }

    #[test]
    fn completion_succeeds_or_fails_by_image() {
        let mut ok = pod(json!([{"name": "c", "image": "busybox"}]), json!([]), "Never");
        apply_running(&mut ok, "10.244.1.4", "t1");
        apply_completed(&mut ok, "t2");
        assert_eq!(ok["status"]["phase"], "Succeeded");
        assert_eq!(ok["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0);
        let mut bad = pod(json!([{"name": "c", "image": "fail.invalid/b:1"}]), json!([]), "Never");
        apply_running(&mut bad, "10.244.1.5", "t1");
        apply_completed(&mut bad, "t2");
        assert_eq!(bad["status"]["phase"], "Failed");
        assert_eq!(bad["status"]["conditions"][2]["reason"], "PodFailed");
    }

    #[test]
    fn backoff_wording() {
        assert_eq!(go_duration(10), "10s");
        assert_eq!(go_duration(80), "1m20s");
        assert_eq!(go_duration(300), "5m0s");
    }
}
