//! Kubernetes `Status` bodies for errors, and the small response helpers every handler uses.
//! Every error the simulated API returns is a Status with the right code and reason, because
//! kubectl and kube-rs surface anything else as an opaque internal error.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

pub fn json_response(code: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub fn bytes_response(code: u16, bytes: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub fn status_body(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    // A Status without a reason (a webhook's denial, an internal error) has no such field.
    if reason.is_empty()
        && let Some(m) = s.as_object_mut()
    {
        m.remove("reason");
    }
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

pub fn error(code: u16, reason: &str, message: &str) -> Response {
    json_response(code, &status_body(code, reason, message, None))
}

pub fn error_with_details(code: u16, reason: &str, message: &str, details: Value) -> Response {
    json_response(code, &status_body(code, reason, message, Some(details)))
}

pub fn not_found_path(path: &str) -> Response {
    error(404, "NotFound", &format!("the server could not find the requested resource ({path})"))
}
