//! What a running pod actually has (ISTIO.md §2.1, §2.4): whether injection ran, where the
//! proxy container is, which revision injected it and which version it runs. Pure; it reads
//! only the Pod object.

use super::types::{Container, Pod};
use serde_json::Value;

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
    /// Annotation `istio.io/rev`, else the status JSON's `revision`.
    pub revision: Option<String>,
    pub image: Option<String>,
    /// From the image tag; `None` for a digest-pinned image.
    pub version: Option<String>,
}

/// The `revision` field of the status JSON; older formats without it give `None`.
fn status_revision(status: &str) -> Option<String> {
    let v: Value = serde_json::from_str(status).ok()?;
    v.get("revision").and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from)
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
    let revision = ann
        .get("istio.io/rev")
        .filter(|r| !r.is_empty())
        .cloned()
        .or_else(|| status.and_then(|s| status_revision(s)));
    let image = container.and_then(|(c, _)| c.image.clone());
    ProxyInfo {
        injected: status.is_some(),
        has_proxy: status.is_some() || container.is_some(),
        native: container.is_some_and(|(_, native)| native),
        revision,
        version: image.as_deref().and_then(image_version),
        image,
    }
}

/// The tag of an image reference, ignoring a registry port; `None` when only a digest pins it.
pub fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, t)| t).filter(|t| !t.is_empty())
}

/// The Istio version an image carries: its tag without a `-distroless` or `-debug` variant.
pub fn image_version(image: &str) -> Option<String> {
    let tag = image_tag(image)?;
    let tag = tag.strip_suffix("-distroless").or_else(|| tag.strip_suffix("-debug")).unwrap_or(tag);
    Some(tag.to_string())
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
            assert_eq!(image_version(image).as_deref(), want, "{image}");
        }
        assert_eq!(major_minor("1.24.2"), Some((1, 24)));
        assert_eq!(major_minor("v1.25-alpha.3"), Some((1, 25)));
        assert_eq!(major_minor("latest"), None);
    }
}
