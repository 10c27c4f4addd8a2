//! A Deployment's rollout arithmetic and status, as Kubernetes' deployment controller
//! computes them: surge and unavailability budgets, how far to scale the new and old
//! ReplicaSets, the status counts and the Available/Progressing conditions. Pure functions;
//! `deployment` reads the store and writes the results.

use super::util::{created, find_condition, int_at, scaled_value, set_condition, str_at};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// What the rollout needs to know about one ReplicaSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rs {
    pub name: String,
    /// `spec.replicas`
    pub spec: i64,
    /// `status.replicas`, `readyReplicas`, `availableReplicas`
    pub replicas: i64,
    pub ready: i64,
    pub available: i64,
    pub created: String,
    pub revision: i64,
}

pub const REVISION: &str = "deployment.kubernetes.io/revision";

impl Rs {
    pub fn of(rs: &Value) -> Rs {
        Rs {
            name: str_at(rs, "/metadata/name").to_string(),
            spec: int_at(rs, "/spec/replicas").unwrap_or(1),
            replicas: int_at(rs, "/status/replicas").unwrap_or(0),
            ready: int_at(rs, "/status/readyReplicas").unwrap_or(0),
            available: int_at(rs, "/status/availableReplicas").unwrap_or(0),
            created: created(rs).to_string(),
            revision: revision(rs),
        }
    }
}

pub fn revision(obj: &Value) -> i64 {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

pub fn replicas(d: &Value) -> i64 {
    int_at(d, "/spec/replicas").unwrap_or(1).max(0)
}

pub fn is_rolling(d: &Value) -> bool {
    str_at(d, "/spec/strategy/type") != "Recreate"
}

/// (maxSurge, maxUnavailable): surge rounds up, unavailable down; both zero means one may
/// be unavailable, or the rollout could never move.
pub fn fenceposts(d: &Value) -> (i64, i64) {
    let n = replicas(d);
    let ru = d.pointer("/spec/strategy/rollingUpdate");
    let surge = scaled_value(ru.and_then(|r| r.get("maxSurge")), n, true);
    let unavailable = scaled_value(ru.and_then(|r| r.get("maxUnavailable")), n, false);
    if surge == 0 && unavailable == 0 { (0, 1) } else { (surge, unavailable) }
}

/// How many pods may be unavailable while the Deployment still counts as Available.
pub fn max_unavailable(d: &Value) -> i64 {
    let n = replicas(d);
    if !is_rolling(d) || n == 0 {
        return 0;
    }
    fenceposts(d).1.min(n)
}

/// The new ReplicaSet's size for this step of a rolling update.
pub fn new_rs_replicas(d: &Value, all_spec_sum: i64, new_spec: i64) -> i64 {
    let n = replicas(d);
    if !is_rolling(d) {
        return n;
    }
    let (surge, _) = fenceposts(d);
    let max_total = n + surge;
    if all_spec_sum >= max_total {
        return new_spec;
    }
    let up = (max_total - all_spec_sum).min(n - new_spec).max(0);
    new_spec + up
}

/// New sizes for old ReplicaSets in this step: first unhealthy replicas go, then available
/// ones down to `replicas - maxUnavailable`. `olds` must be oldest first.
pub fn old_scale_down(d: &Value, new: Option<&Rs>, olds: &[Rs]) -> Vec<(String, i64)> {
    let old_count: i64 = olds.iter().map(|r| r.spec).sum();
    if old_count == 0 {
        return Vec::new();
    }
    let all_spec: i64 = old_count + new.map_or(0, |r| r.spec);
    let (_, max_unav) = fenceposts(d);
    let min_available = replicas(d) - max_unav;
    let new_unavailable = new.map_or(0, |r| (r.spec - r.available).max(0));
    let max_scaled_down = all_spec - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut sizes: Vec<i64> = olds.iter().map(|r| r.spec).collect();
    // Unhealthy replicas of old sets can go without lowering availability.
    let mut cleaned = 0;
    for (i, r) in olds.iter().enumerate() {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = (r.spec - r.available).max(0);
        if r.spec == 0 || unhealthy == 0 {
            continue;
        }
        let n = unhealthy.min(max_scaled_down - cleaned);
        sizes[i] -= n;
        cleaned += n;
    }
    let available: i64 = olds.iter().map(|r| r.available).sum::<i64>() + new.map_or(0, |r| r.available);
    if available > min_available {
        let mut budget = available - min_available;
        for s in sizes.iter_mut() {
            if budget == 0 {
                break;
            }
            let n = (*s).min(budget);
            *s -= n;
            budget -= n;
        }
    }
    olds.iter().zip(sizes).filter(|(r, s)| r.spec != *s).map(|(r, s)| (r.name.clone(), s)).collect()
}

/// Progress deadline in seconds, when the Deployment has one.
pub fn progress_deadline(d: &Value) -> Option<i64> {
    int_at(d, "/spec/progressDeadlineSeconds").filter(|s| *s != i64::from(i32::MAX))
}

/// How the new ReplicaSet came about in this sync, for the Progressing condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewRs {
    Created,
    Found,
    Unchanged,
}

