//! Certificates are parsed back with x509-parser and their chains verified with rustls'
//! WebPKI verifiers, which know nothing of how they were made.

use super::*;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;
use x509_parser::pem::Pem;

fn ders(pem: &str) -> Vec<CertificateDer<'static>> {
    Pem::iter_from_buffer(pem.as_bytes()).map(|p| CertificateDer::from(p.unwrap().contents)).collect()
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

/// A whole second, so certificate times compare exactly.
fn whole_second_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs(SystemTime::now()))
}

/// Verifies a workload chain as a peer sidecar would: client auth against `root_pem`.
fn verify_workload(chain_pem: &str, root_pem: &str, at: SystemTime) -> Result<(), rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    for r in ders(root_pem) {
        roots.add(r).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let v = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
    let chain = ders(chain_pem);
    v.verify_client_cert(&chain[0], &chain[1..], UnixTime::since_unix_epoch(Duration::from_secs(secs(at)))).map(|_| ())
}

#[test]
fn self_signed_root_signs_a_workload_certificate() {
    let now = whole_second_now();
    let ca = Ca::self_signed(TRUST_DOMAIN, now).unwrap();
    let root = inspect_chain(ca.root_pem()).unwrap();
    assert_eq!(root.len(), 1);
    assert!(root[0].is_ca);
    assert_eq!(root[0].subject, "O=cluster.local");
    assert_eq!(root[0].not_before, now - Duration::from_secs(120));
    assert_eq!(root[0].not_after, now + Duration::from_secs(3650 * 86_400));
    assert_eq!(ca.cert_pem(), ca.root_pem());
    assert_eq!(ca.chain_pem(), "");
    assert!(!ca.is_plugged());

    let issued = now - Duration::from_secs(3600);
    let leaf = ca
        .issue_workload("spiffe://cluster.local/ns/shop/sa/cart", issued, issued + Duration::from_secs(86_400))
        .unwrap();
    let chain = inspect_chain(&leaf.chain_pem).unwrap();
    assert_eq!(chain.len(), 2, "leaf then root");
    assert_eq!(chain[0].uris, vec!["spiffe://cluster.local/ns/shop/sa/cart".to_string()]);
    assert!(chain[0].dns.is_empty());
    assert!(!chain[0].is_ca);
    assert_eq!(chain[0].subject, "");
    assert_eq!(chain[0].issuer, "O=cluster.local");
    assert_eq!(chain[0].not_before, issued - Duration::from_secs(120));
    assert_eq!(chain[0].not_after, issued + Duration::from_secs(86_400));
    assert_eq!(chain[0].serial_hex, leaf.serial_hex);
    assert_eq!(leaf.serial_hex.len(), 32);
    assert_eq!(chain[1], root[0]);

    verify_workload(&leaf.chain_pem, ca.root_pem(), now).unwrap();
    // One second before NotBefore and one second past NotAfter the chain is refused.
    assert!(verify_workload(&leaf.chain_pem, ca.root_pem(), issued - Duration::from_secs(121)).is_err());
    assert!(verify_workload(&leaf.chain_pem, ca.root_pem(), issued + Duration::from_secs(86_401)).is_err());
    let other = Ca::self_signed(TRUST_DOMAIN, now).unwrap();
    assert!(verify_workload(&leaf.chain_pem, other.root_pem(), now).is_err());
}

#[test]
fn workload_expiry_is_capped_by_the_ca() {
    let now = whole_second_now();
    let ca = Ca::self_signed(TRUST_DOMAIN, now).unwrap();
    let far = now + Duration::from_secs(4000 * 86_400);
    let leaf = ca.issue_workload("spiffe://cluster.local/ns/a/sa/b", now, far).unwrap();
    assert_eq!(leaf.not_after, now + Duration::from_secs(3650 * 86_400));
    assert_eq!(leaf.not_after, ca.not_after());
}

