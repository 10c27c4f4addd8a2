//! The real meshdeck binary against a simulated cluster: a plan file, a state directory for
//! the journal, and the cluster's kubeconfig, as a user's shell would have them.

use meshdeck::sim::run::SimHandle;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Cli {
    pub kubeconfig: PathBuf,
    pub state: PathBuf,
    pub plan: PathBuf,
}

impl Cli {
    pub fn new(h: &SimHandle, dir: &Path) -> Cli {
        Cli { kubeconfig: h.kubeconfig_path.clone(), state: dir.join("state"), plan: dir.join("plan.yaml") }
    }

    /// The command, `-f` set to the test's plan where a plan is read, stdin empty.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshdeck"));
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("MESHDECK_STATE_DIR", &self.state)
            .env_remove("MESHDECK_LOG")
            .stdin(Stdio::null());
        if args.iter().any(|a| matches!(*a, "stage" | "diff" | "apply" | "export")) {
            cmd.arg("-f").arg(&self.plan);
        }
        cmd
    }

    /// Runs meshdeck with `args` to the end.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        tokio::task::spawn_blocking(move || cmd.output().expect("meshdeck runs")).await.unwrap()
    }

    pub fn journal_files(&self) -> usize {
        match std::fs::read_dir(self.state.join("journal")) {
            Ok(d) => d.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count(),
            Err(_) => 0,
        }
    }
}

pub fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// stdout and stderr, for assertion messages.
pub fn both(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}