fn count(s: &Value, f: &str) -> i64 {
    s.get(f).and_then(Value::as_i64).unwrap_or(0)
}

/// The counts and conditions of a Deployment's status after a sync.
pub fn next_status(
    d: &Value,
    all: &[Rs],
    new: Option<&Rs>,
    how: NewRs,
    replica_failure: Option<&Value>,
    now: SystemTime,
    now_str: &str,
) -> Value {
    let old = d.get("status").cloned().unwrap_or_else(|| json!({}));
    let want = replicas(d);
    let available: i64 = all.iter().map(|r| r.available).sum();
    let spec_total: i64 = all.iter().map(|r| r.spec).sum();
    let mut s = serde_json::Map::new();
    s.insert("observedGeneration".into(), json!(int_at(d, "/metadata/generation").unwrap_or(0)));
    for (k, v) in [
        ("replicas", all.iter().map(|r| r.replicas).sum::<i64>()),
        ("updatedReplicas", new.map_or(0, |r| r.replicas)),
        ("readyReplicas", all.iter().map(|r| r.ready).sum()),
        ("availableReplicas", available),
        ("unavailableReplicas", (spec_total - available).max(0)),
    ] {
        if v != 0 {
            s.insert(k.into(), json!(v));
        }
    }
    if let Some(c) = old.get("collisionCount") {
        s.insert("collisionCount".into(), c.clone());
    }
    let status = Value::Object(s);
    let mut conds: Vec<Value> = old.get("conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let deadline = progress_deadline(d);
    let paused = d.pointer("/spec/paused") == Some(&json!(true));
    let rs_name = new.map(|r| r.name.as_str());
    if let (Some(_), Some(n)) = (deadline, rs_name) {
        match how {
            NewRs::Created => {
                let m = format!("Created new replica set \"{n}\"");
                set_condition(&mut conds, "Progressing", "True", "NewReplicaSetCreated", &m, now_str, true);
            }
            NewRs::Found if !conds.iter().any(|c| str_at(c, "/type") == "Progressing") => {
                let m = format!("Found new replica set \"{n}\"");
                set_condition(&mut conds, "Progressing", "True", "FoundNewReplicaSet", &m, now_str, true);
            }
            _ => {}
        }
    }
    let available_ok = available >= want - max_unavailable(d);
    if available_ok {
        let m = "Deployment has minimum availability.";
        set_condition(&mut conds, "Available", "True", "MinimumReplicasAvailable", m, now_str, true);
    } else {
        let m = "Deployment does not have minimum availability.";
        set_condition(&mut conds, "Available", "False", "MinimumReplicasUnavailable", m, now_str, true);
    }
    let mut status = status;
    if let Some(secs) = deadline {
        let pcond = conds.iter().find(|c| str_at(c, "/type") == "Progressing").cloned();
        let reason = pcond.as_ref().map(|c| str_at(c, "/reason").to_string()).unwrap_or_default();
        let what = match rs_name {
            Some(n) => format!("ReplicaSet \"{n}\""),
            None => format!("Deployment \"{}\"", str_at(d, "/metadata/name")),
        };
        if paused {
            if reason != "ProgressDeadlineExceeded" && reason != "DeploymentPaused" {
                set_condition(
                    &mut conds,
                    "Progressing",
                    "Unknown",
                    "DeploymentPaused",
                    "Deployment is paused",
                    now_str,
                    true,
                );
            }
        } else if reason == "DeploymentPaused" {
            set_condition(
                &mut conds,
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                now_str,
                true,
            );
        } else {
            let settled =
                count(&status, "replicas") == count(&status, "updatedReplicas") && reason == "NewReplicaSetAvailable";
            if !settled {
                if complete(d, &status) {
                    let m = format!("{what} has successfully progressed.");
                    set_condition(&mut conds, "Progressing", "True", "NewReplicaSetAvailable", &m, now_str, true);
                } else if progressing(&old, &status) {
                    // Every step of progress renews lastUpdateTime, which restarts the deadline.
                    let since = pcond
                        .as_ref()
                        .filter(|c| str_at(c, "/status") == "True")
                        .and_then(|c| c.get("lastTransitionTime").cloned())
                        .unwrap_or_else(|| json!(now_str));
                    conds.retain(|c| str_at(c, "/type") != "Progressing");
                    conds.push(json!({"type": "Progressing", "status": "True", "lastUpdateTime": now_str,
                        "lastTransitionTime": since, "reason": "ReplicaSetUpdated",
                        "message": format!("{what} is progressing.")}));
                } else if timed_out(pcond.as_ref(), secs, now) {
                    let m = format!("{what} has timed out progressing.");
                    set_condition(&mut conds, "Progressing", "False", "ProgressDeadlineExceeded", &m, now_str, true);
                }
            }
        }
    }
    match replica_failure {
        Some(f) => {
            let m = str_at(f, "/message");
            let r = str_at(f, "/reason");
            set_condition(&mut conds, "ReplicaFailure", str_at(f, "/status"), r, m, now_str, true);
        }
        None => conds.retain(|c| str_at(c, "/type") != "ReplicaFailure"),
    }
    if !conds.is_empty() {
        status["conditions"] = Value::Array(conds);
    }
    status
}

/// Every replica updated and available, and the spec observed.
pub fn complete(d: &Value, status: &Value) -> bool {
    let n = replicas(d);
    count(status, "updatedReplicas") == n
        && count(status, "replicas") == n
        && count(status, "availableReplicas") == n
        && count(status, "observedGeneration") >= int_at(d, "/metadata/generation").unwrap_or(0)
}

fn progressing(old: &Value, new: &Value) -> bool {
    let old_old = count(old, "replicas") - count(old, "updatedReplicas");
    let new_old = count(new, "replicas") - count(new, "updatedReplicas");
    count(new, "updatedReplicas") > count(old, "updatedReplicas")
        || new_old < old_old
        || count(new, "readyReplicas") > count(old, "readyReplicas")
        || count(new, "availableReplicas") > count(old, "availableReplicas")
}

fn last_update(cond: &Value) -> Option<SystemTime> {
    crate::sim::clock::parse_rfc3339(str_at(cond, "/lastUpdateTime"))
}

fn timed_out(cond: Option<&Value>, secs: i64, now: SystemTime) -> bool {
    let Some(c) = cond else { return false };
    match str_at(c, "/reason") {
        "NewReplicaSetAvailable" => false,
        "ProgressDeadlineExceeded" => true,
        _ => last_update(c).is_some_and(|t| t + Duration::from_secs(secs.max(0) as u64) < now),
    }
}

/// When to look again so a stuck rollout times out on time (the deadline is not
/// time-scaled: it is written in seconds the user chose).
pub fn recheck_deadline(d: &Value, status: &Value, now: SystemTime) -> Option<Duration> {
    let secs = progress_deadline(d)?;
    let cond = find_condition(&json!({"status": status}), "Progressing")?.clone();
    if complete(d, status) || matches!(str_at(&cond, "/reason"), "ProgressDeadlineExceeded" | "DeploymentPaused") {
        return None;
    }
    if d.pointer("/spec/paused") == Some(&json!(true)) {
        return None;
    }
    let due = last_update(&cond)? + Duration::from_secs(secs.max(0) as u64 + 1);
    Some(due.duration_since(now).unwrap_or_default().max(Duration::from_millis(200)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(replicas: i64, surge: Value, unav: Value) -> Value {
        json!({"metadata": {"name": "web", "generation": 2}, "spec": {"replicas": replicas, "progressDeadlineSeconds": 600,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unav}}}})
    }

    fn rs(name: &str, spec: i64, available: i64) -> Rs {
        Rs { name: name.into(), spec, replicas: spec, ready: available, available, created: String::new(), revision: 1 }
    }

    #[test]
    fn fenceposts_round_and_never_both_zero() {
        let cases = [
            (3, json!("25%"), json!("25%"), (1, 0)),
            (10, json!("25%"), json!("25%"), (3, 2)),
            (4, json!(0), json!(0), (0, 1)),
            (5, json!("0%"), json!("50%"), (0, 2)),
            (1, json!(2), json!(1), (2, 1)),
        ];
        for (n, s, u, want) in cases {
            assert_eq!(fenceposts(&deploy(n, s.clone(), u.clone())), want, "{n} {s} {u}");
        }
    }

    #[test]
    fn new_rs_grows_within_surge() {
        let d = deploy(3, json!("25%"), json!("25%"));
        assert_eq!(new_rs_replicas(&d, 3, 0), 1, "one surge pod beside three old");
        assert_eq!(new_rs_replicas(&d, 4, 1), 1, "at the ceiling");
        assert_eq!(new_rs_replicas(&d, 3, 1), 2);
        assert_eq!(new_rs_replicas(&d, 0, 0), 3, "nothing old: straight to size");
        let r = json!({"spec": {"replicas": 4, "strategy": {"type": "Recreate"}}});
        assert_eq!(new_rs_replicas(&r, 9, 0), 4);
    }

    #[test]
    fn old_sets_shrink_only_as_new_pods_become_available() {
        let d = deploy(3, json!("25%"), json!("25%"));
        // New pod not yet available: nothing may go.
        assert!(old_scale_down(&d, Some(&rs("new", 1, 0)), &[rs("old", 3, 3)]).is_empty());
        // New pod available: one old pod may go.
        assert_eq!(old_scale_down(&d, Some(&rs("new", 1, 1)), &[rs("old", 3, 3)]), vec![("old".into(), 2)]);
        // An unhealthy old replica goes even when availability has no room to spare.
        assert_eq!(old_scale_down(&d, Some(&rs("new", 1, 1)), &[rs("old", 3, 2)]), vec![("old".into(), 2)]);
        // Oldest set first.
        let d10 = deploy(10, json!("25%"), json!("25%"));
        let got = old_scale_down(&d10, Some(&rs("new", 3, 3)), &[rs("a", 2, 2), rs("b", 8, 8)]);
        assert_eq!(got, vec![("a".into(), 0), ("b".into(), 5)]);
    }

    #[test]
    fn status_counts_and_conditions() {
        let d = deploy(3, json!("25%"), json!("25%"));
        let now = SystemTime::now();
        let all = [rs("old", 2, 2), rs("new", 2, 1)];
        let s = next_status(&d, &all, Some(&all[1]), NewRs::Created, None, now, "t1");
        assert_eq!(s["replicas"], 4);
        assert_eq!(s["updatedReplicas"], 2);
        assert_eq!(s["readyReplicas"], 3);
        assert_eq!(s["availableReplicas"], 3);
        assert_eq!(s["unavailableReplicas"], 1);
        assert_eq!(s["observedGeneration"], 2);
        let types: Vec<&str> = s["conditions"].as_array().unwrap().iter().map(|c| str_at(c, "/type")).collect();
        assert_eq!(types, ["Available", "Progressing"]);
        assert_eq!(s["conditions"][0]["reason"], "MinimumReplicasAvailable");
        assert_eq!(s["conditions"][1]["reason"], "ReplicaSetUpdated");
        assert_eq!(s["conditions"][1]["message"], "ReplicaSet \"new\" is progressing.");
    }

    #[test]
    fn complete_rollout_and_timeout() {
        let mut d = deploy(2, json!("25%"), json!("25%"));
        let now = SystemTime::now();
        let all = [rs("new", 2, 2)];
        let s = next_status(&d, &all, Some(&all[0]), NewRs::Found, None, now, "t1");
        assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert!(s.get("unavailableReplicas").is_none());
        assert_eq!(recheck_deadline(&d, &s, now), None);
        // A rollout that has not moved since long before its deadline times out.
        d["spec"]["progressDeadlineSeconds"] = json!(2);
        d["status"] = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                            "lastUpdateTime": "2020-01-01T00:00:00Z", "lastTransitionTime": "2020-01-01T00:00:00Z"}]});
        let all = [rs("old", 2, 2), rs("new", 1, 0)];
        let s = next_status(&d, &all, Some(&all[1]), NewRs::Unchanged, None, now, "t2");
        let p = s["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Progressing").unwrap();
        assert_eq!(p["status"], "False");
        assert_eq!(p["reason"], "ProgressDeadlineExceeded");
        assert_eq!(p["message"], "ReplicaSet \"new\" has timed out progressing.");
    }
}
