//! Contradicting and repeated actions, one table: staged actions, the new one, the verdict.

use crate::plan::{Action, Clash, ClashKind, clash, clashes};

/// An action from its one-line plan-file form.
pub fn a(yaml: &str) -> Action {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

#[test]
fn each_new_action_against_the_staged_ones() {
    // (staged, new, None | Some((earlier action number, None for a repeat | Some(why))))
    type Want = Option<(usize, Option<&'static str>)>;
    let cases: Vec<(Vec<&str>, &str, Want)> = vec![
        // mTLS
        (
            vec!["{action: mtls, target: ns/rng, mode: STRICT}"],
            "{action: mtls, target: ns/rng, mode: DISABLE}",
            Some((1, Some("both set the mTLS mode of ns/rng: STRICT against DISABLE"))),
        ),
        (
            vec!["{action: mtls, target: ns/rng, mode: STRICT}"],
            "{action: mtls, target: ns/rng, mode: STRICT}",
            Some((1, None)),
        ),
        (vec!["{action: mtls, target: ns/rng, mode: STRICT}"], "{action: mtls, target: ns/other, mode: DISABLE}", None),
        (
            vec!["{action: mtls, target: ns/rng, mode: STRICT}"],
            "{action: mtls, target: deploy/rng/api, mode: DISABLE}",
            None,
        ),
        (
            vec!["{action: mtls, target: mesh, mode: STRICT}"],
            "{action: mtls, target: mesh, mode: PERMISSIVE}",
            Some((1, Some("both set the mTLS mode of mesh: STRICT against PERMISSIVE"))),
        ),
        // Injection: inject, uninject and revision moves of one target.
        (
            vec!["{action: inject, target: deploy/rng/api}"],
            "{action: uninject, target: deploy/rng/api}",
            Some((1, Some("both set sidecar injection of deploy/rng/api: injection on against injection off"))),
        ),
        (
            vec!["{action: uninject, target: ns/rng, restartedAt: '2026-11-27T01:30:00Z'}"],
            "{action: inject, target: ns/rng}",
            Some((
                1,
                Some(
                    "both set sidecar injection of ns/rng: injection off against injection on (istio-injection=enabled)",
                ),
            )),
        ),
        (
            vec!["{action: revision, target: ns/rng, to: canary}"],
            "{action: revision, target: ns/rng, to: stable}",
            Some((
                1,
                Some(
                    "both set sidecar injection of ns/rng: revision canary (istio.io/rev=canary) against revision stable (istio.io/rev=stable)",
                ),
            )),
        ),
        (
            vec!["{action: inject, target: ns/rng}"],
            "{action: revision, target: ns/rng, to: canary}",
            Some((
                1,
                Some(
                    "both set sidecar injection of ns/rng: injection on (istio-injection=enabled) against revision canary (istio.io/rev=canary)",
                ),
            )),
        ),
        (
            vec!["{action: inject, target: ns/rng, revision: canary}"],
            "{action: revision, target: ns/rng, to: canary}",
            None,
        ),
        (
            vec!["{action: revision, target: ns/rng, to: canary}"],
            "{action: revision, target: ns/rng, to: canary, restartedAt: '2026-11-27T01:30:00Z'}",
            None,
        ),
        (vec!["{action: inject, target: ns/rng}"], "{action: uninject, target: deploy/rng/api}", None),
        (vec!["{action: inject, target: deploy/rng/api}"], "{action: inject, target: sts/rng/api}", None),
        // Restart stamps differ between two stagings of the same thing: still a repeat.
        (
            vec!["{action: inject, target: deploy/rng/api, restartedAt: '2026-11-27T01:30:00Z'}"],
            "{action: inject, target: deploy/rng/api, restartedAt: '2026-11-27T02:00:00Z'}",
            Some((1, None)),
        ),
        (
            vec!["{action: restart, target: ns/rng, restartedAt: '2026-11-27T01:30:00Z'}"],
            "{action: restart, target: ns/rng, restartedAt: '2026-11-27T02:00:00Z'}",
            Some((1, None)),
        ),
        (
            vec!["{action: restart, target: ns/rng, restartedAt: '2026-11-27T01:30:00Z'}"],
            "{action: restart, target: deploy/rng/api, restartedAt: '2026-11-27T01:30:00Z'}",
            None,
        ),
        (
            vec!["{action: inject, target: deploy/rng/api}"],
            "{action: inject, target: deploy/rng/api, restartedAt: '2026-11-27T01:30:00Z'}",
            None,
        ),
        // Allow rules add up; only the same rule repeats.
        (
            vec!["{action: allow, target: deploy/rng/api, from: [sa/rng/web]}"],
            "{action: allow, target: deploy/rng/api, from: [ns/istio-system]}",
            None,
        ),
        (
            vec!["{action: allow, target: deploy/rng/api, from: [sa/rng/web]}"],
            "{action: allow, target: deploy/rng/api, from: [sa/rng/web]}",
            Some((1, None)),
        ),
        // Routes: one VirtualService per service.
        (
            vec!["{action: route, service: svc/rng/web, hosts: [a.example.com], gateway: istio-system/gw}"],
            "{action: route, service: svc/rng/web, hosts: [b.example.com], gateway: istio-system/gw}",
            Some((
                1,
                Some(
                    "both write the VirtualService of svc/rng/web: a.example.com via istio-system/gw against b.example.com via istio-system/gw",
                ),
            )),
        ),
        (
            vec!["{action: route, service: svc/rng/web, hosts: [a.example.com], gateway: istio-system/gw}"],
            "{action: route, service: svc/rng/api, hosts: [b.example.com], gateway: istio-system/gw}",
            None,
        ),
        // Undo
        (
            vec!["{action: undo, entry: 20261127T013000Z-1a2b}"],
            "{action: undo, entry: 20261127T013000Z-1a2b}",
            Some((1, None)),
        ),
        (vec!["{action: undo, entry: 20261127T013000Z-1a2b}"], "{action: undo, entry: 20261127T020000Z-3c4d}", None),
        // Numbers count from 1, a contradiction is named before a repeat, the earliest first.
        (
            vec![
                "{action: restart, target: ns/rng, restartedAt: '2026-11-27T01:30:00Z'}",
                "{action: mtls, target: ns/rng, mode: DISABLE}",
                "{action: mtls, target: ns/rng, mode: STRICT}",
                "{action: mtls, target: ns/rng, mode: PERMISSIVE}",
            ],
            "{action: mtls, target: ns/rng, mode: STRICT}",
            Some((2, Some("both set the mTLS mode of ns/rng: DISABLE against STRICT"))),
        ),
    ];
    for (staged, new, want) in cases {
        let staged: Vec<Action> = staged.into_iter().map(a).collect();
        let got = clash(&staged, &a(new));
        let got = got.as_ref().map(|c| {
            let why = match &c.kind {
                ClashKind::Repeats => None,
                ClashKind::Contradicts(w) => Some(w.as_str()),
            };
            (c.earlier + 1, why)
        });
        assert_eq!(got, want, "{new} after {staged:?}");
    }
}

#[test]
fn clashes_are_said_with_the_earlier_action() {
    let plan: Vec<Action> = [
        "{action: mtls, target: ns/rng, mode: STRICT}",
        "{action: inject, target: deploy/rng/api}",
        "{action: mtls, target: ns/rng, mode: DISABLE}",
        "{action: inject, target: deploy/rng/api}",
    ]
    .into_iter()
    .map(a)
    .collect();
    let found: Vec<(usize, String)> = clashes(&plan).into_iter().map(|(i, c)| (i, c.to_string())).collect();
    assert_eq!(
        found,
        vec![
            (
                2,
                "contradicts action 1 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE"
                    .into()
            ),
            (3, "repeats action 2 (inject deploy/rng/api)".into()),
        ]
    );
    let c = Clash { earlier: 0, earlier_summary: "x".into(), kind: ClashKind::Repeats };
    assert_eq!(c.to_string(), "repeats action 1 (x)");
}
