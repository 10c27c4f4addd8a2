//! Resource verbs over HTTP: get, list (selectors, paging), watch, create, update, patch in
//! every form, delete, and SelfSubjectAccessReview. Translates requests into `ops` calls and
//! results into Kubernetes responses; holds no state of its own.

use super::auth::{self, Role, User};
use super::{ApiState, Query, Target, status, table};
use crate::labels::Selector;
use crate::sim::kinds::Kind;
use crate::sim::ops::{OpError, PatchHow, WriteOpts};
use crate::sim::store::ListQuery;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) fn op_error(kind: &Kind, name: Option<&str>, e: &OpError) -> Response {
    let (code, reason) = e.code_reason();
    let msg = e.message(kind);
    if let OpError::Refused(r) = e {
        return status::json_response(code, &status::status_body(code, reason, &msg, r.details.clone()));
    }
    let mut details = json!({"kind": kind.plural, "group": kind.group});
    if let Some(n) = name {
        details["name"] = json!(n);
    }
    if let OpError::ApplyConflicts(cs) = e {
        details["causes"] = cs
            .iter()
            .map(|c| json!({"type": "FieldManagerConflict", "message": format!("conflict with \"{}\"", c.manager), "field": c.field}))
            .collect();
    }
    status::error_with_details(code, reason, &msg, details)
}

/// Sets the apiVersion the client asked for (the networking group serves three aliases).
pub(crate) fn as_version(kind: &Kind, version: &str, obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.insert("apiVersion".into(), json!(kind.api_version(version)));
        m.insert("kind".into(), json!(kind.kind));
    }
    o
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"rv": rv, "ns": ns, "name": name}).to_string())
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    Some((v["rv"].as_u64()?, v["ns"].as_str()?.to_string(), v["name"].as_str()?.to_string()))
}

/// `fieldSelector` support: metadata.name and metadata.namespace, `=`/`==`/`!=`.
pub(crate) struct FieldSel {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub not_name: Option<String>,
}

