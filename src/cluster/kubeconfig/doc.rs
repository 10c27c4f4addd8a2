//! One kubeconfig file parsed twice: into a positioned outline of the fields meshdeck checks
//! (names, references and credentials, each with its line and column), and into kube's own
//! `Kubeconfig` that builds the client. A parse error becomes a position and the kind of
//! problem; the parser's own message is never used, as it quotes the text around the error.

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

pub(super) type S<T> = Spanned<T>;

/// Line and column, 1-based; `None` when the parser did not know.
pub(super) type At = Option<(u64, u64)>;

pub(super) fn at(l: &Location) -> At {
    (l.line() > 0).then(|| (l.line(), l.column().max(1)))
}

pub(super) fn at_of<T>(s: &S<T>) -> At {
    at(&s.referenced)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Outline {
    #[serde(rename = "current-context")]
    pub current_context: Option<S<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub clusters: Vec<S<NamedCluster>>,
    #[serde(deserialize_with = "null_as_default")]
    pub users: Vec<S<NamedUser>>,
    #[serde(deserialize_with = "null_as_default")]
    pub contexts: Vec<S<NamedContext>>,
}

#[derive(Deserialize)]
pub(super) struct NamedCluster {
    pub name: S<String>,
    #[serde(default)]
    pub cluster: Option<ClusterFields>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct ClusterFields {
    pub server: Option<S<String>>,
    #[serde(rename = "certificate-authority")]
    pub ca_file: Option<S<String>>,
    #[serde(rename = "certificate-authority-data")]
    pub ca_data: Option<S<String>>,
}

#[derive(Deserialize)]
pub(super) struct NamedUser {
    pub name: S<String>,
    #[serde(default)]
    pub user: Option<UserFields>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct UserFields {
    pub token: Option<S<String>>,
    #[serde(rename = "tokenFile")]
    pub token_file: Option<S<String>>,
    pub username: Option<S<String>>,
    pub password: Option<S<String>>,
    #[serde(rename = "client-certificate")]
    pub cert_file: Option<S<String>>,
    #[serde(rename = "client-certificate-data")]
    pub cert_data: Option<S<String>>,
    #[serde(rename = "client-key")]
    pub key_file: Option<S<String>>,
    #[serde(rename = "client-key-data")]
    pub key_data: Option<S<String>>,
}

#[derive(Deserialize)]
pub(super) struct NamedContext {
    pub name: S<String>,
    #[serde(default)]
    pub context: Option<ContextFields>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct ContextFields {
    pub cluster: Option<S<String>>,
    pub user: Option<S<String>>,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Both readings of one file's text (every document of it, merged first-wins as kube does).
pub(super) fn parse(text: &str) -> Result<(Vec<Outline>, kube::config::Kubeconfig), (At, String)> {
    let outlines: Vec<Outline> = serde_saphyr::from_multiple(text).map_err(|e| describe(&e))?;
    let docs: Vec<kube::config::Kubeconfig> = serde_saphyr::from_multiple(text).map_err(|e| describe(&e))?;
    let mut merged = kube::config::Kubeconfig::default();
    for d in docs {
        merged = merged.merge(d).map_err(|_| (None, "its documents disagree on kind or apiVersion".to_string()))?;
    }
    Ok((outlines, merged))
}

/// Where a parse failed and what kind of problem it is, in words that hold nothing of the file:
/// the parser's messages quote the offending value and print the lines around it.
pub(super) fn describe(e: &serde_saphyr::Error) -> (At, String) {
    use serde_saphyr::Error as E;
    let place = e.location().as_ref().and_then(at);
    let problem = match e {
        E::WithSnippet { error, .. } => return (place.or(describe(error).0), describe(error).1),
        E::SerdeInvalidType { expected, .. } => format!("wrong type: expected {}", plain(expected)),
        E::SerdeInvalidValue { expected, .. } => format!("invalid value: expected {}", plain(expected)),
        E::SerdeInvalidLength { expected, .. } => format!("wrong number of items: expected {}", plain(expected)),
        E::SerdeMissingField { field, .. } => format!("missing field {field:?}"),
        E::SerdeUnknownVariant { expected, .. } => format!("unknown value: expected one of {}", expected.join(", ")),
        E::NullIntoString { .. } => "null where a string is expected".into(),
        E::InvalidScalar { ty, .. } => format!("not a valid {ty}"),
        E::Unexpected { expected, .. } => format!("wrong type: expected {expected}"),
        E::DuplicateMappingKey { .. } => "a key appears twice in one mapping".into(),
        E::Eof { .. } => "the file ends in the middle of a value".into(),
        E::InvalidUtf8Input => "not UTF-8 text".into(),
        E::UnknownAnchor { .. } => "an alias (*name) refers to no anchor".into(),
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => "too large or too deeply nested to read".into(),
        E::Message { .. } | E::ExternalMessage { .. } => "not valid YAML".into(),
        _ => "not a valid kubeconfig".into(),
    };
    (place, problem)
}

/// Serde's description of an expected type comes from the types meshdeck and kube declare,
/// never from the input; anything unexpected in it is dropped all the same.
fn plain(expected: &str) -> String {
    if expected.contains(['"', '\'', '`']) || expected.len() > 60 { "another type".into() } else { expected.into() }
}

/// Paths inside a kubeconfig are relative to its directory (as kubectl and kube-rs read them).
pub(super) fn absolutize(kc: &mut kube::config::Kubeconfig, dir: &std::path::Path) {
    let abs = |p: &mut Option<String>| {
        if let Some(v) = p
            && let Some(s) = resolve(dir, v).to_str()
        {
            *v = s.to_string();
        }
    };
    for c in kc.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
        abs(&mut c.certificate_authority);
    }
    for u in kc.auth_infos.iter_mut().filter_map(|u| u.auth_info.as_mut()) {
        abs(&mut u.client_certificate);
        abs(&mut u.client_key);
        abs(&mut u.token_file);
        // A bare command name is looked up on PATH; only one with a separator is a path.
        if let Some(exec) = u.exec.as_mut()
            && exec.command.as_deref().is_some_and(|c| c.contains(std::path::MAIN_SEPARATOR))
        {
            abs(&mut exec.command);
        }
    }
}

/// A path named in a kubeconfig, made absolute against the file's directory.
pub(super) fn resolve(dir: &std::path::Path, p: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(p);
    if path.is_relative() { dir.join(path) } else { path.to_path_buf() }
}
