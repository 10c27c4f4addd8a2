//! The simulated API server's HTTP surface: authentication, fault injection, the request log,
//! and routing of Kubernetes paths to discovery, resource handlers and port-forward. Write
//! semantics live in `ops`; this layer only translates HTTP to them and back.

pub mod auth;
pub mod discovery;
pub mod faults;
pub(crate) mod inject;
mod resources;
pub mod status;
pub mod table;
mod watch;

use super::kinds::{self, Kind};
use super::ops::Cluster;
use auth::{Tokens, User};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use faults::FaultControl;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch as tokio_watch;

/// One request as the server saw it, for tests that check what a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub user: String,
}

impl LoggedRequest {
    /// Writes, including dry-run ones; SelfSubjectAccessReviews are questions, not writes.
    pub fn is_mutating(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
            && !self.path.contains("selfsubjectaccessreviews")
    }
}

#[derive(Default)]
pub struct RequestLog(Mutex<Vec<LoggedRequest>>);

impl RequestLog {
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn push(&self, r: LoggedRequest) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: a long-running demo must not grow without limit.
        if v.len() >= 100_000 {
            v.drain(..50_000);
        }
        v.push(r);
    }
}

pub struct ApiState {
    pub cluster: Arc<Cluster>,
    pub tokens: Tokens,
    pub faults: Arc<FaultControl>,
    /// Added before every request is served.
    pub latency: Option<Duration>,
    pub log: Arc<RequestLog>,
    /// Bumped to close every open watch (the watch-close fault).
    pub watch_epoch: tokio_watch::Sender<u64>,
    /// While above zero, watches wait before they start (a watch outage).
    pub watch_hold: tokio_watch::Sender<u32>,
}

impl ApiState {
    /// Closes every open watch now, as a restarting API server would.
    pub fn close_watches(&self) {
        self.watch_epoch.send_modify(|e| *e += 1);
    }
}

pub fn router(state: Arc<ApiState>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(state)
}

/// Parsed query string; a repeated key keeps its first value.
pub(crate) struct Query(HashMap<String, Vec<String>>);

impl Query {
    fn parse(q: &str) -> Query {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m.entry(decode(k)).or_default().push(decode(v));
        }
        Query(m)
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }

    pub(crate) fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true") | Some("1") | Some(""))
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a resource path names.
#[derive(Clone)]
pub(crate) struct Target {
    pub kind: &'static Kind,
    pub version: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

enum Route {
    Version,
    CoreVersions,
    Groups,
    Group(String),
    Resources(String, String),
    OpenApiRoot,
    OpenApiDoc(String),
    Resource(Target),
    Unknown,
}

fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Route::Version,
        ["api"] => return Route::CoreVersions,
        ["apis"] => return Route::Groups,
        ["apis", g] => return Route::Group(g.to_string()),
        ["api", v] => return Route::Resources(String::new(), v.to_string()),
        ["apis", g, v] => return Route::Resources(g.to_string(), v.to_string()),
        ["openapi", "v3"] => return Route::OpenApiRoot,
        ["openapi", "v3", ..] => return Route::OpenApiDoc(segs[2..].join("/")),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Route::Unknown,
    };
    let (namespace, plural, name, sub) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            (Some(ns.to_string()), *plural, tail.first().map(|s| s.to_string()), tail.get(1).map(|s| s.to_string()))
        }
        [plural, tail @ ..] => (None, *plural, tail.first().map(|s| s.to_string()), tail.get(1).map(|s| s.to_string())),
        [] => return Route::Unknown,
    };
    match kinds::by_resource(group, version, plural) {
        Some(kind) if namespace.is_none() || kind.namespaced => {
            Route::Resource(Target { kind, version: version.to_string(), namespace, name, sub })
        }
        _ => Route::Unknown,
    }
}

