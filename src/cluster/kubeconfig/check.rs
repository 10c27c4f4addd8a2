//! What the chosen context needs, checked before kube-rs sees it: the server URL, the CA and
//! the client certificate and key (base64, PEM, X.509, a key rustls can sign with), files that
//! can be read. Each problem is named with the field and the user or cluster it belongs to;
//! nothing of a value is repeated.

use super::doc::{At, ClusterFields, S, UserFields, at_of, resolve};
use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// A problem at a place in the file being checked.
pub(super) type Problem = (At, String);

pub(super) fn cluster(name: &str, c: &ClusterFields, dir: &Path, entry: At) -> Result<(), Problem> {
    let Some(server) = c.server.as_ref().filter(|s| !s.value.trim().is_empty()) else {
        return Err((entry, format!("cluster {name:?} has no server")));
    };
    let ok = server
        .value
        .trim()
        .parse::<hyper::Uri>()
        .is_ok_and(|u| matches!(u.scheme_str(), Some("https" | "http")) && u.host().is_some_and(|h| !h.is_empty()));
    if !ok {
        return Err((at_of(server), format!("the server of cluster {name:?} is not an https:// URL with a host")));
    }
    let what = |field: &str| format!("{field} of cluster {name:?}");
    if let Some(data) = &c.ca_data {
        let pem = decode64(data, &what("certificate-authority-data"))?;
        certs(&pem).map_err(|p| (at_of(data), format!("{} {p}", what("certificate-authority-data"))))?;
    } else if let Some(file) = &c.ca_file {
        let pem = read(dir, file, &what("certificate-authority"))?;
        certs(&pem)
            .map_err(|p| (at_of(file), format!("{} {p}", file_of(dir, file, &what("certificate-authority")))))?;
    }
    Ok(())
}

pub(super) fn user(name: &str, u: &UserFields, dir: &Path, entry: At) -> Result<(), Problem> {
    let what = |field: &str| format!("{field} of user {name:?}");
    let cert = match (&u.cert_data, &u.cert_file) {
        (Some(d), _) => {
            let pem = decode64(d, &what("client-certificate-data"))?;
            certs(&pem).map_err(|p| (at_of(d), format!("{} {p}", what("client-certificate-data"))))?;
            Some(at_of(d))
        }
        (None, Some(f)) => {
            let pem = read(dir, f, &what("client-certificate"))?;
            certs(&pem).map_err(|p| (at_of(f), format!("{} {p}", file_of(dir, f, &what("client-certificate")))))?;
            Some(at_of(f))
        }
        (None, None) => None,
    };
    let key = match (&u.key_data, &u.key_file) {
        (Some(d), _) => {
            let pem = decode64(d, &what("client-key-data"))?;
            private_key(&pem).map_err(|p| (at_of(d), format!("{} {p}", what("client-key-data"))))?;
            Some(at_of(d))
        }
        (None, Some(f)) => {
            let pem = read(dir, f, &what("client-key"))?;
            private_key(&pem).map_err(|p| (at_of(f), format!("{} {p}", file_of(dir, f, &what("client-key")))))?;
            Some(at_of(f))
        }
        (None, None) => None,
    };
    match (cert, key) {
        (Some(at), None) => return Err((at, format!("user {name:?} has a client certificate but no client key"))),
        (None, Some(at)) => return Err((at, format!("user {name:?} has a client key but no client certificate"))),
        _ => {}
    }
    if let Some(f) = &u.token_file {
        read(dir, f, &what("tokenFile"))?;
    }
    if u.password.is_some() && u.username.is_none() {
        return Err((entry, format!("user {name:?} has a password but no username")));
    }
    Ok(())
}

fn decode64(data: &S<String>, what: &str) -> Result<Vec<u8>, Problem> {
    use base64::DecodeError as D;
    base64::engine::general_purpose::STANDARD.decode(data.value.as_bytes()).map_err(|e| {
        // The decoder's message names the offending character; only its offset is repeated.
        let why = match e {
            D::InvalidByte(offset, _) => format!("a character that is not base64 at offset {offset}"),
            D::InvalidLength(_) => "a length that base64 cannot have".into(),
            D::InvalidLastSymbol(offset, _) => format!("a bad last character at offset {offset}"),
            D::InvalidPadding => "bad padding".into(),
        };
        (at_of(data), format!("{what} is not valid base64: {why}"))
    })
}

fn read(dir: &Path, file: &S<String>, what: &str) -> Result<Vec<u8>, Problem> {
    let path = resolve(dir, &file.value);
    std::fs::read(&path)
        .map_err(|e| (at_of(file), format!("{what}: {} cannot be read: {}", path.display(), io_kind(&e))))
}

fn file_of(dir: &Path, file: &S<String>, what: &str) -> String {
    format!("{what} ({})", resolve(dir, &file.value).display())
}

/// An I/O error in words that cannot hold file content.
pub(super) fn io_kind(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file".into(),
        K::PermissionDenied => "permission denied".into(),
        K::IsADirectory => "it is a directory".into(),
        K::InvalidData => "it is not text".into(),
        other => format!("{other}"),
    }
}

/// One or more PEM certificates, each valid X.509.
fn certs(pem: &[u8]) -> Result<(), String> {
    let mut n = 0;
    for der in CertificateDer::pem_slice_iter(pem) {
        let der = der.map_err(|_| "holds a malformed PEM block".to_string())?;
        x509_parser::parse_x509_certificate(der.as_ref())
            .map_err(|_| "holds a PEM certificate that is not valid X.509".to_string())?;
        n += 1;
    }
    if n == 0 {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(())
}

/// A PEM private key that rustls can sign with.
fn private_key(pem: &[u8]) -> Result<(), String> {
    let key = PrivateKeyDer::from_pem_slice(pem)
        .map_err(|_| "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)".to_string())?;
    rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|_| "holds a private key that cannot be used (malformed or of an unsupported type)".to_string())?;
    Ok(())
}
