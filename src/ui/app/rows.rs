//! Which rows each screen shows and in what order: namespace scope, the `/` filter and the
//! sort column, computed once per change of view, filter or sort (never per frame) as index
//! lists into the view.

use super::Screen;
use crate::mesh::MeshView;
use crate::mesh::mtls::MtlsMode;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SortKey {
    pub column: usize,
    pub reverse: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub namespaces: Vec<usize>,
    pub workloads: Vec<usize>,
    pub revisions: Vec<usize>,
}

/// How many sortable columns a screen has.
pub fn columns(screen: Screen) -> usize {
    match screen {
        Screen::Namespaces => 6,
        Screen::Workloads => 9,
        Screen::ControlPlane => 5,
        Screen::Plan | Screen::Journal | Screen::Rollout => 1,
    }
}

fn matches(filter: &str, fields: &[&str]) -> bool {
    filter.is_empty() || fields.iter().any(|f| f.to_lowercase().contains(filter))
}

impl Rows {
    pub fn for_screen(&self, s: Screen) -> &[usize] {
        match s {
            Screen::Namespaces => &self.namespaces,
            Screen::Workloads => &self.workloads,
            Screen::ControlPlane => &self.revisions,
            Screen::Plan | Screen::Journal | Screen::Rollout => &[],
        }
    }

    pub fn compute(view: &MeshView, namespace: Option<&str>, filter: &str, sort: &[SortKey; 3]) -> Rows {
        let f = filter.to_lowercase();
        let mut namespaces: Vec<usize> = (0..view.namespaces.len())
            .filter(|&i| {
                let n = &view.namespaces[i];
                matches(&f, &[&n.name, n.injection.mode.unwrap_or(""), n.injection.revision.as_deref().unwrap_or("")])
            })
            .collect();
        let ns_key = sort[0];
        namespaces.sort_by(|&a, &b| {
            let (x, y) = (&view.namespaces[a], &view.namespaces[b]);
            let o = match ns_key.column {
                1 => x.injection.mode.cmp(&y.injection.mode),
                2 => x.injection.revision.cmp(&y.injection.revision),
                3 => (x.pods_with_proxy, x.pods).cmp(&(y.pods_with_proxy, y.pods)),
                4 => x.workloads.cmp(&y.workloads),
                5 => x.mtls.mode.map(MtlsMode::as_str).cmp(&y.mtls.mode.map(MtlsMode::as_str)),
                _ => Ordering::Equal,
            };
            let o = o.then_with(|| x.name.cmp(&y.name));
            if ns_key.reverse { o.reverse() } else { o }
        });

        let mut workloads: Vec<usize> = (0..view.workloads.len())
            .filter(|&i| {
                let w = &view.workloads[i];
                namespace.is_none_or(|ns| w.namespace == ns) && matches(&f, &[&w.name, &w.namespace, &w.kind])
            })
            .collect();
        let wl_key = sort[1];
        workloads.sort_by(|&a, &b| {
            let (x, y) = (&view.workloads[a], &view.workloads[b]);
            let o = match wl_key.column {
                0 => x.namespace.cmp(&y.namespace),
                2 => x.kind.cmp(&y.kind),
                3 => x.injection.expected.cmp(&y.injection.expected),
                4 => (x.pods_with_proxy, x.pods).cmp(&(y.pods_with_proxy, y.pods)),
                5 => x.proxy_versions.cmp(&y.proxy_versions),
                6 => x.stale.cmp(&y.stale),
                7 => x.mtls.mode.map(MtlsMode::as_str).cmp(&y.mtls.mode.map(MtlsMode::as_str)),
                8 => x.authorization.cmp(&y.authorization),
                _ => Ordering::Equal,
            };
            let o = o.then_with(|| (&x.namespace, &x.name, &x.kind).cmp(&(&y.namespace, &y.name, &y.kind)));
            if wl_key.reverse { o.reverse() } else { o }
        });

        let mut revisions: Vec<usize> = (0..view.control_plane.revisions.len())
            .filter(|&i| matches(&f, &[&view.control_plane.revisions[i].name]))
            .collect();
        let cp_key = sort[2];
        revisions.sort_by(|&a, &b| {
            let (x, y) = (&view.control_plane.revisions[a], &view.control_plane.revisions[b]);
            let o = match cp_key.column {
                1 => x.version.cmp(&y.version),
                2 => x.ready_replicas.cmp(&y.ready_replicas),
                3 => x.tags.cmp(&y.tags),
                4 => x.proxies.cmp(&y.proxies),
                _ => Ordering::Equal,
            };
            let o = o.then_with(|| x.name.cmp(&y.name));
            if cp_key.reverse { o.reverse() } else { o }
        });
        Rows { namespaces, workloads, revisions }
    }
}
