//! Who is calling and what they may do. `sim-admin` may do everything, `sim-viewer` only get,
//! list and watch; `sim-restricted` reads like the viewer but not Secrets or webhook
//! configurations, as a namespace-scoped operator often cannot. Tokens are bearer tokens made at
//! start and written to the kubeconfig.

use super::super::kinds::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Viewer,
    Restricted,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub admin: String,
    pub viewer: String,
    pub restricted: String,
}

impl Tokens {
    pub fn generate() -> Tokens {
        let t = |p: &str| {
            let b: [u8; 16] = rand::random();
            format!("{p}-{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        };
        Tokens { admin: t("admin"), viewer: t("viewer"), restricted: t("restricted") }
    }

    pub fn user(&self, authorization: Option<&str>) -> Option<User> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        if token == self.admin {
            Some(User { name: "sim-admin".into(), role: Role::Admin })
        } else if token == self.viewer {
            Some(User { name: "sim-viewer".into(), role: Role::Viewer })
        } else if token == self.restricted {
            Some(User { name: "sim-restricted".into(), role: Role::Restricted })
        } else {
            None
        }
    }
}

pub fn allowed(role: Role, verb: &str) -> bool {
    match role {
        Role::Admin => true,
        Role::Viewer | Role::Restricted => matches!(verb, "get" | "list" | "watch"),
    }
}

/// Like `allowed`, for one kind: the restricted user cannot read Secrets or webhooks.
pub fn allowed_on(role: Role, verb: &str, kind: &Kind) -> bool {
    let hidden = matches!(kind.plural, "secrets" | "mutatingwebhookconfigurations" | "validatingwebhookconfigurations");
    allowed(role, verb) && !(role == Role::Restricted && hidden)
}

/// The API server's wording for a refusal, e.g.
/// `namespaces "rng" is forbidden: User "sim-viewer" cannot patch resource "namespaces" in API group "" at the cluster scope`.
pub fn forbidden_message(user: &str, verb: &str, kind: &Kind, ns: Option<&str>, name: Option<&str>) -> String {
    let what = match name {
        Some(n) if !n.is_empty() => format!("{} \"{n}\"", kind.qualified()),
        _ => kind.qualified(),
    };
    let scope = match ns {
        Some(ns) if kind.namespaced && !ns.is_empty() => format!("in the namespace \"{ns}\""),
        _ => "at the cluster scope".to_string(),
    };
    format!(
        "{what} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
        kind.plural, kind.group
    )
}
