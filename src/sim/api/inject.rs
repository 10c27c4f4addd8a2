//! Where faults meet HTTP: what a request is in the fault rules' terms, and the answer a
//! strike gives in place of the server's (an error Status, or a connection closed with no
//! answer at all).

use super::auth::{self, User};
use super::faults::{Answer, RequestInfo, Strike};
use super::{Query, Target, status};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::Notify;

/// Closes the request's connection when notified: the accept loop puts one in every request.
#[derive(Clone)]
pub struct ConnKill(pub Arc<Notify>);

/// The request as rules match it. A create names its object in the body.
pub(crate) fn request_info(method: &Method, t: &Target, query: &Query, body: &[u8]) -> RequestInfo {
    let verb = super::method_verb(method, t.name.is_some(), query.flag("watch"));
    let name = match &t.name {
        Some(n) => n.clone(),
        None if verb == "create" => serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default(),
        None => String::new(),
    };
    let resource = match &t.sub {
        Some(sub) => format!("{}/{sub}", t.kind.plural),
        None => t.kind.plural.to_string(),
    };
    let mutating =
        !t.kind.virtual_only && matches!(verb, "create" | "update" | "patch" | "delete" | "deletecollection");
    RequestInfo {
        verb,
        resource,
        namespace: t.namespace.clone().unwrap_or_default(),
        name,
        dry_run: query.get("dryRun") == Some("All"),
        mutating,
    }
}

/// The answer a strike gives. A dropped connection never answers: the connection is closed
/// and this future does not finish.
pub(crate) async fn answer(
    strike: &Strike,
    req: &RequestInfo,
    t: &Target,
    user: &User,
    kill: Option<&ConnKill>,
) -> Response {
    let code = match strike.answer {
        Answer::Status(c) => c,
        Answer::Drop => {
            if let Some(k) = kill {
                k.0.notify_one();
                std::future::pending::<()>().await;
            }
            // Without a connection to close (never in the server), the nearest thing.
            503
        }
    };
    let (reason, message) = match code {
        429 => (
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later".to_string(),
        ),
        500 => ("InternalError", "Internal error occurred: injected fault".to_string()),
        503 => ("ServiceUnavailable", "the server is currently unable to handle the request".to_string()),
        504 => (
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request"
                .to_string(),
        ),
        409 => ("Conflict", crate::sim::ops::conflict_message(t.kind, &req.name)),
        403 => (
            "Forbidden",
            auth::forbidden_message(
                &user.name,
                req.verb,
                t.kind,
                t.namespace.as_deref(),
                Some(req.name.as_str()).filter(|n| !n.is_empty()),
            ),
        ),
        404 => ("NotFound", format!("{} \"{}\" not found", t.kind.qualified(), req.name)),
        400 => ("BadRequest", "injected fault".to_string()),
        _ => ("", format!("injected fault ({code})")),
    };
    let mut details = json!({"kind": t.kind.plural, "group": t.kind.group, "name": req.name});
    if matches!(code, 429 | 503) {
        details["retryAfterSeconds"] = json!(strike.retry_after);
    }
    let mut resp = status::error_with_details(code, reason, &message, details);
    if matches!(code, 429 | 503)
        && let Ok(v) = HeaderValue::from_str(&strike.retry_after.to_string())
    {
        resp.headers_mut().insert("retry-after", v);
    }
    resp
}
