//! The simulated API server's own TLS: rustls configuration around the serving certificate
//! `ca::api_server_tls` makes at start. Separate from istiod's mesh CA.

use super::ca::ServingCert;

/// A CA made now and a serving certificate for the loopback names and `extra_ip`.
pub fn make(extra_ip: Option<std::net::IpAddr>) -> anyhow::Result<ServingCert> {
    let mut hosts = vec!["127.0.0.1".to_string(), "::1".to_string(), "localhost".to_string()];
    if let Some(ip) = extra_ip.filter(|ip| !ip.is_loopback() && !ip.is_unspecified()) {
        hosts.push(ip.to_string());
    }
    let refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
    Ok(super::ca::api_server_tls(&refs, std::time::SystemTime::now())?)
}

pub fn server_config(tls: &ServingCert) -> anyhow::Result<rustls::ServerConfig> {
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
