//! The simulated certificate authorities: istiod's signing CA (self-signed root or plugged-in
//! `cacerts` intermediate), workload leaf certificates, and the API server's own TLS material.
//! Pure: certificates in, certificates out. It reads no store, keeps no clock and does no IO;
//! callers pass every time in.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::ParsedExtension;

mod inspect;
pub use inspect::{CertInfo, inspect_chain};
use inspect::{first_cert_der, to_system_time};

/// The mesh's trust domain; Istio's default.
pub const TRUST_DOMAIN: &str = "cluster.local";

/// Istio's self-signed root and `tools/certs` defaults: 3650 days.
const CA_VALIDITY: Duration = Duration::from_secs(3650 * 86_400);

/// Istio backdates every certificate it generates by two minutes against clock skew.
pub const BACKDATE: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaError {
    /// Istio's own wording; istiod refuses to start with a partial plug-in bundle.
    #[error("incomplete signing CA bundle: {0}")]
    Incomplete(String),
    #[error("invalid CA material: {0}")]
    Invalid(String),
    #[error("generating a certificate failed: {0}")]
    Generate(String),
}

fn gen_err(e: rcgen::Error) -> CaError {
    CaError::Generate(e.to_string())
}

/// A signing CA: the certificate istiod signs with, its key, the chain from it up to the
/// root (empty when it is the root) and the root bundle.
pub struct Ca {
    cert_pem: String,
    key_pem: String,
    chain_pem: String,
    root_pem: String,
    issuer: Issuer<'static, KeyPair>,
    not_after: SystemTime,
    /// Leaves carry an Authority Key Identifier only when the CA has a Subject Key Identifier.
    aki: bool,
    plugged: bool,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").field("plugged", &self.plugged).field("not_after", &self.not_after).finish_non_exhaustive()
    }
}

/// A freshly signed leaf.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    /// The leaf followed by every certificate up to and including the root.
    pub chain_pem: String,
    pub serial_hex: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

/// TLS material for a server: its certificate and key, and the CA that clients should trust.
#[derive(Debug, Clone)]
pub struct ServingCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
}

fn random_serial() -> SerialNumber {
    let mut b: [u8; 16] = rand::random();
    // Positive, and a fixed length of 16 bytes once encoded.
    b[0] = (b[0] & 0x7f) | 0x10;
    SerialNumber::from_slice(&b)
}

fn ca_params(dn: DistinguishedName, constraint: BasicConstraints, now: SystemTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(constraint);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = (now - BACKDATE).into();
    p.not_after = (now + CA_VALIDITY).into();
    p.serial_number = Some(random_serial());
    p
}

fn dn(entries: &[(DnType, &str)]) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    for (t, v) in entries {
        d.push(t.clone(), *v);
    }
    d
}

