//! Cookie headers as browsers really send them: bytes, not always UTF-8.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::{config, login, start, NAME};
use crate::{Demo, DemoSpec};

/// Another site on the same host set `theme=café` in Latin-1, so the browser's `Cookie`
/// header holds the byte 0xE9, which is not UTF-8. The session cookie beside it still
/// counts: `GET /show` answers 200 and the name. Sent on a raw TCP connection, since
/// HTTP clients refuse to send such a header.
pub async fn a_non_utf8_cookie_keeps_the_login(spec: &DemoSpec) {
    let (demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    let session = visitor.session_cookie().unwrap().to_owned();
    for header in [
        [b"session=", session.as_bytes(), b"; theme=caf\xe9"].concat(),
        [b"theme=caf\xe9; session=", session.as_bytes()].concat(),
    ] {
        let (status, body) = get_with_cookie(&demo, "/show", &header).await;
        assert_eq!(
            (status, body.as_slice()),
            (200, NAME.as_bytes()),
            "GET /show with `Cookie: {}` must answer 200 {NAME:?}; got {status} {:?}",
            String::from_utf8_lossy(&header),
            String::from_utf8_lossy(&body)
        );
    }
}

/// Another site set `theme=café` in UTF-8: bytes that are valid UTF-8 but not the visible
/// ASCII `http::HeaderValue::to_str` accepts, so an adapter that reads headers as `&str`
/// drops the whole `Cookie` header and logs the visitor out. Both frameworks keep the
/// session.
pub async fn a_utf8_accent_in_another_cookie_keeps_the_login(spec: &DemoSpec) {
    let (demo, mut visitor) = start(&config(spec)).await;
    login(&mut visitor, NAME).await;
    let session = visitor.session_cookie().unwrap().to_owned();
    for header in [
        [b"session=", session.as_bytes(), "; theme=café".as_bytes()].concat(),
        ["theme=café; session=".as_bytes(), session.as_bytes()].concat(),
    ] {
        let (status, body) = get_with_cookie(&demo, "/show", &header).await;
        assert_eq!(
            (status, body.as_slice()),
            (200, NAME.as_bytes()),
            "GET /show with `Cookie: {}` must answer 200 {NAME:?}; got {status} {:?}",
            String::from_utf8_lossy(&header),
            String::from_utf8_lossy(&body)
        );
    }
}

/// `GET path` with the `Cookie` header `cookie`, byte for byte, on a fresh connection
/// the server closes after answering; the status and the body.
async fn get_with_cookie(demo: &Demo, path: &str, cookie: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(demo.addr()).await.unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nCookie: ",
        demo.addr()
    );
    let request = [head.as_bytes(), cookie, b"\r\n\r\n"].concat();
    stream.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    parse_response(&response)
}

/// The status and body of an HTTP/1.1 response read to the end of the connection, its
/// body sized by `Content-Length`, chunked, or up to the end.
fn parse_response(response: &[u8]) -> (u16, Vec<u8>) {
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no end of headers in {:?}",
                String::from_utf8_lossy(response)
            )
        });
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let body = &response[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let header = |name: &str| {
        head.lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(field, _)| field.trim() == name)
            .map(|(_, value)| value.trim().to_owned())
    };
    if header("transfer-encoding").is_some_and(|coding| coding.contains("chunked")) {
        return (status, dechunk(body));
    }
    let length: Option<usize> = header("content-length").and_then(|length| length.parse().ok());
    let body = match length {
        Some(length) => body[..length.min(body.len())].to_vec(),
        None => body.to_vec(),
    };
    (status, body)
}

/// A chunked body's data.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    while let Some(end) = body.windows(2).position(|window| window == b"\r\n") {
        let size = String::from_utf8_lossy(&body[..end]);
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        let start = end + 2;
        if size == 0 || start + size > body.len() {
            break;
        }
        data.extend_from_slice(&body[start..start + size]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    data
}

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn reads_sized_and_chunked_bodies() {
        let sized = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nada";
        assert_eq!(parse_response(sized), (200, b"ada".to_vec()));
        let chunked =
            b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nNot\r\n4\r\n in!\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), (401, b"Not in!".to_vec()));
    }
}
