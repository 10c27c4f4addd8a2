//! The Job controller: runs up to `parallelism` pods until `completions` succeed (Complete)
//! or more than `backoffLimit` fail (Failed), with the status counts and conditions
//! `kubectl wait --for=condition=complete` reads.

use super::events::{Source, Type};
use super::podtemplate::{self, PodName};
use super::queue::{Key, What};
use super::util::{MANAGER, condition_true, int_at, kind, pod_ready, pod_terminal, pods, set_condition, str_at, uid};
use super::{Ctx, Outcome};
use crate::sim::ops::WriteOpts;
use serde_json::{Value, json};
use std::sync::Arc;

const SOURCE: Source<'static> = Source::controller("job-controller");

fn finished(job: &Value) -> bool {
    condition_true(job, "Complete") || condition_true(job, "Failed")
}

pub fn reconcile(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let jk = kind("batch", "jobs");
    let Some(job) = ctx.cluster.store.get(jk, ns, name).map(|e| e.value()) else { return Ok(None) };
    let job_uid = uid(&job).to_string();
    // Without a selector (the API server here does not generate one) the controller's uid
    // label finds the pods.
    let fallback = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}});
    let selector = job.pointer("/spec/selector").filter(|s| s.is_object()).unwrap_or(&fallback);
    let list = podtemplate::owned(ctx, pods(), ns, Some(selector), &job_uid);
    let active: Vec<&Arc<Value>> = list.iter().filter(|p| !pod_terminal(p)).collect();
    let succeeded = (list.iter().filter(|p| str_at(p, "/status/phase") == "Succeeded").count() as i64)
        .max(int_at(&job, "/status/succeeded").unwrap_or(0));
    let failed = (list.iter().filter(|p| str_at(p, "/status/phase") == "Failed").count() as i64)
        .max(int_at(&job, "/status/failed").unwrap_or(0));
    let completions = int_at(&job, "/spec/completions").unwrap_or(1).max(0);
    let parallelism = int_at(&job, "/spec/parallelism").unwrap_or(1).max(0);
    let backoff_limit = int_at(&job, "/spec/backoffLimit").unwrap_or(6);
    let now = ctx.cluster.now_str();
    let mut conds: Vec<Value> =
        job.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut completion_time = job.pointer("/status/completionTime").cloned();
    let key = Key::new(What::Job, ns, name);
    let mut retry = None;
    let mut active_count = active.len() as i64;
    if !finished(&job) {
        if failed > backoff_limit {
            for p in &active {
                let _ = ctx.cluster.delete(pods(), ns, str_at(p, "/metadata/name"), WriteOpts::by(MANAGER));
            }
            active_count = 0;
            let msg = "Job has reached the specified backoff limit";
            set_condition(&mut conds, "FailureTarget", "True", "BackoffLimitExceeded", msg, &now, true);
            set_condition(&mut conds, "Failed", "True", "BackoffLimitExceeded", msg, &now, true);
            ctx.recorder.record(&ctx.cluster, &job, Type::Warning, "BackoffLimitExceeded", msg, SOURCE);
        } else if succeeded >= completions {
            let msg = "Reached expected number of succeeded pods";
            set_condition(&mut conds, "SuccessCriteriaMet", "True", "CompletionsReached", msg, &now, true);
            if active.is_empty() {
                set_condition(&mut conds, "Complete", "True", "CompletionsReached", msg, &now, true);
                completion_time = Some(json!(now));
                ctx.recorder.record(&ctx.cluster, &job, Type::Normal, "Completed", "Job completed", SOURCE);
            }
        } else if job.pointer("/spec/suspend") != Some(&json!(true)) {
            let missing = parallelism.min(completions - succeeded) - active_count;
            for _ in 0..missing {
                let t = job.pointer("/spec/template").cloned().unwrap_or_default();
                let extra = [
                    ("batch.kubernetes.io/controller-uid", job_uid.as_str()),
                    ("batch.kubernetes.io/job-name", name),
                    ("controller-uid", job_uid.as_str()),
                    ("job-name", name),
                ];
                let prefix = format!("{name}-");
                let pod = podtemplate::new_pod(&t, &job, PodName::Generate(&prefix), &extra);
                match podtemplate::create(ctx, ns, pod) {
                    Ok(p) => {
                        active_count += 1;
                        ctx.succeeded(&key);
                        let msg = format!("Created pod: {}", str_at(&p, "/metadata/name"));
                        ctx.recorder.record(&ctx.cluster, &job, Type::Normal, "SuccessfulCreate", &msg, SOURCE);
                    }
                    Err(e) => {
                        let msg = format!("Error creating: {}", e.message(pods()));
                        ctx.recorder.record(&ctx.cluster, &job, Type::Warning, "FailedCreate", &msg, SOURCE);
                        retry = Some(ctx.failed(&key));
                        break;
                    }
                }
            }
        }
    }
    let mut status = serde_json::Map::new();
    if !conds.is_empty() {
        status.insert("conditions".into(), Value::Array(conds));
    }
    let start = job.pointer("/status/startTime").cloned().unwrap_or_else(|| json!(now));
    status.insert("startTime".into(), start);
    if let Some(t) = completion_time {
        status.insert("completionTime".into(), t);
    }
    for (k, v) in [("active", active_count), ("succeeded", succeeded), ("failed", failed)] {
        if v > 0 {
            status.insert(k.into(), json!(v));
        }
    }
    status.insert("ready".into(), json!(active.iter().filter(|p| pod_ready(p)).count()));
    status.insert("terminating".into(), json!(0));
    status.insert("uncountedTerminatedPods".into(), json!({}));
    let status = Value::Object(status);
    ctx.cluster.mutate(jk, ns, name, MANAGER, |o| {
        if uid(o) == job_uid {
            o["status"] = status.clone();
        }
    })?;
    Ok(retry)
}
