//! A minimal HTTP/1.1 server for one forwarded byte stream: it frames requests, hands method
//! and target to a handler and frames the answers, keeping the connection open or closing it
//! as the request asks. It never does IO itself; bytes come in and go out through `feed`.

use std::time::SystemTime;

/// Requests whose head grows past this are refused (431), as real servers do.
const MAX_HEAD: usize = 64 * 1024;

/// One forwarded connection's parser state.
#[derive(Debug, Default)]
pub struct HttpConn {
    buf: Vec<u8>,
    closed: bool,
}

/// What a handler answers: status, content type, body.
pub type Answer = (u16, String, Vec<u8>);

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// An HTTP-date (RFC 9110), as in the `date` header.
pub fn http_date(t: SystemTime) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from(t).format(&fmt).unwrap_or_default()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn response(answer: &Answer, head_only: bool, close: bool, date: &str) -> Vec<u8> {
    let (code, ctype, body) = answer;
    let mut out = format!(
        "HTTP/1.1 {code} {}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\ncache-control: no-cache, max-age=0\r\nx-content-type-options: nosniff\r\ndate: {date}\r\nserver: envoy\r\n",
        reason(*code),
        body.len()
    )
    .into_bytes();
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

fn refuse(code: u16, why: &str, date: &str) -> Vec<u8> {
    response(&(code, "text/plain; charset=UTF-8".into(), format!("{why}\n").into_bytes()), false, true, date)
}

impl HttpConn {
    /// True once a response said `connection: close`; nothing more will be answered.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Takes more bytes from the client and answers every complete request among them.
    /// Returns the bytes to send back; check `is_closed` afterwards.
    pub fn feed(&mut self, data: &[u8], date: &str, mut handle: impl FnMut(&str, &str) -> Answer) -> Vec<u8> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        self.buf.extend_from_slice(data);
        loop {
            let Some((head_len, sep)) =
                find(&self.buf, b"\r\n\r\n").map(|i| (i, 4)).or_else(|| find(&self.buf, b"\n\n").map(|i| (i, 2)))
            else {
                if self.buf.len() > MAX_HEAD {
                    out.extend(refuse(431, "request header too large", date));
                    self.closed = true;
                }
                return out;
            };
            let head = String::from_utf8_lossy(&self.buf[..head_len]).into_owned();
            let mut lines = head.lines();
            let request_line = lines.next().unwrap_or_default();
            let parts: Vec<&str> = request_line.split_whitespace().collect();
            let [method, target, version] = parts[..] else {
                out.extend(refuse(400, "malformed request line", date));
                self.closed = true;
                return out;
            };
            if version != "HTTP/1.1" && version != "HTTP/1.0" {
                out.extend(refuse(400, "unsupported HTTP version", date));
                self.closed = true;
                return out;
            }
            let mut length = 0usize;
            let mut connection = String::new();
            for line in lines {
                let Some((name, value)) = line.split_once(':') else { continue };
                let value = value.trim();
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => match value.parse() {
                        Ok(n) => length = n,
                        Err(_) => {
                            out.extend(refuse(400, "bad content-length", date));
                            self.closed = true;
                            return out;
                        }
                    },
                    "transfer-encoding" => {
                        out.extend(refuse(501, "chunked request bodies are not supported", date));
                        self.closed = true;
                        return out;
                    }
                    "connection" => connection = value.to_ascii_lowercase(),
                    _ => {}
                }
            }
            let total = head_len + sep + length;
            if self.buf.len() < total {
                return out;
            }
            self.buf.drain(..total);
            let keep_alive =
                if version == "HTTP/1.1" { !connection.contains("close") } else { connection.contains("keep-alive") };
            let answer = handle(method, target);
            out.extend(response(&answer, method == "HEAD", !keep_alive, date));
            if !keep_alive {
                self.closed = true;
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Fri, 01 Mar 2024 00:00:00 GMT";

    fn echo(method: &str, target: &str) -> Answer {
        (200, "text/plain".into(), format!("{method} {target}").into_bytes())
    }

    fn text(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn answers_pipelined_requests_split_anywhere() {
        let mut c = HttpConn::default();
        let wire = b"GET /certs HTTP/1.1\r\nHost: x\r\n\r\nGET /ready HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut out = Vec::new();
        for chunk in wire.chunks(7) {
            out.extend(c.feed(chunk, DATE, echo));
        }
        let want = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 10\r\ncache-control: no-cache, max-age=0\r\nx-content-type-options: nosniff\r\ndate: Fri, 01 Mar 2024 00:00:00 GMT\r\nserver: envoy\r\n\r\nGET /certs";
        let out = text(out);
        assert!(out.starts_with(want), "{out}");
        assert!(out.ends_with("\r\n\r\nGET /ready"), "{out}");
        assert!(!c.is_closed());
    }

    #[test]
    fn closes_when_asked_and_by_http_1_0_default() {
        let cases: [(&[u8], bool); 4] = [
            (b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n", true),
            (b"GET /a HTTP/1.0\r\n\r\n", true),
            (b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false),
            (b"GET /a HTTP/1.1\r\n\r\n", false),
        ];
        for (wire, closes) in cases {
            let mut c = HttpConn::default();
            let out = text(c.feed(wire, DATE, echo));
            assert_eq!(c.is_closed(), closes, "{out}");
            assert_eq!(out.contains("connection: close\r\n"), closes);
            // Nothing is answered after a close.
            if closes {
                assert!(c.feed(b"GET /b HTTP/1.1\r\n\r\n", DATE, echo).is_empty());
            }
        }
    }

    #[test]
    fn head_has_no_body_and_request_bodies_are_skipped() {
        let mut c = HttpConn::default();
        let wire = b"HEAD /x HTTP/1.1\r\n\r\nPOST /y HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /z HTTP/1.1\r\n\r\n";
        let out = text(c.feed(wire, DATE, echo));
        // Each response is a head ending in the server header, then the body (none for HEAD).
        let after_heads: Vec<&str> = out.split("server: envoy\r\n\r\n").skip(1).collect();
        let bodies: Vec<&str> = after_heads.iter().map(|s| s.split("HTTP/1.1 ").next().unwrap()).collect();
        assert_eq!(bodies, vec!["", "POST /y", "GET /z"]);
        assert!(out.starts_with("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 7\r\n"), "{out}");
    }

    #[test]
    fn malformed_requests_are_refused_and_closed() {
        for (wire, code) in [
            (&b"NONSENSE\r\n\r\n"[..], "400"),
            (b"GET / HTTP/2\r\n\r\n", "400"),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", "400"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "501"),
        ] {
            let mut c = HttpConn::default();
            let out = text(c.feed(wire, DATE, echo));
            assert!(out.starts_with(&format!("HTTP/1.1 {code} ")), "{out}");
            assert!(c.is_closed());
        }
        let mut c = HttpConn::default();
        let out = text(c.feed(&vec![b'a'; MAX_HEAD + 1], DATE, echo));
        assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    }

    #[test]
    fn formats_http_dates() {
        assert_eq!(http_date(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_200)), DATE);
    }
}
