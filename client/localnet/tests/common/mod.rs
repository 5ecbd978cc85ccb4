//! Raw HTTP requests for the server's tests, written and read byte for byte (what a browser
//! sends, and anything it would not).
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// Sends `request` (head and body) and returns the status, the head and the body.
pub fn send(addr: SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request).unwrap();
    // Nothing more comes: a server waiting for the rest of a short body sees the end.
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(out[..end].to_vec()).unwrap();
    (head[9..12].parse().unwrap(), head, out[end + 4..].to_vec())
}

/// `GET path` from a page of `origin`.
pub fn get_from(addr: SocketAddr, path: &str, origin: &str) -> (u16, String, Vec<u8>) {
    send(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\r\n").as_bytes(),
    )
}

/// `PUT path` with `body`.
pub fn put(addr: SocketAddr, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut req = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    send(addr, &req)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
