//! Kubeconfig files read as kubectl reads them: `--kubeconfig PATH` is one file; otherwise the
//! files listed in $KUBECONFIG are merged (the first file to set a name or the current context
//! wins; empty entries and missing files are skipped; set but empty is unset), else
//! ~/.kube/config. The chosen context's references and credentials are checked here, so every
//! error names the file, the line:column and the kind of problem. No error repeats any of a
//! file's content: kubeconfigs hold bearer tokens, passwords and private keys.

mod check;
mod doc;

use doc::{At, ClusterFields, UserFields, at_of};
use std::path::{Path, PathBuf};

/// A kubeconfig that cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KubeconfigError {
    pub file: Option<PathBuf>,
    /// Line and column, 1-based.
    pub at: Option<(u64, u64)>,
    pub problem: String,
}

impl std::fmt::Display for KubeconfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.at) {
            (Some(file), Some((line, col))) => {
                write!(f, "kubeconfig {}:{line}:{col}: {}", file.display(), self.problem)
            }
            (Some(file), None) => write!(f, "kubeconfig {}: {}", file.display(), self.problem),
            (None, _) => write!(f, "kubeconfig: {}", self.problem),
        }
    }
}

fn err(file: Option<&Path>, at: At, problem: impl Into<String>) -> KubeconfigError {
    KubeconfigError { file: file.map(Path::to_path_buf), at, problem: problem.into() }
}

/// The files to read, and whether they were named explicitly (`--kubeconfig`: it must exist).
pub fn paths(flag: Option<&Path>) -> (Vec<PathBuf>, bool) {
    if let Some(p) = flag {
        return (vec![p.to_path_buf()], true);
    }
    paths_from(std::env::var_os("KUBECONFIG").as_deref(), std::env::home_dir().as_deref())
}

/// kubectl's rules for `$KUBECONFIG` (`value`) and the home directory.
pub fn paths_from(value: Option<&std::ffi::OsStr>, home: Option<&Path>) -> (Vec<PathBuf>, bool) {
    let listed: Vec<PathBuf> =
        value.map(|v| std::env::split_paths(v).filter(|p| !p.as_os_str().is_empty()).collect()).unwrap_or_default();
    if !listed.is_empty() {
        return (listed, false);
    }
    (home.map(|h| h.join(".kube").join("config")).into_iter().collect(), false)
}

/// The files' contents as read, in order.
struct Raw {
    path: PathBuf,
    text: String,
}

fn read_all(flag: Option<&Path>) -> Result<Vec<Raw>, KubeconfigError> {
    let (paths, explicit) = paths(flag);
    let mut out = Vec::new();
    for path in &paths {
        match std::fs::read(path) {
            Ok(bytes) => out.push(Raw { path: path.clone(), text: text(bytes).map_err(|p| err(Some(path), None, p))? }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {}
            Err(e) => return Err(err(Some(path), None, format!("cannot be read: {}", check::io_kind(&e)))),
        }
    }
    if out.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(err(
            None,
            None,
            match names.len() {
                0 => "none found: $KUBECONFIG is not set and there is no home directory".to_string(),
                _ => format!("none found (looked for {}); set $KUBECONFIG or pass --kubeconfig", names.join(", ")),
            },
        ));
    }
    Ok(out)
}

/// UTF-8, or UTF-16 with a byte-order mark, as kubectl accepts.
fn text(bytes: Vec<u8>) -> Result<String, String> {
    let utf16 = |b: &[u8], le: bool| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        String::from_utf16(&units).map_err(|_| "not valid UTF-16 text".to_string())
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).map_err(|_| "not valid UTF-8 text".into()),
        _ => String::from_utf8(bytes).map_err(|_| "not valid UTF-8 text".into()),
    }
}

/// A name defined in one of the files, with where.
struct Entry<T> {
    file: usize,
    at: At,
    name: String,
    fields: Option<T>,
}

/// Every file's entries merged: the first file to define a name wins, as kubectl merges.
struct Merged {
    files: Vec<PathBuf>,
    current: Option<Entry<()>>,
    clusters: Vec<Entry<ClusterFields>>,
    users: Vec<Entry<UserFields>>,
    contexts: Vec<Entry<doc::ContextFields>>,
    config: kube::config::Kubeconfig,
}

fn push<T>(list: &mut Vec<Entry<T>>, e: Entry<T>) {
    if !list.iter().any(|x| x.name == e.name) {
        list.push(e);
    }
}

