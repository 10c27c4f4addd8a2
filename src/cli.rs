//! The command line: global flags and subcommands (clap derive). Parsing only; `main.rs`
//! dispatches.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "meshdeck",
    version,
    about = "A terminal assistant for running applications on the Istio service mesh"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Path to one kubeconfig file (default: the files listed in $KUBECONFIG, merged as kubectl
    /// merges them, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Limit the view to one namespace.
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Refuse every request that could change the cluster, in the client itself (reads,
    /// dry-runs and access reviews still go through).
    #[arg(long, global = true)]
    pub read_only: bool,
    /// How long to wait for the API server to connect and start answering each request (30s,
    /// 1m, or seconds; 0 waits forever). Never limits a long list or a watch once it answers.
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s")]
    pub request_timeout: RequestTimeout,
}

/// `--request-timeout`: `None` for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

impl Default for RequestTimeout {
    fn default() -> Self {
        RequestTimeout(Some(crate::cluster::client::DEFAULT_REQUEST_TIMEOUT))
    }
}

impl std::str::FromStr for RequestTimeout {
    type Err = String;

    /// kubectl's forms: `30s`, `1m`, `1m30s`, `500ms`, `2h`, or a number of seconds; `0` for none.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a duration: use 30s, 1m, 1m30s, 500ms or a number of seconds (0 for none)");
        let s = s.trim();
        if let Ok(secs) = s.parse::<u64>() {
            return Ok(RequestTimeout((secs > 0).then(|| Duration::from_secs(secs))));
        }
        let mut total = Duration::ZERO;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "ms" => Duration::from_millis(n),
                "s" => Duration::from_secs(n),
                "m" => Duration::from_secs(n * 60),
                "h" => Duration::from_secs(n * 3600),
                _ => return Err(bad()),
            };
            total += unit;
            rest = &rest[unit_len..];
        }
        if s.is_empty() {
            return Err(bad());
        }
        Ok(RequestTimeout((!total.is_zero()).then_some(total)))
    }
}

