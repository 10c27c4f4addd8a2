//! Rendering generated objects by id: as values, and straight to JSON bytes from one byte
//! template per shape, so listing 100,000 pods never builds a value. Both paths use the same
//! builders (`pod`, `render`) and vars; this module only picks the shape for an id. It must
//! not describe any object itself.

use super::template::{Template, TemplateError, marker};
use super::{Generated, Mesh, TAG_SHIFT, Tag};
use crate::sim::store::Render;
use serde_json::{Value, json};

const TAGS: [Tag; 10] = [
    Tag::Namespace,
    Tag::Node,
    Tag::DefaultSa,
    Tag::WorkloadSa,
    Tag::Service,
    Tag::Deployment,
    Tag::ReplicaSet,
    Tag::Pod,
    Tag::PeerAuthentication,
    Tag::AuthorizationPolicy,
];

/// The kind and index an id stands for.
pub(crate) fn split(id: u64) -> Option<(Tag, usize)> {
    let tag = TAGS.into_iter().find(|t| *t as u64 == id >> TAG_SHIFT)?;
    Some((tag, (id & ((1 << TAG_SHIFT) - 1)) as usize))
}

const MESHES: [Mesh; 3] = [Mesh::Default, Mesh::Canary, Mesh::Off];

/// Every shape of the generated cluster, cut once per generator (its timestamps and replica
/// count are part of the fixed text). Meshed shapes are indexed by `Mesh as usize`.
pub(crate) struct Templates {
    pods: [Template; 3],
    namespaces: [Template; 3],
    node: Template,
    default_sa: Template,
    workload_sa: Template,
    service: Template,
    deployment: Template,
    replica_set: Template,
    peer_authentication: Template,
    authorization_policy: Template,
}

/// Cuts a shape with `metadata.resourceVersion` as one more slot after its vars.
fn cut(mut shape: Value, slots: usize) -> Result<Template, TemplateError> {
    shape["metadata"]["resourceVersion"] = json!(marker(slots));
    Template::new(&shape, slots + 1)
}

fn per_mesh(slots: usize, shape: impl Fn(Mesh) -> Value) -> Result<[Template; 3], TemplateError> {
    let [a, b, c] = MESHES.map(|m| cut(shape(m), slots));
    Ok([a?, b?, c?])
}

impl Templates {
    fn build(g: &Generated) -> Result<Templates, TemplateError> {
        use super::pod::PodVars;
        use super::render::{ApVars, DeployVars, NodeVars, NsVars, PaVars, RsVars, SaVars, ServiceVars};
        Ok(Templates {
            pods: per_mesh(PodVars::SLOTS, |m| g.pod(&PodVars::markers(), m))?,
            namespaces: per_mesh(NsVars::SLOTS, |m| g.namespace(&NsVars::markers(), m))?,
            node: cut(g.node(&NodeVars::markers()), NodeVars::SLOTS)?,
            default_sa: cut(g.default_sa(&SaVars::markers()), SaVars::SLOTS)?,
            workload_sa: cut(g.workload_sa(&SaVars::markers()), SaVars::SLOTS)?,
            service: cut(g.service(&ServiceVars::markers()), ServiceVars::SLOTS)?,
            deployment: cut(g.deployment(&DeployVars::markers()), DeployVars::SLOTS)?,
            replica_set: cut(g.replica_set(&RsVars::markers()), RsVars::SLOTS)?,
            peer_authentication: cut(g.peer_authentication(&PaVars::markers()), PaVars::SLOTS)?,
            authorization_policy: cut(g.authorization_policy(&ApVars::markers()), ApVars::SLOTS)?,
        })
    }

    fn write(&self, g: &Generated, tag: Tag, i: usize, rv: u64, out: &mut Vec<u8>) {
        let rv = rv.to_string();
        fn with_rv<'a>(t: &Template, mut values: Vec<&'a str>, rv: &'a str, out: &mut Vec<u8>) {
            values.push(rv);
            t.write(&values, out)
        }
        let mut put = |t: &Template, values: Vec<&str>| with_rv(t, values, &rv, out);
        match tag {
            Tag::Pod => {
                let (mesh, v) = g.pod_vars(i);
                put(&self.pods[mesh as usize], v.slots())
            }
            Tag::Namespace => {
                let (mesh, v) = g.namespace_vars(i);
                put(&self.namespaces[mesh as usize], v.slots())
            }
            Tag::Node => put(&self.node, g.node_vars(i).slots()),
            Tag::DefaultSa => put(&self.default_sa, g.default_sa_vars(i).slots()),
            Tag::WorkloadSa => put(&self.workload_sa, g.workload_sa_vars(i).slots()),
            Tag::Service => put(&self.service, g.service_vars(i).slots()),
            Tag::Deployment => put(&self.deployment, g.deployment_vars(i).slots()),
            Tag::ReplicaSet => put(&self.replica_set, g.replica_set_vars(i).slots()),
            Tag::PeerAuthentication => put(&self.peer_authentication, g.peer_authentication_vars(i).slots()),
            Tag::AuthorizationPolicy => put(&self.authorization_policy, g.authorization_policy_vars(i).slots()),
        }
    }
}

impl Generated {
    pub(crate) fn new(layout: super::Layout, [t_ns, t_workload, t_pod, t_ready]: [String; 4]) -> Generated {
        Generated { layout, templates: Default::default(), t_ns, t_workload, t_pod, t_ready }
    }

    /// None only if a shape could not be cut, which is logged once; objects are then
    /// rendered through values, slowly but correctly.
    fn templates(&self) -> Option<&Templates> {
        self.templates
            .get_or_init(|| {
                Templates::build(self).inspect_err(|e| tracing::error!("generated objects render slowly: {e}")).ok()
            })
            .as_ref()
    }
}

impl Render for Generated {
    fn render(&self, id: u64) -> Value {
        let Some((tag, i)) = split(id) else {
            return Value::Null;
        };
        match tag {
            Tag::Pod => {
                let (mesh, v) = self.pod_vars(i);
                self.pod(&v, mesh)
            }
            Tag::Namespace => {
                let (mesh, v) = self.namespace_vars(i);
                self.namespace(&v, mesh)
            }
            Tag::Node => self.node(&self.node_vars(i)),
            Tag::DefaultSa => self.default_sa(&self.default_sa_vars(i)),
            Tag::WorkloadSa => self.workload_sa(&self.workload_sa_vars(i)),
            Tag::Service => self.service(&self.service_vars(i)),
            Tag::Deployment => self.deployment(&self.deployment_vars(i)),
            Tag::ReplicaSet => self.replica_set(&self.replica_set_vars(i)),
            Tag::PeerAuthentication => self.peer_authentication(&self.peer_authentication_vars(i)),
            Tag::AuthorizationPolicy => self.authorization_policy(&self.authorization_policy_vars(i)),
        }
    }

    fn write_json(&self, id: u64, rv: u64, out: &mut Vec<u8>) {
        match (self.templates(), split(id)) {
            (Some(t), Some((tag, i))) => t.write(self, tag, i, rv, out),
            _ => {
                let mut v = self.render(id);
                v["metadata"]["resourceVersion"] = json!(rv.to_string());
                let _ = serde_json::to_writer(out, &v);
            }
        }
    }
}

#[cfg(test)]
mod tests;
