//! The few raw requests the engine makes (GET, server-side apply, JSON patch, DELETE with a
//! precondition, SelfSubjectAccessReview), each returning the API's status and body so callers
//! can tell a 404 from a 409 from a 403. No plan logic here.

use crate::plan::{FIELD_MANAGER, ObjRef};
use hyper::{Method, Request};
use kube::client::Body;
use serde_json::{Value, json};

/// A refusal from the API server, or a failure to reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 when the request never got an answer.
    pub code: u16,
    pub reason: String,
    pub message: String,
    /// `details.causes` of a Status, e.g. the fields of an apply conflict.
    pub causes: Vec<Value>,
    /// Seconds the server asked the client to wait (`Retry-After`), on 429 and 503.
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.reason.as_str()) {
            (0, _) => write!(f, "{}", self.message),
            (code, "") => write!(f, "{} ({code})", self.message),
            (code, reason) => write!(f, "{} ({code} {reason})", self.message),
        }
    }
}

impl ApiError {
    fn new(code: u16, reason: &str, message: String) -> ApiError {
        ApiError { code, reason: reason.into(), message, causes: Vec::new(), retry_after: None }
    }

    /// A failure that says nothing about the request itself: no answer, throttling, or a
    /// server error. A read may simply be sent again; a write must first be checked against
    /// the cluster, since it may have taken effect.
    pub fn is_transient(&self) -> bool {
        let refusal = self.code == 500 && crate::cluster::retry::is_refusal_message(&self.message);
        self.code == 0 && self.reason == "Unreachable" || self.code == 429 || self.code >= 500 && !refusal
    }

    /// Conflicting fields and their owners, "spec.mtls.mode owned by kubectl-client-side-apply".
    pub fn conflicts(&self) -> Vec<String> {
        self.causes
            .iter()
            .filter(|c| c["type"] == "FieldManagerConflict")
            .map(|c| {
                let field = c["field"].as_str().unwrap_or("").trim_start_matches('.');
                let msg = c["message"].as_str().unwrap_or("");
                // "conflict with \"kubectl-client-side-apply\" using v1": the manager is quoted.
                let manager = msg.split('"').nth(1).unwrap_or(msg);
                format!("{field} owned by {manager}")
            })
            .collect()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// How a write is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Real,
    DryRun,
}

fn path_of(r: &ObjRef) -> ApiResult<String> {
    r.path().ok_or_else(|| {
        ApiError::new(0, "Unsupported", format!("{}: meshdeck does not write objects of kind {}", r.display(), r.kind))
    })
}

async fn send(client: &kube::Client, req: Request<Vec<u8>>) -> ApiResult<Value> {
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts, Body::from(body));
    let resp = client.send(req).await.map_err(|e| {
        let message = format!("{e}");
        // The read-only guard refuses in the client: nothing was sent, and nothing to retry.
        if message.contains("read-only mode (--read-only)") {
            return ApiError::new(0, "ReadOnly", message);
        }
        // No answer: say why in kubectl's words (refused, x509, timeout …), not the transport's.
        ApiError::new(0, "Unreachable", format!("no answer: {}", crate::cluster::cause::Cause::of(&e)))
    })?;
    let status = resp.status().as_u16();
    let retry_after =
        resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    // A body cut off part way is as good as no answer: the request may or may not have acted.
    let bytes = resp
        .into_body()
        .collect_bytes()
        .await
        .map_err(|e| ApiError::new(0, "Unreachable", format!("reading the response: {e}")))?;
    let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)));
    if (200..300).contains(&status) {
        return Ok(value);
    }
    Err(ApiError {
        code: status,
        reason: value["reason"].as_str().unwrap_or("").to_string(),
        message: value["message"].as_str().map(str::to_string).unwrap_or_else(|| value.to_string()),
        causes: value.pointer("/details/causes").and_then(Value::as_array).cloned().unwrap_or_default(),
        retry_after,
    })
}

fn request(method: Method, uri: &str, content_type: Option<&str>, body: Vec<u8>) -> ApiResult<Request<Vec<u8>>> {
    let mut b = Request::builder().method(method).uri(uri).header("accept", "application/json");
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body).map_err(|e| ApiError::new(0, "BadRequest", format!("building the request for {uri}: {e}")))
}

