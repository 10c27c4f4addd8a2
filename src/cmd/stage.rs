//! `meshdeck stage …`: parse one action from the command line, append it to the plan file under
//! the file's lock and print the plan's actions. An action that repeats one already staged is
//! not added again; one that contradicts a staged action is refused. Works offline; what the
//! action means against the cluster is for `diff` to show.

use crate::cli::{StageAction, StageArgs};
use crate::plan::{Action, Caller, Clash, ClashKind, MtlsMode, ServiceRef, Target, clash};
use std::path::PathBuf;

fn parse<T: std::str::FromStr<Err = String>>(what: &str, s: &str) -> anyhow::Result<T> {
    s.parse::<T>().map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// The action and its plan file, with `restarted_at` stamped as `now` where a restart is asked.
pub fn action_of(a: StageAction, now: &str) -> anyhow::Result<(Action, PathBuf)> {
    let stamp = |restart: bool| restart.then(|| now.to_string());
    Ok(match a {
        StageAction::Inject { target, revision, restart, plan } => {
            (Action::Inject { target: parse("TARGET", &target)?, revision, restarted_at: stamp(restart) }, plan.file)
        }
        StageAction::Uninject { target, restart, plan } => {
            (Action::Uninject { target: parse("TARGET", &target)?, restarted_at: stamp(restart) }, plan.file)
        }
        StageAction::Restart { target, plan } => {
            (Action::Restart { target: parse("TARGET", &target)?, restarted_at: now.to_string() }, plan.file)
        }
        StageAction::Mtls { target, mode, plan } => {
            (Action::Mtls { target: parse("TARGET", &target)?, mode: parse::<MtlsMode>("--mode", &mode)? }, plan.file)
        }
        StageAction::Allow { target, from, methods, paths, ports, plan } => {
            let from = from.iter().map(|f| parse::<Caller>("--from", f)).collect::<anyhow::Result<Vec<_>>>()?;
            (Action::Allow { target: parse("TARGET", &target)?, from, methods, paths, ports }, plan.file)
        }
        StageAction::Route { service, hosts, gateway, export_to, plan } => {
            if gateway.split('/').count() != 2 || gateway.split('/').any(str::is_empty) {
                anyhow::bail!("--gateway {gateway:?}: expected NS/NAME");
            }
            (Action::Route { service: parse::<ServiceRef>("SERVICE", &service)?, hosts, gateway, export_to }, plan.file)
        }
        StageAction::Revision { target, to, restart, plan } => {
            let target: Target = parse("TARGET", &target)?;
            if !matches!(target, Target::Namespace(_)) {
                anyhow::bail!("TARGET `{target}`: a revision moves a namespace, ns/NS");
            }
            (Action::Revision { target, to, restarted_at: stamp(restart) }, plan.file)
        }
    })
}

pub fn run_stage(args: StageArgs) -> anyhow::Result<u8> {
    let (action, file) = action_of(args.action, &crate::apply::now_rfc3339())?;
    let place = file.display().to_string();
    // Checked against the plan as it is inside the lock, so two stagings at once see each other.
    let (plan, repeated) = super::plan_file::update(&file, |plan| match clash(&plan.actions, &action) {
        None => {
            plan.actions.push(action.clone());
            Ok(None)
        }
        Some(c) if c.kind == ClashKind::Repeats => Ok(Some(c)),
        Some(c) => Err(anyhow::anyhow!(refusal(&place, &action, &c))),
    })?;
    if let Some(c) = repeated {
        outln!("`{}` is already staged: it {c}; nothing added", action.summary())?;
    }
    outln!("{place}:")?;
    for (n, a) in plan.actions.iter().enumerate() {
        outln!("  {}. {}", n + 1, a.summary())?;
    }
    Ok(0)
}

/// Why `action` is not staged: a plan says one thing per object, so the earlier action has
/// to go first.
pub fn refusal(place: &str, action: &Action, c: &Clash) -> String {
    let n = c.earlier + 1;
    format!(
        "{place}: `{}` not staged: it {c}. A plan says one thing per object: drop action {n} first (delete it from {place}, or d on it on the UI's plan screen), then stage again",
        action.summary()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn staged(args: &[&str]) -> anyhow::Result<Action> {
        let cli = Cli::try_parse_from(["meshdeck", "stage"].iter().chain(args)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let Some(Command::Stage(s)) = cli.command else { panic!("not a stage command") };
        Ok(action_of(s.action, "2026-11-27T01:30:00Z")?.0)
    }

    #[test]
    fn command_lines_become_actions() {
        let yaml = |a: Action| serde_yaml::to_string(&a).unwrap();
        let cases = [
            (
                vec!["inject", "deploy/rng/numbers-api", "--restart"],
                "action: inject\ntarget: deploy/rng/numbers-api\nrestartedAt: 2026-11-27T01:30:00Z\n",
            ),
            (vec!["mtls", "ns/rng", "--mode", "strict"], "action: mtls\ntarget: ns/rng\nmode: STRICT\n"),
            (
                vec!["allow", "deploy/rng/numbers-api", "--from", "sa/rng/numbers-web", "--methods", "GET,POST"],
                "action: allow\ntarget: deploy/rng/numbers-api\nfrom:\n- sa/rng/numbers-web\nmethods:\n- GET\n- POST\n",
            ),
            (
                vec![
                    "route",
                    "svc/rng/numbers-web",
                    "--host",
                    "rng.example.com",
                    "--gateway",
                    "istio-system/gw",
                    "--export-to",
                    "istio-system",
                ],
                "action: route\nservice: svc/rng/numbers-web\nhosts:\n- rng.example.com\ngateway: istio-system/gw\nexportTo:\n- istio-system\n",
            ),
            (vec!["restart", "ns/rng"], "action: restart\ntarget: ns/rng\nrestartedAt: 2026-11-27T01:30:00Z\n"),
        ];
        for (args, want) in cases {
            let got = staged(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(yaml(got), want, "{args:?}");
        }
    }

    #[test]
    fn bad_arguments_name_the_argument() {
        let cases = [
            (vec!["inject", "pod/rng/x"], "TARGET: `pod/rng/x`: a target is"),
            (vec!["mtls", "ns/rng", "--mode", "tight"], "--mode: `tight`: the mTLS mode is"),
            (vec!["allow", "deploy/rng/a", "--from", "user/x"], "--from: `user/x`: a caller is"),
            (vec!["route", "svc/rng/a", "--host", "h", "--gateway", "gw"], "--gateway \"gw\": expected NS/NAME"),
            (vec!["revision", "deploy/rng/a", "--to", "canary"], "a revision moves a namespace"),
        ];
        for (args, want) in cases {
            let err = staged(&args).unwrap_err().to_string();
            assert!(err.contains(want), "{args:?}: {err}");
        }
    }
}