pub(crate) fn parse_field_selector(s: Option<&str>) -> Result<FieldSel, String> {
    let mut f = FieldSel { name: None, namespace: None, not_name: None };
    for part in s.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v, neg) = if let Some((k, v)) = part.split_once("!=") {
            (k, v, true)
        } else if let Some((k, v)) = part.split_once("==") {
            (k, v, false)
        } else if let Some((k, v)) = part.split_once('=') {
            (k, v, false)
        } else {
            return Err(format!("invalid selector: {part:?}"));
        };
        match (k.trim(), neg) {
            ("metadata.name", false) => f.name = Some(v.trim().into()),
            ("metadata.name", true) => f.not_name = Some(v.trim().into()),
            ("metadata.namespace", false) => f.namespace = Some(v.trim().into()),
            (other, _) => return Err(format!("field label not supported: {other}")),
        }
    }
    Ok(f)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn handle(
    st: &Arc<ApiState>,
    method: &Method,
    headers: &HeaderMap,
    t: Target,
    query: &Query,
    user: &User,
    body: &[u8],
) -> Response {
    let watch = query.flag("watch");
    let verb = super::method_verb(method, t.name.is_some(), watch);
    if t.kind.virtual_only {
        return if verb == "create" && t.kind.plural == "selfsubjectreviews" {
            self_subject_review(user)
        } else if verb == "create" {
            self_subject_access_review(user, body)
        } else {
            status::error(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        };
    }
    if !auth::allowed_on(user.role, verb, t.kind) {
        let msg = auth::forbidden_message(&user.name, verb, t.kind, t.namespace.as_deref(), t.name.as_deref());
        let details = json!({"kind": t.kind.plural, "group": t.kind.group, "name": t.name.clone().unwrap_or_default()});
        return status::error_with_details(403, "Forbidden", &msg, details);
    }
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let dry_run = query.get("dryRun") == Some("All");
    let manager = query.get("fieldManager").map(str::to_string).unwrap_or_else(|| super::user_agent_manager(headers));
    let opts = WriteOpts { dry_run, ..WriteOpts::by(&manager) };
    let cluster = &st.cluster;
    let kind = t.kind;
    let ns = t.namespace.clone().unwrap_or_default();
    let status_only = t.sub.as_deref() == Some("status");
    if let Some(sub) = t.sub.as_deref().filter(|s| *s != "status") {
        return status::not_found_path(&format!("{}/{sub}", kind.plural));
    }
    match verb {
        "get" => {
            let name = t.name.as_deref().unwrap_or_default();
            match cluster.get(kind, &ns, name) {
                Ok(o) if table::wants_table(accept) => {
                    let include = query.get("includeObject").unwrap_or("Metadata");
                    let tbl = table::table(
                        kind,
                        &[Arc::new(as_version(kind, &t.version, &o))],
                        "",
                        None,
                        cluster.clock.now(),
                        include,
                    );
                    status::json_response(200, &tbl)
                }
                Ok(o) => status::json_response(200, &as_version(kind, &t.version, &o)),
                Err(e) => op_error(kind, Some(name), &e),
            }
        }
        "list" => list(st, &t, query, accept),
        "watch" => super::watch::watch(st.clone(), t, query, accept).await,
        "create" => {
            let obj = match super::parse_body(body, content_type) {
                Ok(v) => v,
                Err(e) if content_type.contains("protobuf") => return status::error(415, "UnsupportedMediaType", &e),
                Err(e) => return status::error(400, "BadRequest", &e),
            };
            match cluster.create(kind, &ns, obj, opts) {
                Ok(o) => status::json_response(201, &as_version(kind, &t.version, &o)),
                Err(e) => op_error(kind, None, &e),
            }
        }
        "update" => {
            let mut obj = match super::parse_body(body, content_type) {
                Ok(v) => v,
                Err(e) if content_type.contains("protobuf") => return status::error(415, "UnsupportedMediaType", &e),
                Err(e) => return status::error(400, "BadRequest", &e),
            };
            let name = t.name.clone().unwrap_or_default();
            if obj.pointer("/metadata/name").and_then(Value::as_str).is_some_and(|n| n != name) {
                return status::error(400, "BadRequest", "the name of the object does not match the name on the URL");
            }
            obj["metadata"]["name"] = json!(name);
            if kind.namespaced {
                obj["metadata"]["namespace"] = json!(ns);
            }
            match cluster.update(kind, obj, opts, status_only) {
                Ok(o) => status::json_response(200, &as_version(kind, &t.version, &o)),
                Err(e) => op_error(kind, Some(&name), &e),
            }
        }
        "patch" => {
            let name = t.name.clone().unwrap_or_default();
            let how = if content_type.starts_with("application/json-patch+json") {
                PatchHow::Json
            } else if content_type.starts_with("application/merge-patch+json") {
                PatchHow::Merge
            } else if content_type.starts_with("application/strategic-merge-patch+json") {
                PatchHow::Strategic
            } else if content_type.starts_with("application/apply-patch") {
                if query.get("fieldManager").is_none() {
                    return status::error(
                        400,
                        "BadRequest",
                        "PATCH requests of type application/apply-patch+yaml must specify a fieldManager",
                    );
                }
                PatchHow::Apply { force: query.flag("force") }
            } else {
                return status::error(
                    415,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type})"
                    ),
                );
            };
            let patch =
                match super::parse_body(body, if matches!(how, PatchHow::Apply { .. }) { "yaml" } else { "json" }) {
                    Ok(v) => v,
                    Err(e) => return status::error(400, "BadRequest", &e),
                };
            match cluster.patch(kind, &ns, &name, &patch, how, opts, status_only) {
                Ok(o) => status::json_response(200, &as_version(kind, &t.version, &o)),
                Err(e) => op_error(kind, Some(&name), &e),
            }
        }
        "delete" => {
            let name = t.name.clone().unwrap_or_default();
            if let Some(refusal) = check_preconditions(cluster, kind, &ns, &name, body) {
                return refusal;
            }
            match cluster.delete(kind, &ns, &name, opts) {
                Ok(o) => status::json_response(200, &as_version(kind, &t.version, &o)),
                Err(e) => op_error(kind, Some(&name), &e),
            }
        }
        "deletecollection" => {
            let sel = match Selector::parse(query.get("labelSelector").unwrap_or("")) {
                Ok(s) => s,
                Err(e) => return status::error(400, "BadRequest", &e),
            };
            let q = ListQuery {
                namespace: t.namespace.as_deref(),
                name: None,
                selector: Some(&sel),
                limit: None,
                after: None,
            };
            let items = cluster.store.list(kind, &q).items;
            for o in &items {
                let n = o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
                let ons = o.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
                if let Err(e) = cluster.delete(kind, ons, n, opts) {
                    return op_error(kind, Some(n), &e);
                }
            }
            status::json_response(
                200,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
            )
        }
        _ => status::error(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"),
    }
}

