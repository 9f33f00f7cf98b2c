//! The generator's side of the wire: pre-encoded requests written to a keep-alive
//! connection, answers read with httparse (hyper's own parser), so the generator spends
//! far less per request than a server does: hyper's client cost as much as the
//! no-session server and capped the fastest variants.

use std::net::SocketAddr;
use std::ops::Range;

use anyhow::Context as _;
use hyper::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A keep-alive HTTP/1.1 connection, one request at a time (no pipelining).
pub(crate) struct RawConnection {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// One answer, borrowed from the connection's buffer until the next request.
pub(crate) struct Answer<'a> {
    pub(crate) status: u16,
    /// The first `Set-Cookie`'s `name=value`, attributes left off.
    pub(crate) cookie: Option<&'a [u8]>,
    pub(crate) body: &'a [u8],
}

impl Answer<'_> {
    pub(crate) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl RawConnection {
    pub(crate) async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: vec![0; 16 * 1024],
        })
    }

    /// Sends `request` (from [`encode`]) and reads its answer (head and
    /// `Content-Length` body).
    pub(crate) async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<Answer<'_>> {
        self.stream.write_all(request).await?;
        let mut len = 0;
        // Offsets rather than slices: the buffer grows while the answer is incomplete.
        let (status, cookie, body) = loop {
            if len == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let read = self.stream.read(&mut self.buf[len..]).await?;
            anyhow::ensure!(read > 0, "the server closed the connection");
            len += read;
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(head) = response.parse(&self.buf[..len])? else {
                continue;
            };
            let mut body = None;
            let mut cookie = None;
            for header in response.headers.iter() {
                if header.name.eq_ignore_ascii_case("content-length") {
                    body = std::str::from_utf8(header.value)
                        .ok()
                        .and_then(|value| value.trim().parse::<usize>().ok());
                } else if cookie.is_none() && header.name.eq_ignore_ascii_case("set-cookie") {
                    cookie = Some(offsets(&self.buf, name_value(header.value)));
                }
            }
            let body = body.context("an answer without Content-Length")?;
            let status = response.code.context("an answer without a status")?;
            // No pipelining: nothing follows the body, so the buffer starts over.
            if len >= head + body {
                break (status, cookie, head..head + body);
            }
        };
        Ok(Answer {
            status,
            cookie: cookie.map(|range| &self.buf[range]),
            body: &self.buf[body],
        })
    }
}

/// `name=value` of a `Set-Cookie` value (what a browser sends back).
fn name_value(set_cookie: &[u8]) -> &[u8] {
    let end = set_cookie
        .iter()
        .position(|&b| b == b';')
        .unwrap_or(set_cookie.len());
    set_cookie[..end].trim_ascii()
}

/// Where `part`, a slice of `buf`, lies in it.
fn offsets(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - buf.as_ptr() as usize;
    start..start + part.len()
}

/// A request as bytes on the wire: no body, `Cookie` when logged in.
pub(crate) fn encode(method: &Method, path: &str, cookie: Option<&str>) -> Vec<u8> {
    let mut request = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    if let Some(cookie) = cookie {
        request.push_str(&format!("cookie: {cookie}\r\n"));
    }
    if method == Method::POST {
        request.push_str("content-length: 0\r\n");
    }
    request.push_str("\r\n");
    request.into_bytes()
}
