//! The simulated API server's own TLS: a CA made at start and a serving certificate for the
//! loopback addresses. Separate from istiod's mesh CA.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};
use std::net::IpAddr;

pub struct ServingTls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn make(extra_ip: Option<IpAddr>) -> anyhow::Result<ServingTls> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name.push(DnType::CommonName, "meshdeck-sim-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "kubernetes.default.svc".to_string()])?;
    params.distinguished_name.push(DnType::CommonName, "meshdeck-sim-apiserver");
    params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse()?));
    params.subject_alt_names.push(SanType::IpAddress("::1".parse()?));
    if let Some(ip) = extra_ip.filter(|ip| !ip.is_loopback() && !ip.is_unspecified()) {
        params.subject_alt_names.push(SanType::IpAddress(ip));
    }
    let cert = params.signed_by(&key, &issuer)?;
    Ok(ServingTls { ca_pem: ca_cert.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

pub fn server_config(tls: &ServingTls) -> anyhow::Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = vec![CertificateDer::from_pem_slice(tls.cert_pem.as_bytes())?];
    let key = PrivateKeyDer::from_pem_slice(tls.key_pem.as_bytes())?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}