fn list(st: &Arc<ApiState>, t: &Target, query: &Query, accept: &str) -> Response {
    let kind = t.kind;
    let sel = match Selector::parse(query.get("labelSelector").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return status::error(400, "BadRequest", &format!("unable to parse requirement: {e}")),
    };
    let fsel = match parse_field_selector(query.get("fieldSelector")) {
        Ok(f) => f,
        Err(e) => return status::error(400, "BadRequest", &e),
    };
    let namespace = t.namespace.clone().or(fsel.namespace.clone());
    let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let mut after = None;
    let mut list_rv = None;
    if let Some(c) = query.get("continue").filter(|c| !c.is_empty()) {
        match decode_continue(c) {
            Some((rv, ns, name)) => {
                if rv < st.cluster.store.compacted_rv() {
                    return status::error(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    );
                }
                list_rv = Some(rv);
                after = Some((ns, name));
            }
            None => return status::error(400, "BadRequest", "invalid continue token"),
        }
    }
    let q = ListQuery {
        namespace: namespace.as_deref(),
        name: fsel.name.as_deref(),
        selector: if sel.is_empty() { None } else { Some(&sel) },
        limit,
        after,
    };
    if table::wants_table(accept) {
        let mut page = st.cluster.store.list(kind, &q);
        if let Some(not) = &fsel.not_name {
            page.items.retain(|o| o.pointer("/metadata/name").and_then(Value::as_str) != Some(not.as_str()));
        }
        let rv = list_rv.unwrap_or(page.rv);
        let cont = page.next.as_ref().map(|(ns, name)| encode_continue(rv, ns, name));
        let include = query.get("includeObject").unwrap_or("Metadata");
        let items: Vec<Arc<Value>> = page.items.iter().map(|o| Arc::new(as_version(kind, &t.version, o))).collect();
        return status::json_response(
            200,
            &table::table(kind, &items, &rv.to_string(), cont.as_deref(), st.cluster.clock.now(), include),
        );
    }
    // Lists are written as bytes: a page of generated pods never becomes `Value`s.
    let page = st.cluster.store.list_entries(kind, &q);
    let rv = list_rv.unwrap_or(page.rv);
    let cont = page.next.as_ref().map(|(ns, name)| encode_continue(rv, ns, name));
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    let api_version = kind.api_version(&t.version);
    let mut out = Vec::with_capacity(page.items.len() * 4096 + 256);
    out.extend_from_slice(b"{\"apiVersion\":");
    out.extend_from_slice(&serde_json::to_vec(&api_version).unwrap_or_default());
    out.extend_from_slice(format!(",\"kind\":\"{}List\",\"metadata\":", kind.kind).as_bytes());
    out.extend_from_slice(&serde_json::to_vec(&meta).unwrap_or_default());
    out.extend_from_slice(b",\"items\":[");
    let mut first = true;
    for e in &page.items {
        let obj = if e.is_lazy() { None } else { Some(e.value()) };
        if let (Some(not), Some(o)) = (&fsel.not_name, &obj)
            && o.pointer("/metadata/name").and_then(Value::as_str) == Some(not.as_str())
        {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        match obj {
            Some(o) if o.get("apiVersion").and_then(Value::as_str) != Some(api_version.as_str()) => {
                out.extend_from_slice(&serde_json::to_vec(&as_version(kind, &t.version, &o)).unwrap_or_default());
            }
            Some(o) => out.extend_from_slice(&serde_json::to_vec(o.as_ref()).unwrap_or_default()),
            None => e.write_json(&mut out),
        }
    }
    out.extend_from_slice(b"]}");
    status::bytes_response(200, out)
}

/// DeleteOptions `preconditions` (uid, resourceVersion): a mismatch is answered with a 409, as
/// the API server does, so a client deletes only the object it means.
fn check_preconditions(
    cluster: &crate::sim::ops::Cluster,
    kind: &'static Kind,
    ns: &str,
    name: &str,
    body: &[u8],
) -> Option<Response> {
    let opts = serde_json::from_slice::<Value>(body).ok()?;
    let pre = opts.get("preconditions").filter(|p| p.is_object())?;
    let live = cluster.get(kind, ns, name).ok()?;
    for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        if let Some(want) = pre.get(field).and_then(Value::as_str) {
            let have = live.pointer(&format!("/metadata/{field}")).and_then(Value::as_str).unwrap_or("");
            if want != have {
                let msg = format!(
                    "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: {label} in precondition: {want}, {label} in object meta: {have}",
                    kind.plural
                );
                return Some(status::error(409, "Conflict", &msg));
            }
        }
    }
    None
}

