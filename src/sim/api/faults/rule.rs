//! Targeted fault rules: which requests a rule strikes (verb, resource, namespace, name, dry run
//! or real) and how (an error status, or a dropped connection; before the request is served or
//! after a write is committed), with their `--faults` form
//! `rule=VERB:RESOURCE:OBJECT:ANSWER[:OPTION...]`. Data and parsing only.

use std::fmt;

/// The verb a rule matches. `Write` is any mutation; `Any` every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Any,
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    Write,
}

const VERBS: &str = "get, list, watch, create, update, patch, delete, write, any";

impl Verb {
    pub fn parse(s: &str) -> Result<Verb, String> {
        Ok(match s {
            "any" | "*" => Verb::Any,
            "get" => Verb::Get,
            "list" => Verb::List,
            "watch" => Verb::Watch,
            "create" => Verb::Create,
            "update" => Verb::Update,
            "patch" => Verb::Patch,
            "delete" => Verb::Delete,
            "write" => Verb::Write,
            _ => return Err(format!("unknown verb {s:?}; known: {VERBS}")),
        })
    }

    fn matches(self, req: &RequestInfo) -> bool {
        match self {
            Verb::Any => true,
            Verb::Write => req.mutating,
            Verb::Get => req.verb == "get",
            Verb::List => req.verb == "list",
            Verb::Watch => req.verb == "watch",
            Verb::Create => req.verb == "create",
            Verb::Update => req.verb == "update",
            Verb::Patch => req.verb == "patch",
            Verb::Delete => matches!(req.verb, "delete" | "deletecollection"),
        }
    }
}

/// How a struck request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An error Status with this code (429 and 503 carry Retry-After).
    Status(u16),
    /// The connection is closed with no answer at all.
    Drop,
}

impl Answer {
    pub fn parse(s: &str) -> Result<Answer, String> {
        if s == "drop" {
            return Ok(Answer::Drop);
        }
        match s.parse::<u16>() {
            Ok(c) if (400..=599).contains(&c) => Ok(Answer::Status(c)),
            _ => {
                Err(format!("answer {s:?} must be an HTTP error code (400-599, e.g. 500, 429, 503, 409, 403) or drop"))
            }
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Status(c) => write!(f, "{c}"),
            Answer::Drop => f.write_str("drop"),
        }
    }
}

/// When a write is struck: before it is served (nothing changes), or after it was committed
/// (the client cannot know it took effect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Before,
    After,
}

/// What a request is, as rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: &'static str,
    /// The resource's plural, with a subresource after a slash (`pods/portforward`).
    pub resource: String,
    pub namespace: String,
    pub name: String,
    pub dry_run: bool,
    /// A write to a stored kind (reviews are questions, not writes).
    pub mutating: bool,
}

/// One targeted fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub verb: Verb,
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// `Some(true)`: dry runs only; `Some(false)`: real requests only.
    pub dry_run: Option<bool>,
    pub answer: Answer,
    pub timing: Timing,
    /// Strikes this many times, then is spent; `None`: never spent.
    pub times: Option<u32>,
    /// Seconds in the Retry-After of a 429 or 503.
    pub retry_after: u32,
}

impl Rule {
    /// Strikes every request with `verb`, answering `answer`, until narrowed.
    pub fn new(verb: Verb, answer: Answer) -> Rule {
        Rule {
            verb,
            resource: None,
            namespace: None,
            name: None,
            dry_run: None,
            answer,
            timing: Timing::Before,
            times: None,
            retry_after: 1,
        }
    }

    /// Only this resource (plural, e.g. `deployments`).
    pub fn resource(mut self, plural: &str) -> Rule {
        self.resource = Some(plural.to_string());
        self
    }

    pub fn namespace(mut self, ns: &str) -> Rule {
        self.namespace = Some(ns.to_string());
        self
    }

    pub fn name(mut self, name: &str) -> Rule {
        self.name = Some(name.to_string());
        self
    }

    /// Only dry runs (`true`) or only real requests (`false`).
    pub fn dry_run(mut self, dry_run: bool) -> Rule {
        self.dry_run = Some(dry_run);
        self
    }

