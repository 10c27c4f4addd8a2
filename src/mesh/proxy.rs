//! What a running pod actually has (ISTIO.md §2.1, §2.4): whether injection ran, where the
//! proxy container is, which revision injected it and which version it runs. Pure; it reads
//! only the Pod object.

use super::types::{Container, Pod};
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;

pub const STATUS_ANNOTATION: &str = "sidecar.istio.io/status";
pub const PROXY_CONTAINER: &str = "istio-proxy";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyInfo {
    /// `sidecar.istio.io/status` is present: injection ran.
    pub injected: bool,
    /// An `istio-proxy` container (or native sidecar init container) exists, or injection ran.
    pub has_proxy: bool,
    /// `istio-proxy` is an init container with `restartPolicy: Always`.
    pub native: bool,
    /// Annotation `istio.io/rev`, else the status JSON's `revision`. The strings are shared
    /// between pods (see `Snapshot::put`): few distinct values, read for every pod.
    pub revision: Option<Arc<str>>,
    pub image: Option<Arc<str>>,
    /// `sidecar.istio.io/proxyImage`: the image the pod asked the injector for.
    pub requested_image: Option<Arc<str>>,
}

impl ProxyInfo {
    /// From the image tag; `None` for a digest-pinned image.
    pub fn version(&self) -> Option<&str> {
        self.image.as_deref().and_then(image_version)
    }
}

/// What the mesh model needs of a pod, computed once when the pod enters the snapshot so
/// that deriving touches no annotations or container lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodMesh {
    pub ready: bool,
    /// Finished or being deleted: never restarted, so it cannot go stale.
    pub finished: bool,
    pub proxy: ProxyInfo,
}

impl PodMesh {
    pub fn of(pod: &Pod) -> PodMesh {
        PodMesh { ready: pod.is_ready(), finished: pod.is_finished(), proxy: proxy_info(pod) }
    }
}

/// Only the field read from the status JSON; the rest is skipped without being built.
#[derive(Deserialize)]
struct InjectionStatus<'a> {
    #[serde(default, borrow)]
    revision: Option<Cow<'a, str>>,
}

/// The `revision` field of the status JSON; older formats without it give `None`.
fn status_revision(status: &str) -> Option<Arc<str>> {
    let v: InjectionStatus = serde_json::from_str(status).ok()?;
    v.revision.filter(|s| !s.is_empty()).map(|s| Arc::from(s.as_ref()))
}

fn proxy_container(pod: &Pod) -> Option<(&Container, bool)> {
    if let Some(c) = pod.spec.containers.iter().find(|c| c.name == PROXY_CONTAINER) {
        return Some((c, false));
    }
    pod.spec
        .init_containers
        .iter()
        .find(|c| c.name == PROXY_CONTAINER)
        .map(|c| (c, c.restart_policy.as_deref() == Some("Always")))
}

pub fn proxy_info(pod: &Pod) -> ProxyInfo {
    let ann = &pod.metadata.annotations;
    let status = ann.get(STATUS_ANNOTATION);
    let container = proxy_container(pod);
    let revision = match ann.get("istio.io/rev").filter(|r| !r.is_empty()) {
        Some(r) => Some(Arc::from(r.as_str())),
        None => status.and_then(|s| status_revision(s)),
    };
    ProxyInfo {
        injected: status.is_some(),
        has_proxy: status.is_some() || container.is_some(),
        native: container.is_some_and(|(_, native)| native),
        revision,
        image: container.and_then(|(c, _)| c.image.as_deref()).map(Arc::from),
        requested_image: ann
            .get("sidecar.istio.io/proxyImage")
            .filter(|i| !i.is_empty())
            .map(|s| Arc::from(s.as_str())),
    }
}

/// The tag of an image reference, ignoring a registry port; `None` when only a digest pins it.
pub fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, t)| t).filter(|t| !t.is_empty())
}

/// The Istio version an image carries: its tag without a `-distroless` or `-debug` variant.
pub fn image_version(image: &str) -> Option<&str> {
    let tag = image_tag(image)?;
    Some(tag.strip_suffix("-distroless").or_else(|| tag.strip_suffix("-debug")).unwrap_or(tag))
}

/// (major, minor) of a version such as `1.24.2`, `1.25-alpha.1` or `v1.24.0`.
pub fn major_minor(version: &str) -> Option<(u64, u64)> {
    let v = version.strip_prefix('v').unwrap_or(version);
    let mut parts = v.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_versions() {
        let cases = [
            ("docker.io/istio/proxyv2:1.24.2", Some("1.24.2")),
            ("docker.io/istio/proxyv2:1.24.2-distroless", Some("1.24.2")),
            ("gcr.io/istio-release/proxyv2:1.25.0-debug", Some("1.25.0")),
            ("registry.local:5000/istio/proxyv2:1.23.1", Some("1.23.1")),
            ("registry.local:5000/istio/proxyv2", None),
            ("docker.io/istio/proxyv2@sha256:0123abcd", None),
            ("docker.io/istio/proxyv2:1.24.2@sha256:0123abcd", Some("1.24.2")),
        ];
        for (image, want) in cases {
            assert_eq!(image_version(image), want, "{image}");
        }
        assert_eq!(major_minor("1.24.2"), Some((1, 24)));
        assert_eq!(major_minor("v1.25-alpha.3"), Some((1, 25)));
        assert_eq!(major_minor("latest"), None);
    }
}
