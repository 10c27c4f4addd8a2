//! What an action points at, in the forms the command line and the plan file spell them:
//! `mesh`, `ns/NS`, `deploy/NS/NAME`, `sts/NS/NAME`, `ds/NS/NAME`, `svc/NS/NAME`,
//! `sa/NS/NAME`. Parsing only; whether the object exists is for expansion to say.

use crate::mesh::types::WorkloadKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The scope an inject, uninject, restart, mtls or allow action applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// The whole mesh: the root namespace's mesh-wide policy.
    Mesh,
    Namespace(String),
    Workload {
        kind: WorkloadKind,
        namespace: String,
        name: String,
    },
}

/// A Service, as `svc/NS/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
}

/// Who an AuthorizationPolicy lets in: a service account (`sa/NS/NAME`) or every workload of
/// a namespace (`ns/NS`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Caller {
    ServiceAccount { namespace: String, name: String },
    Namespace(String),
}

impl Caller {
    /// The SPIFFE principal of a service account, as AuthorizationPolicy `principals` spell it.
    pub fn principal(&self, trust_domain: &str) -> Option<String> {
        match self {
            Caller::ServiceAccount { namespace, name } => Some(format!("{trust_domain}/ns/{namespace}/sa/{name}")),
            Caller::Namespace(_) => None,
        }
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !s.starts_with(['-', '.'])
        && !s.ends_with(['-', '.'])
}

fn parts<'a>(s: &'a str, want: usize, form: &str) -> Result<Vec<&'a str>, String> {
    let p: Vec<&str> = s.split('/').collect();
    if p.len() != want {
        return Err(format!("`{s}`: expected {form}"));
    }
    if let Some(bad) = p[1..].iter().find(|x| !valid_name(x)) {
        return Err(format!("`{s}`: `{bad}` is not a valid Kubernetes name (lowercase letters, digits, '-', '.')"));
    }
    Ok(p)
}

const TARGET_FORMS: &str = "mesh, ns/NS, deploy/NS/NAME, sts/NS/NAME or ds/NS/NAME";

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "mesh" {
            return Ok(Target::Mesh);
        }
        let kind = match s.split('/').next().unwrap_or_default() {
            "ns" | "namespace" => return Ok(Target::Namespace(parts(s, 2, "ns/NS")?[1].to_string())),
            "deploy" | "deployment" => WorkloadKind::Deployment,
            "sts" | "statefulset" => WorkloadKind::StatefulSet,
            "ds" | "daemonset" => WorkloadKind::DaemonSet,
            _ => return Err(format!("`{s}`: a target is {TARGET_FORMS}")),
        };
        let p = parts(s, 3, "KIND/NS/NAME")?;
        Ok(Target::Workload { kind, namespace: p[1].to_string(), name: p[2].to_string() })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Mesh => f.write_str("mesh"),
            Target::Namespace(ns) => write!(f, "ns/{ns}"),
            Target::Workload { kind, namespace, name } => {
                let k = match kind {
                    WorkloadKind::Deployment => "deploy",
                    WorkloadKind::StatefulSet => "sts",
                    WorkloadKind::DaemonSet => "ds",
                };
                write!(f, "{k}/{namespace}/{name}")
            }
        }
    }
}

impl FromStr for ServiceRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if !s.starts_with("svc/") && !s.starts_with("service/") {
            return Err(format!("`{s}`: expected svc/NS/NAME"));
        }
        let p = parts(s, 3, "svc/NS/NAME")?;
        Ok(ServiceRef { namespace: p[1].to_string(), name: p[2].to_string() })
    }
}

impl fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "svc/{}/{}", self.namespace, self.name)
    }
}

impl FromStr for Caller {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split('/').next().unwrap_or_default() {
            "sa" | "serviceaccount" => {
                let p = parts(s, 3, "sa/NS/NAME")?;
                Ok(Caller::ServiceAccount { namespace: p[1].to_string(), name: p[2].to_string() })
            }
            "ns" | "namespace" => Ok(Caller::Namespace(parts(s, 2, "ns/NS")?[1].to_string())),
            _ => Err(format!("`{s}`: a caller is sa/NS/NAME or ns/NS")),
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::ServiceAccount { namespace, name } => write!(f, "sa/{namespace}/{name}"),
            Caller::Namespace(ns) => write!(f, "ns/{ns}"),
        }
    }
}

/// Serde as the same strings the command line takes, so plan files read like commands.
macro_rules! serde_as_str {
    ($t:ty, $expecting:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Parsed inside the visitor, so a YAML error names the value's own place.
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$t, E> {
                        s.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
serde_as_str!(Target, "a target: mesh, ns/NS, deploy/NS/NAME, sts/NS/NAME or ds/NS/NAME");
serde_as_str!(ServiceRef, "a service: svc/NS/NAME");
serde_as_str!(Caller, "a caller: sa/NS/NAME or ns/NS");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print_back() {
        let cases = [
            ("mesh", Target::Mesh),
            ("ns/rng", Target::Namespace("rng".into())),
            (
                "deploy/rng/numbers-api",
                Target::Workload {
                    kind: WorkloadKind::Deployment,
                    namespace: "rng".into(),
                    name: "numbers-api".into(),
                },
            ),
            (
                "sts/payments/ledger",
                Target::Workload {
                    kind: WorkloadKind::StatefulSet,
                    namespace: "payments".into(),
                    name: "ledger".into(),
                },
            ),
            (
                "ds/kube-system/agent",
                Target::Workload {
                    kind: WorkloadKind::DaemonSet,
                    namespace: "kube-system".into(),
                    name: "agent".into(),
                },
            ),
        ];
        for (text, want) in cases {
            let got: Target = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), text);
        }
    }

    #[test]
    fn bad_targets_say_what_is_expected() {
        let cases = [
            ("pod/rng/x", "a target is mesh, ns/NS, deploy/NS/NAME, sts/NS/NAME or ds/NS/NAME"),
            ("ns/", "`` is not a valid Kubernetes name"),
            ("deploy/rng", "expected KIND/NS/NAME"),
            ("deploy/rng/Numbers", "`Numbers` is not a valid Kubernetes name"),
            ("ns/a/b", "expected ns/NS"),
        ];
        for (text, want) in cases {
            let err = text.parse::<Target>().unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn callers_and_services() {
        let c: Caller = "sa/rng/numbers-web".parse().unwrap();
        assert_eq!(c.principal("cluster.local").as_deref(), Some("cluster.local/ns/rng/sa/numbers-web"));
        assert_eq!("ns/istio-system".parse::<Caller>().unwrap(), Caller::Namespace("istio-system".into()));
        assert!("user/x".parse::<Caller>().unwrap_err().contains("sa/NS/NAME or ns/NS"));
        let s: ServiceRef = "svc/rng/numbers-web".parse().unwrap();
        assert_eq!(s.to_string(), "svc/rng/numbers-web");
        assert!("deploy/rng/x".parse::<ServiceRef>().is_err());
    }
}
