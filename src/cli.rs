//! The command line: global flags and subcommands (clap derive). Parsing only; `main.rs`
//! dispatches.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, env = "KUBECONFIG", value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Limit the view to one namespace.
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the simulated Kubernetes + Istio cluster in the foreground.
    Sim(SimArgs),
    /// Start the simulated cluster with the demo scenario and open meshdeck on it.
    Demo(DemoArgs),
    /// Print every namespace and workload with injection, proxies, mTLS and policies.
    Inventory(InventoryArgs),
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