/// Answers "who am I?" for the calling user, as `kubectl auth whoami` asks it.
fn self_subject_review(user: &User) -> Response {
    status::json_response(
        201,
        &json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": user.name, "groups": ["system:authenticated"]}},
        }),
    )
}

/// Answers "may I?" for the calling user, as the RBAC authorizer would for our two roles.
fn self_subject_access_review(user: &User, body: &[u8]) -> Response {
    let mut review: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return status::error(400, "BadRequest", &format!("error decoding JSON: {e}")),
    };
    let verb = review.pointer("/spec/resourceAttributes/verb").and_then(Value::as_str).unwrap_or("").to_string();
    let allowed = match user.role {
        Role::Admin => true,
        role => {
            let group = review.pointer("/spec/resourceAttributes/group").and_then(Value::as_str).unwrap_or("");
            let resource = review.pointer("/spec/resourceAttributes/resource").and_then(Value::as_str).unwrap_or("");
            match crate::sim::kinds::by_group_plural(group, resource) {
                Some(k) => auth::allowed_on(role, &verb, k),
                None => auth::allowed(role, &verb),
            }
        }
    };
    review["status"] = if allowed {
        json!({"allowed": true, "reason": format!("RBAC: allowed by ClusterRoleBinding for User \"{}\"", user.name)})
    } else {
        json!({"allowed": false, "reason": format!("RBAC: User \"{}\" may only get, list and watch", user.name)})
    };
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    if !review.get("metadata").is_some_and(Value::is_object) {
        review["metadata"] = json!({});
    }
    status::json_response(201, &review)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_selectors_and_continue_tokens() {
        let f = parse_field_selector(Some("metadata.name=web,metadata.namespace==rng")).unwrap();
        assert_eq!((f.name.as_deref(), f.namespace.as_deref()), (Some("web"), Some("rng")));
        assert!(parse_field_selector(Some("spec.nodeName=x")).is_err());
        let c = encode_continue(42, "rng", "web");
        assert_eq!(decode_continue(&c), Some((42, "rng".into(), "web".into())));
        assert_eq!(decode_continue("!!"), None);
    }
}