async fn dispatch(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query_str = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let user = st.tokens.user(headers.get("authorization").and_then(|v| v.to_str().ok()));
    st.log.push(LoggedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: query_str.clone(),
        user: user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
    });
    let Some(user) = user else {
        return status::error(401, "Unauthorized", "Unauthorized");
    };
    if let Some(l) = st.latency {
        tokio::time::sleep(l).await;
    }
    let kill = req.extensions().get::<inject::ConnKill>().cloned();
    let query = Query::parse(&query_str);
    match route(&path) {
        Route::Version => status::json_response(200, &discovery::version()),
        Route::CoreVersions => status::json_response(200, &discovery::core_versions()),
        Route::Groups => status::json_response(200, &discovery::group_list()),
        Route::Group(g) => {
            discovery::group(&g).map_or_else(|| status::not_found_path(&path), |d| status::json_response(200, &d))
        }
        Route::Resources(g, v) => discovery::resource_list(&g, &v)
            .map_or_else(|| status::not_found_path(&path), |d| status::json_response(200, &d)),
        Route::OpenApiRoot => status::json_response(200, &discovery::openapi_root()),
        Route::OpenApiDoc(p) => {
            discovery::openapi_doc(&p).map_or_else(|| status::not_found_path(&path), |d| status::json_response(200, &d))
        }
        Route::Resource(t) if t.sub.as_deref() == Some("portforward") => {
            let info = inject::request_info(&method, &t, &query, &[]);
            if let Some(s) = st.faults.decide(Some(&info)) {
                return inject::answer(&s, &info, &t, &user, kill.as_ref()).await;
            }
            portforward(st, req, t, &query_str, &user).await
        }
        Route::Resource(t) => {
            let body = match axum::body::to_bytes(req.into_body(), 64 << 20).await {
                Ok(b) => b,
                Err(e) => return status::error(400, "BadRequest", &format!("reading the request body: {e}")),
            };
            let info = inject::request_info(&method, &t, &query, &body);
            st.faults.run_taps(&info);
            let strike = st.faults.decide(Some(&info));
            if let Some(s) = strike.filter(|s| s.timing == faults::Timing::Before) {
                return inject::answer(&s, &info, &t, &user, kill.as_ref()).await;
            }
            let target = t.clone();
            let resp = resources::handle(&st, &method, &headers, t, &query, &user, &body).await;
            match strike {
                // The write was served; only a committed one is then answered with the fault.
                Some(s) => {
                    let committed = resp.status().is_success();
                    st.faults.settle(&s, &info, committed);
                    if committed { inject::answer(&s, &info, &target, &user, kill.as_ref()).await } else { resp }
                }
                None => resp,
            }
        }
        Route::Unknown => status::not_found_path(&path),
    }
}

async fn portforward(st: Arc<ApiState>, req: Request, t: Target, query: &str, user: &User) -> Response {
    if !auth::allowed(user.role, "create") {
        let msg = auth::forbidden_message(&user.name, "create", t.kind, t.namespace.as_deref(), t.name.as_deref());
        return status::error(403, "Forbidden", &msg.replace("resource \"pods\"", "resource \"pods/portforward\""));
    }
    let ns = t.namespace.clone().unwrap_or_default();
    let pod = t.name.clone().unwrap_or_default();
    let (mut parts, _body) = req.into_parts();
    let ws = match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(e) => return e.into_response(),
    };
    match super::portforward::upgrade(ws, st.cluster.clone(), ns, pod, query) {
        Ok(resp) => resp,
        Err((code, msg)) => status::error(code, if code == 404 { "NotFound" } else { "BadRequest" }, &msg),
    }
}

pub(crate) fn user_agent_manager(headers: &HeaderMap) -> String {
    headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

pub(crate) fn method_verb(method: &Method, has_name: bool, watch: bool) -> &'static str {
    match (method.as_str(), has_name) {
        ("GET", _) if watch => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

pub(crate) fn parse_body(bytes: &[u8], content_type: &str) -> Result<Value, String> {
    if content_type.contains("protobuf") {
        return Err("the simulated API server reads JSON and YAML bodies only, not protobuf \
            (kubectl sends protobuf for typed commands such as `kubectl create namespace`; \
            `kubectl create -f` and `kubectl apply -f` send JSON)"
            .into());
    }
    if content_type.contains("yaml") {
        serde_yaml::from_slice::<Value>(bytes).map_err(|e| format!("error decoding YAML: {e}"))
    } else {
        serde_json::from_slice::<Value>(bytes).map_err(|e| format!("error decoding JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_paths() {
        let Route::Resource(t) = route("/api/v1/namespaces/rng/pods/web-1/portforward") else { panic!() };
        assert_eq!(
            (t.kind.plural, t.namespace.as_deref(), t.name.as_deref(), t.sub.as_deref()),
            ("pods", Some("rng"), Some("web-1"), Some("portforward"))
        );
        let Route::Resource(t) = route("/api/v1/namespaces/rng") else { panic!() };
        assert_eq!((t.kind.plural, t.namespace, t.name.as_deref()), ("namespaces", None, Some("rng")));
        let Route::Resource(t) = route("/api/v1/namespaces/rng/status") else { panic!() };
        assert_eq!((t.kind.plural, t.name.as_deref(), t.sub.as_deref()), ("namespaces", Some("rng"), Some("status")));
        let Route::Resource(t) = route("/apis/networking.istio.io/v1alpha3/virtualservices") else { panic!() };
        assert_eq!((t.kind.plural, t.version.as_str(), t.namespace), ("virtualservices", "v1alpha3", None));
        assert!(matches!(route("/api/v1/namespaces/x/namespaces"), Route::Unknown));
        assert!(matches!(route("/apis/apps/v1"), Route::Resources(..)));
        let q = Query::parse("labelSelector=app%3Dweb%2Ctier+in+(a)&ports=1&ports=2");
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
    }
}
