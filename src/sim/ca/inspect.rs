//! Reading certificates back: serials, validity, names and SANs of every certificate in a
//! PEM bundle, for the CA's own checks, the Envoy admin endpoint and the tests.

use super::CaError;
use std::time::{Duration, SystemTime};
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

/// What `/certs` and the tests read back from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Lowercase hex of the serial number without leading zero bytes, as Envoy prints it.
    pub serial_hex: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub uris: Vec<String>,
    pub dns: Vec<String>,
    pub is_ca: bool,
    pub subject: String,
    pub issuer: String,
}

pub(super) fn first_cert_der(pem: &str) -> Result<Vec<u8>, String> {
    for p in Pem::iter_from_buffer(pem.as_bytes()) {
        let p = p.map_err(|e| format!("bad PEM: {e}"))?;
        if p.label == "CERTIFICATE" {
            return Ok(p.contents);
        }
    }
    Err("no CERTIFICATE block".into())
}

pub(super) fn to_system_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// Every certificate in a PEM bundle, in order.
pub fn inspect_chain(pem: &str) -> Result<Vec<CertInfo>, CaError> {
    let mut out = Vec::new();
    for p in Pem::iter_from_buffer(pem.as_bytes()) {
        let p = p.map_err(|e| CaError::Invalid(format!("bad PEM: {e}")))?;
        if p.label != "CERTIFICATE" {
            continue;
        }
        let x = p.parse_x509().map_err(|e| CaError::Invalid(format!("not a certificate: {e}")))?;
        let mut uris = Vec::new();
        let mut dns = Vec::new();
        if let Ok(Some(san)) = x.subject_alternative_name() {
            for g in &san.value.general_names {
                match g {
                    GeneralName::URI(u) => uris.push(u.to_string()),
                    GeneralName::DNSName(d) => dns.push(d.to_string()),
                    _ => {}
                }
            }
        }
        let serial = x.raw_serial();
        let trimmed = &serial[serial.iter().position(|b| *b != 0).unwrap_or(serial.len().saturating_sub(1))..];
        out.push(CertInfo {
            serial_hex: trimmed.iter().map(|b| format!("{b:02x}")).collect(),
            not_before: to_system_time(x.validity().not_before.timestamp()),
            not_after: to_system_time(x.validity().not_after.timestamp()),
            uris,
            dns,
            is_ca: x.is_ca(),
            subject: x.subject().to_string(),
            issuer: x.issuer().to_string(),
        });
    }
    Ok(out)
}
