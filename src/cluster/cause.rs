//! Why a request to the API server failed, in the words kubectl uses: connection refused, DNS,
//! x509 verification, a timeout, 401, 403. Classification only: it reads errors and answers
//! with a cause; it never retries, waits or prints, and never quotes a request or response body
//! beyond the API server's own Status message.

use std::error::Error as StdError;
use std::time::Duration;

/// The reason a request got no useful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Nothing listens at the address (TCP connection refused).
    Refused,
    /// The server's host name did not resolve.
    Dns,
    /// The TLS handshake failed, usually the server's certificate did not verify (`x509: …`).
    Tls(String),
    /// No response headers within the request timeout.
    TimedOut(Duration),
    /// 401: the server did not accept the credentials.
    Unauthorized,
    /// 403 where every user may look (discovery): the API server's message.
    Forbidden(String),
    /// Another failure to reach the server (reset, closed, unreachable network).
    Unreachable(String),
    /// The server answered, with an error that is not about the connection.
    Other(String),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Refused => f.write_str("connection refused"),
            Cause::Dns => f.write_str("no such host (DNS lookup failed)"),
            Cause::Tls(detail) => write!(f, "TLS verification failed: {detail}"),
            Cause::TimedOut(after) => {
                write!(f, "no response within {} (--request-timeout)", crate::cluster::client::human_duration(*after))
            }
            Cause::Unauthorized => f.write_str("401 Unauthorized: the credentials were not accepted"),
            Cause::Forbidden(msg) => write!(f, "403 Forbidden: {msg}"),
            Cause::Unreachable(msg) | Cause::Other(msg) => f.write_str(msg),
        }
    }
}

impl Cause {
    /// The connection itself is broken (address, name, certificate, credentials, timeout):
    /// retrying the same request with the same client will not help, so headless commands stop
    /// and the UI looks for new credentials.
    pub fn is_connection(&self) -> bool {
        !matches!(self, Cause::Other(_))
    }

    /// Classifies an error of the kube client.
    pub fn of(e: &kube::Error) -> Cause {
        match e {
            kube::Error::Api(s) if s.code == 401 => Cause::Unauthorized,
            kube::Error::Api(s) => Cause::Other(format!("{} {}: {}", s.code, s.reason, s.message)),
            other => Cause::of_chain(other),
        }
    }

    /// Classifies a transport error by walking its sources (and the errors wrapped in
    /// `io::Error`s, which `source()` skips).
    pub fn of_chain(e: &(dyn StdError + 'static)) -> Cause {
        let mut connect = false;
        let mut deepest = e.to_string();
        for err in chain(e) {
            if let Some(t) = err.downcast_ref::<crate::cluster::timeout::TimedOut>() {
                return Cause::TimedOut(t.after);
            }
            if let Some(r) = err.downcast_ref::<rustls::Error>() {
                return Cause::Tls(tls_detail(r));
            }
            if let Some(h) = err.downcast_ref::<hyper_util::client::legacy::Error>() {
                connect |= h.is_connect();
            }
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return Cause::Refused,
                    std::io::ErrorKind::TimedOut if connect => {
                        return Cause::Unreachable("timed out connecting".into());
                    }
                    _ => {}
                }
            }
            // hyper-util's connector names a failed lookup "dns error" and keeps the system's
            // words as its source.
            if err.to_string() == "dns error" {
                return Cause::Dns;
            }
            deepest = err.to_string();
        }
        if connect { Cause::Unreachable(deepest) } else { Cause::Other(deepest) }
    }
}

/// Every error in the chain, including those an `io::Error` wraps.
pub(crate) fn chain<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        out.push(err);
        next = match err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
        if out.len() > 32 {
            break;
        }
    }
    out
}

/// kubectl's (Go's) words for a certificate the client could not verify.
fn tls_detail(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "x509: certificate signed by unknown authority".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "x509: certificate is not valid for the server's host name".into()
            }
            C::Expired | C::ExpiredContext { .. } => "x509: certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "x509: certificate is not valid yet".into(),
            C::Revoked => "x509: certificate has been revoked".into(),
            // A trusted CA of the issuer's name that did not sign it: to Go, an unknown authority.
            C::BadSignature => "x509: certificate signed by unknown authority".into(),
            other => format!("x509: certificate rejected ({other:?})"),
        },
        rustls::Error::AlertReceived(a) => format!("the server refused the TLS handshake ({a:?})"),
        other => format!("TLS handshake failed ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_causes_through_wrapped_errors() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(refused);
        assert_eq!(Cause::of(&kube::Error::Service(boxed)), Cause::Refused);

        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let cause = Cause::of(&kube::Error::Service(Box::new(tls)));
        assert_eq!(cause.to_string(), "TLS verification failed: x509: certificate signed by unknown authority");

        let status = kube::core::Status { code: 401, reason: "Unauthorized".into(), ..Default::default() };
        assert_eq!(Cause::of(&kube::Error::Api(Box::new(status))), Cause::Unauthorized);
        let status = kube::core::Status {
            code: 500,
            reason: "InternalError".into(),
            message: "boom".into(),
            ..Default::default()
        };
        let cause = Cause::of(&kube::Error::Api(Box::new(status)));
        assert_eq!((cause.to_string().as_str(), cause.is_connection()), ("500 InternalError: boom", false));
    }
}