/// The live object, `None` when it does not exist.
pub async fn get(client: &kube::Client, r: &ObjRef) -> ApiResult<Option<Value>> {
    match send(client, request(Method::GET, &path_of(r)?, None, Vec::new())?).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_query(mode: Write, extra: &str) -> String {
    let mut q = format!("fieldManager={FIELD_MANAGER}");
    if mode == Write::DryRun {
        q.push_str("&dryRun=All");
    }
    q.push_str(extra);
    q
}

/// Server-side apply of a partial object with field manager `meshdeck`.
pub async fn apply(client: &kube::Client, r: &ObjRef, body: &Value, force: bool, mode: Write) -> ApiResult<Value> {
    let uri = format!("{}?{}", path_of(r)?, write_query(mode, if force { "&force=true" } else { "" }));
    // JSON is valid YAML, and keeps the body byte-for-byte what the preview recorded.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    send(client, request(Method::PATCH, &uri, Some("application/apply-patch+yaml"), bytes)?).await
}

/// A JSON patch (RFC 6902).
pub async fn json_patch(client: &kube::Client, r: &ObjRef, ops: &[Value], mode: Write) -> ApiResult<Value> {
    let uri = format!("{}?{}", path_of(r)?, write_query(mode, ""));
    let bytes = serde_json::to_vec(ops).unwrap_or_default();
    send(client, request(Method::PATCH, &uri, Some("application/json-patch+json"), bytes)?).await
}

/// Deletes an object, only if its uid is still `uid` when one is given.
pub async fn delete(client: &kube::Client, r: &ObjRef, uid: Option<&str>, mode: Write) -> ApiResult<Value> {
    delete_if(client, r, uid, None, mode).await
}

/// Deletes an object only if its uid and resourceVersion are still the ones given.
pub async fn delete_if(
    client: &kube::Client,
    r: &ObjRef,
    uid: Option<&str>,
    resource_version: Option<&str>,
    mode: Write,
) -> ApiResult<Value> {
    let mut uri = path_of(r)?;
    let mut opts = json!({"apiVersion": "v1", "kind": "DeleteOptions"});
    if mode == Write::DryRun {
        uri.push_str("?dryRun=All");
        opts["dryRun"] = json!(["All"]);
    }
    if let Some(uid) = uid {
        opts["preconditions"]["uid"] = json!(uid);
    }
    if let Some(v) = resource_version {
        opts["preconditions"]["resourceVersion"] = json!(v);
    }
    let bytes = serde_json::to_vec(&opts).unwrap_or_default();
    send(client, request(Method::DELETE, &uri, Some("application/json"), bytes)?).await
}

/// The verb RBAC checks for a write, and the resource attributes of an object.
pub struct Access<'a> {
    pub verb: &'a str,
    pub target: &'a ObjRef,
}

/// Asks the API server whether the current user may `verb` the object: `Ok(None)` when
/// allowed, `Ok(Some(reason))` when not (the authorizer's reason, which names no object).
pub async fn may(client: &kube::Client, a: &Access<'_>) -> ApiResult<Option<String>> {
    let group = a.target.api_version.split_once('/').map_or("", |(g, _)| g);
    let mut attrs = json!({
        "verb": a.verb,
        "group": group,
        "resource": a.target.plural().unwrap_or_default(),
        "name": a.target.name,
    });
    if !a.target.namespace.is_empty() {
        attrs["namespace"] = json!(a.target.namespace);
    }
    let review = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs},
    });
    let bytes = serde_json::to_vec(&review).unwrap_or_default();
    let req = request(
        Method::POST,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        Some("application/json"),
        bytes,
    )?;
    let out = send(client, req).await?;
    if out.pointer("/status/allowed").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    let reason = out.pointer("/status/reason").and_then(Value::as_str).unwrap_or("no reason given");
    Ok(Some(reason.to_string()))
}

/// The user name the API server knows the caller by (SelfSubjectReview), if it says.
pub async fn whoami(client: &kube::Client) -> Option<String> {
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let req = request(
        Method::POST,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        Some("application/json"),
        serde_json::to_vec(&review).unwrap_or_default(),
    )
    .ok()?;
    let out = send(client, req).await.ok()?;
    out.pointer("/status/userInfo/username").and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_name_field_and_manager() {
        let e = ApiError {
            code: 409,
            reason: "Conflict".into(),
            message: "Apply failed with 1 conflict".into(),
            causes: vec![
                json!({"type": "FieldManagerConflict", "message": "conflict with \"kubectl-client-side-apply\" using security.istio.io/v1", "field": ".spec.mtls.mode"}),
                json!({"type": "FieldValueInvalid", "message": "x", "field": "y"}),
            ],
            retry_after: None,
        };
        assert_eq!(e.conflicts(), vec!["spec.mtls.mode owned by kubectl-client-side-apply".to_string()]);
    }
}