impl Ca {
    /// A self-signed root for `trust_domain`, as istiod makes when no `cacerts` exists:
    /// Organization = trust domain, ten years, CA basic constraints.
    pub fn self_signed(trust_domain: &str, now: SystemTime) -> Result<Ca, CaError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        let params = ca_params(dn(&[(DnType::OrganizationName, trust_domain)]), BasicConstraints::Unconstrained, now);
        let cert = params.self_signed(&key).map_err(gen_err)?;
        let not_after = SystemTime::from(params.not_after);
        let cert_pem = cert.pem();
        Ok(Ca {
            root_pem: cert_pem.clone(),
            cert_pem,
            key_pem: key.serialize_pem(),
            chain_pem: String::new(),
            issuer: Issuer::new(params, key),
            not_after,
            aki: true,
            plugged: false,
        })
    }

    /// The plug-in CA from a `cacerts` Secret. Every one of `ca-cert.pem`, `ca-key.pem`,
    /// `root-cert.pem` and `cert-chain.pem` must be there.
    pub fn from_cacerts(secret: &Value) -> Result<Ca, CaError> {
        let mut vals = Vec::new();
        let mut missing = Vec::new();
        for key in ["ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"] {
            match secret_value(secret, key)? {
                Some(v) if !v.trim().is_empty() => vals.push(v),
                _ => missing.push(key),
            }
        }
        if !missing.is_empty() {
            return Err(CaError::Incomplete(format!("Secret cacerts lacks {}", missing.join(", "))));
        }
        let [cert, key, root, chain]: [String; 4] = vals.try_into().expect("four values");
        Ca::from_pems(&cert, &key, &chain, &root, true)
    }

    /// The self-signed CA istiod stored earlier in `istio-ca-secret`.
    pub fn from_istio_ca_secret(secret: &Value) -> Result<Ca, CaError> {
        let cert = secret_value(secret, "ca-cert.pem")?.filter(|s| !s.trim().is_empty());
        let key = secret_value(secret, "ca-key.pem")?.filter(|s| !s.trim().is_empty());
        let (Some(cert), Some(key)) = (cert, key) else {
            return Err(CaError::Invalid("Secret istio-ca-secret lacks ca-cert.pem or ca-key.pem".into()));
        };
        let root = secret_value(secret, "root-cert.pem")?.filter(|s| !s.trim().is_empty()).unwrap_or(cert.clone());
        let chain = secret_value(secret, "cert-chain.pem")?.unwrap_or_default();
        Ca::from_pems(&cert, &key, &chain, &root, false)
    }

    fn from_pems(cert_pem: &str, key_pem: &str, chain_pem: &str, root_pem: &str, plugged: bool) -> Result<Ca, CaError> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| CaError::Invalid(format!("ca-key.pem: {e}")))?;
        let der = first_cert_der(cert_pem).map_err(|e| CaError::Invalid(format!("ca-cert.pem: {e}")))?;
        let (_, x509) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| CaError::Invalid(format!("ca-cert.pem: not a certificate: {e}")))?;
        if !x509.is_ca() {
            return Err(CaError::Invalid("ca-cert.pem is not a CA certificate (no CA basic constraint)".into()));
        }
        if x509.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(CaError::Invalid("ca-key.pem does not match ca-cert.pem".into()));
        }
        if inspect_chain(root_pem).map_err(|e| CaError::Invalid(format!("root-cert.pem: {e}")))?.is_empty() {
            return Err(CaError::Invalid("root-cert.pem holds no certificate".into()));
        }
        if !chain_pem.trim().is_empty() {
            inspect_chain(chain_pem).map_err(|e| CaError::Invalid(format!("cert-chain.pem: {e}")))?;
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(x509.subject())?;
        let ski = x509.extensions().iter().find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        });
        let aki = ski.is_some();
        params.key_identifier_method = KeyIdMethod::PreSpecified(ski.unwrap_or_default());
        let not_after = to_system_time(x509.validity().not_after.timestamp());
        Ok(Ca {
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.to_string(),
            chain_pem: chain_pem.to_string(),
            root_pem: root_pem.to_string(),
            issuer: Issuer::new(params, key),
            not_after,
            aki,
            plugged,
        })
    }

    /// The signing certificate (the root itself when self-signed).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The chain from the signing certificate up to the root; empty when self-signed.
    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// The trust bundle that goes into `istio-ca-root-cert`.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// True for a plug-in (`cacerts`) CA.
    pub fn is_plugged(&self) -> bool {
        self.plugged
    }

    /// The `istio-ca-secret` istiod writes for a self-signed CA.
    pub fn istio_ca_secret(&self, namespace: &str) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "istio-ca-secret", "namespace": namespace},
            "type": "istio.io/ca-root",
            "data": {
                "ca-cert.pem": B64.encode(&self.cert_pem),
                "ca-key.pem": B64.encode(&self.key_pem),
                "cert-chain.pem": "",
                "key.pem": "",
                "root-cert.pem": B64.encode(&self.root_pem),
            }
        })
    }

    /// Signs a workload certificate for `spiffe_id` issued at `issued_at`: NotBefore two
    /// minutes earlier, NotAfter at `expires_at` but never past the CA's own expiry.
    pub fn issue_workload(
        &self,
        spiffe_id: &str,
        issued_at: SystemTime,
        expires_at: SystemTime,
    ) -> Result<Leaf, CaError> {
        let uri = rcgen::string::Ia5String::try_from(spiffe_id)
            .map_err(|e| CaError::Invalid(format!("SPIFFE ID {spiffe_id:?}: {e}")))?;
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.subject_alt_names = vec![SanType::URI(uri)];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        p.is_ca = IsCa::ExplicitNoCa;
        self.sign_leaf(p, issued_at - BACKDATE, expires_at)
    }

    /// A TLS server certificate for `hosts` (IP addresses or DNS names) valid for a year.
    pub fn serving_cert(&self, hosts: &[&str], now: SystemTime) -> Result<ServingCert, CaError> {
        let names: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let mut p = CertificateParams::new(names).map_err(gen_err)?;
        p.distinguished_name = dn(&[(DnType::CommonName, hosts.first().copied().unwrap_or("localhost"))]);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.is_ca = IsCa::ExplicitNoCa;
        let leaf = self.sign_leaf(p, now - BACKDATE, now + Duration::from_secs(365 * 86_400))?;
        Ok(ServingCert { cert_pem: leaf.cert_pem, key_pem: leaf.key_pem, ca_pem: self.root_pem.clone() })
    }

    fn sign_leaf(
        &self,
        mut p: CertificateParams,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Leaf, CaError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        p.not_before = not_before.into();
        p.not_after = not_after.min(self.not_after).into();
        p.serial_number = Some(random_serial());
        p.use_authority_key_identifier_extension = self.aki;
        let cert = p.signed_by(&key, &self.issuer).map_err(gen_err)?;
        let cert_pem = cert.pem();
        let info = inspect_chain(&cert_pem)?.remove(0);
        let mut chain_pem = cert_pem.clone();
        let upward = if self.chain_pem.trim().is_empty() { &self.root_pem } else { &self.chain_pem };
        if !chain_pem.ends_with('\n') {
            chain_pem.push('\n');
        }
        chain_pem.push_str(upward);
        Ok(Leaf {
            cert_pem,
            key_pem: key.serialize_pem(),
            chain_pem,
            serial_hex: info.serial_hex,
            not_before: info.not_before,
            not_after: info.not_after,
        })
    }
}