fn merge(raws: &[Raw]) -> Result<Merged, KubeconfigError> {
    let mut m = Merged {
        files: raws.iter().map(|r| r.path.clone()).collect(),
        current: None,
        clusters: Vec::new(),
        users: Vec::new(),
        contexts: Vec::new(),
        config: kube::config::Kubeconfig::default(),
    };
    for (i, raw) in raws.iter().enumerate() {
        let (outlines, mut config) = doc::parse(&raw.text).map_err(|(at, p)| err(Some(&raw.path), at, p))?;
        if let Some(dir) = raw.path.parent() {
            doc::absolutize(&mut config, dir);
        }
        m.config = std::mem::take(&mut m.config)
            .merge(config)
            .map_err(|_| err(Some(&raw.path), None, "its kind or apiVersion differs from the files before it"))?;
        for o in outlines {
            if m.current.is_none()
                && let Some(c) = o.current_context.as_ref().filter(|c| !c.value.is_empty())
            {
                m.current = Some(Entry { file: i, at: at_of(c), name: c.value.clone(), fields: None });
            }
            for c in o.clusters {
                let at = at_of(&c);
                push(&mut m.clusters, Entry { file: i, at, name: c.value.name.value, fields: c.value.cluster });
            }
            for u in o.users {
                let at = at_of(&u);
                push(&mut m.users, Entry { file: i, at, name: u.value.name.value, fields: u.value.user });
            }
            for c in o.contexts {
                let at = at_of(&c);
                push(&mut m.contexts, Entry { file: i, at, name: c.value.name.value, fields: c.value.context });
            }
        }
    }
    // Empty current-context values do not count as set (kube-rs would keep the first one).
    m.config.current_context = m.current.as_ref().map(|c| c.name.clone());
    Ok(m)
}

/// A kubeconfig read, merged and checked for one context.
// No Debug: it holds the credentials, and must not reach a log by accident.
#[derive(Clone)]
pub struct Loaded {
    pub config: kube::config::Kubeconfig,
    pub context: String,
    pub cluster: String,
    /// Empty for a context without a user (anonymous requests).
    pub user: String,
    pub files: Vec<PathBuf>,
    /// Changes whenever any of the files' content changes.
    pub fingerprint: u64,
}

/// Reads the kubeconfig for `context` (else the current context) and checks what it needs.
pub fn load(flag: Option<&Path>, context: Option<&str>) -> Result<Loaded, KubeconfigError> {
    let raws = read_all(flag)?;
    let fingerprint = hash(&raws);
    let m = merge(&raws)?;
    let file = |i: usize| Some(m.files[i].as_path());
    let known = || m.contexts.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let (name, named_at) = match (context, &m.current) {
        (Some(c), _) => (c.to_string(), None),
        (None, Some(cur)) => (cur.name.clone(), Some((cur.file, cur.at))),
        (None, None) => {
            return Err(err(
                file(0),
                None,
                format!("no current-context is set; pass --context (contexts: {})", known()),
            ));
        }
    };
    let Some(ctx) = m.contexts.iter().find(|c| c.name == name) else {
        let problem = format!("context {name:?} is not defined (contexts: {})", known());
        return Err(match named_at {
            Some((i, at)) => err(file(i), at, problem),
            None => err(if m.files.len() == 1 { file(0) } else { None }, None, problem),
        });
    };
    let fields = ctx.fields.clone().unwrap_or_default();
    let in_ctx = |at: At, p: String| err(file(ctx.file), at, p);
    let Some(cluster_ref) = fields.cluster.as_ref().filter(|c| !c.value.is_empty()) else {
        return Err(in_ctx(ctx.at, format!("context {name:?} names no cluster")));
    };
    let Some(cluster) = m.clusters.iter().find(|c| c.name == cluster_ref.value) else {
        return Err(in_ctx(
            at_of(cluster_ref),
            format!("context {name:?} refers to cluster {:?}, which is not defined", cluster_ref.value),
        ));
    };
    let dir = |i: usize| m.files[i].parent().map(Path::to_path_buf).unwrap_or_default();
    check::cluster(&cluster.name, &cluster.fields.clone().unwrap_or_default(), &dir(cluster.file), cluster.at)
        .map_err(|(at, p)| err(file(cluster.file), at, p))?;
    let mut user = String::new();
    if let Some(user_ref) = fields.user.as_ref().filter(|u| !u.value.is_empty()) {
        let Some(u) = m.users.iter().find(|u| u.name == user_ref.value) else {
            return Err(in_ctx(
                at_of(user_ref),
                format!("context {name:?} refers to user {:?}, which is not defined", user_ref.value),
            ));
        };
        check::user(&u.name, &u.fields.clone().unwrap_or_default(), &dir(u.file), u.at)
            .map_err(|(at, p)| err(file(u.file), at, p))?;
        user = u.name.clone();
    }
    Ok(Loaded { config: m.config, context: name, cluster: cluster.name.clone(), user, files: m.files, fingerprint })
}

/// The context names of the kubeconfig, for `:ctx` completion.
pub fn contexts(flag: Option<&Path>) -> Result<Vec<String>, KubeconfigError> {
    let m = merge(&read_all(flag)?)?;
    Ok(m.contexts.into_iter().map(|c| c.name).collect())
}

/// A hash of the kubeconfig files' current content, to notice new credentials; `None` when
/// none can be read.
pub fn fingerprint(flag: Option<&Path>) -> Option<u64> {
    read_all(flag).ok().map(|raws| hash(&raws))
}

fn hash(raws: &[Raw]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for r in raws {
        r.path.hash(&mut h);
        r.text.hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
#[path = "kubeconfig/tests.rs"]
mod tests;
