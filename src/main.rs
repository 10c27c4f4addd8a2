//! meshdeck's entry point: parse the command line, set up logging, dispatch to a subcommand.

use anyhow::Context;
use clap::Parser;
use meshdeck::cli::{Cli, Command, DemoArgs, GlobalArgs, InventoryArgs, SimArgs};
use meshdeck::cmd;
use meshdeck::sim::api::faults::Faults;
use meshdeck::sim::run::{SimOptions, start};
use meshdeck::sim::scale::ScaleSpec;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("meshdeck: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let global = cli.global.clone();
    let result = rt.block_on(async {
        match cli.command {
            Some(Command::Sim(args)) => run_sim(args).await.map(|()| 0),
            Some(Command::Demo(args)) => run_demo(args, global).await.map(|()| 0),
            Some(Command::Inventory(args)) => run_inventory(args, global).await.map(|()| 0),
            Some(Command::Stage(args)) => cmd::run_stage(args),
            Some(Command::Diff(args)) => headless(&global, |c| cmd::run_diff(args, c)).await,
            Some(Command::Apply(args)) => headless(&global, |c| cmd::run_apply(args, c)).await,
            Some(Command::Undo(args)) => headless(&global, |c| cmd::run_undo(args, c)).await,
            // The journal works offline: no connection check.
            Some(Command::Journal(args)) => {
                init_stderr_logging();
                cmd::run_journal(args, global).await
            }
            Some(Command::Export(args)) => headless(&global, |c| cmd::run_export(args, c)).await,
            None => run_ui(global).await.map(|()| 0),
        }
    });
    // Watch tasks may still be parked on the network; do not wait for them.
    rt.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        // Whoever read the output has what they wanted (`meshdeck journal | head -1`).
        Err(e) if cmd::stdout_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meshdeck: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Headless commands that reach the cluster log warnings to stderr, check the connection
/// before anything else, and then work with that connection.
async fn headless<F, Fut>(global: &GlobalArgs, f: F) -> anyhow::Result<u8>
where
    F: FnOnce(meshdeck::cluster::client::Connected) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u8>>,
{
    init_stderr_logging();
    let connected = preflight(global).await?;
    f(connected).await
}

/// Reads the kubeconfig and asks the API server for discovery, so a connection that cannot
/// work (refused, DNS, x509, 401, 403) is named at once instead of after a sync timeout.
async fn preflight(global: &GlobalArgs) -> anyhow::Result<meshdeck::cluster::client::Connected> {
    let c = meshdeck::cluster::client::open(&global.connect_options()).await?;
    meshdeck::cluster::client::check(&c.client, &c.conn).await?;
    Ok(c)
}

fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MESHDECK_LOG").unwrap_or_else(|_| "meshdeck=warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn run_sim(args: SimArgs) -> anyhow::Result<()> {
    init_stderr_logging();
    let faults = match &args.faults {
        Some(spec) => Faults::parse(spec).map_err(|e| anyhow::anyhow!("--faults: {e}"))?,
        None => Faults::default(),
    };
    let scale = match &args.scale {
        Some(spec) => Some(spec.parse::<ScaleSpec>().map_err(|e| anyhow::anyhow!("--scale: {e}"))?),
        None => None,
    };
    let opts = SimOptions {
        scenarios: args.scenarios,
        scale,
        listen: args.listen,
        kubeconfig_out: args.kubeconfig_out,
        time_scale: args.time_scale,
        faults,
    };
    let handle = start(opts).await.context("starting the simulated cluster")?;
    writeln!(std::io::stdout(), "{}", handle.kubeconfig_path.display()).map_err(cmd::StdoutError)?;
    eprintln!(
        "meshdeck sim: serving {} — export KUBECONFIG={} (contexts sim-admin, sim-viewer, sim-restricted); Ctrl-C to stop",
        handle.server(),
        handle.kubeconfig_path.display()
    );
    wait_for_shutdown().await;
    drop(handle);
    Ok(())
}

async fn run_demo(args: DemoArgs, global: GlobalArgs) -> anyhow::Result<()> {
    let opts = SimOptions {
        scenarios: vec!["demo".into()],
        time_scale: args.time_scale,
        kubeconfig_out: args.kubeconfig_out.clone(),
        ..SimOptions::default()
    };
    eprintln!("meshdeck demo: starting the simulated cluster with the demo scenario…");
    if args.no_ui {
        init_stderr_logging();
        let handle = start(opts).await.context("starting the simulated cluster")?;
        let summary = meshdeck::sim::summary(&handle.cluster);
        writeln!(std::io::stdout(), "kubeconfig: {}\n{summary}", handle.kubeconfig_path.display())
            .map_err(cmd::StdoutError)?;
        eprintln!("meshdeck demo: serving {}; Ctrl-C to stop", handle.server());
        wait_for_shutdown().await;
        return Ok(());
    }
    let handle = start(opts).await.context("starting the simulated cluster")?;
    let ui = meshdeck::ui::run::RunArgs {
        kubeconfig: Some(handle.kubeconfig_path.clone()),
        context: Some("sim-admin".into()),
        namespace: global.namespace,
        read_only: global.read_only,
        plan_file: Some(meshdeck::plan::DEFAULT_PLAN_FILE.into()),
        request_timeout: global.request_timeout.0,
    };
    let result = meshdeck::ui::run::run(ui).await;
    drop(handle);
    result
}

async fn run_ui(global: GlobalArgs) -> anyhow::Result<()> {
    let ui = meshdeck::ui::run::RunArgs {
        kubeconfig: global.kubeconfig,
        context: global.context,
        namespace: global.namespace,
        read_only: global.read_only,
        plan_file: Some(meshdeck::plan::DEFAULT_PLAN_FILE.into()),
        request_timeout: global.request_timeout.0,
    };
    meshdeck::ui::run::run(ui).await
}

async fn run_inventory(args: InventoryArgs, global: GlobalArgs) -> anyhow::Result<()> {
    init_stderr_logging();
    let meshdeck::cluster::client::Connected { client, conn, .. } = preflight(&global).await?;
    let live = meshdeck::cluster::live::Live::start_for(client, &conn);
    let derived = live.synced(std::time::Duration::from_secs(args.timeout)).await.map_err(|e| {
        match live.summary().cause.filter(|c| c.is_connection()) {
            Some(cause) => anyhow::Error::new(meshdeck::cluster::client::ConnectError::new(&conn, cause)),
            None => anyhow::anyhow!("{e} (context {}, {})", conn.context, conn.server),
        }
    })?;
    // The view's warnings name each kind RBAC refuses and what that leaves unknown.
    for w in &derived.view.warnings {
        eprintln!("meshdeck: warning: {w}");
    }
    if let Some(ns) = global.namespace.as_deref()
        && !derived.view.namespaces.iter().any(|n| n.name == ns)
    {
        anyhow::bail!("namespace {ns:?} not found in context {}", conn.context);
    }
    let view = meshdeck::inventory::scoped(&derived.view, global.namespace.as_deref());
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    meshdeck::inventory::write(&view, args.output, &mut out).and_then(|()| out.flush()).map_err(cmd::StdoutError)?;
    Ok(())
}

async fn wait_for_shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {},
        _ = async { match hup.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {},
    }
}
