//! Staging from the row it concerns: a staging key on the namespaces, workloads or control-plane
//! screen opens the form for that action and row (or stages a restart at once), and a submitted
//! form adds its `Action` to the session's plan, unless it repeats or contradicts one staged.
//! Pure state changes; saving the plan file and computing the preview are effects.

use super::form::{DEFAULT_REVISION, Field, Form, FormKind};
use super::{App, Effect, Screen};
use crate::mesh::types::WorkloadKind;
use crate::plan::{Action, ClashKind, Target, clash};
use crate::ui::intent::Intent;
use crate::ui::keymap::Mode;
use crate::ui::widgets::notice::Notice;

impl App {
    /// The target the selected row stands for, or why it cannot be one.
    fn row_target(&self) -> Result<Target, String> {
        let i = self.selected().ok_or("no row is selected")?;
        match self.screen {
            Screen::Namespaces => Ok(Target::Namespace(self.view.namespaces[i].name.clone())),
            Screen::Workloads => {
                let w = &self.view.workloads[i];
                let kind = match w.kind.as_str() {
                    "Deployment" => WorkloadKind::Deployment,
                    "StatefulSet" => WorkloadKind::StatefulSet,
                    "DaemonSet" => WorkloadKind::DaemonSet,
                    other => {
                        return Err(format!(
                            "{other} {}/{} has no pod template to change: stage it on its namespace instead",
                            w.namespace, w.name
                        ));
                    }
                };
                Ok(Target::Workload { kind, namespace: w.namespace.clone(), name: w.name.clone() })
            }
            Screen::ControlPlane => Ok(Target::Mesh),
            _ => Err("select a namespace or a workload first".into()),
        }
    }

    /// Revisions and tags a namespace can be moved to, as "NAME" or "TAG (tag → REV)".
    fn revision_choices(&self) -> Vec<String> {
        let cp = &self.view.control_plane;
        let mut out: Vec<String> = cp.revisions.iter().map(|r| r.name.clone()).collect();
        out.extend(cp.tags.iter().flatten().map(|(tag, rev)| format!("{tag} (tag → {rev})")));
        out
    }

    /// A staging key pressed on a row.
    pub(crate) fn stage_from_row(&mut self, intent: Intent) -> Vec<Effect> {
        let target = match self.row_target() {
            Ok(t) => t,
            Err(e) => {
                self.notice(e);
                return vec![];
            }
        };
        let on_ns = matches!(target, Target::Namespace(_));
        let restart = || Field::toggle("restart", "roll the pods now so they get (or lose) the sidecar", true);
        let form = match intent {
            Intent::StageRestart if target != Target::Mesh => {
                let now = (self.now)();
                return self.stage(Action::Restart { target, restarted_at: now });
            }
            Intent::StageInject if target != Target::Mesh => {
                let mut fields = Vec::new();
                if on_ns {
                    let mut choices = vec![DEFAULT_REVISION.to_string()];
                    choices.extend(self.revision_choices());
                    fields.push(Field::choice("revision", "←/→: istio.io/rev=R instead of istio-injection", choices));
                }
                fields.push(restart());
                Form::new(FormKind::Inject(target.clone()), format!("Inject sidecars: {target}"), fields)
            }
            Intent::StageUninject if target != Target::Mesh => {
                Form::new(FormKind::Uninject(target.clone()), format!("Remove sidecars: {target}"), vec![restart()])
            }
            Intent::StageMtls => {
                let modes = ["STRICT", "PERMISSIVE", "DISABLE"].map(String::from).to_vec();
                Form::new(
                    FormKind::Mtls(target.clone()),
                    format!("mTLS (PeerAuthentication): {target}"),
                    vec![Field::choice("mode", "←/→ to change", modes)],
                )
            }
            Intent::StageAllow if matches!(target, Target::Workload { .. }) => Form::new(
                FormKind::Allow(target.clone()),
                format!("Allow callers (AuthorizationPolicy): {target}"),
                vec![
                    Field::text("from", "sa/NS/NAME or ns/NS, comma-separated", ""),
                    Field::text("methods", "GET,POST (empty: any)", ""),
                    Field::text("paths", "/api/* (empty: any)", ""),
                    Field::text("ports", "8080 (empty: any)", ""),
                ],
            ),
            Intent::StageRoute if matches!(target, Target::Workload { .. }) => {
                let w = &self.view.workloads[self.selected().unwrap_or_default()];
                Form::new(
                    FormKind::Route { namespace: w.namespace.clone() },
                    format!("Route through a gateway (VirtualService): {}/{}", w.namespace, w.name),
                    vec![
                        Field::choice(
                            "service",
                            "←/→: the workload's Services",
                            w.services.clone().unwrap_or_default(),
                        ),
                        Field::text("hosts", "rng.example.com, comma-separated", ""),
                        Field::text("gateway", "NS/NAME of an Istio Gateway", ""),
                        Field::text("export to", "namespaces, . or * (empty: all)", ""),
                    ],
                )
            }
            Intent::StageRevision if on_ns => Form::new(
                FormKind::Revision(target.clone()),
                format!("Move to a control-plane revision: {target}"),
                vec![Field::choice("to", "←/→: a revision or tag", self.revision_choices()), restart()],
            ),
            _ => {
                let what = match intent {
                    Intent::StageAllow | Intent::StageRoute => "a workload (on the workloads screen)",
                    Intent::StageRevision => "a namespace",
                    _ => "a namespace or a workload",
                };
                self.notice(format!("{} applies to {what}", intent.name().replace("stage_", "")));
                return vec![];
            }
        };
        self.form = Some(form);
        self.mode = Mode::Form;
        vec![]
    }

    pub(crate) fn update_form(&mut self, intent: Intent) -> Vec<Effect> {
        let Some(form) = self.form.as_mut() else {
            self.mode = self.rest_mode();
            return vec![];
        };
        match intent {
            Intent::NextField => form.next(),
            Intent::PrevField => form.prev(),
            Intent::Back => {
                self.form = None;
                self.mode = self.rest_mode();
            }
            Intent::Submit => {
                let now = (self.now)();
                match form.action(&now) {
                    Ok(action) => {
                        self.form = None;
                        self.mode = self.rest_mode();
                        return self.stage(action);
                    }
                    Err(e) => form.error = Some(e),
                }
            }
            Intent::Quit => return vec![Effect::Quit],
            _ => {}
        }
        vec![]
    }

    /// Adds an action to the plan; the plan is saved and its preview goes out of date. An
    /// action already staged is not added again, and one that contradicts a staged action is
    /// refused: a plan says one thing per object.
    pub fn stage(&mut self, action: Action) -> Vec<Effect> {
        match clash(&self.plan.plan.actions, &action) {
            Some(c) if c.kind == ClashKind::Repeats => {
                self.notice(format!("already staged: `{}` {c}; nothing added", action.summary()));
                return vec![];
            }
            Some(c) => {
                self.notices.push(Notice::warn(format!(
                    "not staged: `{}` {c}; drop action {} first (d on the plan screen)",
                    action.summary(),
                    c.earlier + 1
                )));
                return vec![];
            }
            None => {}
        }
        self.notice(format!(
            "staged: {} ({} in the plan; p to preview)",
            action.summary(),
            self.plan.plan.actions.len() + 1
        ));
        self.plan.plan.actions.push(action);
        self.plan_changed()
    }
}