/// A fresh CA for the API server's own TLS and a serving certificate for `hosts`
/// (for example `127.0.0.1` and `localhost`), made once at start.
pub fn api_server_tls(hosts: &[&str], now: SystemTime) -> Result<ServingCert, CaError> {
    let key = KeyPair::generate().map_err(gen_err)?;
    let params =
        ca_params(dn(&[(DnType::CommonName, "meshdeck-sim-apiserver-ca")]), BasicConstraints::Constrained(0), now);
    let cert = params.self_signed(&key).map_err(gen_err)?;
    let cert_pem = cert.pem();
    let ca = Ca {
        root_pem: cert_pem.clone(),
        cert_pem,
        key_pem: key.serialize_pem(),
        chain_pem: String::new(),
        not_after: SystemTime::from(params.not_after),
        issuer: Issuer::new(params, key),
        aki: true,
        plugged: false,
    };
    ca.serving_cert(hosts, now)
}

/// A `cacerts` Secret holding a new root and an intermediate signed by it, laid out as
/// Istio's plug-in CA guide makes it (`tools/certs`): the intermediate signs workloads.
pub fn cacerts_secret(namespace: &str, now: SystemTime) -> Result<Value, CaError> {
    let root_key = KeyPair::generate().map_err(gen_err)?;
    let root_params = ca_params(
        dn(&[(DnType::OrganizationName, "Istio"), (DnType::CommonName, "Root CA")]),
        BasicConstraints::Unconstrained,
        now,
    );
    let root_cert = root_params.self_signed(&root_key).map_err(gen_err)?;
    let root_issuer = Issuer::new(root_params, root_key);
    let int_key = KeyPair::generate().map_err(gen_err)?;
    let mut int_params = ca_params(
        dn(&[(DnType::OrganizationName, "Istio"), (DnType::CommonName, "Intermediate CA")]),
        BasicConstraints::Constrained(0),
        now,
    );
    int_params.use_authority_key_identifier_extension = true;
    let int_cert = int_params.signed_by(&int_key, &root_issuer).map_err(gen_err)?;
    let root_pem = root_cert.pem();
    let int_pem = int_cert.pem();
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cacerts", "namespace": namespace},
        "type": "Opaque",
        "data": {
            "ca-cert.pem": B64.encode(&int_pem),
            "ca-key.pem": B64.encode(int_key.serialize_pem()),
            "root-cert.pem": B64.encode(&root_pem),
            "cert-chain.pem": B64.encode(format!("{int_pem}{root_pem}")),
        }
    }))
}

/// A Secret's value for `key`: `data` (base64, as stored) or `stringData` (plain).
fn secret_value(secret: &Value, key: &str) -> Result<Option<String>, CaError> {
    if let Some(b64) = secret.get("data").and_then(|d| d.get(key)).and_then(Value::as_str) {
        let raw = B64.decode(b64.trim()).map_err(|e| CaError::Invalid(format!("data[{key}]: not base64: {e}")))?;
        return String::from_utf8(raw).map(Some).map_err(|_| CaError::Invalid(format!("data[{key}]: not UTF-8 text")));
    }
    Ok(secret.get("stringData").and_then(|d| d.get(key)).and_then(Value::as_str).map(str::to_string))
}

/// Rebuilds a certificate's subject for rcgen, keeping each value's string type so that
/// leaves name their issuer byte for byte.
fn distinguished_name(name: &x509_parser::x509::X509Name<'_>) -> Result<DistinguishedName, CaError> {
    let bad = |what: &str| CaError::Invalid(format!("ca-cert.pem subject: {what}"));
    let mut out = DistinguishedName::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let oid: Vec<u64> = attr.attr_type().iter().ok_or_else(|| bad("attribute type too large"))?.collect();
            let data = attr.attr_value().data;
            let text = || std::str::from_utf8(data).map(str::to_string).map_err(|_| bad("value is not text"));
            let value = match attr.attr_value().tag() {
                Tag::PrintableString => {
                    DnValue::PrintableString(text()?.try_into().map_err(|_| bad("bad PrintableString"))?)
                }
                Tag::Ia5String => DnValue::Ia5String(text()?.try_into().map_err(|_| bad("bad IA5String"))?),
                Tag::TeletexString => DnValue::TeletexString(text()?.try_into().map_err(|_| bad("bad TeletexString"))?),
                _ => DnValue::Utf8String(text()?),
            };
            out.push(DnType::from_oid(&oid), value);
        }
    }
    Ok(out)
}

/// The SPIFFE identity of a workload.
pub fn spiffe_id(namespace: &str, service_account: &str) -> String {
    format!("spiffe://{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}")
}

#[cfg(test)]
mod tests;