#[test]
fn plugged_in_intermediate_signs_and_chains_to_the_root() {
    let now = whole_second_now();
    let secret = cacerts_secret("istio-system", now).unwrap();
    assert_eq!(secret["metadata"]["name"], "cacerts");
    let ca = Ca::from_cacerts(&secret).unwrap();
    assert!(ca.is_plugged());
    let root = inspect_chain(ca.root_pem()).unwrap();
    assert_eq!(root.len(), 1);
    assert_eq!(root[0].subject, "O=Istio, CN=Root CA");
    let signing = inspect_chain(ca.cert_pem()).unwrap();
    assert_eq!(signing[0].subject, "O=Istio, CN=Intermediate CA");
    assert_eq!(signing[0].issuer, "O=Istio, CN=Root CA");

    let leaf = ca
        .issue_workload("spiffe://cluster.local/ns/default/sa/default", now, now + Duration::from_secs(3600))
        .unwrap();
    let chain = inspect_chain(&leaf.chain_pem).unwrap();
    let subjects: Vec<&str> = chain.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, vec!["", "O=Istio, CN=Intermediate CA", "O=Istio, CN=Root CA"]);
    assert_eq!(chain[0].issuer, "O=Istio, CN=Intermediate CA");
    verify_workload(&leaf.chain_pem, ca.root_pem(), now).unwrap();
    // Without the intermediate the leaf does not chain to the root.
    assert!(verify_workload(&leaf.cert_pem, ca.root_pem(), now).is_err());
}

#[test]
fn incomplete_bundle_is_refused() {
    let full = cacerts_secret("istio-system", SystemTime::now()).unwrap();
    for missing in ["ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"] {
        let mut s = full.clone();
        s["data"].as_object_mut().unwrap().remove(missing);
        let err = Ca::from_cacerts(&s).unwrap_err();
        assert_eq!(err, CaError::Incomplete(format!("Secret cacerts lacks {missing}")), "without {missing}");
        assert!(err.to_string().starts_with("incomplete signing CA bundle"), "{err}");
    }
    let mut empty = full.clone();
    empty["data"]["cert-chain.pem"] = json!("");
    assert!(matches!(Ca::from_cacerts(&empty), Err(CaError::Incomplete(_))));
}

#[test]
fn key_that_does_not_match_the_certificate_is_refused() {
    let now = SystemTime::now();
    let mut a = cacerts_secret("istio-system", now).unwrap();
    let b = cacerts_secret("istio-system", now).unwrap();
    a["data"]["ca-key.pem"] = b["data"]["ca-key.pem"].clone();
    assert_eq!(Ca::from_cacerts(&a).unwrap_err(), CaError::Invalid("ca-key.pem does not match ca-cert.pem".into()));
}

#[test]
fn istio_ca_secret_round_trips() {
    let now = whole_second_now();
    let ca = Ca::self_signed(TRUST_DOMAIN, now).unwrap();
    let secret = ca.istio_ca_secret("istio-system");
    assert_eq!(secret["type"], "istio.io/ca-root");
    assert_eq!(secret["metadata"]["namespace"], "istio-system");
    assert_eq!(secret["data"]["cert-chain.pem"], "");
    assert_eq!(secret["data"]["key.pem"], "");
    let keys: Vec<&String> = secret["data"].as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "key.pem", "root-cert.pem"]);
    let loaded = Ca::from_istio_ca_secret(&secret).unwrap();
    assert_eq!(loaded.root_pem(), ca.root_pem());
    assert_eq!(loaded.not_after(), ca.not_after());
    let leaf = loaded.issue_workload("spiffe://cluster.local/ns/a/sa/b", now, now + Duration::from_secs(60)).unwrap();
    verify_workload(&leaf.chain_pem, ca.root_pem(), now).unwrap();
}

#[test]
fn api_server_certificate_serves_loopback_names() {
    use rustls::client::danger::ServerCertVerifier;
    let now = SystemTime::now();
    let tls = api_server_tls(&["127.0.0.1", "localhost"], now).unwrap();
    assert!(tls.key_pem.contains("PRIVATE KEY"));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ders(&tls.ca_pem).remove(0)).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let v = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
    let ee = ders(&tls.cert_pem).remove(0);
    let at = UnixTime::since_unix_epoch(Duration::from_secs(secs(now)));
    for (name, ok) in [("127.0.0.1", true), ("localhost", true), ("example.com", false)] {
        let sn = ServerName::try_from(name).unwrap();
        assert_eq!(v.verify_server_cert(&ee, &[], &sn, &[], at).is_ok(), ok, "{name}");
    }
}

#[test]
fn spiffe_identity_format() {
    assert_eq!(spiffe_id("shop", "cart"), "spiffe://cluster.local/ns/shop/sa/cart");
}