impl GlobalArgs {
    /// How to connect, from the global flags.
    pub fn connect_options(&self) -> crate::cluster::client::ConnectOptions {
        crate::cluster::client::ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            read_only: self.read_only,
            request_timeout: self.request_timeout.0,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the simulated Kubernetes + Istio cluster in the foreground.
    Sim(SimArgs),
    /// Start the simulated cluster with the demo scenario and open meshdeck on it.
    Demo(DemoArgs),
    /// Print every namespace and workload with injection, proxies, mTLS and policies.
    Inventory(InventoryArgs),
    /// Add an action to a plan file (created when missing).
    Stage(StageArgs),
    /// Show what a plan would change, as the API server's dry-run computes it. Exit 0 no changes, 1 changes, 2 error.
    Diff(DiffArgs),
    /// Apply a plan: preview, confirm, journal, write in order.
    Apply(ApplyArgs),
    /// Undo a journal entry (default: the last one), previewed and confirmed like a plan.
    Undo(UndoArgs),
    /// List the journal of applies.
    Journal(JournalArgs),
    /// Write a plan's objects as one YAML file each, for a pull request.
    Export(ExportArgs),
}

/// The plan file a command reads or extends.
#[derive(Debug, Args, Clone)]
pub struct PlanFileArg {
    /// The plan file.
    #[arg(short = 'f', long = "file", value_name = "PLAN", default_value = crate::plan::DEFAULT_PLAN_FILE)]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct StageArgs {
    #[command(subcommand)]
    pub action: StageAction,
}

#[derive(Debug, Subcommand)]
pub enum StageAction {
    /// Opt a namespace or workload into sidecar injection.
    Inject {
        /// mesh, ns/NS, deploy/NS/NAME, sts/NS/NAME or ds/NS/NAME
        target: String,
        /// Inject with this revision or tag (namespaces: istio.io/rev instead of istio-injection).
        #[arg(long, value_name = "R")]
        revision: Option<String>,
        /// Restart the affected workloads so their pods get the sidecar.
        #[arg(long)]
        restart: bool,
        #[command(flatten)]
        plan: PlanFileArg,
    },
    /// Opt a namespace or workload out of sidecar injection.
    Uninject {
        target: String,
        /// Restart the affected workloads so their pods lose the sidecar.
        #[arg(long)]
        restart: bool,
        #[command(flatten)]
        plan: PlanFileArg,
    },
    /// Restart a workload, or every workload of a namespace.
    Restart {
        target: String,
        #[command(flatten)]
        plan: PlanFileArg,
    },
    /// Set the mTLS mode of a PeerAuthentication at mesh, namespace or workload scope.
    Mtls {
        target: String,
        /// strict, permissive or disable
        #[arg(long)]
        mode: String,
        #[command(flatten)]
        plan: PlanFileArg,
    },
    /// Allow callers to reach a workload (an ALLOW AuthorizationPolicy).
    Allow {
        target: String,
        /// sa/NS/NAME or ns/NS; repeatable.
        #[arg(long = "from", required = true, value_name = "CALLER")]
        from: Vec<String>,
        #[arg(long, value_delimiter = ',', value_name = "GET,..")]
        methods: Vec<String>,
        #[arg(long, value_delimiter = ',', value_name = "/x,..")]
        paths: Vec<String>,
        #[arg(long, value_delimiter = ',', value_name = "8080,..")]
        ports: Vec<u16>,
        #[command(flatten)]
        plan: PlanFileArg,
    },
    /// Route hosts through a gateway to a Service (a VirtualService).
    Route {
        /// svc/NS/NAME
        service: String,
        /// Repeatable, or comma-separated.
        #[arg(long = "host", required = true, value_delimiter = ',')]
        hosts: Vec<String>,
        /// The Gateway, NS/NAME.
        #[arg(long)]
        gateway: String,
        #[arg(long = "export-to", value_delimiter = ',', value_name = "NS,..")]
        export_to: Vec<String>,
        #[command(flatten)]
        plan: PlanFileArg,
    },
    /// Move a namespace to a revision or tag.
    Revision {
        /// ns/NS
        target: String,
        #[arg(long, value_name = "R")]
        to: String,
        #[arg(long)]
        restart: bool,
        #[command(flatten)]
        plan: PlanFileArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub plan: PlanFileArg,
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: DiffFormat,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanFileArg,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

/// How an apply or undo is confirmed and followed.
#[derive(Debug, Args, Clone)]
pub struct ConfirmArgs {
    /// Apply without asking for confirmation on the terminal. It does not take over fields
    /// other managers own (--force-conflicts) nor apply past error findings (--allow-errors).
    #[arg(long)]
    pub yes: bool,
    /// Take over fields other field managers own (the preview lists them).
    #[arg(long)]
    pub force_conflicts: bool,
    /// Apply although the preview has error-level findings about the plan's own objects.
    #[arg(long)]
    pub allow_errors: bool,
    /// Wait until the restarted workloads have rolled out.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting for rollouts after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// A journal entry id, or `last`.
    #[arg(default_value = "last")]
    pub entry: String,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JournalFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: JournalFormat,
    /// List the entries of every cluster, not only the current context's.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub plan: PlanFileArg,
    /// The directory to write the files into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Output format; JSON is the stable contract documented in README.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: crate::inventory::Format,
    /// Give up waiting for the watches to sync after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// A built-in scenario (istio, demo) or a path to a YAML file or folder; repeatable, loaded in order.
    #[arg(long = "scenario", value_name = "NAME|PATH")]
    pub scenarios: Vec<String>,
    /// Generate a large cluster: namespaces=N,workloads=N,pods-per-workload=N.
    #[arg(long, value_name = "SPEC")]
    pub scale: Option<String>,
    /// Address to listen on (default 127.0.0.1 on a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Where to write the kubeconfig (default: a file in the temporary directory).
    #[arg(long = "kubeconfig-out", value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Divide pod start-up delays and workload-certificate lifetimes by X.
    #[arg(long = "time-scale", value_name = "X", default_value_t = 1.0)]
    pub time_scale: f64,
    /// watch-close=SECS,error-rate=FRACTION,error-code=500|429,latency=MS,expire=SECS
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Divide pod start-up delays and workload-certificate lifetimes by X.
    #[arg(long = "time-scale", value_name = "X", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Start the simulated cluster and print its kubeconfig and a summary instead of opening
    /// the terminal UI.
    #[arg(long)]
    pub no_ui: bool,
    /// Also write the simulated cluster's kubeconfig here, so other tools can reach it.
    #[arg(long = "kubeconfig-out", value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeouts_read_as_kubectl_writes_them() {
        let cases = [
            ("30s", Some(Duration::from_secs(30))),
            ("1m", Some(Duration::from_secs(60))),
            ("1m30s", Some(Duration::from_secs(90))),
            ("500ms", Some(Duration::from_millis(500))),
            ("2h", Some(Duration::from_secs(7200))),
            ("45", Some(Duration::from_secs(45))),
            ("0", None),
            ("0s", None),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<RequestTimeout>(), Ok(RequestTimeout(want)), "{text}");
        }
        for bad in ["", "s", "10x", "1.5s", "-1", "m1"] {
            assert!(bad.parse::<RequestTimeout>().is_err(), "{bad:?}");
        }
        let cli = Cli::try_parse_from(["meshdeck", "inventory"]).unwrap();
        assert_eq!(cli.global.request_timeout, RequestTimeout(Some(Duration::from_secs(30))));
        let cli = Cli::try_parse_from(["meshdeck", "inventory", "--request-timeout", "1m"]).unwrap();
        assert_eq!(cli.global.request_timeout, RequestTimeout(Some(Duration::from_secs(60))));
    }
}