    /// Commit the write, then answer with the fault.
    pub fn after(mut self) -> Rule {
        self.timing = Timing::After;
        self
    }

    /// Strike `n` times, then be spent.
    pub fn times(mut self, n: u32) -> Rule {
        self.times = Some(n);
        self
    }

    pub fn retry_after(mut self, secs: u32) -> Rule {
        self.retry_after = secs;
        self
    }

    pub fn matches(&self, req: &RequestInfo) -> bool {
        self.verb.matches(req)
            && self.resource.as_deref().is_none_or(|r| r == req.resource)
            && self.namespace.as_deref().is_none_or(|n| n == req.namespace)
            && self.name.as_deref().is_none_or(|n| n == req.name)
            && self.dry_run.is_none_or(|d| d == req.dry_run)
    }

    /// `VERB:RESOURCE:OBJECT:ANSWER[:OPTION...]`, where OBJECT is `NAMESPACE/NAME`,
    /// `NAMESPACE/*`, `NAME` (a cluster-scoped object) or `*`, and the options are `after`,
    /// `dry-run`, `real`, `times=N` and `retry-after=SECS`.
    pub fn parse(spec: &str) -> Result<Rule, String> {
        let bad = |e: String| format!("fault rule {spec:?}: {e}");
        let parts: Vec<&str> = spec.split(':').collect();
        if parts.len() < 4 {
            return Err(bad("expected VERB:RESOURCE:OBJECT:ANSWER[:OPTION...]".into()));
        }
        let mut rule = Rule::new(Verb::parse(parts[0]).map_err(bad)?, Answer::parse(parts[3]).map_err(bad)?);
        if parts[1].is_empty() {
            return Err(bad("empty resource; use * for any".into()));
        }
        if parts[1] != "*" {
            rule.resource = Some(parts[1].to_string());
        }
        match parts[2].split_once('/') {
            _ if parts[2] == "*" => {}
            Some((ns, name)) => {
                if ns.is_empty() || name.is_empty() {
                    return Err(bad(format!("object {:?} must be NAMESPACE/NAME, NAMESPACE/*, NAME or *", parts[2])));
                }
                if ns != "*" {
                    rule.namespace = Some(ns.to_string());
                }
                if name != "*" {
                    rule.name = Some(name.to_string());
                }
            }
            None if parts[2].is_empty() => return Err(bad("empty object; use * for any".into())),
            None => rule.name = Some(parts[2].to_string()),
        }
        for opt in &parts[4..] {
            let num =
                |v: &str, what: &str| v.parse::<u32>().map_err(|_| bad(format!("{what} {v:?} is not a whole number")));
            match opt.split_once('=') {
                None if *opt == "after" => rule.timing = Timing::After,
                None if *opt == "dry-run" => rule.dry_run = Some(true),
                None if *opt == "real" => rule.dry_run = Some(false),
                Some(("times", v)) => rule.times = Some(num(v, "times")?),
                Some(("retry-after", v)) => rule.retry_after = num(v, "retry-after")?,
                _ => {
                    return Err(bad(format!(
                        "unknown option {opt:?}; known: after, dry-run, real, times=N, retry-after=SECS"
                    )));
                }
            }
        }
        Ok(rule)
    }
}

impl fmt::Display for Rule {
    /// The rule in its `--faults` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = format!("{:?}", self.verb).to_lowercase();
        let object = match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (Some(ns), None) => format!("{ns}/*"),
            (None, Some(n)) => n.clone(),
            (None, None) => "*".into(),
        };
        write!(f, "{verb}:{}:{object}:{}", self.resource.as_deref().unwrap_or("*"), self.answer)?;
        if self.timing == Timing::After {
            f.write_str(":after")?;
        }
        match self.dry_run {
            Some(true) => f.write_str(":dry-run")?,
            Some(false) => f.write_str(":real")?,
            None => {}
        }
        if let Some(n) = self.times {
            write!(f, ":times={n}")?;
        }
        Ok(())
    }
}
