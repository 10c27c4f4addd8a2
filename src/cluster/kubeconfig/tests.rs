use super::*;
use base64::Engine;
use std::ffi::OsStr;

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBsYW50ZWQ.Zm9vYmFyYmF6cXV4";
const PASSWORD: &str = "hunter2-correct-horse-battery";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A real CA certificate and a client certificate and key, PEM.
fn pems() -> (String, String, String) {
    let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
    let client = rcgen::generate_simple_self_signed(vec!["client.test".into()]).unwrap();
    (ca.cert.pem(), client.cert.pem(), client.signing_key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Every 8-character piece of every secret: none may appear in an error.
fn assert_secret_free(text: &str, secrets: &[&str]) {
    for s in secrets {
        let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        for w in chars.windows(8) {
            let piece: String = w.iter().collect();
            assert!(!text.contains(&piece), "{piece:?} of a secret appears in {text:?}");
        }
    }
}

fn config(ca: &str, user: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority-data: {ca}\nusers:\n- name: u1\n  user:\n{user}contexts:\n- name: ctx\n  context:\n    cluster: c1\n    user: u1\n{extra}current-context: ctx\n"
    )
}

#[test]
fn kubeconfig_paths_follow_kubectl() {
    let home = Path::new("/home/me");
    let cases: [(Option<&str>, Vec<&str>); 5] = [
        (Some("/a:/b"), vec!["/a", "/b"]),
        (Some(":/a::/b:"), vec!["/a", "/b"]),
        (Some(""), vec!["/home/me/.kube/config"]),
        (Some(":"), vec!["/home/me/.kube/config"]),
        (None, vec!["/home/me/.kube/config"]),
    ];
    for (value, want) in cases {
        let (got, explicit) = paths_from(value.map(OsStr::new), Some(home));
        let want: Vec<PathBuf> = want.into_iter().map(PathBuf::from).collect();
        assert_eq!((got, explicit), (want, false), "{value:?}");
    }
    assert_eq!(paths(Some(Path::new("/x"))), (vec![PathBuf::from("/x")], true));
}

#[test]
fn several_files_merge_first_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = pems();
    // The first file sets no current context and defines `shared` pointing at c1.
    let a = write(
        dir.path(),
        "a",
        &format!(
            "clusters:\n- name: c1\n  cluster:\n    server: https://first:6443\n    certificate-authority-data: {}\nusers:\n- name: u1\n  user:\n    token: {TOKEN}\ncontexts:\n- name: shared\n  context:\n    cluster: c1\n    user: u1\ncurrent-context: \"\"\n",
            b64(&ca)
        ),
    );
    // The second sets the current context, redefines c1 and `shared`, and adds its own user.
    let b = write(
        dir.path(),
        "b",
        &format!(
            "clusters:\n- name: c1\n  cluster:\n    server: https://second:6443\nusers:\n- name: u2\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: shared\n  context:\n    cluster: c1\n    user: u2\n- name: mine\n  context:\n    cluster: c1\n    user: u2\ncurrent-context: shared\n",
            b64(&cert),
            b64(&key)
        ),
    );
    let raws: Vec<Raw> =
        [&a, &b].iter().map(|p| Raw { path: p.to_path_buf(), text: std::fs::read_to_string(p).unwrap() }).collect();
    let m = merge(&raws).unwrap();
    assert_eq!(m.current.as_ref().map(|c| (c.name.as_str(), c.file)), Some(("shared", 1)));
    assert_eq!(m.contexts.iter().map(|c| (c.name.as_str(), c.file)).collect::<Vec<_>>(), [("shared", 0), ("mine", 1)]);
    assert_eq!(m.clusters.len(), 1);
    assert_eq!(m.config.clusters.len(), 1);
    let server = m.config.clusters[0].cluster.as_ref().and_then(|c| c.server.clone());
    assert_eq!(server.as_deref(), Some("https://first:6443"));
    assert_eq!(m.config.current_context.as_deref(), Some("shared"));
    // `shared` is the first file's: cluster c1 of the first file, user u1.
    let shared = m.config.contexts.iter().find(|c| c.name == "shared").unwrap();
    assert_eq!(shared.context.as_ref().and_then(|c| c.user.clone()).as_deref(), Some("u1"));
}

#[test]
fn a_good_kubeconfig_loads_with_its_context_and_user() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = pems();
    let user = format!("    client-certificate-data: {}\n    client-key-data: {}\n", b64(&cert), b64(&key));
    let p = write(dir.path(), "kc", &config(&b64(&ca), &user, ""));
    let l = load(Some(&p), None).unwrap();
    assert_eq!((l.context.as_str(), l.cluster.as_str(), l.user.as_str()), ("ctx", "c1", "u1"));
    assert_eq!(l.files, vec![p.clone()]);
    assert_eq!(fingerprint(Some(&p)), Some(l.fingerprint));
    write(dir.path(), "kc", &config(&b64(&ca), &format!("    token: {TOKEN}\n"), ""));
    assert_ne!(fingerprint(Some(&p)), Some(l.fingerprint));
    assert_eq!(contexts(Some(&p)).unwrap(), vec!["ctx".to_string()]);
}

/// Broken kubeconfigs of every kind, each holding planted secrets near the problem: the error
/// names the file, the line and column (where one exists) and the problem, and nothing else.
#[test]
fn errors_name_the_place_and_never_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = pems();
    let (ca64, cert64, key64) = (b64(&ca), b64(&cert), b64(&key));
    let token = format!("    token: {TOKEN}\n");
    let keyed = format!("    client-certificate-data: {cert64}\n    client-key-data: {key64}\n");
    // The key's PEM body (its armour lines are no secret).
    let key_body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let secrets = [TOKEN, PASSWORD, &key64, &key_body, &cert64];
    let bad_pem_key = b64(&format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", b64(TOKEN)));
    let cases: Vec<(&str, String, &str)> = vec![
        // An unclosed quote right after the token.
        ("syntax", config(&ca64, &format!("    token: \"{TOKEN}\n    password: {PASSWORD}\n"), ""), "not valid YAML"),
        ("tab", config(&ca64, &format!("\ttoken: {TOKEN}\n"), ""), ":"),
        ("token-type", config(&ca64, &format!("    token:\n      value: {TOKEN}\n"), ""), "wrong type"),
        ("token-list", config(&ca64, &format!("    token: [{TOKEN}]\n"), ""), "wrong type"),
        (
            "password-type",
            config(&ca64, &format!("    username: me\n    password: {{p: {PASSWORD}}}\n"), ""),
            "wrong type",
        ),
        ("duplicate", config(&ca64, &format!("{token}{token}"), ""), "twice"),
        (
            "no-context",
            config(&ca64, &token, "").replace("current-context: ctx", "current-context: gone"),
            "context \"gone\" is not defined",
        ),
        (
            "no-cluster",
            config(&ca64, &token, "").replace("    cluster: c1", "    cluster: nowhere"),
            "refers to cluster \"nowhere\", which is not defined",
        ),
        (
            "no-user",
            config(&ca64, &token, "").replace("    user: u1", "    user: nobody"),
            "refers to user \"nobody\", which is not defined",
        ),
        (
            "bad-base64-key",
            config(
                &ca64,
                &format!("    client-certificate-data: {cert64}\n    client-key-data: {key64}%{TOKEN}\n"),
                "",
            ),
            "client-key-data of user \"u1\" is not valid base64",
        ),
        (
            "bad-pem-key",
            config(&ca64, &format!("    client-certificate-data: {cert64}\n    client-key-data: {bad_pem_key}\n"), ""),
            "client-key-data of user \"u1\" holds",
        ),
        (
            "key-is-a-cert",
            config(&ca64, &format!("    client-certificate-data: {cert64}\n    client-key-data: {cert64}\n"), ""),
            "holds no PEM private key",
        ),
        ("cert-without-key", config(&ca64, &format!("    client-certificate-data: {cert64}\n"), ""), "no client key"),
        (
            "bad-ca",
            config(&b64(&format!("not a cert {TOKEN}")), &keyed, ""),
            "certificate-authority-data of cluster \"c1\" holds no PEM certificate",
        ),
        (
            "bad-ca-base64",
            config(&format!("{ca64}!!"), &keyed, ""),
            "certificate-authority-data of cluster \"c1\" is not valid base64",
        ),
        (
            "bad-ca-x509",
            config(
                &b64(&format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", b64(TOKEN))),
                &keyed,
                "",
            ),
            "not valid X.509",
        ),
        (
            "server",
            config(&ca64, &token, "").replace("https://10.0.0.1:6443", &format!("{TOKEN}@nowhere")),
            "is not an https:// URL",
        ),
    ];
    for (name, text, want) in &cases {
        let p = write(dir.path(), name, text);
        let e = load(Some(&p), None).err().expect(name);
        let shown = format!("{e} {e:?}");
        assert!(shown.contains(want), "{name}: {shown}");
        assert!(shown.contains(&p.display().to_string()), "{name}: {shown}");
        assert_secret_free(&shown, &secrets);
        if !matches!(*name, "no-context") {
            assert!(e.at.is_some(), "{name}: no position in {shown}");
        }
    }
    // A file that cannot be read (a directory here, as root reads any file).
    let e = load(Some(dir.path()), None).err().unwrap();
    assert!(e.to_string().contains("cannot be read"), "{e}");
    let e = load(Some(&dir.path().join("missing")), None).err().unwrap();
    assert!(e.to_string().contains("no such file"), "{e}");
}

#[test]
fn positions_point_at_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, ..) = pems();
    let text = config(&b64(&ca), &format!("    token: {TOKEN}\n"), "").replace("    user: u1", "    user: nobody");
    let p = write(dir.path(), "kc", &text);
    let e = load(Some(&p), None).err().unwrap();
    let line = text.lines().position(|l| l.contains("user: nobody")).unwrap() as u64 + 1;
    assert_eq!(e.at, Some((line, 11)), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "kubeconfig {}:{line}:11: context \"ctx\" refers to user \"nobody\", which is not defined",
            p.display()
        )
    );

    let text = config(&b64(&ca), &format!("    token:\n      - {TOKEN}\n"), "");
    let p = write(dir.path(), "kc2", &text);
    let e = load(Some(&p), None).err().unwrap();
    let line = text.lines().position(|l| l.contains("token:")).unwrap() as u64 + 1;
    assert!(matches!(e.at, Some((l, _)) if l == line || l == line + 1), "{e}");
}
